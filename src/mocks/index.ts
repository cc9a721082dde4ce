export { MockBackend, MockBackendSet, LOG_BODY_LIMIT, LOG_MAX_ENTRIES } from './backend.js';
export type { MockBackendOptions, MockRequestLogEntry, MockOutcome, MockBackendInfo } from './backend.js';
export { AZURE_OPENAI_MOCK, DEFAULT_RATE_LIMIT, stepForCall } from './script.js';
export type { MockScript, MockStep, MockScriptEnd, AoaiOptions, RateLimitSpec } from './script.js';
export { parseMockScript, formatMockScript } from './text-form.js';
export { mockScriptFromJson } from './json-form.js';
export { approxTokens, generateAoai, pseudoEmbedding } from './aoai.js';
export type { AoaiAnswer, AoaiUsage, AoaiOperation } from './aoai.js';
export { parseMockOption, loadMockScriptText } from './cli.js';

import { tokenLimitDefinition } from './support/token-limit.js';

/**
 * `<llm-token-limit>`: tokens-per-minute (429) and token-quota per period (403) per counter-key for LLM APIs
 * (OpenAI Chat Completions / Responses shapes, Anthropic Messages), estimated prompts with a real tokenizer and the
 * usage the backend reports, streamed or not (docs/apim-behaviour.md: LLM policies; details in support/token-limit.ts and docs/policies-llm.md).
 * Re-audited against learn.microsoft.com/azure/api-management/llm-token-limit-policy (read 2026-12-02): attributes as
 * the table (estimate-prompt-tokens marked required, though the page's token-quota example omits it).
 */
export const llmTokenLimit = tokenLimitDefinition(
  'llm-token-limit',
  'Token rate (429) and quota (403) per key for LLM APIs, from estimated prompts and reported usage (JSON or streamed).',
);

import { tokenLimitDefinition } from './support/token-limit.js';

/**
 * `<azure-openai-token-limit>`: the Azure OpenAI flavour of llm-token-limit, with the same attributes (token-quota and
 * token-quota-period included, as in the current docs) and the same counting (docs/apim-behaviour.md: LLM policies, docs/policies-llm.md).
 * Its counters are its own: a key used by both policies is counted separately by each.
 * Re-audited against learn.microsoft.com/azure/api-management/azure-openai-token-limit-policy (read 2026-12-02): an
 * older revision lists only tokens-per-minute (then required); the current one has llm-token-limit's table, kept here.
 */
export const azureOpenAiTokenLimit = tokenLimitDefinition(
  'azure-openai-token-limit',
  'Token rate (429) and quota (403) per key for Azure OpenAI, from estimated prompts and reported usage (JSON or streamed).',
);

import { semanticCacheState, semanticKey } from './semantic-cache-lookup.js';
import { durationMs, snapshotResponse } from './support/cache.js';
import { semanticCache } from './support/semantic.js';
import type { Flow, PolicyDefinition } from '../engine/policy-sdk.js';

/**
 * `<llm-semantic-cache-store duration>` / `<azure-openai-semantic-cache-store duration>` (docs/apim-behaviour.md: LLM policies): stores the
 * response under the prompt the matching lookup read, for `duration` seconds of clock time. Nothing is stored when no
 * lookup ran for the request (or it skipped the request), on a hit, for a status other than 200, or for a streamed
 * (SSE) answer. "If the cache lookup fails, the API call ... doesn't raise an error": neither does this.
 * Re-audited against learn.microsoft.com/azure/api-management/llm-semantic-cache-store-policy and
 * azure-openai-semantic-cache-store-policy (read 2026-12-02): duration (seconds) required.
 */
export function semanticCacheStoreDefinition(name: 'llm-semantic-cache-store' | 'azure-openai-semantic-cache-store'): PolicyDefinition {
  return {
    name,
    summary: 'Offline semantic cache store: keeps the 200 response under the looked-up prompt for `duration` seconds.',
    support: 'approximate',
    sections: ['outbound'],
    scopes: ['global', 'product', 'api', 'operation'],
    attributes: [{ name: 'duration', required: true, expressions: true, kind: 'int', min: 0 }],
    compile(el, cx) {
      const duration = cx.int(el, 'duration') ?? (() => 0);
      const { services } = cx;
      return async (ctx): Promise<Flow> => {
        const state = semanticCacheState(ctx);
        const skip = (why: string): Flow => {
          if (ctx.tracing) ctx.trace({ kind: 'info', policy: name, message: `nothing stored: ${why}` });
          return 'continue';
        };
        if (!state) return skip('no semantic cache lookup ran for this request');
        if (state.hit) return 'continue';
        if (ctx.response.statusCode !== 200) return skip(`status ${ctx.response.statusCode}`);
        if (ctx.response.headers.getJoined('Content-Type')?.toLowerCase().includes('text/event-stream')) return skip('streamed (SSE) answer');
        const seconds = duration(ctx);
        const ttl = durationMs(seconds);
        if (ttl === 0) return skip(`duration ${seconds}`);
        const response = await snapshotResponse(ctx.response);
        semanticCache(services).set(semanticKey(state.partition, state.prompt), { partition: state.partition, prompt: state.prompt, response }, ttl);
        if (ctx.tracing) ctx.trace({ kind: 'info', policy: name, message: `response stored for ${seconds} s` });
        return 'continue';
      };
    },
  };
}

export const llmSemanticCacheStore = semanticCacheStoreDefinition('llm-semantic-cache-store');
export const azureOpenAiSemanticCacheStore = semanticCacheStoreDefinition('azure-openai-semantic-cache-store');

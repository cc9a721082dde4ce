import type { GatewayContext, PolicyDefinition } from '../engine/policy-sdk.js';
import { childElements } from '../engine/policy-sdk.js';
import { restoreResponse } from './support/cache.js';
import { firstReport } from './support/once.js';
import { normalisePrompt, promptText, semanticCache, SEMANTIC_SIMILARITY_SETTING, similarityFromSettings } from './support/semantic.js';
import type { SemanticEntry, Similarity } from './support/semantic.js';

/** What the lookup decided for one request, read by the matching store policy in outbound. */
export interface SemanticCacheState {
  partition: string;
  /** Normalised prompt text. */
  prompt: string;
  hit: boolean;
}

const states = new WeakMap<GatewayContext, SemanticCacheState>();

export function semanticCacheState(ctx: GatewayContext): SemanticCacheState | undefined {
  return states.get(ctx);
}

/** The cache key of a prompt within its partition. */
export function semanticKey(partition: string, prompt: string): string {
  return `${partition}\u0000${prompt}`;
}

/**
 * `<llm-semantic-cache-lookup>` / `<azure-openai-semantic-cache-lookup score-threshold embeddings-backend-id
 * embeddings-backend-auth ignore-system-messages max-message-count><vary-by/>*</…>` (docs/apim-behaviour.md: LLM policies), offline: the
 * prompt of the request is compared with the prompts stored by the matching store policy in the same partition (API +
 * vary-by values) — see support/semantic.ts for the score. On a hit the cached response is returned and the backend is
 * not called (like cache-lookup; the outbound section does not run — docs/policies-ai-caching.md). Requests that are
 * not LLM requests (no messages/prompt/input), streamed requests, and requests with more than max-message-count
 * messages are neither looked up nor stored. The embeddings backend is checked to exist but never called.
 * Re-audited against learn.microsoft.com/azure/api-management/llm-semantic-cache-lookup-policy and
 * azure-openai-semantic-cache-lookup-policy (read 2026-12-02): embeddings-backend-auth must be system-assigned; one
 * vary-by element kind.
 */
export function semanticCacheLookupDefinition(name: 'llm-semantic-cache-lookup' | 'azure-openai-semantic-cache-lookup'): PolicyDefinition {
  return {
    name,
    summary: 'Offline semantic cache lookup: prompt text compared (exact after normalisation, or a configured similarity).',
    support: 'approximate',
    settings: [SEMANTIC_SIMILARITY_SETTING],
    sections: ['inbound'],
    scopes: ['global', 'product', 'api', 'operation'],
    attributes: [
      { name: 'score-threshold', required: true, expressions: false, kind: 'number', min: 0, max: 1 },
      { name: 'embeddings-backend-id', required: true, expressions: true },
      { name: 'embeddings-backend-auth', required: true, expressions: true, kind: 'enum', values: ['system-assigned'] },
      { name: 'ignore-system-messages', expressions: true, kind: 'bool', default: 'false' },
      { name: 'max-message-count', expressions: true, kind: 'int', min: 1 },
    ],
    elements: [{ name: 'vary-by', text: { expressions: true, required: true } }],
    compile(el, cx) {
      const threshold = cx.number(el, 'score-threshold') ?? (() => 0);
      const ignoreSystem = cx.bool(el, 'ignore-system-messages') ?? (() => false);
      const maxMessages = cx.int(el, 'max-message-count');
      const varyBy = childElements(el, 'vary-by').map((v) => cx.text(v) ?? (() => ''));
      const backendSpan = cx.attributeSpan(el, 'embeddings-backend-id');
      const registry = cx.services.backends;
      const backendId = backendSpan?.text.trim() ?? '';
      if (registry && backendId && !backendId.startsWith('@') && !registry.has(backendId) && firstReport(el, 'backend')) {
        cx.diagnostics.warning(
          el.source,
          cx.offsetOf(el, 'embeddings-backend-id'),
          'policy/unknown-backend',
          `embeddings backend "${backendId}" is not defined (the emulator never calls it: prompts are compared as text)`,
          `defined backends: ${registry.ids().join(', ') || '(none)'}`,
        );
      }
      const sim = similarityFromSettings(cx.services);
      let similarity: Similarity = () => 0;
      let similarityName = 'exact';
      if ('error' in sim) {
        if (firstReport(el, 'settings')) cx.diagnostics.error(el.source, el.start, 'policy/bad-setting', sim.error);
      } else {
        similarity = sim.similarity;
        similarityName = sim.name;
      }
      cx.needsBody('request');
      const { services } = cx;

      return (ctx) => {
        const body = parseJson(ctx.request.body?.peek());
        const p = promptText(body, ignoreSystem(ctx));
        const skip = (why: string): 'continue' => {
          if (ctx.tracing) ctx.trace({ kind: 'info', policy: name, message: `not cached: ${why}` });
          return 'continue';
        };
        if (!p) return skip('the request body has no messages, prompt or input');
        if ((body as { stream?: unknown }).stream === true) return skip('streamed requests are not cached by the emulator');
        const max = maxMessages?.(ctx);
        if (max !== undefined && p.messageCount !== undefined && p.messageCount > max)
          return skip(`${p.messageCount} messages, more than max-message-count ${max}`);
        const partition = JSON.stringify([ctx.api.id, ...varyBy.map((v) => v(ctx))]);
        const prompt = normalisePrompt(p.text);
        const state: SemanticCacheState = { partition, prompt, hit: false };
        states.set(ctx, state);
        const cache = semanticCache(services); // per request: services.reset() replaces it
        const maxDistance = threshold(ctx);
        let best: SemanticEntry | undefined = cache.get(semanticKey(partition, prompt));
        let bestDistance = best ? 0 : Infinity;
        if (!best && similarityName !== 'exact') {
          for (const [, e] of cache.live()) {
            if (e.partition !== partition) continue;
            const d = 1 - similarity(prompt, e.prompt);
            if (d < bestDistance) {
              bestDistance = d;
              best = e;
            }
          }
        }
        if (!best || bestDistance > maxDistance) {
          if (ctx.tracing)
            ctx.trace({
              kind: 'info',
              policy: name,
              message: 'semantic cache miss',
              data: { similarity: similarityName, scoreThreshold: maxDistance, ...(Number.isFinite(bestDistance) ? { bestScore: bestDistance } : {}) },
            });
          return 'continue';
        }
        state.hit = true;
        ctx.response.body?.liveStream?.resume();
        ctx.response = restoreResponse(best.response);
        if (ctx.tracing)
          ctx.trace({
            kind: 'info',
            policy: name,
            message: 'semantic cache hit: the cached response is returned, the backend is skipped and outbound runs',
            data: { similarity: similarityName, score: bestDistance, scoreThreshold: maxDistance },
          });
        return 'skip-backend';
      };
    },
  };
}

export const llmSemanticCacheLookup = semanticCacheLookupDefinition('llm-semantic-cache-lookup');
export const azureOpenAiSemanticCacheLookup = semanticCacheLookupDefinition('azure-openai-semantic-cache-lookup');

function parseJson(raw: Buffer | null | undefined): unknown {
  if (!raw || raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
}

import { applyDownstreamCaching, responseCacheState } from './cache-lookup.js';
import { durationMs, snapshotResponse } from './support/cache.js';
import type { Flow, PolicyDefinition } from '../engine/policy-sdk.js';

/**
 * `<cache-store duration cache-response>` (docs/apim-behaviour.md: Access control, caching and observability): stores the response under the key cache-lookup computed
 * for this request, for `duration` seconds of clock time. Without a cache-lookup that ran for the request (not GET,
 * private request, no cache-lookup at all) it does nothing. Only 200 OK is stored unless cache-response is true.
 * The body is read into memory to store it; it is still sent to the client afterwards.
 */
export const cacheStore: PolicyDefinition = {
  name: 'cache-store',
  summary: 'Stores the response for the key cache-lookup computed, for `duration` seconds.',
  support: 'full',
  sections: ['outbound'],
  attributes: [
    { name: 'duration', required: true, expressions: true, kind: 'int', min: 0 },
    { name: 'cache-response', expressions: true, kind: 'bool', default: 'false' },
  ],
  compile(el, cx) {
    const duration = cx.int(el, 'duration') ?? (() => 0);
    const cacheResponse = cx.bool(el, 'cache-response') ?? (() => false);
    return async (ctx): Promise<Flow> => {
      const state = responseCacheState(ctx);
      if (!state) {
        if (ctx.tracing) ctx.trace({ kind: 'info', policy: 'cache-store', message: 'no cache-lookup ran for this request: nothing stored' });
        return 'continue';
      }
      if (state.hit) return 'continue';
      if (ctx.response.statusCode !== 200 && !cacheResponse(ctx)) {
        if (ctx.tracing)
          ctx.trace({ kind: 'info', policy: 'cache-store', message: `status ${ctx.response.statusCode}: only 200 OK is cached unless cache-response="true"` });
        return 'continue';
      }
      const seconds = duration(ctx);
      const ttl = durationMs(seconds);
      if (ttl === 0) {
        if (ctx.tracing) ctx.trace({ kind: 'info', policy: 'cache-store', message: `duration ${seconds}: nothing stored` });
        return 'continue';
      }
      const stored = await state.cache.set(state.key, await snapshotResponse(ctx.response), ttl);
      applyDownstreamCaching(ctx, state, seconds);
      if (ctx.tracing)
        ctx.trace({
          kind: 'info',
          policy: 'cache-store',
          message: stored
            ? `response stored for ${seconds} s in the ${state.cache.where} cache`
            : `response not stored: larger than the ${state.cache.where} cache keeps (docs/limits.md)`,
          data: { key: state.key },
        });
      return 'continue';
    };
  },
};

import type { Flow, GatewayContext, PolicyDefinition, ValueGetter } from '../engine/policy-sdk.js';
import { attributeText, childElements, whenReady } from '../engine/policy-sdk.js';
import { cachingType, pickCache, RESPONSE_CODEC, responseCache, restoreResponse } from './support/cache.js';
import type { CachedResponse, PolicyCache } from './support/cache.js';

export const CACHING_TYPE = {
  name: 'caching-type',
  expressions: false,
  kind: 'enum',
  values: ['prefer-external', 'external', 'internal'],
  default: 'prefer-external',
} as const;

/** What cache-lookup decided for one request, read by cache-store in outbound. */
export interface ResponseCacheState {
  /** Cache key of this request. */
  key: string;
  cache: PolicyCache<CachedResponse>;
  /** The response came from the cache: cache-store has nothing to do. */
  hit: boolean;
  downstream: 'none' | 'private' | 'public';
  mustRevalidate: boolean;
}

const states = new WeakMap<GatewayContext, ResponseCacheState>();

/** The cache-lookup state of a request, if a lookup ran for it (and the request was cacheable). */
export function responseCacheState(ctx: GatewayContext): ResponseCacheState | undefined {
  return states.get(ctx);
}

/**
 * `<cache-lookup>` (docs/apim-behaviour.md: Access control, caching and observability): looks up a response stored by cache-store for the same request and, on a hit,
 * returns it without calling the backend. Only GET requests are looked up; a request with an Authorization header is
 * not cached unless allow-private-response-caching is true. The cache key is made of the API, the operation, the
 * request path, the `vary-by-query-parameter` values (other query parameters are not part of the key, as in APIM),
 * the `vary-by-header` values, and the developer (user, else subscription) / developer groups when asked.
 *
 * Approximation: a hit ends the pipeline like return-response (the outbound section does not run for the cached
 * response); docs/policies-ai-caching.md.
 */
export const cacheLookup: PolicyDefinition = {
  name: 'cache-lookup',
  summary: 'Returns a response stored by cache-store for the same GET request (built-in or Redis external cache, on the clock).',
  support: 'approximate',
  sections: ['inbound'],
  attributes: [
    { name: 'vary-by-developer', required: true, expressions: true, kind: 'bool' },
    { name: 'vary-by-developer-groups', required: true, expressions: true, kind: 'bool' },
    CACHING_TYPE,
    { name: 'downstream-caching-type', expressions: true, kind: 'enum', values: ['none', 'private', 'public'], default: 'none' },
    { name: 'must-revalidate', expressions: true, kind: 'bool', default: 'true' },
    { name: 'allow-private-response-caching', expressions: true, kind: 'bool', default: 'false' },
  ],
  // vary-by-header and vary-by-query-parameter in any order: APIM accepts them interleaved (issue 11).
  elements: [
    { name: 'vary-by-header', text: { expressions: false, required: true } },
    { name: 'vary-by-query-parameter', text: { expressions: false, required: true } },
  ],
  compile(el, cx) {
    const byDeveloper = cx.bool(el, 'vary-by-developer') ?? (() => false);
    const byGroups = cx.bool(el, 'vary-by-developer-groups') ?? (() => false);
    const downstream = cx.string(el, 'downstream-caching-type') ?? (() => 'none');
    const mustRevalidate = cx.bool(el, 'must-revalidate') ?? (() => true);
    const allowPrivate = cx.bool(el, 'allow-private-response-caching') ?? (() => false);
    const headers = childElements(el, 'vary-by-header')
      .map((h) => cx.text(h) ?? (() => ''))
      .map(literalOf);
    // "Enter a single or multiple parameters. Use semicolon as a separator."
    const params = childElements(el, 'vary-by-query-parameter')
      .flatMap((p) => literalOf(cx.text(p) ?? (() => '')).split(';'))
      .map((p) => p.trim())
      .filter((p) => p !== '');
    const type = cachingType(attributeText(el, 'caching-type'));
    const { services } = cx;
    const keyOf = compileKey(
      headers.map((h) => h.trim()).filter((h) => h !== ''),
      params,
      byDeveloper,
      byGroups,
    );

    return (ctx) => {
      if (ctx.request.method.toUpperCase() !== 'GET') {
        if (ctx.tracing)
          ctx.trace({ kind: 'info', policy: 'cache-lookup', message: `${ctx.request.method} request: APIM only looks up GET requests in the cache` });
        return 'continue';
      }
      if (ctx.request.headers.has('Authorization') && !allowPrivate(ctx)) {
        if (ctx.tracing)
          ctx.trace({
            kind: 'info',
            policy: 'cache-lookup',
            message: 'request has an Authorization header and allow-private-response-caching is false: not cached',
          });
        return 'continue';
      }
      const key = keyOf(ctx);
      // Looked up per request: services.reset() replaces the in-process cache.
      const cache = pickCache(services, type, 'responses', () => responseCache(services), RESPONSE_CODEC);
      const d = downstream(ctx).trim().toLowerCase();
      const state: ResponseCacheState = {
        key,
        cache,
        hit: false,
        downstream: d === 'private' || d === 'public' ? d : 'none',
        mustRevalidate: mustRevalidate(ctx),
      };
      states.set(ctx, state);
      return whenReady(cache.get(key), (found): Flow => {
        if (!found) {
          if (ctx.tracing) ctx.trace({ kind: 'info', policy: 'cache-lookup', message: `cache miss (${cache.where} cache)`, data: { key } });
          return 'continue';
        }
        state.hit = true;
        ctx.response.body?.liveStream?.resume();
        ctx.response = restoreResponse(found.value);
        applyDownstreamCaching(ctx, state, found.remainingSeconds);
        if (ctx.tracing)
          ctx.trace({
            kind: 'info',
            policy: 'cache-lookup',
            message: `cache hit (${cache.where} cache): the cached response is returned, the backend is skipped and outbound runs`,
            data: { key, statusCode: found.value.statusCode },
          });
        return 'skip-backend';
      });
    };
  },
};

/** Literal text of a vary-by element (no expressions allowed there, so the getter is a constant). */
function literalOf(g: ValueGetter<string>): string {
  return g(undefined as unknown as GatewayContext); // constant getter: ignores the context
}

function compileKey(headers: string[], params: string[], byDeveloper: ValueGetter<boolean>, byGroups: ValueGetter<boolean>): (ctx: GatewayContext) => string {
  return (ctx) => {
    const parts: unknown[] = [ctx.api.id, ctx.operation.id, ctx.request.originalUrl.path];
    for (const p of params) parts.push(['q', p.toLowerCase(), ctx.request.originalUrl.query.get(p) ?? null]);
    for (const h of headers) parts.push(['h', h.toLowerCase(), ctx.request.headers.getJoined(h) ?? null]);
    if (byDeveloper(ctx)) parts.push(['dev', ctx.user?.id ?? ctx.subscription?.id ?? '']);
    if (byGroups(ctx)) parts.push(['groups', (ctx.user?.groups ?? []).map((g) => g.id).sort()]);
    return JSON.stringify(parts);
  };
}

/**
 * downstream-caching-type private/public: a Cache-Control header that lets clients (private) or shared caches too
 * (public) keep the response for the rest of its time in the gateway cache, with must-revalidate when asked. With
 * `none` the gateway leaves Cache-Control as the backend sent it (emulator choice; APIM's exact header is SILENT).
 */
export function applyDownstreamCaching(ctx: GatewayContext, state: ResponseCacheState, maxAgeSeconds: number): void {
  if (state.downstream === 'none') return;
  const parts = [state.downstream, `max-age=${maxAgeSeconds}`];
  if (state.mustRevalidate) parts.push('must-revalidate');
  ctx.response.headers.set('Cache-Control', [parts.join(', ')]);
}

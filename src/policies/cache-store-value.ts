import { CACHING_TYPE } from './cache-lookup.js';
import { durationMs, valueCache } from './support/cache.js';
import type { PolicyDefinition } from '../engine/policy-sdk.js';

/**
 * `<cache-store-value key value duration caching-type>`: keeps a value (of any expression type: string, number,
 * JObject...) under a key for `duration` seconds of clock time. The value is kept as the object itself, not a
 * serialised copy.
 */
export const cacheStoreValue: PolicyDefinition = {
  name: 'cache-store-value',
  summary: 'Stores a value under a key for `duration` seconds (in-memory cache on the clock).',
  support: 'full',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: [
    { name: 'key', required: true, expressions: true },
    { name: 'value', required: true, expressions: true },
    { name: 'duration', required: true, expressions: true, kind: 'int', min: 0 },
    CACHING_TYPE,
  ],
  compile(el, cx) {
    const key = cx.string(el, 'key') ?? (() => '');
    const value = cx.value(el, 'value') ?? (() => '');
    const duration = cx.int(el, 'duration') ?? (() => 0);
    const { services } = cx;
    return (ctx) => {
      const k = key(ctx);
      const cache = valueCache(services); // looked up per request: services.reset() replaces it
      const seconds = duration(ctx);
      const v = value(ctx);
      // A null value cannot be told apart from a miss on lookup: storing it removes the key.
      cache.set(k, v, v === null || v === undefined ? 0 : durationMs(seconds));
      if (ctx.tracing) ctx.trace({ kind: 'info', policy: 'cache-store-value', message: `key "${k}" stored for ${seconds} s` });
      return 'continue';
    };
  },
};

import { CACHING_TYPE } from './cache-lookup.js';
import { cachingType, durationMs, valueCacheFor } from './support/cache.js';
import type { Flow, PolicyDefinition } from '../engine/policy-sdk.js';
import { attributeText, whenReady } from '../engine/policy-sdk.js';

/**
 * `<cache-store-value key value duration caching-type>`: keeps a value (of any expression type: string, number,
 * JObject...) under a key for `duration` seconds of clock time. In the built-in cache of one process the value is kept
 * as the object itself; in a shared cache (workers' primary, Redis) it is serialized, and a value of a type that cannot
 * be (support/cache.ts VALUE_CODEC) is not stored, with a warning in the log.
 */
export const cacheStoreValue: PolicyDefinition = {
  name: 'cache-store-value',
  summary: 'Stores a value under a key for `duration` seconds (built-in or Redis external cache, on the clock).',
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
    const type = cachingType(attributeText(el, 'caching-type'));
    const { services } = cx;
    const path = cx.path;
    return (ctx) => {
      const k = key(ctx);
      const cache = valueCacheFor(services, type); // looked up per request: services.reset() replaces it
      const seconds = duration(ctx);
      const v = value(ctx);
      // A null value cannot be told apart from a miss on lookup: storing it removes the key.
      return whenReady(cache.set(k, v, v === null || v === undefined ? 0 : durationMs(seconds)), (stored): Flow => {
        if (!stored) {
          const message = `cache-store-value: key "${k}" not stored: a value of type ${typeName(v)} cannot be kept in the ${cache.where} cache (strings, numbers, booleans and JSON tokens can)`;
          services.log({ level: 'warn', source: 'cache-store-value', message, data: { path } });
          if (ctx.tracing) ctx.trace({ kind: 'info', policy: 'cache-store-value', path, message });
        } else if (ctx.tracing)
          ctx.trace({ kind: 'info', policy: 'cache-store-value', message: `key "${k}" stored for ${seconds} s in the ${cache.where} cache` });
        return 'continue';
      });
    };
  },
};

function typeName(v: unknown): string {
  return typeof v === 'object' && v !== null ? v.constructor.name : typeof v;
}

import { CACHING_TYPE } from './cache-lookup.js';
import { cachingType, valueCacheFor } from './support/cache.js';
import type { Flow, PolicyDefinition } from '../engine/policy-sdk.js';
import { attributeText, whenReady } from '../engine/policy-sdk.js';

/** `<cache-remove-value key caching-type>`: deletes a value stored by cache-store-value (no error when absent). */
export const cacheRemoveValue: PolicyDefinition = {
  name: 'cache-remove-value',
  summary: 'Removes a value stored by cache-store-value.',
  support: 'full',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: [{ name: 'key', required: true, expressions: true }, CACHING_TYPE],
  compile(el, cx) {
    const key = cx.string(el, 'key') ?? (() => '');
    const type = cachingType(attributeText(el, 'caching-type'));
    const { services } = cx;
    return (ctx) => {
      const k = key(ctx);
      const cache = valueCacheFor(services, type); // looked up per request: services.reset() replaces it
      return whenReady(cache.delete(k), (removed): Flow => {
        if (ctx.tracing)
          ctx.trace({ kind: 'info', policy: 'cache-remove-value', message: `key "${k}" ${removed ? 'removed from' : 'was not in'} the ${cache.where} cache` });
        return 'continue';
      });
    };
  },
};

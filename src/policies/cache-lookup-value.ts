import { CACHING_TYPE } from './cache-lookup.js';
import { cachingType, valueCacheFor } from './support/cache.js';
import type { Flow, PolicyDefinition } from '../engine/policy-sdk.js';
import { attributeText, whenReady } from '../engine/policy-sdk.js';

/**
 * `<cache-lookup-value key variable-name default-value caching-type>`: reads a value stored by cache-store-value into a
 * context variable. On a miss the variable gets default-value when one is given, and is left unset otherwise (the
 * docs say both "null is assigned" and "the variable will not be set"; the emulator follows the latter, as
 * Microsoft's policy toolkit does — docs/policies-ai-caching.md).
 */
export const cacheLookupValue: PolicyDefinition = {
  name: 'cache-lookup-value',
  summary: 'Reads a value stored by cache-store-value into a variable (default-value on a miss).',
  support: 'full',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: [
    { name: 'key', required: true, expressions: true },
    { name: 'variable-name', required: true, expressions: false },
    { name: 'default-value', expressions: true },
    CACHING_TYPE,
  ],
  compile(el, cx) {
    const key = cx.string(el, 'key') ?? (() => '');
    const variable = attributeText(el, 'variable-name') ?? '';
    const fallback = cx.value(el, 'default-value');
    const type = cachingType(attributeText(el, 'caching-type'));
    const { services } = cx;
    return (ctx) => {
      const k = key(ctx);
      const cache = valueCacheFor(services, type); // looked up per request: services.reset() replaces it
      return whenReady(cache.get(k), (hit): Flow => {
        if (hit) ctx.variables.set(variable, hit.value);
        else if (fallback) ctx.variables.set(variable, fallback(ctx));
        if (ctx.tracing)
          ctx.trace({
            kind: 'info',
            policy: 'cache-lookup-value',
            message: `${hit ? 'hit' : 'miss'} for key "${k}" in the ${cache.where} cache${!hit && !fallback ? `: variable "${variable}" not set` : ''}`,
          });
        return 'continue';
      });
    };
  },
};

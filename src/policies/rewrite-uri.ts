import type { PolicyDefinition } from '../engine/policy-sdk.js';
import { PolicyError, QueryMap } from '../engine/policy-sdk.js';

/**
 * `<rewrite-uri template copy-unmatched-params>`: replaces the backend path (relative to the API suffix). Template
 * parameters `{name}` come from the matched operation parameters; query parameters of the request that the
 * operation's URL template did not match are kept unless copy-unmatched-params="false" (docs/apim-behaviour.md: Headers, variables and URLs).
 */
export const rewriteUri: PolicyDefinition = {
  name: 'rewrite-uri',
  summary: 'Rewrites the backend URL path (and query) from a template.',
  support: 'full',
  sections: ['inbound'],
  attributes: [
    { name: 'template', required: true, expressions: true },
    { name: 'copy-unmatched-params', expressions: false, kind: 'bool', default: 'true' },
  ],
  compile(el, cx) {
    const template = cx.string(el, 'template') ?? (() => '/');
    const copyUnmatched =
      el.attributes
        .find((a) => a.name === 'copy-unmatched-params')
        ?.value.text.trim()
        .toLowerCase() !== 'false';
    return (ctx) => {
      const t = template(ctx);
      const filled = t.replace(/\{\*?([^{}]+)\}/g, (_, name: string) => {
        const v = ctx.request.matchedParameters.get(name);
        if (v === undefined)
          throw new PolicyError(
            'rewrite-uri',
            'ExpressionValueEvaluationFailure',
            `Template parameter {${name}} of "${t}" is not a parameter of the matched operation.`,
          );
        return encodeURIComponent(v);
      });
      const q = filled.indexOf('?');
      const path = q < 0 ? filled : filled.slice(0, q);
      const newQuery = QueryMap.parse(q < 0 ? '' : filled.slice(q + 1));
      if (copyUnmatched) {
        const matchedQuery = templateQueryNames(ctx.operation.urlTemplate);
        for (const [n, v] of ctx.request.url.query.entries()) if (!matchedQuery.has(n) && !newQuery.has(n)) newQuery.set(n, v);
      }
      const prefix = ctx.api.path ? `/${ctx.api.path.replace(/^\/+|\/+$/g, '')}` : '';
      ctx.request.url.path = `${prefix}${path.startsWith('/') ? path : `/${path}`}`;
      ctx.request.url.query = newQuery;
      return 'continue';
    };
  },
};

function templateQueryNames(urlTemplate: string): Set<string> {
  const q = urlTemplate.indexOf('?');
  if (q < 0) return new Set();
  return new Set([...QueryMap.parse(urlTemplate.slice(q + 1)).entries()].map(([n]) => n));
}

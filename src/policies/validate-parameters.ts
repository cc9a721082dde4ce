import type { ElementSpec, Flow, GatewayContext, PolicyDefinition } from '../engine/policy-sdk.js';
import { attributeText, childElements } from '../engine/policy-sdk.js';
import { coerceParameter } from './support/openapi.js';
import type { SpecParameter } from './support/openapi.js';
import type { ValidationAction, ValidationIssue } from './support/validation.js';
import { ACTIONS, apiRelativePath, apiSpecification, reportIssues, toAction } from './support/validation.js';

/**
 * Headers every client and proxy sends: never "unspecified" (docs/emulator-choices.md, "validate-parameters").
 * APIM's own subscription-key header is among them.
 */
export const TRANSPORT_HEADERS = new Set([
  'host',
  'user-agent',
  'accept',
  'accept-encoding',
  'accept-language',
  'connection',
  'content-length',
  'content-type',
  'transfer-encoding',
  'keep-alive',
  'te',
  'expect',
  'ocp-apim-subscription-key',
  'ocp-apim-trace',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'traceparent',
  'tracestate',
  'cache-control',
  'pragma',
  'cookie',
  'authorization',
  'origin',
  'referer',
]);

const GROUP_ATTRIBUTES = [
  { name: 'specified-parameter-action', expressions: true, kind: 'enum', values: ACTIONS },
  { name: 'unspecified-parameter-action', expressions: true, kind: 'enum', values: ACTIONS },
] as const;
const PARAMETER: ElementSpec = {
  name: 'parameter',
  attributes: [
    { name: 'name', required: true, expressions: false },
    { name: 'action', required: true, expressions: true, kind: 'enum', values: ACTIONS },
  ],
};

type Where = 'headers' | 'query' | 'path';
const IN: Record<Where, SpecParameter['in']> = { headers: 'header', query: 'query', path: 'path' };

/**
 * `<validate-parameters specified-parameter-action unspecified-parameter-action errors-variable-name>` with optional
 * `<headers>`, `<query>`, `<path>` overrides and per-`<parameter name action>` overrides.
 * Attribute table: learn.microsoft.com/azure/api-management/validate-parameters-policy (read 2026-12-02).
 * Parameters are those the API's OpenAPI specification declares for the matched operation.
 */
export const validateParameters: PolicyDefinition = {
  name: 'validate-parameters',
  summary: "Checks request header, query and path parameters against the operation in the API's OpenAPI specification.",
  support: 'full',
  sections: ['inbound'],
  attributes: [
    { name: 'specified-parameter-action', required: true, expressions: true, kind: 'enum', values: ACTIONS },
    { name: 'unspecified-parameter-action', required: true, expressions: true, kind: 'enum', values: ACTIONS },
    { name: 'errors-variable-name', expressions: false },
  ],
  elements: [
    { name: 'headers', max: 1, attributes: GROUP_ATTRIBUTES, elements: [PARAMETER] },
    { name: 'query', max: 1, attributes: GROUP_ATTRIBUTES, elements: [PARAMETER] },
    { name: 'path', max: 1, attributes: [GROUP_ATTRIBUTES[0]], elements: [PARAMETER] },
  ],
  compile(el, cx) {
    const specified = cx.string(el, 'specified-parameter-action') ?? (() => 'ignore');
    const unspecified = cx.string(el, 'unspecified-parameter-action') ?? (() => 'ignore');
    const errorsVariable = attributeText(el, 'errors-variable-name');
    const groups = new Map<
      Where,
      { specified?: (ctx: GatewayContext) => string; unspecified?: (ctx: GatewayContext) => string; params: Map<string, (ctx: GatewayContext) => string> }
    >();
    for (const w of ['headers', 'query', 'path'] as const) {
      const g = childElements(el, w)[0];
      if (!g) continue;
      const params = new Map<string, (ctx: GatewayContext) => string>();
      for (const p of childElements(g, 'parameter')) params.set((attributeText(p, 'name') ?? '').toLowerCase(), cx.string(p, 'action') ?? (() => 'ignore'));
      const s = cx.string(g, 'specified-parameter-action');
      const u = w === 'path' ? undefined : cx.string(g, 'unspecified-parameter-action');
      groups.set(w, { ...(s ? { specified: s } : {}), ...(u ? { unspecified: u } : {}), params });
    }
    const spec = apiSpecification(el, cx, 'parameters cannot be checked (every request passes)');
    return (ctx): Flow => {
      if (!spec) return 'continue';
      const found = spec.find(ctx.request.method, apiRelativePath(ctx));
      if (!found) return 'continue';
      const issues: ValidationIssue[] = [];
      const actionFor = (w: Where, name: string, isSpecified: boolean): ValidationAction => {
        const g = groups.get(w);
        const own = g?.params.get(name.toLowerCase());
        if (own) return toAction(own(ctx), 'ignore');
        const groupAction = isSpecified ? g?.specified : g?.unspecified;
        return toAction((groupAction ?? (isSpecified ? specified : unspecified))(ctx), 'ignore');
      };
      for (const w of ['headers', 'query', 'path'] as const) {
        const declared = found.op.parameters.filter((p) => p.in === IN[w]);
        for (const p of declared) {
          const raw =
            w === 'headers' ? ctx.request.headers.getJoined(p.name) : w === 'query' ? ctx.request.url.query.get(p.name)?.join(',') : found.pathValues[p.name];
          const action = actionFor(w, p.name, true);
          if (raw === undefined) {
            if (p.required)
              issues.push({
                Name: p.name,
                Type: typeName(w),
                ValidationRule: 'Required',
                Details: `Required ${IN[w]} parameter "${p.name}" is missing.`,
                Action: action,
              });
            continue;
          }
          for (const d of p.check?.(coerceParameter(raw, p.type)) ?? [])
            issues.push({
              Name: p.name,
              Type: typeName(w),
              ValidationRule: 'Schema',
              Details: `${IN[w]} parameter "${p.name}": ${d.replace(/^: /, '')}`,
              Action: action,
            });
        }
        if (w === 'path') continue;
        const known = new Set(declared.map((p) => p.name.toLowerCase()));
        const present = w === 'headers' ? ctx.request.headers.names() : [...ctx.request.url.query.entries()].map(([n]) => n);
        for (const n of present) {
          if (known.has(n.toLowerCase()) || (w === 'headers' && TRANSPORT_HEADERS.has(n.toLowerCase()))) continue;
          issues.push({
            Name: n,
            Type: typeName(w),
            ValidationRule: 'Unspecified',
            Details: `${IN[w]} parameter "${n}" is not specified for this operation.`,
            Action: actionFor(w, n, false),
          });
        }
      }
      reportIssues(ctx, 'validate-parameters', issues, errorsVariable, 'request');
      return 'continue';
    };
  },
};

function typeName(w: Where): string {
  return w === 'headers' ? 'Header' : w === 'query' ? 'QueryParameter' : 'PathParameter';
}

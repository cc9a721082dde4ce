import { coerceParameter, responseFor } from './support/openapi.js';
import type { ValidationIssue } from './support/validation.js';
import { ACTIONS, apiRelativePath, apiSpecification, reportIssues, toAction } from './support/validation.js';
import { TRANSPORT_HEADERS } from './validate-parameters.js';
import type { Flow, PolicyDefinition } from '../engine/policy-sdk.js';
import { attributeText, childElements } from '../engine/policy-sdk.js';

/** Response headers the gateway or HTTP itself adds: never "unspecified". */
const RESPONSE_TRANSPORT = new Set([
  ...TRANSPORT_HEADERS,
  'date',
  'server',
  'vary',
  'etag',
  'last-modified',
  'content-encoding',
  'request-context',
  'x-powered-by',
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'access-control-expose-headers',
]);

/**
 * `<validate-headers specified-header-action unspecified-header-action errors-variable-name>` with
 * `<header name action/>` overrides: the response headers against the responses of the operation in the API's
 * OpenAPI specification. Attribute table: learn.microsoft.com/azure/api-management/validate-headers-policy
 * (read 2026-12-02).
 */
export const validateHeaders: PolicyDefinition = {
  name: 'validate-headers',
  summary: "Checks response headers against the operation's responses in the API's OpenAPI specification.",
  support: 'full',
  sections: ['outbound', 'on-error'],
  attributes: [
    { name: 'specified-header-action', required: true, expressions: true, kind: 'enum', values: ACTIONS },
    { name: 'unspecified-header-action', required: true, expressions: true, kind: 'enum', values: ACTIONS },
    { name: 'errors-variable-name', expressions: false },
  ],
  elements: [
    {
      name: 'header',
      attributes: [
        { name: 'name', required: true, expressions: false },
        { name: 'action', required: true, expressions: true, kind: 'enum', values: ACTIONS },
      ],
    },
  ],
  compile(el, cx) {
    const specified = cx.string(el, 'specified-header-action') ?? (() => 'ignore');
    const unspecified = cx.string(el, 'unspecified-header-action') ?? (() => 'ignore');
    const errorsVariable = attributeText(el, 'errors-variable-name');
    const own = new Map(
      childElements(el, 'header').map((h) => [(attributeText(h, 'name') ?? '').toLowerCase(), cx.string(h, 'action') ?? (() => 'ignore')] as const),
    );
    const spec = apiSpecification(el, cx, 'response headers cannot be checked');
    return (ctx): Flow => {
      if (!spec) return 'continue';
      const op = spec.find(ctx.request.method, apiRelativePath(ctx))?.op;
      const response = op ? responseFor(op, ctx.response.statusCode) : undefined;
      if (!response) return 'continue';
      const issues: ValidationIssue[] = [];
      const known = new Set<string>();
      for (const h of response.headers) {
        known.add(h.name.toLowerCase());
        const action = toAction((own.get(h.name.toLowerCase()) ?? specified)(ctx), 'ignore');
        const raw = ctx.response.headers.getJoined(h.name);
        if (raw === undefined) {
          if (h.required)
            issues.push({
              Name: h.name,
              Type: 'ResponseHeader',
              ValidationRule: 'Required',
              Details: `Required response header "${h.name}" is missing.`,
              Action: action,
            });
          continue;
        }
        for (const d of h.check?.(coerceParameter(raw, h.type)) ?? [])
          issues.push({ Name: h.name, Type: 'ResponseHeader', ValidationRule: 'Schema', Details: `response header "${h.name}": ${d}`, Action: action });
      }
      for (const n of ctx.response.headers.names()) {
        const k = n.toLowerCase();
        if (known.has(k) || RESPONSE_TRANSPORT.has(k)) continue;
        issues.push({
          Name: n,
          Type: 'ResponseHeader',
          ValidationRule: 'Unspecified',
          Details: `Response header "${n}" is not specified for status ${ctx.response.statusCode}.`,
          Action: toAction((own.get(k) ?? unspecified)(ctx), 'ignore'),
        });
      }
      reportIssues(ctx, 'validate-headers', issues, errorsVariable, 'response');
      return 'continue';
    };
  },
};

import type { ValidationIssue } from './support/validation.js';
import { ACTIONS, apiRelativePath, apiSpecification, reportIssues, toAction } from './support/validation.js';
import type { Flow, PolicyDefinition } from '../engine/policy-sdk.js';
import { attributeText, childElements } from '../engine/policy-sdk.js';

/**
 * `<validate-status-code unspecified-status-code-action errors-variable-name>` with `<status-code code action/>`
 * overrides: is the response's status one the operation declares (exact, `2XX` range or `default`)?
 * Attribute table: learn.microsoft.com/azure/api-management/validate-status-code-policy (read 2026-12-02).
 */
export const validateStatusCode: PolicyDefinition = {
  name: 'validate-status-code',
  summary: "Checks that the response status code is declared for the operation in the API's OpenAPI specification.",
  support: 'full',
  sections: ['outbound', 'on-error'],
  attributes: [
    { name: 'unspecified-status-code-action', required: true, expressions: true, kind: 'enum', values: ACTIONS },
    { name: 'errors-variable-name', expressions: false },
  ],
  elements: [
    {
      name: 'status-code',
      attributes: [
        { name: 'code', required: true, expressions: false, kind: 'int', min: 100, max: 599 },
        { name: 'action', required: true, expressions: true, kind: 'enum', values: ACTIONS },
      ],
    },
  ],
  compile(el, cx) {
    const unspecified = cx.string(el, 'unspecified-status-code-action') ?? (() => 'ignore');
    const errorsVariable = attributeText(el, 'errors-variable-name');
    const own = new Map(childElements(el, 'status-code').map((s) => [Number(attributeText(s, 'code')), cx.string(s, 'action') ?? (() => 'ignore')] as const));
    const spec = apiSpecification(el, cx, 'status codes cannot be checked');
    return (ctx): Flow => {
      if (!spec) return 'continue';
      const op = spec.find(ctx.request.method, apiRelativePath(ctx))?.op;
      if (!op) return 'continue';
      const code = ctx.response.statusCode;
      if (op.responses.has(String(code)) || op.responses.has(`${String(code)[0]}XX`) || op.responses.has('DEFAULT')) return 'continue';
      const issues: ValidationIssue[] = [
        {
          Name: String(code),
          Type: 'StatusCode',
          ValidationRule: 'Unspecified',
          Details: `Status code ${code} is not specified for this operation.`,
          Action: toAction((own.get(code) ?? unspecified)(ctx), 'ignore'),
        },
      ];
      reportIssues(ctx, 'validate-status-code', issues, errorsVariable, 'response');
      return 'continue';
    };
  },
};

import type { CompileContext, DiagnosticBag, GatewayContext, SourceText, XmlElement } from '../../engine/policy-sdk.js';
import { PolicyError, gatewayErrorResponse } from '../../engine/policy-sdk.js';
import { firstReport } from './once.js';
import { ApiSpecification, SpecificationError } from './openapi.js';

/**
 * Shared by the content validation policies (validate-content, -parameters, -headers, -status-code, -graphql-request,
 * -odata-request). APIM's model: each finding has an action, `ignore` (skip), `detect` (log, go on) or `prevent`
 * (stop with an error); findings go to the trace and, with errors-variable-name, into that variable as a list of
 * { Name, Type, ValidationRule, Details, Action } (learn.microsoft.com/azure/api-management/validation-policies,
 * "Validation errors", read 2026-12-02). A prevented request answers 400, a prevented response 502.
 */

export type ValidationAction = 'ignore' | 'detect' | 'prevent';

export const ACTIONS = ['ignore', 'detect', 'prevent'] as const;

export interface ValidationIssue {
  Name: string;
  Type: string;
  ValidationRule: string;
  Details: string;
  Action: ValidationAction;
}

export function toAction(s: string | undefined, fallback: ValidationAction): ValidationAction {
  const v = (s ?? '').trim().toLowerCase();
  return v === 'ignore' || v === 'detect' || v === 'prevent' ? v : fallback;
}

/**
 * Records the findings and stops on the first prevented one. Detected findings are appended to the errors variable
 * (a List of error objects, as policy expressions read it) and to the trace.
 */
export function reportIssues(
  ctx: GatewayContext,
  policy: string,
  issues: readonly ValidationIssue[],
  errorsVariable: string | undefined,
  message: 'request' | 'response',
): void {
  const kept = issues.filter((i) => i.Action !== 'ignore');
  if (kept.length === 0) return;
  if (errorsVariable) {
    const prev = ctx.variables.get(errorsVariable);
    const list = Array.isArray(prev) ? (prev as unknown[]) : [];
    list.push(...kept.map((i) => ({ ...i })));
    ctx.variables.set(errorsVariable, list);
  }
  for (const i of kept) {
    if (ctx.tracing) ctx.trace({ kind: 'info', policy, message: `${i.Action}: ${i.Type} ${i.Name}: ${i.Details}`, data: { ...i } });
  }
  const stop = kept.find((i) => i.Action === 'prevent');
  if (stop) {
    const status = message === 'request' ? 400 : 502;
    throw new PolicyError(policy, stop.ValidationRule, stop.Details, gatewayErrorResponse(status, stop.Details));
  }
}

const parsed = new WeakMap<SourceText, ApiSpecification | null>();

/** The API's specification, parsed once per source; a broken one is reported once (file, what is wrong). */
export function specificationOf(source: SourceText | undefined, diagnostics: DiagnosticBag): ApiSpecification | undefined {
  if (!source) return undefined;
  if (parsed.has(source)) return parsed.get(source) ?? undefined;
  try {
    const spec = ApiSpecification.parse(source.text);
    parsed.set(source, spec);
    return spec;
  } catch (e) {
    parsed.set(source, null);
    diagnostics.error(
      source,
      0,
      'api/bad-specification',
      e instanceof SpecificationError ? e.message : `the specification cannot be read: ${String(e)}`,
      'give an OpenAPI 2 or 3 document in JSON or YAML',
    );
    return undefined;
  }
}

/**
 * The compiled API's specification. Without one (a file validated on its own, or an API given without a
 * specification) the policy says once what it cannot check, as a warning: the file is valid APIM.
 */
export function apiSpecification(el: XmlElement, cx: CompileContext, without: string): ApiSpecification | undefined {
  const spec = specificationOf(cx.api?.specification, cx.diagnostics);
  if (!spec && cx.api && firstReport(el, 'no-specification')) {
    cx.diagnostics.warning(
      el.source,
      el.start,
      'policy/no-specification',
      `<${el.name}>: API "${cx.api.id}" has no specification, so ${without}`,
      'give the API a "specification" (OpenAPI 2/3, JSON or YAML) in the config, or specification.yaml|json in its APIOps folder',
    );
  }
  return spec;
}

/** The request path relative to the API suffix (what OpenAPI paths describe). */
export function apiRelativePath(ctx: GatewayContext): string {
  const prefix = ctx.api.path ? `/${ctx.api.path.replace(/^\/+|\/+$/g, '')}` : '';
  const p = ctx.request.url.path;
  const rel = prefix && (p === prefix || p.startsWith(`${prefix}/`)) ? p.slice(prefix.length) : p;
  return rel || '/';
}

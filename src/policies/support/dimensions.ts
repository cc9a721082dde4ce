import type { CompileContext, ElementSpec, GatewayContext, XmlElement } from '../../engine/policy-sdk.js';
import { PolicyError, attributeText, childElements } from '../../engine/policy-sdk.js';
import { firstReport } from './once.js';

/**
 * Dimensions of emit-metric and the token-metric policies: `<dimension name value/>`, where value may be omitted for
 * the default dimensions, whose value comes from the request context.
 */

type DefaultDimension = (ctx: GatewayContext) => string;

/**
 * The backend that answered: for a pool, the member forward-request chose (the backend that actually served the call;
 * APIM's choice between pool and member is SILENT), else the backend id, else the set-backend-service target.
 */
function backendId(ctx: GatewayContext): string {
  if (ctx.lastBackend) return ctx.lastBackend.memberId || ctx.lastBackend.backendId;
  return ctx.backendTarget?.kind === 'backend' ? ctx.backendTarget.backendId : '';
}

const DEFAULTS: ReadonlyMap<string, DefaultDimension> = new Map<string, DefaultDimension>([
  ['api id', (ctx) => ctx.api.id],
  ['operation id', (ctx) => ctx.operation.id],
  ['product id', (ctx) => ctx.product?.id ?? ''],
  ['user id', (ctx) => ctx.user?.id ?? ''],
  ['subscription id', (ctx) => ctx.subscription?.id ?? ''],
  ['location', (ctx) => ctx.deployment.region],
  ['gateway id', (ctx) => ctx.deployment.gatewayId],
  ['backend id', backendId],
]);

/** Names usable without value: emit-metric's list, plus Backend ID for the LLM token metrics. */
export const EMIT_METRIC_DEFAULTS = ['API ID', 'Operation ID', 'Product ID', 'User ID', 'Subscription ID', 'Location', 'Gateway ID'] as const;
export const TOKEN_METRIC_DEFAULTS = [...EMIT_METRIC_DEFAULTS, 'Backend ID'] as const;

export function dimensionElement(max: number): ElementSpec {
  return {
    name: 'dimension',
    min: 1,
    max,
    attributes: [
      { name: 'name', required: true, expressions: true },
      { name: 'value', expressions: true },
    ],
  };
}

export type DimensionsGetter = (ctx: GatewayContext) => Record<string, string>;

/**
 * Compiles the `<dimension>` children. A dimension without value must name a default dimension (matched without regard
 * to case, as names are display names); a literal name that is not one is reported at load time, an expression name
 * at run time.
 */
export function compileDimensions(el: XmlElement, cx: CompileContext, policy: string, allowedDefaults: readonly string[]): DimensionsGetter {
  const allowed = new Set(allowedDefaults.map((d) => d.toLowerCase()));
  const dims = childElements(el, 'dimension').map((d) => {
    const name = cx.string(d, 'name') ?? (() => '');
    const value = cx.string(d, 'value');
    if (!value) {
      const literal = attributeText(d, 'name');
      if (literal !== undefined && !literal.trim().startsWith('@') && !allowed.has(literal.trim().toLowerCase()) && firstReport(d, 'dimension-value')) {
        cx.diagnostics.error(
          d.source,
          cx.offsetOf(d, 'name'),
          'policy/missing-attribute',
          `<dimension name="${literal}"> needs a value: only default dimensions may omit it`,
          `default dimensions: ${allowedDefaults.join(', ')}`,
        );
      }
    }
    return { name, value };
  });
  return (ctx) => {
    const out: Record<string, string> = {};
    for (const d of dims) {
      const n = d.name(ctx);
      if (d.value) {
        out[n] = d.value(ctx);
        continue;
      }
      const key = n.trim().toLowerCase();
      const def = allowed.has(key) ? DEFAULTS.get(key) : undefined;
      if (!def)
        throw new PolicyError(
          policy,
          'ExpressionValueEvaluationFailure',
          `Dimension "${n}" has no value and is not a default dimension (${allowedDefaults.join(', ')}).`,
        );
      out[n] = def(ctx);
    }
    return out;
  };
}

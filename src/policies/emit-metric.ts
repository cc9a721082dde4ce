import type { PolicyDefinition } from '../engine/policy-sdk.js';
import { PolicyError, attributeText } from '../engine/policy-sdk.js';
import { compileDimensions, dimensionElement, EMIT_METRIC_DEFAULTS } from './support/dimensions.js';

export const DEFAULT_METRIC_NAMESPACE = 'API Management';

/**
 * `<emit-metric name value namespace><dimension name value/>+</emit-metric>`: records one custom metric value with its
 * dimensions. APIM sends it to Application Insights; the emulator hands it to RuntimeServices.emitMetric (the server
 * exposes it on its Prometheus endpoint) and to the request trace.
 * Re-audited against learn.microsoft.com/azure/api-management/emit-metric-policy (read 2026-12-02): name required,
 * namespace, value (default 1); 1 to 10 dimensions.
 */
export const emitMetric: PolicyDefinition = {
  name: 'emit-metric',
  summary: 'Records a custom metric with dimensions (Prometheus endpoint and trace).',
  support: 'full',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: [
    { name: 'name', required: true, expressions: false },
    { name: 'namespace', expressions: false, default: DEFAULT_METRIC_NAMESPACE },
    { name: 'value', expressions: true, kind: 'number', default: '1' },
  ],
  elements: [dimensionElement(10)],
  compile(el, cx) {
    const name = attributeText(el, 'name') ?? '';
    const namespace = attributeText(el, 'namespace') ?? DEFAULT_METRIC_NAMESPACE;
    const value = cx.number(el, 'value') ?? (() => 1);
    const dimensions = compileDimensions(el, cx, 'emit-metric', EMIT_METRIC_DEFAULTS);
    const { services } = cx;
    return (ctx) => {
      const v = value(ctx);
      if (!Number.isFinite(v))
        throw new PolicyError('emit-metric', 'ExpressionValueEvaluationFailure', `Metric "${name}": value is not a number (${String(v)}).`);
      const record = { name, namespace, value: v, dimensions: dimensions(ctx) };
      services.emitMetric(record);
      if (ctx.tracing) ctx.trace({ kind: 'info', policy: 'emit-metric', message: `metric "${name}" = ${v}`, data: { ...record } });
      return 'continue';
    };
  },
};

import { callDapr, sidecarBase } from './support/dapr.js';
import { offlineWarning } from './support/offline.js';
import { recordSink } from './support/sinks.js';
import { compileMessageText } from './support/message.js';
import type { Flow, PolicyDefinition } from '../engine/policy-sdk.js';
import { attributeText, childElements } from '../engine/policy-sdk.js';

/**
 * `<invoke-dapr-binding name operation ignore-error response-variable-name timeout template content-type>` with
 * `<metadata><item key/></metadata><data/>`.
 * Attribute table: learn.microsoft.com/azure/api-management/invoke-dapr-binding-policy (read 2026-12-02).
 * Recorded in the local "dapr-binding" sink; with `dapr.sidecarUrl` also POSTed to `{sidecar}/v1.0/bindings/{name}`
 * with Dapr's body `{"data", "metadata", "operation"}`.
 */
export const invokeDaprBinding: PolicyDefinition = {
  name: 'invoke-dapr-binding',
  summary:
    'Records the binding call in the dapr-binding sink; POSTs {data, metadata, operation} to {sidecar}/v1.0/bindings/{name} when dapr.sidecarUrl is set.',
  support: 'approximate',
  sections: ['inbound', 'outbound', 'on-error'],
  scopes: ['global', 'product', 'api', 'operation'],
  attributes: [
    { name: 'name', required: true, expressions: true },
    { name: 'operation', expressions: true, default: 'create' },
    { name: 'ignore-error', expressions: true, kind: 'bool', default: 'false' },
    { name: 'response-variable-name', expressions: false },
    { name: 'timeout', expressions: true, kind: 'int', min: 1, max: 240, default: '5' },
    { name: 'template', expressions: false, kind: 'enum', values: ['liquid'] },
    { name: 'content-type', expressions: false, default: 'application/json' },
  ],
  ordered: true,
  elements: [
    { name: 'metadata', max: 1, elements: [{ name: 'item', attributes: [{ name: 'key', required: true, expressions: false }], text: { expressions: true } }] },
    { name: 'data', max: 1, text: { expressions: true } },
  ],
  compile(el, cx) {
    offlineWarning(el, cx, 'the call is recorded in the local dapr-binding sink (and sent to the sidecar only when dapr.sidecarUrl is set)');
    const name = cx.string(el, 'name') ?? (() => '');
    const operation = cx.string(el, 'operation') ?? (() => 'create');
    const ignoreError = cx.bool(el, 'ignore-error') ?? (() => false);
    const timeout = cx.int(el, 'timeout') ?? (() => 5);
    const responseVariable = attributeText(el, 'response-variable-name');
    const contentType = cx.attributeSpan(el, 'content-type')?.text ?? 'application/json';
    const items = childElements(el, 'metadata')
      .flatMap((m) => childElements(m, 'item'))
      .map((i) => ({ key: attributeText(i, 'key') ?? '', value: cx.text(i) ?? (() => '') }));
    const dataEl = childElements(el, 'data')[0];
    // template="liquid": <data> is a Liquid template over context and the current body.
    const data = dataEl ? compileMessageText(dataEl, cx, attributeText(el, 'template')?.trim().toLowerCase() === 'liquid', el) : () => '';
    const { services } = cx;
    return async (ctx): Promise<Flow> => {
      const binding = name(ctx);
      const op = operation(ctx);
      const metadata: Record<string, string> = {};
      for (const i of items) metadata[i.key] = i.value(ctx);
      const payload = data(ctx).trim();
      recordSink(services, {
        kind: 'dapr-binding',
        target: binding,
        payload,
        properties: { operation: op, ...metadata },
        timestamp: ctx.clock.now(),
        requestId: ctx.requestId,
      });
      // Dapr's binding request: data is JSON when it parses as JSON, else sent as a string.
      let dataValue: unknown = payload;
      try {
        dataValue = JSON.parse(payload) as unknown;
      } catch {
        dataValue = payload;
      }
      const body = JSON.stringify({ data: dataValue, metadata, operation: op });
      const url = `${sidecarBase(services)}/v1.0/bindings/${encodeURIComponent(binding)}`;
      if (ctx.tracing) ctx.trace({ kind: 'info', policy: 'invoke-dapr-binding', message: `binding ${binding} ${op} (${url})` });
      await callDapr(ctx, services, {
        policy: 'invoke-dapr-binding',
        url,
        contentType,
        body,
        timeoutS: timeout(ctx),
        ignoreError: ignoreError(ctx),
        responseVariable,
      });
      return 'continue';
    };
  },
};

import { callDapr, sidecarBase } from './support/dapr.js';
import { offlineWarning } from './support/offline.js';
import { recordSink } from './support/sinks.js';
import { compileMessageText } from './support/message.js';
import type { Flow, PolicyDefinition } from '../engine/policy-sdk.js';
import { attributeText } from '../engine/policy-sdk.js';

/**
 * `<publish-to-dapr pubsub-name topic ignore-error response-variable-name timeout template content-type>message`.
 * Attribute table: learn.microsoft.com/azure/api-management/publish-to-dapr-policy (read 2026-12-02).
 * Every message is recorded in the local "dapr-pubsub" sink; with the setting `dapr.sidecarUrl` it is also POSTed to
 * `{sidecar}/v1.0/publish/{pubsub-name}/{topic}` as the self-hosted gateway does.
 */
export const publishToDapr: PolicyDefinition = {
  name: 'publish-to-dapr',
  summary: 'Records the message in the dapr-pubsub sink; POSTs it to {sidecar}/v1.0/publish/{pubsub}/{topic} when dapr.sidecarUrl is set.',
  support: 'approximate',
  sections: ['inbound', 'outbound', 'on-error'],
  scopes: ['global', 'product', 'api', 'operation'],
  attributes: [
    { name: 'pubsub-name', required: true, expressions: true },
    { name: 'topic', required: true, expressions: true },
    { name: 'ignore-error', expressions: true, kind: 'bool', default: 'false' },
    { name: 'response-variable-name', expressions: false },
    { name: 'timeout', expressions: true, kind: 'int', min: 1, max: 240, default: '5' },
    { name: 'template', expressions: false, kind: 'enum', values: ['liquid'] },
    { name: 'content-type', expressions: false, default: 'application/json' },
  ],
  text: { expressions: true },
  compile(el, cx) {
    offlineWarning(el, cx, 'the message is recorded in the local dapr-pubsub sink (and sent to the sidecar only when dapr.sidecarUrl is set)');
    const pubsub = cx.string(el, 'pubsub-name') ?? (() => '');
    const topic = cx.string(el, 'topic') ?? (() => '');
    const ignoreError = cx.bool(el, 'ignore-error') ?? (() => false);
    const timeout = cx.int(el, 'timeout') ?? (() => 5);
    const responseVariable = attributeText(el, 'response-variable-name');
    const contentType = cx.attributeSpan(el, 'content-type')?.text ?? 'application/json';
    // template="liquid": the message is a Liquid template over context and the current body (the page's example).
    const message = compileMessageText(el, cx, attributeText(el, 'template')?.trim().toLowerCase() === 'liquid');
    const { services } = cx;
    return async (ctx): Promise<Flow> => {
      const p = pubsub(ctx);
      const t = topic(ctx);
      const body = message(ctx);
      recordSink(services, {
        kind: 'dapr-pubsub',
        target: `${p}/${t}`,
        payload: body,
        properties: { 'content-type': contentType },
        timestamp: ctx.clock.now(),
        requestId: ctx.requestId,
      });
      const url = `${sidecarBase(services)}/v1.0/publish/${encodeURIComponent(p)}/${encodeURIComponent(t)}`;
      if (ctx.tracing) ctx.trace({ kind: 'info', policy: 'publish-to-dapr', message: `publish to ${p}/${t} (${url})` });
      await callDapr(ctx, services, {
        policy: 'publish-to-dapr',
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

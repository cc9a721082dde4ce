import { offlineWarning } from './support/offline.js';
import { recordSink } from './support/sinks.js';
import type { PolicyDefinition } from '../engine/policy-sdk.js';
import { attributeText, childElements } from '../engine/policy-sdk.js';

/**
 * `<send-service-bus-message queue-name|topic-name namespace client-id><message-properties/><payload/>`.
 * Attribute table: learn.microsoft.com/azure/api-management/send-service-bus-message-policy (read 2026-12-02).
 * Offline there is no Service Bus: the message (payload and properties) goes to the local "service-bus" sink
 * (sinkEntries), readable by tests, scenarios and the admin API; the request continues as in APIM.
 */
export const sendServiceBusMessage: PolicyDefinition = {
  name: 'send-service-bus-message',
  summary: 'Records the message (payload, properties, queue or topic) in the local service-bus sink (no Service Bus offline).',
  support: 'approximate',
  sections: ['inbound', 'outbound', 'on-error'],
  scopes: ['global', 'product', 'api', 'operation'],
  attributes: [
    { name: 'queue-name', expressions: true },
    { name: 'topic-name', expressions: true },
    { name: 'namespace', expressions: true },
    { name: 'client-id', expressions: true },
  ],
  oneOf: [['queue-name', 'topic-name']],
  ordered: true,
  elements: [
    {
      name: 'message-properties',
      max: 1,
      elements: [{ name: 'message-property', attributes: [{ name: 'name', required: true, expressions: false }], text: { expressions: true } }],
    },
    { name: 'payload', min: 1, max: 1, text: { expressions: true, required: true } },
  ],
  compile(el, cx) {
    offlineWarning(el, cx, 'the message is recorded in the local service-bus sink, not sent to Service Bus');
    const queue = cx.string(el, 'queue-name');
    const topic = cx.string(el, 'topic-name');
    const namespace = cx.string(el, 'namespace');
    const props = childElements(el, 'message-properties')
      .flatMap((p) => childElements(p, 'message-property'))
      .map((p) => ({ name: attributeText(p, 'name') ?? '', value: cx.text(p) ?? (() => '') }));
    const payloadEl = childElements(el, 'payload')[0];
    const payload = payloadEl ? (cx.text(payloadEl) ?? (() => '')) : () => '';
    const { services } = cx;
    return (ctx) => {
      const properties: Record<string, string> = {};
      for (const p of props) properties[p.name] = p.value(ctx);
      const target = `${namespace ? `${namespace(ctx)}/` : ''}${queue ? queue(ctx) : topic ? topic(ctx) : ''}`;
      const body = payload(ctx);
      recordSink(services, { kind: 'service-bus', target, payload: body, properties, timestamp: ctx.clock.now(), requestId: ctx.requestId });
      if (ctx.tracing)
        ctx.trace({
          kind: 'info',
          policy: 'send-service-bus-message',
          message: `recorded ${Buffer.byteLength(body)} bytes for ${queue ? 'queue' : 'topic'} ${target}`,
        });
      return 'continue';
    };
  },
};

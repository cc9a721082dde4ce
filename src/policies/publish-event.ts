import type { Flow, PolicyDefinition } from '../engine/policy-sdk.js';
import { attributeText, childElements } from '../engine/policy-sdk.js';
import { offlineWarning } from './support/offline.js';
import { recordSink } from './support/sinks.js';

/**
 * `<publish-event><targets><graphql-subscription id="Type/field"/></targets></publish-event>`, inside a resolver's
 * response (http-data-source, sql-data-source, cosmosdb-data-source).
 * Element table: learn.microsoft.com/azure/api-management/publish-event-policy (read 2026-12-02).
 * GraphQL subscriptions are delivered over WebSocket, which the emulator does not serve: the event (the resolver's
 * response body) is recorded in the local `graphql-event` sink, one entry per subscription target, readable by tests
 * and `GET /_emulator/sinks?kind=graphql-event`.
 */
export const publishEvent: PolicyDefinition = {
  name: 'publish-event',
  summary: 'Records the resolver response as an event for each GraphQL subscription target (no WebSocket subscribers offline).',
  support: 'approximate',
  // Runs in a resolver's <http-response>/<response>, which transforms a response as outbound does.
  sections: ['outbound'],
  attributes: [],
  elements: [
    { name: 'targets', min: 1, max: 1, elements: [{ name: 'graphql-subscription', min: 1, attributes: [{ name: 'id', required: true, expressions: false }] }] },
  ],
  compile(el, cx) {
    offlineWarning(el, cx, 'GraphQL subscriptions need WebSocket, which apim-emulator does not serve; the event is recorded in the local graphql-event sink');
    const ids = childElements(el, 'targets')
      .flatMap((t) => childElements(t, 'graphql-subscription'))
      .map((s) => attributeText(s, 'id') ?? '');
    cx.needsBody('response');
    const { services } = cx;
    return async (ctx): Promise<Flow> => {
      const payload = ctx.response.body ? (await ctx.response.body.buffer()).toString('utf8') : '';
      for (const id of ids)
        recordSink(services, { kind: 'graphql-event', target: id, payload, properties: {}, timestamp: ctx.clock.now(), requestId: ctx.requestId });
      if (ctx.tracing) ctx.trace({ kind: 'info', policy: 'publish-event', message: `event recorded for ${ids.join(', ')}` });
      return 'continue';
    };
  },
};

import { afterEach, describe, expect, it } from 'vitest';
import { sinkEntries } from '../../../src/policies/support/sinks.js';
import { backendPool, buildGateway, FORWARD, policies, send } from '../../helpers/gateway.js';

/**
 * template="liquid" on publish-to-dapr and invoke-dapr-binding (their reference pages allow it), sent to a real Dapr
 * sidecar stand-in on 127.0.0.1; and Liquid's parse-date applied to XML bodies.
 */
const pool = backendPool();
afterEach(() => pool.closeAll());

const ORDER = '{"id": 7, "customer": {"name": "ann"}, "items": [1, 2]}';

describe('Liquid on the Dapr policies', () => {
  it('publish-to-dapr template="liquid" renders the message from the request body and context', async () => {
    const sidecar = await pool.backend((_req, res) => {
      res.statusCode = 204;
      res.end();
    });
    const { gateway } = buildGateway({
      settings: { 'dapr.sidecarUrl': sidecar.url },
      api: policies({
        inbound: `<publish-to-dapr pubsub-name="orders" topic="new" template="liquid">{"orderId": {{body.id}}, "who": "{{body.customer.name | Upcase}}", "count": {{body.items | Size}}, "path": "{{context.Request.Url.Path}}"}</publish-to-dapr><return-response><set-status code="202" reason="Accepted" /></return-response>`,
      }),
    });
    const r = await send(gateway, '/api/orders', { method: 'POST', body: ORDER, headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(202);
    expect(sidecar.requests.map((x) => x.url)).toEqual(['/v1.0/publish/orders/new']);
    const expected = { orderId: 7, who: 'ANN', count: 2, path: '/api/orders' };
    expect(JSON.parse(sidecar.requests[0]!.body)).toEqual(expected);
    expect(JSON.parse(sinkEntries(gateway.services, 'dapr-pubsub')[0]!.payload)).toEqual(expected);
  });

  it('without template the same text is sent as written (Liquid markup is not interpreted)', async () => {
    const { gateway } = buildGateway({
      api: policies({ inbound: '<publish-to-dapr pubsub-name="p" topic="t">{{body.id}}</publish-to-dapr><return-response />' }),
    });
    await send(gateway, '/api/x', { method: 'POST', body: ORDER, headers: { 'content-type': 'application/json' } });
    expect(sinkEntries(gateway.services, 'dapr-pubsub')[0]!.payload).toBe('{{body.id}}');
  });

  it('invoke-dapr-binding template="liquid" renders <data>; Dapr gets {data, metadata, operation}', async () => {
    const sidecar = await pool.backend((_req, res) => void res.end('{}'));
    const { gateway } = buildGateway({
      settings: { 'dapr.sidecarUrl': sidecar.url },
      api: policies({
        inbound: `<invoke-dapr-binding name="mail" operation="create" template="liquid"><metadata><item key="to">ops@example.com</item></metadata><data>{"subject": "order {{body.id}}", "lines": [{% for i in body.items %}{{i}}{% unless forloop.last %},{% endunless %}{% endfor %}]}</data></invoke-dapr-binding><return-response />`,
      }),
    });
    await send(gateway, '/api/x', { method: 'POST', body: ORDER, headers: { 'content-type': 'application/json' } });
    expect(JSON.parse(sidecar.requests[0]!.body)).toEqual({
      data: { subject: 'order 7', lines: [1, 2] },
      metadata: { to: 'ops@example.com' },
      operation: 'create',
    });
  });
});

describe('Liquid parse-date on XML bodies', () => {
  it('ISO dates in an XML body become DateTimes (rendered as .NET does); parse-date="false" copies them', async () => {
    const b = await pool.backend((_req, res) => {
      res.setHeader('Content-Type', 'application/xml');
      res.end('<Order><Created>2025-03-04T05:06:07Z</Created></Order>');
    });
    const make = (attr: string) =>
      buildGateway({ serviceUrl: b.url, api: policies({ backend: FORWARD, outbound: `<set-body template="liquid"${attr}>{{body.Order.Created}}</set-body>` }) })
        .gateway;
    const parsed = (await send(make(''), '/api/x')).text;
    expect(parsed).not.toBe('2025-03-04T05:06:07Z');
    expect(parsed).toMatch(/2025/);
    expect((await send(make(' parse-date="false"'), '/api/x')).text).toBe('2025-03-04T05:06:07Z');
  });
});

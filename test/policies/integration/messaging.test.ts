import { afterEach, describe, expect, it } from 'vitest';
import { sinkEntries } from '../../../src/policies/support/sinks.js';
import { backendPool, buildGateway, FORWARD, policies, send, tryBuildGateway } from '../../helpers/gateway.js';

/** Fire-and-forget calls and the offline sinks of Service Bus and Dapr, through the gateway over real HTTP. */
const pool = backendPool();
afterEach(() => pool.closeAll());

describe('send-one-way-request', () => {
  it('never delays the response: the caller is answered while the one-way call is still pending', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const slow = await pool.backend(async (_req, res) => {
      await held;
      res.end('late');
    });
    const { gateway } = buildGateway({
      api: policies({
        inbound: `<send-one-way-request mode="new"><set-url>${slow.url}/hook</set-url><set-method>POST</set-method><set-header name="x-k" exists-action="override"><value>v</value></set-header><set-body>@(context.Request.Url.Path)</set-body></send-one-way-request><return-response><set-status code="202" reason="Accepted" /></return-response>`,
      }),
    });
    const r = await send(gateway, '/api/orders');
    expect(r.status).toBe(202);
    // The backend got the request but has not answered yet: the gateway did not wait for it.
    await expect.poll(() => slow.requests.length).toBe(1);
    expect(slow.requests[0]).toMatchObject({ method: 'POST', url: '/hook', body: '/api/orders' });
    expect(slow.requests[0]!.headers['x-k']).toBe('v');
    expect(sinkEntries(gateway.services, 'one-way-request')).toEqual([]);
    release();
    await expect.poll(() => sinkEntries(gateway.services, 'one-way-request').length).toBe(1);
    expect(sinkEntries(gateway.services, 'one-way-request')[0]).toMatchObject({ target: `${slow.url}/hook`, properties: { method: 'POST', outcome: '200' } });
  });

  it('a failing one-way call does not fail the request', async () => {
    const { gateway } = buildGateway({
      api: policies({ inbound: '<send-one-way-request><set-url>http://127.0.0.1:9/nothing</set-url></send-one-way-request><return-response />' }),
    });
    expect((await send(gateway, '/api/x')).status).toBe(200);
    await expect.poll(() => sinkEntries(gateway.services, 'one-way-request')[0]?.properties.outcome).toBe('failed');
  });
});

describe('send-service-bus-message', () => {
  it('records payload, properties and queue in the service-bus sink, warns in validate, and lets the request go on', async () => {
    const backend = await pool.backend();
    const api = policies({
      inbound: `<send-service-bus-message queue-name="orders" namespace="contoso.servicebus.windows.net"><message-properties><message-property name="Customer">@(context.Request.Headers.GetValueOrDefault("x-customer",""))</message-property></message-properties><payload>@(context.Request.Body.As&lt;string&gt;(preserveContent: true))</payload></send-service-bus-message>`,
      backend: FORWARD,
    });
    const { gateway, diagnostics } = buildGateway({ serviceUrl: backend.url, api });
    expect(diagnostics.filter((d) => d.severity === 'warning').map((d) => d.code)).toEqual(['policy/offline']);
    const r = await send(gateway, '/api/orders', { method: 'POST', body: '{"id":1}', headers: { 'x-customer': 'c1' } });
    expect(r.status).toBe(200);
    expect(backend.requests).toHaveLength(1);
    expect(sinkEntries(gateway.services, 'service-bus')).toMatchObject([
      { target: 'contoso.servicebus.windows.net/orders', payload: '{"id":1}', properties: { Customer: 'c1' } },
    ]);
  });

  it('needs a queue-name or a topic-name and a payload', () => {
    const { diagnostics } = tryBuildGateway({
      api: policies({ inbound: '<send-service-bus-message namespace="n"><message-properties /></send-service-bus-message>' }),
    });
    expect(
      diagnostics
        .filter((d) => d.severity === 'error')
        .map((d) => d.code)
        .sort(),
    ).toEqual(['policy/missing-attribute', 'policy/missing-element']);
  });
});

describe('Dapr', () => {
  it('publish-to-dapr posts to {sidecar}/v1.0/publish/{pubsub}/{topic} and keeps the response', async () => {
    const sidecar = await pool.backend((_req, res) => {
      res.statusCode = 204;
      res.end();
    });
    const { gateway } = buildGateway({
      settings: { 'dapr.sidecarUrl': sidecar.url },
      api: policies({
        inbound:
          '<publish-to-dapr pubsub-name="orders" topic="@(&quot;new&quot;)" response-variable-name="r">@("{\\"id\\":7}")</publish-to-dapr><return-response><set-status code="200" reason="OK" /><set-body>@(((IResponse)context.Variables["r"]).StatusCode.ToString())</set-body></return-response>',
      }),
    });
    const r = await send(gateway, '/api/x');
    expect(r.text).toBe('204');
    expect(sidecar.requests).toMatchObject([{ method: 'POST', url: '/v1.0/publish/orders/new', body: '{"id":7}' }]);
    expect(sidecar.requests[0]!.headers['content-type']).toBe('application/json');
    expect(sinkEntries(gateway.services, 'dapr-pubsub')).toMatchObject([{ target: 'orders/new', payload: '{"id":7}' }]);
  });

  it("invoke-dapr-binding sends Dapr's {data, metadata, operation}; without a sidecar it records only", async () => {
    const sidecar = await pool.backend();
    const xml = policies({
      inbound:
        '<invoke-dapr-binding name="sms" operation="create"><metadata><item key="to">+1</item></metadata><data>{"text":"hi"}</data></invoke-dapr-binding><return-response />',
    });
    const live = buildGateway({ settings: { 'dapr.sidecarUrl': sidecar.url }, api: xml }).gateway;
    expect((await send(live, '/api/x')).status).toBe(200);
    expect(sidecar.requests[0]!.url).toBe('/v1.0/bindings/sms');
    expect(JSON.parse(sidecar.requests[0]!.body)).toEqual({ data: { text: 'hi' }, metadata: { to: '+1' }, operation: 'create' });
    const offline = buildGateway({ api: xml }).gateway;
    expect((await send(offline, '/api/x')).status).toBe(200);
    expect(sinkEntries(offline.services, 'dapr-binding')).toMatchObject([
      { target: 'sms', payload: '{"text":"hi"}', properties: { operation: 'create', to: '+1' } },
    ]);
  });

  it('a sidecar error raises into on-error unless ignore-error', async () => {
    const sidecar = await pool.backend((_req, res) => {
      res.statusCode = 500;
      res.end('boom');
    });
    const { gateway } = buildGateway({
      settings: { 'dapr.sidecarUrl': sidecar.url },
      api: policies({
        inbound: '<publish-to-dapr pubsub-name="p" topic="t">x</publish-to-dapr><return-response />',
        onError:
          '<return-response><set-status code="599" reason="E" /><set-body>@(context.LastError.Source + ":" + context.LastError.Reason)</set-body></return-response>',
      }),
    });
    expect((await send(gateway, '/api/x')).text).toBe('publish-to-dapr:DaprError');
  });

  it("set-backend-service dapr-app-id sends forward-request to the sidecar's invoke URL", async () => {
    const sidecar = await pool.backend();
    const { gateway } = buildGateway({
      settings: { 'dapr.sidecarUrl': sidecar.url },
      api: policies({ inbound: '<set-backend-service dapr-app-id="orders" dapr-method="api/list" dapr-namespace="prod" />', backend: FORWARD }),
    });
    const r = await send(gateway, '/api/anything?x=1');
    expect(r.status).toBe(200);
    expect(sidecar.requests[0]!.url).toBe('/v1.0/invoke/orders.prod/method/api/list?x=1');
  });
});

describe('proxy', () => {
  it('validates, warns that the call goes direct offline, and the backend is still reached', async () => {
    const backend = await pool.backend();
    const { gateway, diagnostics } = buildGateway({
      serviceUrl: backend.url,
      api: policies({ inbound: '<proxy url="http://proxy.contoso:8080" username="u" password="p" />', backend: FORWARD }),
    });
    expect(diagnostics.map((d) => `${d.severity}:${d.code}`)).toEqual(['warning:policy/offline']);
    expect((await send(gateway, '/api/x')).status).toBe(200);
    expect(backend.requests).toHaveLength(1);
    expect(tryBuildGateway({ api: policies({ inbound: '<proxy />' }) }).diagnostics.map((d) => d.code)).toContain('policy/missing-attribute');
  });
});

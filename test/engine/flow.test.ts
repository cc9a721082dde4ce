import { afterEach, describe, expect, it } from 'vitest';
import { backendPool, buildGateway, policies, send } from '../helpers/gateway.js';
import { deferred } from '../server/support.js';

/** Section order, on-error with context.LastError, return-response and the gateway's error shapes (docs/policies.md, docs/emulator-choices.md "Execution"). */
const { backend, closeAll } = backendPool();
afterEach(closeAll);

describe('pipeline flow', () => {
  it('runs inbound, backend, outbound in order around the backend call', async () => {
    const b = await backend();
    const { gateway } = buildGateway({
      serviceUrl: b.url,
      api: policies({
        inbound: '<set-header name="x-in" exists-action="override"><value>1</value></set-header>',
        backend: '<forward-request />',
        outbound: '<set-header name="x-out" exists-action="override"><value>2</value></set-header>',
      }),
    });
    const r = await send(gateway, '/api/items/7?q=1');
    expect(r.status).toBe(200);
    expect(b.requests[0]!.url).toBe('/items/7?q=1');
    expect(b.requests[0]!.headers['x-in']).toBe('1');
    expect(r.header('x-out')).toBe('2');
  });

  it('return-response ends the pipeline: no backend call, no outbound', async () => {
    const b = await backend();
    const { gateway } = buildGateway({
      serviceUrl: b.url,
      api: policies({
        inbound:
          '<return-response><set-status code="418" reason="Teapot" /><set-header name="x-r" exists-action="override"><value>yes</value></set-header><set-body>short and stout</set-body></return-response>',
        backend: '<forward-request />',
        outbound: '<set-header name="x-out" exists-action="override"><value>ran</value></set-header>',
      }),
    });
    const r = await send(gateway, '/api/x');
    expect(r.status).toBe(418);
    expect(r.response.statusReason).toBe('Teapot');
    expect(r.text).toBe('short and stout');
    expect(r.header('x-r')).toBe('yes');
    expect(r.header('x-out')).toBeUndefined();
    expect(b.requests).toHaveLength(0);
  });

  it('return-response defaults to 200 OK with no body', async () => {
    const { gateway } = buildGateway({ api: policies({ inbound: '<return-response />' }) });
    const r = await send(gateway, '/api/x');
    expect(r.status).toBe(200);
    expect(r.text).toBe('');
  });

  it('an error skips the rest and runs on-error with context.LastError filled', async () => {
    const b = await backend();
    const { gateway } = buildGateway({
      serviceUrl: b.url,
      api: policies({
        inbound:
          '<choose><when condition="@(context.Request.Headers.GetValueOrDefault(&quot;x-fail&quot;,&quot;&quot;) == &quot;1&quot;)"><set-variable id="boom" name="v" value="@(((string)null).Length)" /></when></choose>',
        backend: '<forward-request />',
        onError: `<return-response><set-status code="502" reason="Handled" /><set-body>@{
          var e = context.LastError;
          return e.Source + "|" + e.Reason + "|" + e.Scope + "|" + e.Section + "|" + e.Path + "|" + e.PolicyId;
        }</set-body></return-response>`,
      }),
    });
    const r = await send(gateway, '/api/x', { headers: { 'x-fail': '1' } });
    expect(r.status).toBe(502);
    expect(r.text).toBe('set-variable|ExpressionValueEvaluationFailure|api|inbound|choose[1]/when[1]/set-variable[1]|boom');
    expect(b.requests).toHaveLength(0);
    const ok = await send(gateway, '/api/x');
    expect(ok.status).toBe(200);
  });

  it('without an on-error response, the client gets the gateway error shape', async () => {
    const { gateway } = buildGateway({ api: policies({ inbound: '<set-variable name="v" value="@(((string)null).Length)" />' }) });
    const r = await send(gateway, '/api/x');
    expect(r.status).toBe(500);
    expect(r.json()).toMatchObject({ statusCode: 500, message: 'Internal server error' });
    expect(r.response.headers.getJoined('content-type')).toContain('application/json');
  });

  it('on-error sees the preset status of the error in context.Response', async () => {
    const { gateway } = buildGateway({
      api: policies({
        backend: '<forward-request />',
        onError:
          '<choose><when condition="@(context.Response.StatusCode == 500)"><return-response><set-status code="599" reason="seen" /><set-body>@(context.LastError.Reason)</set-body></return-response></when></choose>',
      }),
    });
    // No service URL and no set-backend-service: forward-request fails.
    const r = await send(gateway, '/api/x');
    expect(r.status).toBe(599);
    expect(r.text).toBe('BackendNotConfigured');
  });

  it('a connection failure is BackendConnectionFailure (500)', async () => {
    const b = await backend();
    await b.close();
    const { gateway } = buildGateway({
      serviceUrl: b.url,
      api: policies({
        backend: '<forward-request />',
        onError: '<set-header name="x-reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>',
      }),
    });
    const r = await send(gateway, '/api/x');
    expect(r.status).toBe(500);
    expect(r.header('x-reason')).toBe('BackendConnectionFailure');
  });

  it('forward-request timeout fires on the clock (virtual time, no real wait)', async () => {
    const arrived = deferred();
    const held = deferred();
    const b = await backend(async (_req, res) => {
      arrived.resolve();
      await held.promise;
      res.end('late');
    });
    const { gateway, clock } = buildGateway({
      serviceUrl: b.url,
      api: policies({
        backend: '<forward-request timeout="30" />',
        onError: '<set-header name="x-reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>',
      }),
    });
    let settled = false;
    const pending = send(gateway, '/api/x').finally(() => (settled = true));
    await arrived.promise;
    // All the request waits on now is its 30 s deadline on the virtual clock.
    expect(clock.pendingSleeps).toBe(1);
    clock.advance(29_999);
    // One event-loop turn lets anything that became due run; the deadline is not due yet.
    await new Promise<void>((r) => setImmediate(r));
    expect(settled).toBe(false);
    expect(clock.pendingSleeps).toBe(1);
    clock.advance(1);
    const r = await pending;
    held.resolve();
    expect(r.status).toBe(500);
    expect(r.header('x-reason')).toBe('Timeout');
    expect(clock.pendingSleeps).toBe(0);
  });

  it('fail-on-error-status-code sends 4xx/5xx backend responses to on-error with the backend status', async () => {
    const b = await backend((_req, res) => {
      res.statusCode = 404;
      res.end('nope');
    });
    const { gateway } = buildGateway({
      serviceUrl: b.url,
      api: policies({
        backend: '<forward-request fail-on-error-status-code="true" />',
        onError: '<set-header name="x-status" exists-action="override"><value>@(context.Response.StatusCode.ToString())</value></set-header>',
      }),
    });
    const r = await send(gateway, '/api/x');
    expect(r.status).toBe(404);
    expect(r.header('x-status')).toBe('404');
  });

  it('unknown paths get APIM 404 and keys are enforced with APIM 401 bodies', async () => {
    const { gateway } = buildGateway({
      api: policies({ inbound: '<return-response />' }),
      subscriptionRequired: true,
      subscriptions: [{ id: 's1', scope: 'all', primaryKey: 'good-key' }],
    });
    const nf = await send(gateway, '/other/x');
    expect(nf.status).toBe(404);
    expect(nf.json()).toEqual({ statusCode: 404, message: 'Resource not found' });
    const missing = await send(gateway, '/api/x');
    expect(missing.status).toBe(401);
    expect(missing.json()).toEqual({
      statusCode: 401,
      message: 'Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.',
    });
    const bad = await send(gateway, '/api/x', { headers: { 'Ocp-Apim-Subscription-Key': 'nope' } });
    expect(bad.status).toBe(401);
    expect((bad.json() as { message: string }).message).toContain('invalid subscription key');
    expect((await send(gateway, '/api/x', { headers: { 'Ocp-Apim-Subscription-Key': 'good-key' } })).status).toBe(200);
    expect((await send(gateway, '/api/x?subscription-key=good-key')).status).toBe(200);
  });
});

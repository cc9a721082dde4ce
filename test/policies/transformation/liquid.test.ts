import { afterEach, describe, expect, it } from 'vitest';
import { backendPool, buildGateway, FORWARD, policies, send, tryBuildGateway } from '../../helpers/gateway.js';

/** set-body template="liquid": APIM's DotLiquid dialect (C# naming) on liquidjs, through the gateway. */
const pool = backendPool();
afterEach(() => pool.closeAll());

const liquid = (t: string, attrs = '') => `<set-body template="liquid"${attrs}>${t}</set-body>`;

describe('Liquid templates', () => {
  it('binds a JSON request body as body and context with C# member names', async () => {
    const b = await pool.backend();
    const { gateway } = buildGateway({
      serviceUrl: b.url,
      api: policies({
        inbound: `<set-variable name="tier" value="gold" />${liquid('{"name":"{{body.user.name | Upcase}}","n":{{body.items | Size}},"m":"{{context.Request.Method}}","p":"{{context.Request.Url.Path}}","h":"{{context.Request.Headers.X-Tenant}}","v":"{{context.Variables.tier}}"}')}`,
        backend: FORWARD,
      }),
    });
    await send(gateway, '/api/orders', {
      method: 'POST',
      body: '{"user":{"name":"ann"},"items":[1,2,3]}',
      headers: { 'content-type': 'application/json', 'x-tenant': 't1' },
    });
    expect(JSON.parse(b.requests[0]!.body)).toEqual({ name: 'ANN', n: 3, m: 'POST', p: '/api/orders', h: 't1', v: 'gold' });
  });

  it('iterates dictionaries as Key/Value and supports DotLiquid filters (AtLeast, DividedBy, Default, Join, Date with .NET formats)', async () => {
    const { gateway, clock } = buildGateway({
      api: policies({
        inbound: `<return-response>${liquid('{% for h in context.Request.Headers %}{% if h.Key == "x-a" or h.Key == "x-b" %}{{h.Key}}={{h.Value}};{% endif %}{% endfor %}|{{ 3 | AtLeast: 5 }}|{{ 10 | DividedBy: 4 }}|{{ missing | Default: "none" }}|{{ "a,b" | Split: "," | Join: "+" }}|{{ "now" | Date: "yyyy-MM-dd HH:mm" }}')}</return-response>`,
      }),
    });
    clock.set(Date.UTC(2026, 1, 3, 4, 5, 6));
    const r = await send(gateway, '/api/x', { headers: { 'x-a': '1', 'x-b': '2' } });
    expect(r.text).toBe('x-a=1;x-b=2;|5|2|none|a+b|2026-02-03 04:05');
  });

  it('binds XML bodies (prefixes dropped) with xsi-nil="null" or "blank"', async () => {
    const xml =
      '<soap:Envelope xmlns:soap="urn:s" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soap:Body><Order id="9"><Note xsi:nil="true" /></Order></soap:Body></soap:Envelope>';
    const b = await pool.backend((_req, res) => {
      res.setHeader('Content-Type', 'text/xml');
      res.end(xml);
    });
    const make = (nil: string) =>
      buildGateway({
        serviceUrl: b.url,
        api: policies({
          backend: FORWARD,
          outbound: liquid(
            '{"id":"{{body.Envelope.Body.Order.id}}","note":{% if body.Envelope.Body.Order.Note == null %}null{% else %}"{{body.Envelope.Body.Order.Note}}"{% endif %}}',
            ` xsi-nil="${nil}"`,
          ),
        }),
      }).gateway;
    expect((await send(make('null'), '/api/x')).json()).toEqual({ id: '9', note: null });
    expect((await send(make('blank'), '/api/x')).json()).toEqual({ id: '9', note: '' });
  });

  it('inside return-response the template sees no body', async () => {
    const { gateway } = buildGateway({ api: policies({ inbound: `<return-response>${liquid('[{{body}}]')}</return-response>` }) });
    expect((await send(gateway, '/api/x', { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } })).text).toBe('[]');
  });

  it('substitutes defined named values and leaves other {{ }} to Liquid', async () => {
    const { gateway } = buildGateway({
      namedValues: { env: 'prod' },
      api: policies({ inbound: `<return-response>${liquid('{{env}}-{{context.Request.Method}}')}</return-response>` }),
    });
    expect((await send(gateway, '/api/x')).text).toBe('prod-GET');
  });

  it('an unknown filter is a load-time error at its line and column, with the PascalCase name as a hint', () => {
    const api = policies({ inbound: `<return-response>${liquid('ok\n{{ body.a | upcase }}')}</return-response>` });
    const d = tryBuildGateway({ api }).diagnostics.filter((x) => x.severity === 'error');
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ code: 'policy/liquid', message: 'Liquid template: unknown filter "upcase"', file: 'api.xml', line: 3 });
    expect(d[0]!.hint).toContain('did you mean Upcase?');
    const syntax = tryBuildGateway({ api: policies({ inbound: `<return-response>${liquid('{% if %}')}</return-response>` }) }).diagnostics.filter(
      (x) => x.severity === 'error',
    );
    expect(syntax.map((x) => x.code)).toEqual(['policy/liquid']);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { backendPool, buildGateway, FORWARD, policies, send, tryBuildGateway } from '../../helpers/gateway.js';

/** Body conversions and cross-domain policies through the gateway, against real loopback backends. */
const pool = backendPool();
afterEach(() => pool.closeAll());

async function jsonBackend(body: string, type = 'application/json') {
  return pool.backend((_req, res) => {
    res.setHeader('Content-Type', type);
    res.end(body);
  });
}

describe('json-to-xml / xml-to-json', () => {
  it('json-to-xml converts the response when the caller accepts XML (consider-accept-header default true)', async () => {
    const b = await jsonBackend('{"id":1,"tags":["a","b"]}');
    const { gateway } = buildGateway({ serviceUrl: b.url, api: policies({ backend: FORWARD, outbound: '<json-to-xml apply="content-type-json" />' }) });
    const asXml = await send(gateway, '/api/x', { headers: { accept: 'application/xml' } });
    expect(asXml.text).toBe('<?xml version="1.0" encoding="utf-8"?><Document><id>1</id><tags>a</tags><tags>b</tags></Document>');
    expect(asXml.header('content-type')).toBe('application/xml');
    const asJson = await send(gateway, '/api/x', { headers: { accept: 'application/json' } });
    expect(asJson.text).toBe('{"id":1,"tags":["a","b"]}');
  });

  it('apply="content-type-json" leaves non-JSON bodies; apply="always" converts the request body inbound', async () => {
    const b = await pool.backend();
    const { gateway } = buildGateway({
      serviceUrl: b.url,
      api: policies({ inbound: '<json-to-xml apply="always" consider-accept-header="false" />', backend: FORWARD }),
    });
    await send(gateway, '/api/x', { method: 'POST', body: '{"a":"<b>"}', headers: { 'content-type': 'text/plain' } });
    expect(b.requests[0]!.body).toBe('<?xml version="1.0" encoding="utf-8"?><Document><a>&lt;b&gt;</a></Document>');
    expect(b.requests[0]!.headers['content-type']).toBe('application/xml');
  });

  it('xml-to-json kind="javascript-friendly" and "direct"', async () => {
    const b = await jsonBackend('<r a="1"><i>x</i><i>y</i></r>', 'text/xml');
    const direct = buildGateway({
      serviceUrl: b.url,
      api: policies({ backend: FORWARD, outbound: '<xml-to-json kind="direct" apply="content-type-xml" consider-accept-header="false" />' }),
    }).gateway;
    expect((await send(direct, '/api/x')).json()).toEqual({ r: { '@a': '1', i: ['x', 'y'] } });
    const friendly = buildGateway({
      serviceUrl: b.url,
      api: policies({
        backend: FORWARD,
        outbound: '<xml-to-json kind="javascript-friendly" apply="always" consider-accept-header="false" always-array-child-elements="true" />',
      }),
    }).gateway;
    const r = await send(friendly, '/api/x');
    expect(r.json()).toEqual({ r: { a: '1', i: ['x', 'y'] } });
    expect(r.header('content-type')).toBe('application/json');
  });

  it('malformed XML raises into on-error; a wrong kind is a load error with the allowed values', async () => {
    const b = await jsonBackend('<r><a></r>', 'text/xml');
    const { gateway } = buildGateway({
      serviceUrl: b.url,
      api: policies({
        backend: FORWARD,
        outbound: '<xml-to-json kind="direct" apply="always" consider-accept-header="false" />',
        onError: '<return-response><set-body>@(context.LastError.Reason)</set-body></return-response>',
      }),
    });
    expect((await send(gateway, '/api/x')).text).toBe('XmlToJsonConversionFailure');
    const bad = tryBuildGateway({ api: policies({ outbound: '<xml-to-json kind="pretty" apply="always" />' }) }).diagnostics.find(
      (d) => d.severity === 'error',
    );
    expect(bad).toMatchObject({ code: 'policy/bad-attribute-value', hint: 'allowed: javascript-friendly, direct' });
  });
});

describe('xsl-transform', () => {
  it('applies the stylesheet with parameters evaluated per request', async () => {
    const b = await jsonBackend('<order><id>42</id></order>', 'application/xml');
    const { gateway } = buildGateway({
      serviceUrl: b.url,
      api: policies({
        backend: FORWARD,
        outbound: `<xsl-transform>
          <parameter name="who">@(context.Request.Headers.GetValueOrDefault("x-who","nobody"))</parameter>
          <xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
            <xsl:param name="who" />
            <xsl:template match="/"><receipt by="{$who}"><xsl:value-of select="order/id" /></receipt></xsl:template>
          </xsl:stylesheet>
        </xsl-transform>`,
      }),
    });
    const r = await send(gateway, '/api/x', { headers: { 'x-who': 'ann' } });
    expect(r.text).toContain('<receipt by="ann">42</receipt>');
  });

  it('needs its stylesheet', () => {
    const d = tryBuildGateway({ api: policies({ outbound: '<xsl-transform><parameter name="a">b</parameter></xsl-transform>' }) }).diagnostics;
    expect(d.map((x) => x.code)).toEqual(['policy/missing-element']);
  });
});

describe('jsonp, cross-domain, redirect-content-urls', () => {
  it('jsonp wraps the body when the callback parameter names a function, and only then', async () => {
    const b = await jsonBackend('{"a":1}');
    const { gateway } = buildGateway({ serviceUrl: b.url, api: policies({ backend: FORWARD, outbound: '<jsonp callback-parameter-name="cb" />' }) });
    const r = await send(gateway, '/api/x?cb=app.done');
    expect(r.text).toBe('app.done({"a":1})');
    expect(r.header('content-type')).toBe('application/javascript; charset=utf-8');
    expect((await send(gateway, '/api/x')).text).toBe('{"a":1}');
    expect((await send(gateway, '/api/x?cb=alert(1)')).text).toBe('{"a":1}');
  });

  it('cross-domain answers GET /crossdomain.xml with the policy XML', async () => {
    const { gateway } = buildGateway({
      global: policies({
        inbound: '<cross-domain><cross-domain-policy><allow-http-request-headers-from domain="*" headers="*" /></cross-domain-policy></cross-domain>',
      }),
      api: policies({ inbound: '<base /><return-response><set-body>api</set-body></return-response>' }),
    });
    const r = await send(gateway, '/api/crossdomain.xml');
    expect(r.text).toBe('<?xml version="1.0"?>\n<cross-domain-policy><allow-http-request-headers-from domain="*" headers="*" /></cross-domain-policy>');
    expect(r.header('content-type')).toBe('text/xml; charset=utf-8');
    expect((await send(gateway, '/api/other')).text).toBe('api');
    expect(tryBuildGateway({ api: policies({ inbound: '<cross-domain />' }) }).diagnostics.map((d) => d.code)).toEqual(['policy/wrong-scope']);
  });

  it('redirect-content-urls replaces the backend base URL with the gateway URL in the response body', async () => {
    let base = '';
    const b = await pool.backend((_req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ next: `${base}/svc/items?page=2` }));
    });
    base = b.url;
    const { gateway } = buildGateway({ serviceUrl: `${b.url}/svc`, api: policies({ backend: FORWARD, outbound: '<redirect-content-urls />' }) });
    expect((await send(gateway, '/api/items')).json()).toEqual({ next: 'http://127.0.0.1:8080/api/items?page=2' });
  });
});

import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeaderMap } from '../../../src/engine/headers.js';
import type { Gateway } from '../../../src/gateway/gateway.js';
import { presentedCertificate } from '../../../src/policies/authentication-certificate.js';
import { isPreflight } from '../../../src/policies/cors.js';
import { preflightDocuments } from '../../../src/pipeline/compiler.js';
import { parsePolicyDocument } from '../../../src/pipeline/document.js';
import { parseIp } from '../../../src/policies/ip-filter.js';
import { buildGateway, FORWARD, policies, send, src, startBackend, tryBuildGateway } from '../../helpers/gateway.js';
import type { TestBackend } from '../../helpers/gateway.js';

const ON_ERROR =
  '<set-header name="X-Reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header><set-header name="X-Message" exists-action="override"><value>@(context.LastError.Message)</value></set-header>';

let backend: TestBackend;
beforeAll(async () => {
  backend = await startBackend();
});
afterAll(async () => {
  await backend.close();
});

/** gateway.handle from a given caller address (the shared send() always uses 127.0.0.1). */
async function sendFrom(gateway: Gateway, ip: string, method = 'GET', headers: Record<string, string> = {}) {
  const r = await gateway.handle({
    method,
    path: '/api/x',
    search: '',
    scheme: 'http',
    host: '127.0.0.1',
    port: 80,
    headers: new HeaderMap(Object.entries(headers)),
    body: null as Readable | null,
    ip,
    tracing: true,
  });
  const text = r.response.body ? (await r.response.body.buffer()).toString() : '';
  return { status: r.response.statusCode, text, header: (n: string) => r.response.headers.getJoined(n) };
}

describe('check-header', () => {
  const gw = (attrs: string, values = '') =>
    buildGateway({
      api: policies({
        inbound: `<check-header name="X-Api-Key" failed-check-httpcode="401" failed-check-error-message="Not authorized" ${attrs}>${values}</check-header><return-response />`,
        onError: ON_ERROR,
      }),
    }).gateway;

  it('HeaderNotFound: the configured status and message when the header is missing', async () => {
    const r = await send(gw('ignore-case="false"'), '/api/x');
    expect(r.status).toBe(401);
    expect(r.json()).toEqual({ statusCode: 401, message: 'Not authorized' });
    expect(r.header('X-Reason')).toBe('HeaderNotFound');
    expect(r.header('X-Message')).toBe('Header X-Api-Key was not found in the request. Access denied.');
  });

  it('passes with any value when no <value> is listed', async () => {
    expect((await send(gw('ignore-case="false"'), '/api/x', { headers: { 'x-api-key': 'anything' } })).status).toBe(200);
  });

  it('HeaderValueNotAllowed unless one value matches; ignore-case folds case', async () => {
    const values = '<value>Key-1</value><value>key-2</value>';
    const exact = gw('ignore-case="false"', values);
    expect((await send(exact, '/api/x', { headers: { 'X-Api-Key': 'key-2' } })).status).toBe(200);
    const bad = await send(exact, '/api/x', { headers: { 'X-Api-Key': 'key-1' } });
    expect(bad.status).toBe(401);
    expect(bad.header('X-Reason')).toBe('HeaderValueNotAllowed');
    expect(bad.header('X-Message')).toBe('Header X-Api-Key value of key-1 is not allowed. Access denied.');
    expect((await send(gw('ignore-case="true"', values), '/api/x', { headers: { 'X-Api-Key': 'key-1' } })).status).toBe(200);
  });

  it('all four attributes are required', () => {
    const r = tryBuildGateway({ api: policies({ inbound: '<check-header name="A" failed-check-httpcode="401" />' }) });
    const missing = r.diagnostics.filter((d) => d.code === 'policy/missing-attribute').map((d) => d.message);
    expect(missing).toEqual([
      '<check-header> is missing the required attribute "failed-check-error-message"',
      '<check-header> is missing the required attribute "ignore-case"',
    ]);
  });
});

describe('ip-filter', () => {
  const gw = (inner: string, action = 'allow') =>
    buildGateway({ api: policies({ inbound: `<ip-filter action="${action}">${inner}</ip-filter><return-response />`, onError: ON_ERROR }) }).gateway;

  it('allow: single addresses and inclusive ranges pass, others get 403 CallerIpNotAllowed', async () => {
    const g = gw('<address>13.66.201.169</address><address-range from="10.0.0.10" to="10.0.0.20" />');
    expect((await sendFrom(g, '13.66.201.169')).status).toBe(200);
    expect((await sendFrom(g, '10.0.0.10')).status).toBe(200);
    expect((await sendFrom(g, '10.0.0.20')).status).toBe(200);
    expect((await sendFrom(g, '::ffff:10.0.0.15')).status).toBe(200);
    const denied = await sendFrom(g, '10.0.0.21');
    expect(denied.status).toBe(403);
    expect(denied.header('X-Reason')).toBe('CallerIpNotAllowed');
    expect(denied.header('X-Message')).toBe('Caller IP address 10.0.0.21 is not allowed. Access denied.');
  });

  it('forbid: listed callers get 403 CallerIpBlocked, others pass; IPv6 ranges compare numerically', async () => {
    const g = gw('<address-range from="2001:db8::" to="2001:db8::ffff" /><address>192.168.1.1</address>', 'forbid');
    const blocked = await sendFrom(g, '2001:db8::1:0'.replace('1:0', 'abcd'));
    expect(blocked.status).toBe(403);
    expect(blocked.header('X-Reason')).toBe('CallerIpBlocked');
    expect(blocked.header('X-Message')).toBe('Caller IP address is blocked. Access denied.');
    expect((await sendFrom(g, '2001:db8::1:0')).status).toBe(200);
    expect((await sendFrom(g, '192.168.1.1')).status).toBe(403);
    expect((await sendFrom(g, '192.168.1.2')).status).toBe(200);
  });

  it('an unparsable caller address is FailedToParseCallerIP', async () => {
    const r = await sendFrom(gw('<address>1.2.3.4</address>'), 'not-an-ip');
    expect(r.status).toBe(403);
    expect(r.header('X-Reason')).toBe('FailedToParseCallerIP');
  });

  it('parses IPv4, IPv6 with ::, embedded IPv4 and mapped addresses', () => {
    expect(parseIp('1.2.3.4')).toEqual({ v: 4, n: 0x01020304n });
    expect(parseIp('::1')).toEqual({ v: 6, n: 1n });
    expect(parseIp('2001:db8::ffff')?.n).toBe(0x20010db800000000000000000000ffffn);
    expect(parseIp('64:ff9b::1.2.3.4')?.n).toBe(0x0064ff9b000000000000000001020304n);
    expect(parseIp('::ffff:127.0.0.1')).toEqual({ v: 4, n: 0x7f000001n });
    expect(parseIp('1.2.3')).toBeNull();
  });

  it('load errors: no address, bad address, reversed or mixed ranges', () => {
    const r = tryBuildGateway({
      api: policies({
        inbound:
          '<ip-filter action="allow" /><ip-filter action="allow"><address>10.0.0.0/8</address><address-range from="10.0.0.9" to="10.0.0.1" /><address-range from="::1" to="10.0.0.1" /></ip-filter>',
      }),
    });
    const msgs = r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);
    expect(msgs).toEqual([
      '<ip-filter> needs at least one <address> or <address-range>',
      '"10.0.0.0/8" is not an IP address',
      'the range starts after it ends (10.0.0.9 > 10.0.0.1)',
      'the range mixes IPv4 and IPv6 addresses',
    ]);
  });
});

describe('cors', () => {
  const CORS = `<cors allow-credentials="true">
      <allowed-origins><origin>https://app.contoso.com/</origin><origin>http://localhost:8080</origin></allowed-origins>
      <allowed-methods preflight-result-max-age="300"><method>GET</method><method>POST</method><method>PATCH</method></allowed-methods>
      <allowed-headers><header>content-type</header><header>x-custom</header></allowed-headers>
      <expose-headers><header>x-request-id</header><header>x-ms-region</header></expose-headers>
    </cors>`;

  it('answers an allowed preflight itself: 200, allow-* headers, max-age, and the backend is not called', async () => {
    const { gateway } = buildGateway({ serviceUrl: backend.url, api: policies({ inbound: CORS, backend: FORWARD }) });
    const n0 = backend.requests.length;
    const r = await send(gateway, '/api/x', {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.contoso.com', 'Access-Control-Request-Method': 'PATCH', 'Access-Control-Request-Headers': 'Content-Type, X-Custom' },
    });
    expect(r.status).toBe(200);
    expect(r.text).toBe('');
    expect(r.header('Access-Control-Allow-Origin')).toBe('https://app.contoso.com');
    expect(r.header('Access-Control-Allow-Credentials')).toBe('true');
    expect(r.header('Access-Control-Allow-Methods')).toBe('PATCH');
    expect(r.header('Access-Control-Allow-Headers')).toBe('Content-Type,X-Custom');
    expect(r.header('Access-Control-Max-Age')).toBe('300');
    expect(backend.requests.length).toBe(n0);
  });

  it('a preflight for a method or header that is not allowed gets no CORS headers', async () => {
    const { gateway } = buildGateway({
      api: policies({ inbound: `${CORS.replace('<cors allow-credentials="true">', '<cors allow-credentials="true" terminate-unmatched-request="true">')}` }),
    });
    const method = await send(gateway, '/api/x', {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.contoso.com', 'Access-Control-Request-Method': 'DELETE' },
    });
    expect(method.status).toBe(200);
    expect(method.header('Access-Control-Allow-Origin')).toBeUndefined();
    const header = await send(gateway, '/api/x', {
      method: 'OPTIONS',
      headers: { Origin: 'http://localhost:8080', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-secret' },
    });
    expect(header.header('Access-Control-Allow-Origin')).toBeUndefined();
  });

  it('adds Access-Control-Allow-Origin/-Credentials/-Expose-Headers to the backend response of an allowed origin (port defaults applied)', async () => {
    const { gateway } = buildGateway({ serviceUrl: backend.url, api: policies({ inbound: CORS, backend: FORWARD }) });
    const r = await send(gateway, '/api/x', { headers: { Origin: 'https://app.contoso.com:443' } });
    expect(r.status).toBe(200);
    expect(r.header('Access-Control-Allow-Origin')).toBe('https://app.contoso.com:443');
    expect(r.header('Access-Control-Allow-Credentials')).toBe('true');
    expect(r.header('Access-Control-Expose-Headers')).toBe('x-request-id,x-ms-region');
    expect(r.header('Vary')).toContain('Origin');
    const other = await send(gateway, '/api/x', { headers: { Origin: 'https://evil.example' } });
    expect(other.status).toBe(200);
    expect(other.header('Access-Control-Allow-Origin')).toBeUndefined();
  });

  it('terminate-unmatched-request="true" ends an unmatched simple GET with an empty 200; a wildcard origin answers *', async () => {
    const t = buildGateway({
      serviceUrl: backend.url,
      api: policies({
        inbound: '<cors terminate-unmatched-request="true"><allowed-origins><origin>https://a.test</origin></allowed-origins></cors>',
        backend: FORWARD,
      }),
    }).gateway;
    const n0 = backend.requests.length;
    const r = await send(t, '/api/x', { headers: { Origin: 'https://b.test' } });
    expect(r.status).toBe(200);
    expect(r.text).toBe('');
    expect(backend.requests.length).toBe(n0);
    const star = buildGateway({ api: policies({ inbound: '<cors><allowed-origins><origin>*</origin></allowed-origins></cors><return-response />' }) }).gateway;
    expect((await send(star, '/api/x', { headers: { Origin: 'https://any.test' } })).header('Access-Control-Allow-Origin')).toBe('*');
  });

  it('only the first matching cors policy applies; a request without Origin is untouched', async () => {
    const second = '<cors><allowed-origins><origin>*</origin></allowed-origins><expose-headers><header>x-second</header></expose-headers></cors>';
    const { gateway } = buildGateway({ api: policies({ inbound: `${CORS}${second}<return-response />` }) });
    const r = await send(gateway, '/api/x', { headers: { Origin: 'http://localhost:8080' } });
    expect(r.header('Access-Control-Expose-Headers')).toBe('x-request-id,x-ms-region');
    const fallthrough = await send(gateway, '/api/x', { headers: { Origin: 'https://other.test' } });
    expect(fallthrough.header('Access-Control-Expose-Headers')).toBe('x-second');
    expect((await send(gateway, '/api/x')).header('Access-Control-Allow-Origin')).toBeUndefined();
  });

  it('preflightDocuments keeps only cors and base in inbound, so a preflight skips the other policies', async () => {
    const doc = parsePolicyDocument(
      src(
        'api.xml',
        policies({
          inbound: `<check-header name="X-Key" failed-check-httpcode="401" failed-check-error-message="no" ignore-case="true" />${CORS}<set-header name="X-Other" exists-action="override"><value>1</value></set-header>`,
          backend: FORWARD,
        }),
      ),
    ).document!;
    const reduced = preflightDocuments({ api: doc }, new Set(['cors']));
    const names = (reduced.api!.sections.get('inbound')!.children as Array<{ kind: string; name?: string }>)
      .filter((c) => c.kind === 'element')
      .map((c) => c.name);
    expect(names).toEqual(['cors']);
    expect(reduced.api!.sections.get('backend')!.children).toEqual([]);
    expect(doc.sections.get('inbound')!.children.filter((c) => c.kind === 'element')).toHaveLength(3);
    expect(
      isPreflight({
        method: 'OPTIONS',
        headers: new HeaderMap([
          ['Origin', 'x'],
          ['Access-Control-Request-Method', 'GET'],
        ]),
      }),
    ).toBe(true);
    expect(isPreflight({ method: 'OPTIONS', headers: new HeaderMap([['Origin', 'x']]) })).toBe(false);
  });

  it('rejects bad origins at load time', () => {
    const r = tryBuildGateway({ api: policies({ inbound: '<cors><allowed-origins><origin>not a url</origin></allowed-origins></cors>' }) });
    expect(r.diagnostics.find((d) => d.code === 'policy/bad-origin')?.message).toBe('"not a url" is not an origin');
  });
});

describe('authentication-basic and authentication-certificate', () => {
  it('authentication-basic sets Authorization: Basic base64(user:password) for the backend', async () => {
    const { gateway } = buildGateway({
      serviceUrl: backend.url,
      namedValues: { pw: 'p@ss:word' },
      api: policies({ inbound: '<authentication-basic username="@(&quot;svc&quot; + &quot;-user&quot;)" password="{{pw}}" />', backend: FORWARD }),
    });
    const n0 = backend.requests.length;
    await send(gateway, '/api/x');
    expect(backend.requests[n0]!.headers.authorization).toBe(`Basic ${Buffer.from('svc-user:p@ss:word').toString('base64')}`);
  });

  it('authentication-certificate records the certificate it would present', async () => {
    const { gateway } = buildGateway({
      api: policies({ inbound: '<authentication-certificate thumbprint="ca06f56b258b7a0d4f2b05470939478651151984" /><return-response />' }),
    });
    const r = await send(gateway, '/api/x');
    expect(presentedCertificate(r.context!)).toEqual({ thumbprint: 'CA06F56B258B7A0D4F2B05470939478651151984', passwordProtected: false });
    expect(r.context!.traceEvents.some((e) => e.policy === 'authentication-certificate' && e.message.includes('not presented'))).toBe(true);
    const byBody = buildGateway({
      api: policies({ inbound: '<authentication-certificate body="@(Convert.FromBase64String(&quot;AQID&quot;))" password="pw" /><return-response />' }),
    }).gateway;
    const b = await send(byBody, '/api/x');
    expect(presentedCertificate(b.context!)).toEqual({ bodySha1: '7037807198C22A7D2B0807371D763779A84FDFCF', passwordProtected: true });
  });

  it('authentication-certificate needs exactly one of thumbprint, certificate-id, body', () => {
    const none = tryBuildGateway({ api: policies({ inbound: '<authentication-certificate />' }) });
    expect(none.diagnostics.some((d) => d.code === 'policy/missing-attribute')).toBe(true);
    const two = tryBuildGateway({ api: policies({ inbound: '<authentication-certificate thumbprint="A" certificate-id="b" />' }) });
    expect(two.diagnostics.some((d) => d.code === 'policy/conflicting-attributes')).toBe(true);
  });
});

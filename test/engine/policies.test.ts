import { afterEach, describe, expect, it } from 'vitest';
import { backendPool, buildGateway, policies, send, tryBuildGateway as tryBuild } from '../helpers/gateway.js';

/** Policy semantics pinned to the APIM reference (§4.3 retry waits, §4.4 headers/variables/URIs, §3.3-3.4 fragments and named values). */
const { backend, closeAll } = backendPool();
afterEach(closeAll);
/** A backend answering the given statuses in turn (then 200). */
function statuses(...codes: number[]) {
  return backend((_req, res, i) => {
    res.statusCode = codes[i] ?? 200;
    res.end(String(res.statusCode));
  });
}

describe('retry', () => {
  const retryDoc = (attrs: string) =>
    policies({ backend: `<retry condition="@(context.Response.StatusCode == 429)" ${attrs}><forward-request buffer-request-body="true" /></retry>` });

  it('re-runs forward-request while the condition holds, with a fixed interval on the clock', async () => {
    const b = await statuses(429, 429, 200);
    const { gateway, clock } = buildGateway({ serviceUrl: b.url, api: retryDoc('count="3" interval="4"') });
    const t0 = clock.now();
    const r = await send(gateway, '/api/x', { method: 'POST', body: '{"a":1}' });
    expect(r.status).toBe(200);
    expect(b.requests).toHaveLength(3);
    expect(b.requests.map((q) => q.body)).toEqual(['{"a":1}', '{"a":1}', '{"a":1}']);
    expect(clock.now() - t0).toBe(8000);
  });

  it('stops after count retries and returns the last response', async () => {
    const b = await statuses(429, 429, 429, 429, 429);
    const { gateway } = buildGateway({ serviceUrl: b.url, api: retryDoc('count="2" interval="0"') });
    const r = await send(gateway, '/api/x');
    expect(r.status).toBe(429);
    expect(b.requests).toHaveLength(3);
  });

  it('linear waits: interval + n·delta; first-fast-retry makes the first retry immediate', async () => {
    const b1 = await statuses(429, 429, 200);
    const linear = buildGateway({ serviceUrl: b1.url, api: retryDoc('count="3" interval="2" delta="1"') });
    const t0 = linear.clock.now();
    await send(linear.gateway, '/api/x');
    expect(linear.clock.now() - t0).toBe(2000 + 3000);

    const b2 = await statuses(429, 429, 200);
    const fast = buildGateway({ serviceUrl: b2.url, api: retryDoc('count="3" interval="2" delta="1" first-fast-retry="true"') });
    const t1 = fast.clock.now();
    await send(fast.gateway, '/api/x');
    expect(fast.clock.now() - t1).toBe(0 + 3000);
  });

  it('exponential waits: interval + (2^n − 1)·U(0.8δ, 1.2δ), capped at max-interval', async () => {
    const b = await statuses(429, 429, 429, 429, 200);
    // random() = 0.5 makes U(0.8δ, 1.2δ) exactly δ.
    const { gateway, clock } = buildGateway({
      serviceUrl: b.url,
      api: retryDoc('count="4" interval="1" delta="2" max-interval="10"'),
      deps: { random: () => 0.5 },
    });
    const t0 = clock.now();
    const r = await send(gateway, '/api/x');
    expect(r.status).toBe(200);
    // n = 0..3: 1, 1+1·2, 1+3·2, min(10, 1+7·2)
    expect(clock.now() - t0).toBe((1 + 3 + 7 + 10) * 1000);
  });

  it('rejects <wait> inside <retry> and a count outside 1..50', () => {
    const { diagnostics } = tryBuild({
      api: policies({ backend: '<retry condition="true" count="51" interval="0"><wait><forward-request /></wait></retry>' }),
    });
    const errors = diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((e) => e.code)).toEqual(expect.arrayContaining(['policy/bad-attribute-value', 'policy/element-not-allowed']));
  });
});

describe('set-header', () => {
  it('joins several values with commas, except headers APIM emits separately', async () => {
    const b = await backend();
    const { gateway } = buildGateway({
      serviceUrl: b.url,
      api: policies({
        inbound: '<set-header name="x-multi" exists-action="override"><value>a</value><value>b</value></set-header>',
        backend: '<forward-request />',
        outbound: '<set-header name="Set-Cookie" exists-action="override"><value>a=1</value><value>b=2</value></set-header>',
      }),
    });
    const r = await send(gateway, '/api/x');
    expect(b.requests[0]!.headers['x-multi']).toBe('a,b');
    expect(r.response.headers.get('set-cookie')).toEqual(['a=1', 'b=2']);
  });

  it('override, skip, append and delete', async () => {
    const b = await backend();
    const { gateway } = buildGateway({
      serviceUrl: b.url,
      api: policies({
        inbound: `
          <set-header name="x-over" exists-action="override"><value>new</value></set-header>
          <set-header name="x-skip" exists-action="skip"><value>new</value></set-header>
          <set-header name="x-skip-missing" exists-action="skip"><value>added</value></set-header>
          <set-header name="x-app" exists-action="append"><value>two</value></set-header>
          <set-header name="x-del" exists-action="delete" />`,
        backend: '<forward-request />',
      }),
    });
    await send(gateway, '/api/x', { headers: { 'x-over': 'old', 'x-skip': 'old', 'x-app': 'one', 'x-del': 'gone' } });
    const h = b.requests[0]!.headers;
    expect(h['x-over']).toBe('new');
    expect(h['x-skip']).toBe('old');
    expect(h['x-skip-missing']).toBe('added');
    expect(h['x-app']).toBe('one, two');
    expect(h['x-del']).toBeUndefined();
  });

  it('forwards the subscription key to the backend unless a policy removes it (docs/apim-behaviour.md: Subscription keys)', async () => {
    const b = await backend();
    const { gateway } = buildGateway({
      serviceUrl: b.url,
      subscriptionRequired: true,
      subscriptions: [{ id: 's', scope: 'all', primaryKey: 'k1' }],
      api: policies({ backend: '<forward-request />' }),
    });
    await send(gateway, '/api/x?subscription-key=k1', { headers: { 'Ocp-Apim-Subscription-Key': 'k1' } });
    expect(b.requests[0]!.headers['ocp-apim-subscription-key']).toBe('k1');
    expect(b.requests[0]!.url).toBe('/x?subscription-key=k1');
  });
});

describe('variables, query, URI, method, body', () => {
  it('a literal set-variable stays a string; an expression keeps its type', async () => {
    const { gateway } = buildGateway({
      api: policies({
        inbound: `<set-variable name="lit" value="10" /><set-variable name="num" value="@(10)" />
          <return-response><set-body>@((context.Variables["lit"] is string ? "string" : "other") + "/" + (context.Variables["num"] is int ? "int" : "other"))</set-body></return-response>`,
      }),
    });
    const r = await send(gateway, '/api/x');
    expect(r.text).toBe('string/int');
  });

  it('rewrite-uri keeps unmatched query parameters unless copy-unmatched-params is false', async () => {
    const b = await backend();
    const ops = () => [{ id: 'get', method: 'GET', urlTemplate: '/get?a={b}' }];
    const g1 = buildGateway({
      serviceUrl: b.url,
      operations: ops(),
      api: policies({ inbound: '<rewrite-uri template="/put" />', backend: '<forward-request />' }),
    });
    await send(g1.gateway, '/api/get?a=b&c=d');
    expect(b.requests.at(-1)!.url).toBe('/put?c=d');
    const g2 = buildGateway({
      serviceUrl: b.url,
      operations: ops(),
      api: policies({ inbound: '<rewrite-uri template="/put" copy-unmatched-params="false" />', backend: '<forward-request />' }),
    });
    await send(g2.gateway, '/api/get?a=b&c=d');
    expect(b.requests.at(-1)!.url).toBe('/put');
  });

  it('rewrite-uri fills template parameters from the matched operation', async () => {
    const b = await backend();
    const { gateway } = buildGateway({
      serviceUrl: b.url,
      operations: [{ id: 'item', method: 'GET', urlTemplate: '/items/{id}' }],
      api: policies({ inbound: '<rewrite-uri template="/v2/things/{id}/detail" />', backend: '<forward-request />' }),
    });
    await send(gateway, '/api/items/42?x=1');
    expect(b.requests[0]!.url).toBe('/v2/things/42/detail?x=1');
  });

  it('set-query-parameter and set-method change the backend request', async () => {
    const b = await backend();
    const { gateway } = buildGateway({
      serviceUrl: b.url,
      api: policies({
        inbound: `<set-query-parameter name="api-version" exists-action="override"><value>2024-10-21</value></set-query-parameter>
                  <set-query-parameter name="drop" exists-action="delete" />
                  <set-method>PUT</set-method>`,
        backend: '<forward-request />',
      }),
    });
    await send(gateway, '/api/x?drop=1&keep=2');
    expect(b.requests[0]!.method).toBe('PUT');
    expect(b.requests[0]!.url).toBe('/x?keep=2&api-version=2024-10-21');
  });

  it('set-body and find-and-replace rewrite bodies', async () => {
    const b = await backend((req, res) => {
      res.end(`backend saw: ${req.body}`);
    });
    const { gateway } = buildGateway({
      serviceUrl: b.url,
      api: policies({
        inbound: '<set-body>hello world</set-body>',
        backend: '<forward-request />',
        outbound: '<find-and-replace from="world" to="there" />',
      }),
    });
    const r = await send(gateway, '/api/x', { method: 'POST', body: 'ignored' });
    expect(b.requests[0]!.body).toBe('hello world');
    expect(r.text).toBe('backend saw: hello there');
  });

  it('set-backend-service base-url routes the request; set-status changes the response', async () => {
    const b = await backend();
    const { gateway } = buildGateway({
      serviceUrl: 'http://127.0.0.1:9/never',
      api: policies({
        inbound: `<set-backend-service base-url="${b.url}/base" />`,
        backend: '<forward-request />',
        outbound: '<set-status code="201" reason="Made" />',
      }),
    });
    const r = await send(gateway, '/api/p/q');
    expect(b.requests[0]!.url).toBe('/base/p/q');
    expect(r.status).toBe(201);
    expect(r.response.statusReason).toBe('Made');
  });

  it('send-request stores the response for expressions; ignore-error stores null', async () => {
    const b = await backend((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"token":"abc"}');
    });
    const { gateway } = buildGateway({
      api: policies({
        inbound: `<send-request mode="new" response-variable-name="r" timeout="5" ignore-error="false">
            <set-url>${b.url}/token</set-url><set-method>POST</set-method>
            <set-header name="x-a" exists-action="override"><value>1</value></set-header>
            <set-body>payload</set-body>
          </send-request>
          <send-request response-variable-name="down" ignore-error="true"><set-url>http://127.0.0.1:9/</set-url><set-method>GET</set-method></send-request>
          <return-response><set-body>@(((IResponse)context.Variables["r"]).Body.As&lt;JObject&gt;()["token"].ToString() + "/" + (context.Variables["down"] == null))</set-body></return-response>`,
      }),
    });
    const r = await send(gateway, '/api/x');
    expect(b.requests[0]!.method).toBe('POST');
    expect(b.requests[0]!.headers['x-a']).toBe('1');
    expect(b.requests[0]!.body).toBe('payload');
    expect(r.text).toBe('abc/True');
  });
});

describe('fragments and named values', () => {
  it('inlines fragments and substitutes named values, also inside expressions', async () => {
    const b = await backend();
    const { gateway } = buildGateway({
      serviceUrl: b.url,
      namedValues: { tenant: 'contoso', 'api-key': 's3cret' },
      fragments: { 'add-headers': '<fragment><set-header name="x-tenant" exists-action="override"><value>{{tenant}}</value></set-header></fragment>' },
      api: policies({
        inbound:
          '<include-fragment fragment-id="add-headers" /><set-header name="x-key" exists-action="override"><value>@("{{api-key}}".ToUpper())</value></set-header>',
        backend: '<forward-request />',
      }),
    });
    await send(gateway, '/api/x');
    expect(b.requests[0]!.headers['x-tenant']).toBe('contoso');
    expect(b.requests[0]!.headers['x-key']).toBe('S3CRET');
  });

  it('reports unknown fragments, nested fragments and unknown named values with positions', () => {
    const { diagnostics } = tryBuild({
      namedValues: { known: 'x' },
      fragments: {
        outer: '<fragment>\n  <include-fragment fragment-id="inner" />\n</fragment>',
        inner: '<fragment><set-variable name="a" value="b" /></fragment>',
      },
      api: policies({ inbound: '<include-fragment fragment-id="missing" /><set-variable name="v" value="{{unknown}}" />' }),
    });
    const errors = diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}@${d.file}:${d.line}`);
    expect(errors).toEqual(
      expect.arrayContaining(['policy/nested-fragment@outer.xml:2', 'policy/unknown-fragment@api.xml:2', 'policy/unknown-named-value@api.xml:2']),
    );
  });
});

describe('backend credentials', () => {
  it('applies header, query and managed-identity credentials of the chosen backend', async () => {
    const b = await backend();
    const { gateway } = buildGateway({
      namedValues: { 'aoai-key': 'k-123' },
      backends: [
        [
          {
            name: 'aoai',
            properties: {
              url: `${b.url}/openai`,
              protocol: 'http',
              credentials: {
                header: { 'api-key': ['{{aoai-key}}'] },
                query: { 'x-q': ['1'] },
                managedIdentity: { resource: 'https://cognitiveservices.azure.com' },
              },
            },
          },
        ],
      ],
      api: policies({ inbound: '<set-backend-service backend-id="aoai" />', backend: '<forward-request />' }),
    });
    await send(gateway, '/api/deployments/d/chat/completions?api-version=1');
    const req = b.requests[0]!;
    expect(req.url).toBe('/openai/deployments/d/chat/completions?api-version=1&x-q=1');
    expect(req.headers['api-key']).toBe('k-123');
    const token = String(req.headers.authorization).replace(/^Bearer /, '');
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { aud: string };
    expect(payload.aud).toBe('https://cognitiveservices.azure.com');
  });
});

describe('wait, mock-response, trace, follow-redirects', () => {
  it('wait for="all" runs its send-requests concurrently and continues when all have answered', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const b = await backend(async (req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 30));
      inFlight--;
      res.end(req.url);
    });
    const { gateway } = buildGateway({
      api: policies({
        inbound: `<wait for="all">
            <send-request response-variable-name="a"><set-url>${b.url}/a</set-url><set-method>GET</set-method></send-request>
            <send-request response-variable-name="b"><set-url>${b.url}/b</set-url><set-method>GET</set-method></send-request>
          </wait>
          <return-response><set-body>@(((IResponse)context.Variables["a"]).Body.As&lt;string&gt;() + ((IResponse)context.Variables["b"]).Body.As&lt;string&gt;())</set-body></return-response>`,
      }),
    });
    const r = await send(gateway, '/api/x');
    expect(r.text).toBe('/a/b');
    expect(maxInFlight).toBe(2);
  });

  it('mock-response ends the pipeline with the status and content type, without calling the backend', async () => {
    const b = await backend();
    const { gateway } = buildGateway({
      serviceUrl: b.url,
      api: policies({ inbound: '<mock-response status-code="201" content-type="application/json" />', backend: '<forward-request />' }),
    });
    const r = await send(gateway, '/api/x');
    expect(r.status).toBe(201);
    expect(r.header('content-type')).toBe('application/json');
    expect(b.requests).toHaveLength(0);
  });

  it('trace adds its message and metadata to the request trace and the log', async () => {
    const lines: Array<{ source: string; message: string }> = [];
    const { gateway } = buildGateway({
      api: policies({
        inbound:
          '<trace source="my-api" severity="information"><message>@("saw " + context.Request.Method)</message><metadata name="who" value="@(context.Request.IpAddress)" /></trace><return-response />',
      }),
      deps: { log: (e) => lines.push(e) },
    });
    const r = await send(gateway, '/api/x', { method: 'DELETE' });
    const ev = r.context!.traceEvents.find((e) => e.kind === 'trace');
    expect(ev?.message).toBe('saw DELETE');
    expect(ev).toMatchObject({ source: 'my-api', severity: 'information', metadata: { who: '127.0.0.1' } });
    expect(lines).toEqual([expect.objectContaining({ source: 'my-api', message: 'saw DELETE' })]);
  });

  it('follow-redirects: redirects go back to the client unless follow-redirects="true"', async () => {
    const b = await backend((req, res) => {
      if (req.url === '/start') {
        res.statusCode = 302;
        res.setHeader('Location', '/final');
        res.end();
        return;
      }
      res.end(`at ${req.url}`);
    });
    const plain = buildGateway({ serviceUrl: b.url, api: policies({ backend: '<forward-request />' }) });
    const r1 = await send(plain.gateway, '/api/start');
    expect(r1.status).toBe(302);
    expect(r1.header('location')).toBe('/final');
    const following = buildGateway({ serviceUrl: b.url, api: policies({ backend: '<forward-request follow-redirects="true" />' }) });
    const r2 = await send(following.gateway, '/api/start');
    expect(r2.status).toBe(200);
    expect(r2.text).toBe('at /final');
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { buildGateway, FORWARD, policies, send, startBackend, tryBuildGateway } from '../../helpers/gateway.js';
import type { TestBackend } from '../../helpers/gateway.js';

/** cache-lookup / cache-store and the value cache (docs/apim-behaviour.md: Access control, caching and observability), in memory on the virtual clock. */
const backends: TestBackend[] = [];
afterEach(async () => {
  await Promise.all(backends.splice(0).map((b) => b.close()));
});

/** A backend that numbers its answers, so a cached answer is told apart from a fresh one. */
async function countingBackend(status = 200): Promise<TestBackend> {
  const b = await startBackend((req, res, i) => {
    res.statusCode = status;
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('X-Backend', 'yes');
    res.end(JSON.stringify({ n: i + 1, url: req.url }));
  });
  backends.push(b);
  return b;
}

const LOOKUP = (inner = '', attrs = '') => `<cache-lookup vary-by-developer="false" vary-by-developer-groups="false"${attrs}>${inner}</cache-lookup>`;

describe('cache-lookup / cache-store', () => {
  it('serves the stored response without calling the backend until the duration has passed on the clock', async () => {
    const b = await countingBackend();
    const { gateway, clock } = buildGateway({
      serviceUrl: b.url,
      api: policies({ inbound: LOOKUP(), backend: FORWARD, outbound: '<cache-store duration="60" />' }),
    });
    const first = await send(gateway, '/api/items');
    expect(first.json()).toMatchObject({ n: 1 });
    const second = await send(gateway, '/api/items');
    expect(second.status).toBe(200);
    expect(second.json()).toMatchObject({ n: 1 });
    expect(second.header('X-Backend')).toBe('yes');
    expect(b.requests).toHaveLength(1);
    expect(second.context?.traceEvents.some((e) => e.policy === 'cache-lookup' && e.message.startsWith('cache hit'))).toBe(true);

    clock.advance(59_000);
    expect((await send(gateway, '/api/items')).json()).toMatchObject({ n: 1 });
    clock.advance(1_000);
    expect((await send(gateway, '/api/items')).json()).toMatchObject({ n: 2 });
    expect(b.requests).toHaveLength(2);
  });

  it('on a hit the backend is skipped but outbound still runs (and cache-store does not store again)', async () => {
    const b = await countingBackend();
    const { gateway } = buildGateway({
      serviceUrl: b.url,
      api: policies({
        inbound: LOOKUP(),
        backend: FORWARD,
        outbound: '<cache-store duration="60" /><set-header name="x-outbound" exists-action="override"><value>ran</value></set-header>',
      }),
    });
    await send(gateway, '/api/items');
    const hit = await send(gateway, '/api/items');
    expect(hit.json()).toMatchObject({ n: 1 });
    expect(hit.header('x-outbound')).toBe('ran');
    expect(b.requests).toHaveLength(1);
  });

  it('keys by path and vary-by-query-parameter values only; other query parameters share the entry', async () => {
    const b = await countingBackend();
    const { gateway } = buildGateway({
      serviceUrl: b.url,
      api: policies({
        inbound: LOOKUP('<vary-by-query-parameter>version;lang</vary-by-query-parameter>'),
        backend: FORWARD,
        outbound: '<cache-store duration="60" />',
      }),
    });
    expect((await send(gateway, '/api/a?version=1&x=1')).json()).toMatchObject({ n: 1 });
    expect((await send(gateway, '/api/a?version=1&x=2')).json()).toMatchObject({ n: 1 }); // x is not part of the key
    expect((await send(gateway, '/api/a?version=2')).json()).toMatchObject({ n: 2 });
    expect((await send(gateway, '/api/a?version=1&lang=fr')).json()).toMatchObject({ n: 3 });
    expect((await send(gateway, '/api/b?version=1&x=1')).json()).toMatchObject({ n: 4 });
    expect(b.requests).toHaveLength(4);
  });

  it('keys by vary-by-header values', async () => {
    const b = await countingBackend();
    const { gateway } = buildGateway({
      serviceUrl: b.url,
      api: policies({ inbound: LOOKUP('<vary-by-header>Accept</vary-by-header>'), backend: FORWARD, outbound: '<cache-store duration="60" />' }),
    });
    expect((await send(gateway, '/api/a', { headers: { Accept: 'application/json' } })).json()).toMatchObject({ n: 1 });
    expect((await send(gateway, '/api/a', { headers: { Accept: 'text/plain' } })).json()).toMatchObject({ n: 2 });
    expect((await send(gateway, '/api/a', { headers: { accept: 'application/json' } })).json()).toMatchObject({ n: 1 });
  });

  it('keys by developer when vary-by-developer is true', async () => {
    const b = await countingBackend();
    const { gateway } = buildGateway({
      serviceUrl: b.url,
      subscriptionRequired: true,
      subscriptions: [
        { id: 's1', scope: 'all', primaryKey: 'k1', user: { id: 'alice' } },
        { id: 's2', scope: 'all', primaryKey: 'k2', user: { id: 'bob' } },
      ],
      api: policies({
        inbound: '<cache-lookup vary-by-developer="true" vary-by-developer-groups="false" />',
        backend: FORWARD,
        outbound: '<cache-store duration="60" />',
      }),
    });
    const key = (k: string) => ({ headers: { 'Ocp-Apim-Subscription-Key': k } });
    expect((await send(gateway, '/api/a', key('k1'))).json()).toMatchObject({ n: 1 });
    expect((await send(gateway, '/api/a', key('k2'))).json()).toMatchObject({ n: 2 });
    expect((await send(gateway, '/api/a', key('k1'))).json()).toMatchObject({ n: 1 });
  });

  it('looks up GET requests only', async () => {
    const b = await countingBackend();
    const { gateway } = buildGateway({ serviceUrl: b.url, api: policies({ inbound: LOOKUP(), backend: FORWARD, outbound: '<cache-store duration="60" />' }) });
    expect((await send(gateway, '/api/a', { method: 'POST', body: '{}' })).json()).toMatchObject({ n: 1 });
    expect((await send(gateway, '/api/a', { method: 'POST', body: '{}' })).json()).toMatchObject({ n: 2 });
    expect((await send(gateway, '/api/a')).json()).toMatchObject({ n: 3 }); // the POST answers were not stored
  });

  it('does not cache requests with an Authorization header unless allow-private-response-caching is true', async () => {
    const b = await countingBackend();
    const auth = { headers: { Authorization: 'Bearer x' } };
    const { gateway } = buildGateway({ serviceUrl: b.url, api: policies({ inbound: LOOKUP(), backend: FORWARD, outbound: '<cache-store duration="60" />' }) });
    await send(gateway, '/api/a', auth);
    expect((await send(gateway, '/api/a', auth)).json()).toMatchObject({ n: 2 });

    const b2 = await countingBackend();
    const g2 = buildGateway({
      serviceUrl: b2.url,
      api: policies({ inbound: LOOKUP('', ' allow-private-response-caching="true"'), backend: FORWARD, outbound: '<cache-store duration="60" />' }),
    }).gateway;
    await send(g2, '/api/a', auth);
    expect((await send(g2, '/api/a', auth)).json()).toMatchObject({ n: 1 });
  });

  it('stores only 200 OK unless cache-response is true', async () => {
    const b = await countingBackend(404);
    const { gateway } = buildGateway({ serviceUrl: b.url, api: policies({ inbound: LOOKUP(), backend: FORWARD, outbound: '<cache-store duration="60" />' }) });
    await send(gateway, '/api/a');
    expect((await send(gateway, '/api/a')).json()).toMatchObject({ n: 2 });

    const b2 = await countingBackend(404);
    const g2 = buildGateway({
      serviceUrl: b2.url,
      api: policies({ inbound: LOOKUP(), backend: FORWARD, outbound: '<cache-store duration="60" cache-response="true" />' }),
    }).gateway;
    await send(g2, '/api/a');
    const again = await send(g2, '/api/a');
    expect(again.status).toBe(404);
    expect(again.json()).toMatchObject({ n: 1 });
  });

  it('takes the duration from an expression (Cache-Control max-age of the backend)', async () => {
    const b = await startBackend((_req, res, i) => {
      res.setHeader('Cache-Control', 'max-age=5');
      res.end(`answer ${i + 1}`);
    });
    backends.push(b);
    const store = `<cache-store duration="@{
        var header = context.Response.Headers.GetValueOrDefault(&quot;Cache-Control&quot;,&quot;&quot;);
        var maxAge = Regex.Match(header, @&quot;max-age=(?&lt;maxAge&gt;\\d+)&quot;).Groups[&quot;maxAge&quot;]?.Value;
        return (!string.IsNullOrEmpty(maxAge))?int.Parse(maxAge):300;
      }" />`;
    const { gateway, clock } = buildGateway({ serviceUrl: b.url, api: policies({ inbound: LOOKUP(), backend: FORWARD, outbound: store }) });
    expect((await send(gateway, '/api/a')).text).toBe('answer 1');
    clock.advance(4_000);
    expect((await send(gateway, '/api/a')).text).toBe('answer 1');
    clock.advance(1_000);
    expect((await send(gateway, '/api/a')).text).toBe('answer 2');
  });

  it('downstream-caching-type public adds Cache-Control with the remaining lifetime', async () => {
    const b = await countingBackend();
    const { gateway, clock } = buildGateway({
      serviceUrl: b.url,
      api: policies({
        inbound: LOOKUP('', ' downstream-caching-type="public" must-revalidate="true"'),
        backend: FORWARD,
        outbound: '<cache-store duration="60" />',
      }),
    });
    expect((await send(gateway, '/api/a')).header('Cache-Control')).toBe('public, max-age=60, must-revalidate');
    clock.advance(20_000);
    expect((await send(gateway, '/api/a')).header('Cache-Control')).toBe('public, max-age=40, must-revalidate');
  });

  it('cache-store without a cache-lookup stores nothing, and services.reset() empties the cache', async () => {
    const b = await countingBackend();
    const { gateway } = buildGateway({ serviceUrl: b.url, api: policies({ inbound: LOOKUP(), backend: FORWARD, outbound: '<cache-store duration="60" />' }) });
    await send(gateway, '/api/a');
    gateway.services.reset();
    expect((await send(gateway, '/api/a')).json()).toMatchObject({ n: 2 });

    const b2 = await countingBackend();
    const g2 = buildGateway({ serviceUrl: b2.url, api: policies({ backend: FORWARD, outbound: '<cache-store duration="60" />' }) }).gateway;
    await send(g2, '/api/a');
    const r = await send(g2, '/api/a');
    expect(r.json()).toMatchObject({ n: 2 });
    expect(r.context?.traceEvents.some((e) => e.policy === 'cache-store' && e.message.includes('no cache-lookup'))).toBe(true);
  });

  it('validates attributes and sections with positions', () => {
    const { diagnostics } = tryBuildGateway({
      api: policies({
        inbound: '<cache-lookup vary-by-developer="false" caching-type="redis" />',
        outbound: '<cache-store />',
      }),
    });
    const lines = diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`);
    // `  <inbound>` is 11 characters: the policy starts at column 12; caching-type at column 52.
    expect(lines).toContain('2:12 <cache-lookup> is missing the required attribute "vary-by-developer-groups"');
    expect(lines).toContain('2:52 attribute "caching-type" of <cache-lookup> does not accept "redis"');
    expect(lines).toContain('4:13 <cache-store> is missing the required attribute "duration"');
    const wrong = tryBuildGateway({ api: policies({ outbound: LOOKUP() }) }).diagnostics.map((d) => d.message);
    expect(wrong).toContain('<cache-lookup> is not allowed in the outbound section');
  });
});

describe('cache-store-value / cache-lookup-value / cache-remove-value', () => {
  const doc = (inbound: string) =>
    policies({
      inbound: `${inbound}<return-response><set-body>@(context.Variables.ContainsKey("v") ? context.Variables["v"].ToString() : "(unset)")</set-body></return-response>`,
    });

  it('stores a value for duration seconds of clock time and reads it back in later requests', async () => {
    const { gateway, clock } = buildGateway({
      api: doc(`<choose><when condition="@(context.Request.Url.Query.GetValueOrDefault(&quot;set&quot;, &quot;&quot;) != &quot;&quot;)">
          <cache-store-value key="@(&quot;k-&quot; + context.Request.Url.Query.GetValueOrDefault(&quot;id&quot;, &quot;&quot;))" value="@(context.Request.Url.Query.GetValueOrDefault(&quot;set&quot;, &quot;&quot;))" duration="30" />
        </when></choose>
        <cache-lookup-value key="@(&quot;k-&quot; + context.Request.Url.Query.GetValueOrDefault(&quot;id&quot;, &quot;&quot;))" variable-name="v" />`),
    });
    expect((await send(gateway, '/api/x?id=1')).text).toBe('(unset)');
    await send(gateway, '/api/x?id=1&set=hello');
    expect((await send(gateway, '/api/x?id=1')).text).toBe('hello');
    expect((await send(gateway, '/api/x?id=2')).text).toBe('(unset)');
    clock.advance(29_999);
    expect((await send(gateway, '/api/x?id=1')).text).toBe('hello');
    clock.advance(1);
    expect((await send(gateway, '/api/x?id=1')).text).toBe('(unset)');
  });

  it('assigns default-value on a miss', async () => {
    const { gateway } = buildGateway({ api: doc('<cache-lookup-value key="absent" variable-name="v" default-value="@(&quot;fallback-&quot; + 7)" />') });
    expect((await send(gateway, '/api/x')).text).toBe('fallback-7');
  });

  it('keeps the value type (a JObject stays a JObject)', async () => {
    const { gateway } = buildGateway({
      api: policies({
        inbound: `<cache-store-value key="obj" value="@(new JObject(new JProperty(&quot;a&quot;, 42)))" duration="60" />
          <cache-lookup-value key="obj" variable-name="o" />
          <return-response><set-body>@(((JObject)context.Variables["o"])["a"].ToString())</set-body></return-response>`,
      }),
    });
    expect((await send(gateway, '/api/x')).text).toBe('42');
  });

  it('cache-remove-value deletes the key', async () => {
    const { gateway } = buildGateway({
      api: doc(
        '<cache-store-value key="a" value="1" duration="60" /><cache-remove-value key="a" /><cache-remove-value key="never-there" /><cache-lookup-value key="a" variable-name="v" />',
      ),
    });
    expect((await send(gateway, '/api/x')).text).toBe('(unset)');
  });

  it('needs key, value, duration and variable-name; variable-name takes no expression', () => {
    const { diagnostics } = tryBuildGateway({
      api: policies({ inbound: '<cache-store-value key="a" /><cache-lookup-value key="a" variable-name="@(&quot;v&quot;)" /><cache-remove-value />' }),
    });
    const m = diagnostics.map((d) => d.message);
    expect(m).toContain('<cache-store-value> is missing the required attribute "value"');
    expect(m).toContain('<cache-store-value> is missing the required attribute "duration"');
    expect(m).toContain('attribute "variable-name" of <cache-lookup-value> does not accept policy expressions');
    expect(m).toContain('<cache-remove-value> is missing the required attribute "key"');
  });
});

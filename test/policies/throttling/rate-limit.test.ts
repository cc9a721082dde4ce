import { afterEach, describe, expect, it } from 'vitest';
import { buildGateway, FORWARD, policies, send, src, startBackend, tryBuildGateway } from '../../helpers/gateway.js';
import type { TestBackend } from '../../helpers/gateway.js';

/** rate-limit and rate-limit-by-key against docs/apim-behaviour.md (Throttling): sliding windows on the clock, 429 bodies, Retry-After. */
const backends: TestBackend[] = [];
afterEach(async () => {
  await Promise.all(backends.splice(0).map((b) => b.close()));
});
async function statuses(...codes: number[]): Promise<TestBackend> {
  const b = await startBackend((_req, res, i) => {
    res.statusCode = codes[i] ?? 200;
    res.end(String(res.statusCode));
  });
  backends.push(b);
  return b;
}

const KEY = { 'Ocp-Apim-Subscription-Key': 'key-1' };
const SUBSCRIPTIONS = [
  { id: 'sub-1', scope: 'all', primaryKey: 'key-1' },
  { id: 'sub-2', scope: 'all', primaryKey: 'key-2' },
];

describe('rate-limit-by-key', () => {
  it('slides: a call leaves the window renewal-period after it was made; 429 body and Retry-After follow APIM', async () => {
    const { gateway, clock } = buildGateway({ api: policies({ inbound: '<rate-limit-by-key calls="2" renewal-period="10" counter-key="k" />' }) });
    expect((await send(gateway, '/api/a')).status).toBe(200);
    clock.advance(1000);
    expect((await send(gateway, '/api/a')).status).toBe(200);
    clock.advance(1000);
    const r = await send(gateway, '/api/a');
    expect(r.status).toBe(429);
    expect(r.json()).toEqual({ statusCode: 429, message: 'Rate limit is exceeded. Try again in 8 seconds.' });
    expect(r.header('Retry-After')).toBe('8');
    expect(r.context?.lastError).toMatchObject({ source: 'rate-limit-by-key', reason: 'RateLimitExceeded', section: 'inbound', scope: 'api' });
    // 10 s after the first call it has left the window (a fixed window from the first call would also reset here)...
    clock.advance(8000);
    expect((await send(gateway, '/api/a')).status).toBe(200);
    // ...but the second call (at +1 s) is still inside: a fixed window would allow this one, the sliding one does not.
    clock.advance(500);
    const r2 = await send(gateway, '/api/a');
    expect(r2.status).toBe(429);
    expect(r2.header('Retry-After')).toBe('1');
    clock.advance(500);
    expect((await send(gateway, '/api/a')).status).toBe(200);
  });

  it('keeps one counter per key value, evaluated per request', async () => {
    const { gateway } = buildGateway({
      api: policies({
        inbound:
          '<rate-limit-by-key calls="1" renewal-period="60" counter-key="@(context.Request.Headers.GetValueOrDefault(&quot;x-client&quot;, &quot;anon&quot;))" />',
      }),
    });
    expect((await send(gateway, '/api/a', { headers: { 'x-client': 'a' } })).status).toBe(200);
    expect((await send(gateway, '/api/a', { headers: { 'x-client': 'b' } })).status).toBe(200);
    expect((await send(gateway, '/api/a', { headers: { 'x-client': 'a' } })).status).toBe(429);
    expect((await send(gateway, '/api/a')).status).toBe(200);
  });

  it('shares a key across scopes: the same key at API and operation scope counts each request twice', async () => {
    const rl = '<rate-limit-by-key calls="3" renewal-period="60" counter-key="shared" />';
    const { gateway } = buildGateway({ api: policies({ inbound: `<base />${rl}` }), operation: policies({ inbound: `<base />${rl}` }) });
    expect((await send(gateway, '/api/a')).status).toBe(200); // 2 counted
    const r = await send(gateway, '/api/a'); // 3rd fits at API scope, the 4th (operation scope) does not
    expect(r.status).toBe(429);
    expect(r.context?.lastError?.scope).toBe('operation');
  });

  it('increment-count adds its value; a call that would not fit is rejected whole and not counted', async () => {
    const { gateway, clock } = buildGateway({
      api: policies({ inbound: '<rate-limit-by-key calls="3" renewal-period="30" counter-key="k" increment-count="2" />' }),
    });
    expect((await send(gateway, '/api/a')).status).toBe(200);
    clock.advance(5000);
    const r = await send(gateway, '/api/a');
    expect(r.status).toBe(429);
    expect(r.header('Retry-After')).toBe('25');
    clock.advance(25_000);
    expect((await send(gateway, '/api/a')).status).toBe(200);
  });

  it('postpones an expression increment-condition to the end: only successful responses count', async () => {
    const b = await statuses(500, 500, 200, 200);
    const doc = policies({
      inbound:
        '<rate-limit-by-key calls="1" renewal-period="60" counter-key="k" increment-condition="@(context.Response.StatusCode == 200)" remaining-calls-variable-name="left" />',
      backend: FORWARD,
    });
    const { gateway } = buildGateway({ serviceUrl: b.url, api: doc });
    expect((await send(gateway, '/api/a')).status).toBe(500);
    expect((await send(gateway, '/api/a')).status).toBe(500);
    const ok = await send(gateway, '/api/a');
    expect(ok.status).toBe(200);
    expect(ok.context?.variables.get('left')).toBe(1); // the increment had not happened yet when the policy ran
    const r = await send(gateway, '/api/a');
    expect(r.status).toBe(429);
    expect(b.requests).toHaveLength(3); // rejected in inbound: the backend never saw the 4th call
  });

  it('sets the header and variable attributes', async () => {
    const doc = policies({
      inbound:
        '<rate-limit-by-key calls="2" renewal-period="20" counter-key="k" retry-after-header-name="x-retry" retry-after-variable-name="retry" remaining-calls-header-name="x-left" remaining-calls-variable-name="left" total-calls-header-name="x-total" />',
    });
    const { gateway } = buildGateway({ api: doc });
    const a = await send(gateway, '/api/a');
    expect([a.header('x-left'), a.header('x-total'), a.header('Retry-After')]).toEqual(['1', '2', undefined]);
    expect(a.context?.variables.get('left')).toBe(1);
    const b = await send(gateway, '/api/a');
    expect([b.header('x-left'), b.header('x-total')]).toEqual(['0', '2']);
    const c = await send(gateway, '/api/a');
    expect(c.status).toBe(429);
    // On 429 the remaining-calls header is not sent; the retry header uses its custom name.
    expect([c.header('x-left'), c.header('x-total'), c.header('x-retry'), c.header('Retry-After')]).toEqual([undefined, '2', '20', undefined]);
    expect(c.context?.variables.get('retry')).toBe(20);
  });

  it('lets on-error see the 429 in context.Response and change the answer', async () => {
    const doc = policies({
      inbound: '<rate-limit-by-key calls="0" renewal-period="60" counter-key="k" />',
      onError:
        '<set-header name="x-reason" exists-action="override"><value>@(context.LastError.Reason + "/" + context.Response.StatusCode)</value></set-header>',
    });
    const { gateway } = buildGateway({ api: doc });
    const r = await send(gateway, '/api/a');
    expect(r.status).toBe(429);
    expect(r.header('x-reason')).toBe('RateLimitExceeded/429');
  });

  it('validates attributes against the policy reference', () => {
    const { diagnostics } = tryBuildGateway({ api: policies({ inbound: '<rate-limit-by-key calls="5" renewal-period="301" />' }) });
    const messages = diagnostics.map((d) => d.message).join('\n');
    expect(messages).toContain('"renewal-period" of <rate-limit-by-key> is 301, outside the allowed range');
    expect(messages).toContain('missing the required attribute "counter-key"');
    const outbound = tryBuildGateway({ api: policies({ outbound: '<rate-limit-by-key calls="5" renewal-period="10" counter-key="k" />' }) });
    expect(outbound.diagnostics.map((d) => d.message)).toContain('<rate-limit-by-key> is not allowed in the outbound section');
  });
});

describe('rate-limit', () => {
  it('counts per subscription at API scope, and not at all without a subscription', async () => {
    const { gateway } = buildGateway({ subscriptions: SUBSCRIPTIONS, api: policies({ inbound: '<rate-limit calls="1" renewal-period="60" />' }) });
    expect((await send(gateway, '/api/a', { headers: KEY })).status).toBe(200);
    const r = await send(gateway, '/api/b', { headers: KEY }); // another operation of the same API shares the counter
    expect(r.status).toBe(429);
    expect(r.json()).toEqual({ statusCode: 429, message: 'Rate limit is exceeded. Try again in 60 seconds.' });
    expect(r.context?.lastError).toMatchObject({ source: 'rate-limit', reason: 'RateLimitExceeded' });
    expect((await send(gateway, '/api/a', { headers: { 'Ocp-Apim-Subscription-Key': 'key-2' } })).status).toBe(200);
    // No subscription key (the API does not require one): rate-limit does not apply (DOC).
    for (let i = 0; i < 3; i++) expect((await send(gateway, '/api/a')).status).toBe(200);
  });

  it('applies nested api and operation limits independently of the product limit', async () => {
    const product = `<policies><inbound><base /><rate-limit calls="10" renewal-period="60" remaining-calls-variable-name="left">
      <api id="test-api" calls="3" renewal-period="60"><operation id="op-a" calls="1" renewal-period="60" /></api>
      <api name="Other API" calls="1" renewal-period="60" />
    </rate-limit></inbound></policies>`;
    const { gateway } = buildGateway({
      products: [{ id: 'starter', name: 'Starter', policy: src('product.xml', product), subscriptionRequired: true, apis: ['test-api'] }],
      subscriptions: [{ id: 'sub-p', scope: 'product:starter', primaryKey: 'pk' }],
      subscriptionRequired: true,
      operations: [
        { id: 'op-a', method: 'GET', urlTemplate: '/a' },
        { id: 'op-b', method: 'GET', urlTemplate: '/b' },
      ],
    });
    const h = { 'Ocp-Apim-Subscription-Key': 'pk' };
    const a1 = await send(gateway, '/api/a', { headers: h });
    expect(a1.status).toBe(200);
    expect(a1.context?.variables.get('left')).toBe(0); // the most restrictive applicable limit (op-a: 1)
    expect((await send(gateway, '/api/a', { headers: h })).status).toBe(429); // operation limit
    expect((await send(gateway, '/api/b', { headers: h })).status).toBe(200);
    expect((await send(gateway, '/api/b', { headers: h })).status).toBe(200);
    expect((await send(gateway, '/api/b', { headers: h })).status).toBe(429); // API limit: op-a 1 + op-b 2
  });

  it('is rejected at global scope and with expressions in calls', () => {
    const g = tryBuildGateway({ global: policies({ inbound: '<rate-limit calls="1" renewal-period="60" />' }) });
    expect(g.diagnostics.map((d) => d.message)).toContain('<rate-limit> is not allowed at global scope');
    const e = tryBuildGateway({ api: policies({ inbound: '<rate-limit calls="@(5)" renewal-period="60" />' }) });
    expect(e.diagnostics.map((d) => d.message)).toContain('attribute "calls" of <rate-limit> does not accept policy expressions');
    const n = tryBuildGateway({
      api: policies({ inbound: '<rate-limit calls="5" renewal-period="60"><operation calls="1" renewal-period="60" /></rate-limit>' }),
    });
    expect(n.diagnostics.map((d) => d.message)).toContain('<operation> in <rate-limit> needs "id" or "name"');
  });
});

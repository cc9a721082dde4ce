import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/clock.js';
import { buildGateway, FORWARD, policies, send, src, startBackend, tryBuildGateway } from '../../helpers/gateway.js';
import type { TestBackend } from '../../helpers/gateway.js';

/** quota and quota-by-key against docs/apim-behaviour.md (Throttling): fixed windows on the clock, 403 bodies, Retry-After. */
const backends: TestBackend[] = [];
afterEach(async () => {
  await Promise.all(backends.splice(0).map((b) => b.close()));
});
async function backend(respond: Parameters<typeof startBackend>[0]): Promise<TestBackend> {
  const b = await startBackend(respond);
  backends.push(b);
  return b;
}

const START = Date.UTC(2025, 0, 1, 0, 0, 0);

function productGateway(productPolicy: string, serviceUrl = '', clock = new VirtualClock(START)) {
  return buildGateway({
    clock,
    serviceUrl,
    products: [{ id: 'starter', name: 'Starter', policy: src('product.xml', productPolicy), subscriptionRequired: true, apis: ['test-api'] }],
    subscriptions: [{ id: 'sub-p', scope: 'product:starter', primaryKey: 'pk' }],
    subscriptionRequired: true,
  });
}
const H = { headers: { 'Ocp-Apim-Subscription-Key': 'pk' } };

describe('quota', () => {
  it('counts calls in fixed periods and answers 403 with the replenish time and Retry-After', async () => {
    const { gateway, clock } = productGateway(policies({ inbound: '<base /><quota calls="2" renewal-period="3600" />' }));
    clock.advance(10 * 60_000);
    expect((await send(gateway, '/api/a', H)).status).toBe(200);
    expect((await send(gateway, '/api/a', H)).status).toBe(200);
    const r = await send(gateway, '/api/a', H);
    expect(r.status).toBe(403);
    expect(r.json()).toEqual({ statusCode: 403, message: 'Out of call volume quota. Quota will be replenished in 00:50:00.' });
    expect(r.header('Retry-After')).toBe('3000');
    expect(r.context?.lastError).toMatchObject({ source: 'quota', reason: 'QuotaExceeded', scope: 'product' });
    // Fixed window: nothing frees up before the period ends, then everything does.
    clock.advance(49 * 60_000);
    expect((await send(gateway, '/api/a', H)).status).toBe(403);
    clock.advance(60_000);
    expect((await send(gateway, '/api/a', H)).status).toBe(200);
    expect((await send(gateway, '/api/a', H)).status).toBe(200);
    expect((await send(gateway, '/api/a', H)).status).toBe(403);
  });

  it('counts bandwidth in kilobytes of request and response bodies', async () => {
    const b = await backend((_req, res) => {
      res.end('x'.repeat(700));
    });
    const { gateway } = productGateway(policies({ inbound: '<base /><quota bandwidth="1" renewal-period="0" />', backend: FORWARD }), b.url);
    expect((await send(gateway, '/api/a', { ...H, method: 'POST', body: 'y'.repeat(200) })).status).toBe(200); // 900 bytes
    expect((await send(gateway, '/api/a', H)).status).toBe(200); // 1600 bytes: over 1 KB now
    const r = await send(gateway, '/api/a', H);
    expect(r.status).toBe(403);
    // renewal-period 0 = a lifetime quota: never replenished, so no time and no Retry-After.
    expect(r.json()).toEqual({ statusCode: 403, message: 'Out of bandwidth quota.' });
    expect(r.header('Retry-After')).toBeUndefined();
    expect(b.requests).toHaveLength(2);
  });

  it('is product-scope only and needs calls or bandwidth', () => {
    const api = tryBuildGateway({ api: policies({ inbound: '<quota calls="1" renewal-period="60" />' }) });
    expect(api.diagnostics.map((d) => d.message)).toContain('<quota> is not allowed at api scope');
    const none = tryBuildGateway({ product: policies({ inbound: '<quota renewal-period="60" />' }) });
    expect(none.diagnostics.map((d) => d.message)).toContain('<quota> needs "calls", "bandwidth" or both');
  });
});

describe('quota-by-key', () => {
  it('periods start at first-period-start', async () => {
    const clock = new VirtualClock(Date.UTC(2025, 0, 1, 0, 3, 0));
    const { gateway } = buildGateway({
      clock,
      api: policies({ inbound: '<quota-by-key calls="1" renewal-period="300" counter-key="k" first-period-start="2025-01-01T00:02:00Z" />' }),
    });
    expect((await send(gateway, '/api/a')).status).toBe(200);
    const r = await send(gateway, '/api/a');
    expect(r.status).toBe(403);
    expect(r.json()).toEqual({ statusCode: 403, message: 'Out of call volume quota. Quota will be replenished in 00:04:00.' });
    expect(r.header('Retry-After')).toBe('240');
    clock.advance(240_000);
    expect((await send(gateway, '/api/a')).status).toBe(200);
  });

  it('increments a key only once per request even when several policies use it', async () => {
    const q = '<quota-by-key calls="2" renewal-period="3600" counter-key="shared" />';
    const { gateway } = buildGateway({ api: policies({ inbound: `<base />${q}` }), operation: policies({ inbound: `<base />${q}` }) });
    expect((await send(gateway, '/api/a')).status).toBe(200);
    expect((await send(gateway, '/api/a')).status).toBe(200);
    expect((await send(gateway, '/api/a')).status).toBe(403);
  });

  it('evaluates an expression increment-condition after the response', async () => {
    const b = await backend((_req, res, i) => {
      res.statusCode = i === 0 ? 503 : 200;
      res.end();
    });
    const doc = policies({
      inbound:
        '<quota-by-key calls="1" renewal-period="3600" counter-key="@(context.Request.IpAddress)" increment-condition="@(context.Response.StatusCode &gt;= 200 &amp;&amp; context.Response.StatusCode &lt; 400)" />',
      backend: FORWARD,
    });
    const { gateway } = buildGateway({ serviceUrl: b.url, api: doc });
    expect((await send(gateway, '/api/a')).status).toBe(503);
    expect((await send(gateway, '/api/a')).status).toBe(200);
    expect((await send(gateway, '/api/a')).status).toBe(403);
  });

  it('reports a renewal period under 300 s and a malformed first-period-start', () => {
    const { diagnostics } = tryBuildGateway({
      api: policies({ inbound: '<quota-by-key calls="1" renewal-period="60" counter-key="k" first-period-start="yesterday" />' }),
    });
    const messages = diagnostics.map((d) => d.message);
    expect(messages).toContain('attribute "renewal-period" of <quota-by-key> is 60, below the minimum period of 300 seconds');
    expect(messages).toContain('attribute "first-period-start" of <quota-by-key> is not a date and time: "yesterday"');
    expect(diagnostics.every((d) => (d.line ?? 0) > 0 && (d.column ?? 0) > 0)).toBe(true);
  });
});

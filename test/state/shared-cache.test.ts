import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { RedisStateStore } from '../../src/state/redis.js';
import { ExpiringCache, VALUE_CODEC } from '../../src/policies/support/cache.js';
import { JObject } from '../../src/dotnet/json.js';
import { buildGateway, FORWARD, policies, send, startBackend } from '../helpers/gateway.js';
import type { TestBackend } from '../helpers/gateway.js';
import { redisFixture } from './redis-server.js';

/**
 * The caches on the state store: with Redis as APIM's external cache, caching-type external / prefer-external entries
 * are seen by every gateway using that Redis, internal ones stay in their gateway; lifetimes run on the emulator clock.
 */
const fx = redisFixture('shared-cache', { beforeAll, afterAll, afterEach });
const available = fx.available;
const T = Date.UTC(2030, 0, 1);

/** Two gateways as two emulator processes would be: own clocks (at the same instant), own Redis connections, one prefix. */
async function pair(api: (side: 'a' | 'b') => string, serviceUrl = '', log?: (m: string) => void) {
  const prefix = fx.prefix('cache');
  const make = async (side: 'a' | 'b') => {
    const state = new RedisStateStore({ url: fx.url(), prefix });
    fx.closeAfterEach.push(state);
    await state.ready();
    const clock = new VirtualClock(T);
    return buildGateway({ serviceUrl, api: api(side), clock, deps: { state, ...(log ? { log: (e) => log(e.message) } : {}) } });
  };
  return { a: await make('a'), b: await make('b') };
}

async function numberingBackend(): Promise<TestBackend> {
  const b = await startBackend((_req, res, i) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ n: i + 1 }));
  });
  fx.closeAfterEach.push(b);
  return b;
}

const LOOKUP = (type: string) => `<cache-lookup vary-by-developer="false" vary-by-developer-groups="false"${type ? ` caching-type="${type}"` : ''} />`;

(available ? describe : describe.skip)('response cache on Redis (external cache)', () => {
  for (const type of ['', 'external']) {
    it(`caching-type ${type || 'prefer-external (default)'}: one gateway's stored response is the other's hit, until its clock-time end`, async () => {
      const backend = await numberingBackend();
      const { a, b } = await pair(() => policies({ inbound: LOOKUP(type), backend: FORWARD, outbound: '<cache-store duration="30" />' }), backend.url);
      expect((await send(a.gateway, '/api/x')).json()).toEqual({ n: 1 });
      const hit = await send(b.gateway, '/api/x');
      expect(hit.json()).toEqual({ n: 1 });
      expect(hit.context?.traceEvents.some((e) => e.policy === 'cache-lookup' && e.message.startsWith('cache hit (external (Redis) cache)'))).toBe(true);
      b.clock.advance(29_999);
      expect((await send(b.gateway, '/api/x')).json()).toEqual({ n: 1 });
      b.clock.advance(1);
      expect((await send(b.gateway, '/api/x')).json()).toEqual({ n: 2 });
      expect(backend.requests).toHaveLength(2);
    });
  }

  it('caching-type internal stays in its own gateway', async () => {
    const backend = await numberingBackend();
    const { a, b } = await pair(() => policies({ inbound: LOOKUP('internal'), backend: FORWARD, outbound: '<cache-store duration="30" />' }), backend.url);
    expect((await send(a.gateway, '/api/x')).json()).toEqual({ n: 1 });
    expect((await send(b.gateway, '/api/x')).json()).toEqual({ n: 2 });
    expect((await send(a.gateway, '/api/x')).json()).toEqual({ n: 1 });
  });
});

(available ? describe : describe.skip)('value cache on Redis (external cache)', () => {
  const WRITE = `<cache-store-value key="profile" value="@(new JObject(new JProperty(&quot;name&quot;, &quot;ada&quot;), new JProperty(&quot;n&quot;, 3)))" duration="60" />`;
  const READ = `<cache-lookup-value key="profile" variable-name="p" />
    <choose><when condition="@(context.Variables.ContainsKey(&quot;p&quot;))">
      <return-response><set-body>@{ var p = (JObject)context.Variables["p"]; return (string)p["name"] + "/" + (int)p["n"]; }</set-body></return-response>
    </when></choose>
    <return-response><set-status code="404" /></return-response>`;

  it('a JObject stored by one gateway is read back as a JObject by the other; remove-value removes it for both', async () => {
    const writer = `<choose><when condition="@(context.Request.Url.Query.ContainsKey(&quot;remove&quot;))"><cache-remove-value key="profile" /></when>
      <otherwise>${WRITE}</otherwise></choose><return-response />`;
    const { a, b } = await pair((side) => policies({ inbound: side === 'a' ? writer : READ }));
    expect((await send(b.gateway, '/api/x')).status).toBe(404);
    await send(a.gateway, '/api/x');
    const r = await send(b.gateway, '/api/x');
    expect([r.status, r.text]).toEqual([200, 'ada/3']);
    await send(a.gateway, '/api/x?remove=1');
    expect((await send(b.gateway, '/api/x')).status).toBe(404);
    // Stored again: it lives 60 s of clock time.
    await send(a.gateway, '/api/x');
    b.clock.advance(59_999);
    expect((await send(b.gateway, '/api/x')).text).toBe('ada/3');
    b.clock.advance(1);
    expect((await send(b.gateway, '/api/x')).status).toBe(404);
  });

  it('a value that cannot leave the process is not stored, and the log says so', async () => {
    const lines: string[] = [];
    const { a } = await pair(
      () => policies({ inbound: '<cache-store-value key="when" value="@(DateTime.UtcNow)" duration="60" /><return-response />' }),
      '',
      (m) => lines.push(m),
    );
    expect((await send(a.gateway, '/api/x')).status).toBe(200);
    expect(lines.some((l) => /key "when" not stored: a value of type \w+ cannot be kept in the external \(Redis\) cache/.test(l))).toBe(true);
  });
});

describe('cache bounds and value encoding', () => {
  it('an in-process cache with a byte bound drops the oldest entries, and refuses one larger than the bound', () => {
    const clock = new VirtualClock(T);
    const cache = new ExpiringCache<string>(clock, 100, (v) => v.length, 10);
    expect(cache.set('a', 'xxxx', 1000)).toBe(true);
    expect(cache.set('b', 'yyyy', 1000)).toBe(true);
    expect(cache.set('c', 'zzzz', 1000)).toBe(true);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([undefined, 'yyyy', 'zzzz']);
    expect(cache.set('d', 'x'.repeat(11), 1000)).toBe(false);
    expect(cache.get('d')).toBeUndefined();
  });

  it('values keep their type through the store codec; other types are refused', () => {
    const round = (v: unknown) => VALUE_CODEC.decode(VALUE_CODEC.encode(v)!);
    expect([round('s'), round(2.5), round(true), round(null), round(12n)]).toEqual(['s', 2.5, true, null, 12n]);
    const o = round(JObject.Parse('{"a":[1,2]}')) as JObject;
    expect(o).toBeInstanceOf(JObject);
    expect(o.ToString('None')).toBe('{"a":[1,2]}');
    expect(VALUE_CODEC.encode(new Date())).toBeUndefined();
  });
});

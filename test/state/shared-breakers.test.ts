import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { RedisStateStore } from '../../src/state/redis.js';
import { buildGateway, policies, send, startBackend } from '../helpers/gateway.js';
import { redisFixture } from './redis-server.js';

/**
 * state.shareBreakers on Redis: two gateways (as two emulator processes) see one circuit breaker per backend: failures
 * seen by either count in one window, and a trip decided by one opens the breaker in the other. Without it each keeps
 * its own breaker (APIM: per gateway instance).
 */
const fx = redisFixture('shared-breakers', { beforeAll, afterAll, afterEach });
const available = fx.available;
const T = Date.UTC(2030, 0, 1);

async function pair(shareBreakers: boolean) {
  const backend = await startBackend((_req, res) => {
    res.statusCode = 500;
    res.end('down');
  });
  fx.closeAfterEach.push(backend);
  const backendsJson = {
    backends: [
      {
        name: 'b1',
        properties: {
          url: backend.url,
          protocol: 'http',
          circuitBreaker: {
            rules: [{ name: 'two-fives', failureCondition: { count: 2, interval: 'PT1M', statusCodeRanges: [{ min: 500, max: 599 }] }, tripDuration: 'PT1M' }],
          },
        },
      },
    ],
  };
  const prefix = fx.prefix('breakers');
  const make = async () => {
    const state = new RedisStateStore({ url: fx.url(), prefix });
    fx.closeAfterEach.push(state);
    await state.ready();
    return buildGateway({
      backends: [backendsJson],
      api: policies({ inbound: '<set-backend-service backend-id="b1" />', backend: '<forward-request />' }),
      clock: new VirtualClock(T),
      deps: { state, shareBreakers },
    });
  };
  return { backend, a: await make(), b: await make() };
}

/** Resolves when `gateway`'s breaker for b1 has opened (an event), however the news arrived. */
function opened(gateway: Gateway): Promise<string> {
  return new Promise((resolve) => {
    const off = gateway.backends!.onEvent((e) => {
      if (e.eventType.endsWith('Opened')) {
        off();
        resolve(e.subject);
      }
    });
  });
}

(available ? describe : describe.skip)('state.shareBreakers on Redis', () => {
  it('one breaker for both gateways: one failure each trips it, and both stop calling the backend', async () => {
    const { backend, a, b } = await pair(true);
    const aOpened = opened(a.gateway);
    expect((await send(a.gateway, '/api/x')).status).toBe(500);
    expect((await send(b.gateway, '/api/x')).status).toBe(500);
    // B's failure was the second in the shared window: Redis opened the breaker and told A.
    expect(await aOpened).toBe('/backends/b1/circuit-breaker/rules/two-fives');
    expect((await send(a.gateway, '/api/x')).status).toBe(503);
    expect((await send(b.gateway, '/api/x')).status).toBe(503);
    expect(backend.requests).toHaveLength(2);
    const snap = a.gateway.backends!.state().find((s) => s.id === 'b1')!.breaker!;
    expect(snap).toMatchObject({
      state: 'open',
      trips: 1,
      lastTripReason: 'status 500 in 500-599; 2 failures >= count 2 within PT1M; open for tripDuration PT1M',
    });
    // It closes for both when the clock reaches the reopen time.
    a.clock.advance(60_000);
    b.clock.advance(60_000);
    expect((await send(a.gateway, '/api/x')).status).toBe(500);
    expect(backend.requests).toHaveLength(3);
  });

  it('the request whose failure trips the shared breaker shows the trip in its trace', async () => {
    const { a, b } = await pair(true);
    expect((await send(a.gateway, '/api/x', { tracing: false })).status).toBe(500);
    const tripping = await send(b.gateway, '/api/x');
    expect(tripping.status).toBe(500);
    const trip = tripping.context!.traceEvents.find((e) => e.kind === 'breaker');
    expect(trip).toMatchObject({ decision: 'opened', memberId: 'b1', rule: 'two-fives' });
    expect(trip!.message).toContain('2 failures >= count 2 within PT1M');
  });

  it('without it each gateway keeps its own breaker', async () => {
    const { backend, a, b } = await pair(false);
    expect((await send(a.gateway, '/api/x')).status).toBe(500);
    expect((await send(b.gateway, '/api/x')).status).toBe(500);
    expect((await send(a.gateway, '/api/x')).status).toBe(500);
    expect((await send(a.gateway, '/api/x')).status).toBe(503);
    expect((await send(b.gateway, '/api/x')).status).toBe(500);
    expect(backend.requests).toHaveLength(4);
  });
});

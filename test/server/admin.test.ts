import { afterEach, describe, expect, it } from 'vitest';
import { SystemClock, VirtualClock } from '../../src/clock.js';
import { MockBackendSet } from '../../src/mocks/index.js';
import { buildGateway, policies, startBackend } from '../helpers/gateway.js';
import type { TestBackend } from '../helpers/gateway.js';
import { closeAll, getJson, request, serve } from './support.js';

const backends: TestBackend[] = [];
const mockSets: MockBackendSet[] = [];
afterEach(async () => {
  await closeAll();
  await Promise.all(backends.splice(0).map((b) => b.close()));
  await Promise.all(mockSets.splice(0).map((m) => m.closeAll()));
});

/** One backend with a count-2 5xx breaker (tripDuration 1 minute) plus a pool over it. */
function breakerBackends(url: string): unknown {
  return {
    backends: [
      {
        name: 'b1',
        properties: {
          url,
          protocol: 'http',
          circuitBreaker: {
            rules: [
              { name: 'five-hundreds', failureCondition: { count: 2, interval: 'PT1M', statusCodeRanges: [{ min: 500, max: 599 }] }, tripDuration: 'PT1M' },
            ],
          },
        },
      },
      { name: 'pool', properties: { type: 'Pool', pool: { services: [{ id: '/backends/b1' }] } } },
    ],
  };
}

describe('admin endpoints', () => {
  it('requests under /_emulator/ never reach the gateway, even with an API at the root', async () => {
    const b = await startBackend();
    backends.push(b);
    const { gateway, clock } = buildGateway({ serviceUrl: b.url, apiPath: '', api: policies({ backend: '<forward-request />' }) });
    const s = await serve(gateway, clock);
    const unknown = await request(`${s.url}/_emulator/nope`);
    expect(unknown.status).toBe(404);
    expect((unknown.json() as { endpoints: string[] }).endpoints).toContain('GET  /_emulator/health');
    const wrongMethod = await request(`${s.url}/_emulator/reset`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('POST');
    expect((await request(`${s.url}/_EMULATOR/health`)).status).toBe(200);
    expect(b.requests).toHaveLength(0);
    // ...while other paths do.
    expect((await request(`${s.url}/_emulatorx`)).status).toBe(200);
    expect(b.requests).toHaveLength(1);
  });

  it('health reports the clock, APIs, backends and trace settings', async () => {
    const clock = new VirtualClock(Date.UTC(2025, 5, 1));
    const { gateway } = buildGateway({ api: policies({}), clock });
    const s = await serve(gateway, clock, { debugToken: 't', traceLimit: 7 });
    const h = await getJson<Record<string, unknown>>(`${s.url}/_emulator/health`);
    expect(h).toMatchObject({
      status: 'ok',
      apis: 1,
      inFlight: 0,
      clock: { now: '2025-06-01T00:00:00.000Z', virtual: true },
      traces: { stored: 0, limit: 7, debugTokenRequired: true },
    });
  });

  it('backends, events and metrics show a circuit breaker opening; reset closes it and clears traces and events', async () => {
    const b = await startBackend((_req, res) => {
      res.statusCode = 500;
      res.end('boom');
    });
    backends.push(b);
    const clock = new VirtualClock();
    const { gateway } = buildGateway({
      clock,
      backends: [breakerBackends(b.url)],
      api: policies({ inbound: '<base /><set-backend-service backend-id="pool" />', backend: '<forward-request />' }),
    });
    const s = await serve(gateway, clock);
    expect((await request(`${s.url}/api/x`, { headers: { 'Apim-Debug-Authorization': '1' } })).status).toBe(500);
    expect((await request(`${s.url}/api/x`)).status).toBe(500);
    // Breaker open: the pool has no member left.
    expect((await request(`${s.url}/api/x`)).status).toBe(503);
    expect(b.requests).toHaveLength(2);

    const state = await getJson<{ backends: Array<{ id: string; breaker?: { state: string; trips: number }; members?: Array<{ available: boolean }> }> }>(
      `${s.url}/_emulator/backends`,
    );
    expect(state.backends.find((x) => x.id === 'b1')!.breaker).toMatchObject({ state: 'open', trips: 1 });
    expect(state.backends.find((x) => x.id === 'pool')!.members).toEqual([expect.objectContaining({ backendId: 'b1', available: false })]);

    const events = await getJson<{ events: Array<{ eventType: string; data: { backendName: string } }> }>(`${s.url}/_emulator/events`);
    expect(events.events.map((e) => [e.eventType, e.data.backendName])).toEqual([['Microsoft.ApiManagement.CircuitBreaker.Opened', 'b1']]);
    const metrics = await request(`${s.url}/_emulator/metrics`);
    expect(metrics.text).toContain('apim_circuit_breaker_opened_total{backend="b1"} 1');
    expect(metrics.text).toContain('apim_requests_total{api="test-api",operation="test-api-any",backend="b1",status="500"} 2');
    const health = await getJson<{ backends: { openCircuitBreakers: string[] } }>(`${s.url}/_emulator/health`);
    expect(health.backends.openCircuitBreakers).toEqual(['b1']);

    const reset = await request(`${s.url}/_emulator/reset`, { method: 'POST', headers: { 'x-emulator-request': '1' } });
    expect(reset.status).toBe(200);
    const after = await getJson<{ backends: Array<{ id: string; breaker?: { state: string } }> }>(`${s.url}/_emulator/backends`);
    expect(after.backends.find((x) => x.id === 'b1')!.breaker!.state).toBe('closed');
    expect((await getJson<{ events: unknown[] }>(`${s.url}/_emulator/events`)).events).toEqual([]);
    expect((await getJson<{ traces: unknown[] }>(`${s.url}/_emulator/traces`)).traces).toEqual([]);
    // The backend is tried again.
    expect((await request(`${s.url}/api/x`)).status).toBe(500);
    expect(b.requests).toHaveLength(3);
  });

  it('the clock endpoint moves a virtual clock (advanceMs, set) and validates the body', async () => {
    const clock = new VirtualClock(Date.UTC(2025, 0, 1));
    const { gateway } = buildGateway({ api: policies({}), clock });
    const s = await serve(gateway, clock);
    const post = (body: string) => request(`${s.url}/_emulator/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const a = await post('{"advanceMs": 90000}');
    expect(a.status).toBe(200);
    expect(a.json()).toMatchObject({ now: '2025-01-01T00:01:30.000Z', virtual: true });
    expect(clock.now()).toBe(Date.UTC(2025, 0, 1, 0, 1, 30));
    const set = await post('{"set": "2030-05-06T07:08:09Z"}');
    expect((set.json() as { now: string }).now).toBe('2030-05-06T07:08:09.000Z');
    expect((await getJson<{ epochMs: number }>(`${s.url}/_emulator/clock`)).epochMs).toBe(Date.UTC(2030, 4, 6, 7, 8, 9));

    const bad = await post('{"advanceMs": -5}');
    expect(bad.status).toBe(400);
    expect((bad.json() as { error: string }).error).toMatch(/"advanceMs" must be a non-negative number/);
    const both = await post('{"advanceMs": 1, "set": "2030-01-01T00:00:00Z"}');
    expect(both.status).toBe(400);
    const notJson = await post('{advanceMs');
    expect(notJson.status).toBe(400);
    expect((notJson.json() as { error: string }).error).toMatch(/not valid JSON/);
    const badTime = await post('{"set": "yesterday"}');
    expect((badTime.json() as { error: string }).error).toMatch(/ISO 8601/);
  });

  it('the clock cannot be moved on the system clock: 409', async () => {
    const { gateway } = buildGateway({ api: policies({}) });
    const s = await serve(gateway, new SystemClock());
    const r = await request(`${s.url}/_emulator/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"advanceMs":1000}' });
    expect(r.status).toBe(409);
    expect((r.json() as { error: string }).error).toMatch(/only be moved when the emulator runs on a virtual clock/);
  });

  it('mocks: list, request log, script change over HTTP (text and JSON), 400 with diagnostics for a bad script; reset clears the log', async () => {
    const clock = new VirtualClock();
    const mocks = new MockBackendSet();
    mockSets.push(mocks);
    const m = await mocks.start('m1', { steps: [{ times: 'forever', status: 200 }] }, clock);
    const { gateway } = buildGateway({ serviceUrl: m.url, clock, api: policies({ backend: '<forward-request />' }) });
    const s = await serve(gateway, clock, { mocks });

    expect((await request(`${s.url}/api/a`)).status).toBe(200);
    const list = await getJson<{ mocks: Array<{ name: string; url: string; requestCount: number; scriptText: string }> }>(`${s.url}/_emulator/mocks`);
    expect(list.mocks).toEqual([expect.objectContaining({ name: 'm1', url: m.url, requestCount: 1 })]);
    const log = await getJson<{ requests: Array<{ path: string; responseStatus: number }> }>(`${s.url}/_emulator/mocks/m1/requests`);
    expect(log.requests.map((r) => [r.path, r.responseStatus])).toEqual([['/a', 200]]);

    const text = await request(`${s.url}/_emulator/mocks/m1/script`, {
      method: 'PUT',
      headers: { 'content-type': 'text/plain', 'x-emulator-request': '1' },
      body: '429x2 retry-after=7; 200',
    });
    expect(text.status).toBe(200);
    const r1 = await request(`${s.url}/api/b`);
    expect(r1.status).toBe(429);
    expect(r1.headers['retry-after']).toBe('7');
    expect((await request(`${s.url}/api/b`)).status).toBe(429);
    expect((await request(`${s.url}/api/b`)).status).toBe(200);

    const json = await request(`${s.url}/_emulator/mocks/m1/script`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"steps":[{"status":503,"times":"forever"}]}',
    });
    expect(json.status).toBe(200);
    expect((await request(`${s.url}/api/c`)).status).toBe(503);

    const bad = await request(`${s.url}/_emulator/mocks/m1/script`, {
      method: 'PUT',
      headers: { 'content-type': 'text/plain', 'x-emulator-request': '1' },
      body: '200; banana',
    });
    expect(bad.status).toBe(400);
    const badBody = bad.json() as { error: string; diagnostics: Array<{ code: string; line: number; column: number; text: string }> };
    expect(badBody.error).toMatch(/^invalid mock script: /);
    expect(badBody.diagnostics[0]).toMatchObject({ line: 1, column: 6 });
    const badJson = await request(`${s.url}/_emulator/mocks/m1/script`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"steps": [ {"status": 200,} ]}',
    });
    expect(badJson.status).toBe(400);
    expect((badJson.json() as { diagnostics: Array<{ line: number; column: number }> }).diagnostics[0]).toMatchObject({ line: 1 });
    // The bad scripts changed nothing.
    expect((await request(`${s.url}/api/c`)).status).toBe(503);

    const unknown = await request(`${s.url}/_emulator/mocks/nobody/requests`);
    expect(unknown.status).toBe(404);
    expect(unknown.json()).toEqual({ error: 'no mock backend named "nobody"', known: ['m1'] });

    await request(`${s.url}/_emulator/reset`, { method: 'POST', headers: { 'x-emulator-request': '1' } });
    expect((await getJson<{ requests: unknown[] }>(`${s.url}/_emulator/mocks/m1/requests`)).requests).toEqual([]);
  });
});

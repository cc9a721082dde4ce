import { UndiciUpstream } from '../../src/server/undici-upstream.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StartFailure, startEmulator } from '../../src/cli/serve.js';
import type { RunningEmulator } from '../../src/cli/serve.js';
import { VirtualClock } from '../../src/clock.js';
import { formatDiagnosticLine } from '../../src/diagnostics/diagnostic.js';
import { SourceText } from '../../src/diagnostics/source.js';
import { loadConfig } from '../../src/config/load.js';
import type { GatewayDefinition } from '../../src/gateway/definition.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { MockBackendSet, parseMockScript } from '../../src/mocks/index.js';
import { INSTANCE_HEADER, startServer } from '../../src/server/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { closeAll, getJson, request, running } from './support.js';

/**
 * Several simulated gateway instances (APIM scale units; docs/apim-behaviour.md: Pools, breakers and backend URLs): breakers, pool positions
 * and rate-limit counters are per instance and not synchronised, so a count-1 breaker lets one request per instance
 * through to a failing backend.
 */

const mockSets: MockBackendSet[] = [];
const emulators: RunningEmulator[] = [];
const tempDirs: string[] = [];
afterEach(async () => {
  await closeAll();
  await Promise.all(emulators.splice(0).map((e) => e.close()));
  await Promise.all(mockSets.splice(0).map((m) => m.closeAll()));
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The example's shape: a pool (b1 priority 1, b2 priority 2), b1 trips on its first 429 for a minute, retry once on 429. */
const POLICY = `<policies>
  <inbound><base /><set-backend-service backend-id="pool" /></inbound>
  <backend>
    <retry condition="@(context.Response.StatusCode == 429)" count="1" interval="0" first-fast-retry="true">
      <forward-request />
    </retry>
  </backend>
  <outbound><base /></outbound>
  <on-error><base /></on-error>
</policies>`;

function backendsJson(b1: string, b2: string): string {
  return JSON.stringify({
    backends: [
      {
        name: 'b1',
        properties: {
          url: b1,
          protocol: 'http',
          circuitBreaker: {
            rules: [
              { name: 'trip-on-429', failureCondition: { count: 1, interval: 'PT1M', statusCodeRanges: [{ min: 429, max: 429 }] }, tripDuration: 'PT1M' },
            ],
          },
        },
      },
      { name: 'b2', properties: { url: b2, protocol: 'http' } },
      {
        name: 'pool',
        properties: {
          type: 'Pool',
          pool: {
            services: [
              { id: '/backends/b1', priority: 1 },
              { id: '/backends/b2', priority: 2 },
            ],
          },
        },
      },
    ],
  });
}

function definition(b1: string, b2: string, apiPolicy = POLICY): GatewayDefinition {
  return {
    service: { name: 'apim-test', region: 'West Europe', gatewayId: 'managed' },
    fragments: [],
    namedValues: [],
    backendFiles: [{ file: 'backends.json', text: backendsJson(b1, b2) }],
    products: [],
    apis: [{ id: 'api', name: 'api', path: 'api', serviceUrl: '', subscriptionRequired: false, policy: new SourceText('api.xml', apiPolicy), operations: [] }],
    subscriptions: [],
  };
}

async function mocks(clock: VirtualClock, scripts: Record<string, string>): Promise<MockBackendSet> {
  const set = new MockBackendSet();
  mockSets.push(set);
  for (const [name, text] of Object.entries(scripts)) {
    const parsed = parseMockScript(text, name);
    if (!parsed.script) throw new Error(parsed.diagnostics.map(formatDiagnosticLine).join('\n'));
    await set.start(name, parsed.script, clock);
  }
  return set;
}

/** N gateways built from one definition (as N scale units compile the same configuration), served by one server. */
async function serveInstances(
  n: number,
  o: { apiPolicy?: string; b1?: string } = {},
): Promise<{ s: RunningServer; set: MockBackendSet; clock: VirtualClock; gateways: Gateway[] }> {
  const clock = new VirtualClock(Date.UTC(2025, 0, 1));
  const set = await mocks(clock, { b1: o.b1 ?? '429', b2: '200' });
  const def = definition(set.get('b1')!.url, set.get('b2')!.url, o.apiPolicy);
  const gateways: Gateway[] = [];
  for (let i = 0; i < n; i++) {
    const built = Gateway.build(def, { clock, upstream: new UndiciUpstream(clock) });
    if (!built.gateway) throw new Error(built.diagnostics.map(formatDiagnosticLine).join('\n'));
    gateways.push(built.gateway);
  }
  const s = await startServer({ gateway: n === 1 ? gateways[0]! : gateways, clock, logger: false, mocks: set });
  running.push(s);
  return { s, set, clock, gateways };
}

interface BackendRow {
  id: string;
  breaker?: { state: string; trips: number } | null;
}
type PerInstance<K extends string, T> = { instances: Array<{ instance: number } & Record<K, T[]>> };

async function breakerStates(url: string): Promise<string[]> {
  const b = await getJson<PerInstance<'backends', BackendRow>>(`${url}/_emulator/backends`);
  return b.instances.map((i) => i.backends.find((x) => x.id === 'b1')!.breaker!.state);
}

const chat = (url: string, headers: Record<string, string> = {}) => request(`${url}/api/chat`, { headers });

describe('several gateway instances', () => {
  it('a count-1 breaker trips only on the instance that saw the 429: each of 3 instances sends the failing backend its own request', async () => {
    const { s, set } = await serveInstances(3);
    const b1 = set.get('b1')!;

    const first = await chat(s.url);
    // The client never sees the 429: the retry re-selects and the pool falls through to priority 2.
    expect([first.status, first.headers[INSTANCE_HEADER], first.headers['x-mock-backend']]).toEqual([200, '0', 'b2']);
    expect(b1.requests).toHaveLength(1);
    expect(await breakerStates(s.url)).toEqual(['open', 'closed', 'closed']);

    // Instances 1 and 2 know nothing of instance 0's breaker: each sends b1 one more request and trips on its own 429.
    const second = await chat(s.url);
    expect([second.headers[INSTANCE_HEADER], second.headers['x-mock-backend']]).toEqual(['1', 'b2']);
    expect(await breakerStates(s.url)).toEqual(['open', 'open', 'closed']);
    const third = await chat(s.url);
    expect(third.headers[INSTANCE_HEADER]).toBe('2');
    expect(b1.requests.map((r) => r.responseStatus)).toEqual([429, 429, 429]);
    expect(await breakerStates(s.url)).toEqual(['open', 'open', 'open']);

    // Now every instance skips b1 and requests keep alternating instances.
    const next = await Promise.all([0, 1, 2].map(() => chat(s.url)));
    expect(next.map((r) => r.headers[INSTANCE_HEADER]).sort()).toEqual(['0', '1', '2']);
    expect(next.map((r) => r.headers['x-mock-backend'])).toEqual(['b2', 'b2', 'b2']);
    expect(b1.requests).toHaveLength(3);

    // Per-instance admin state: one Opened event per instance, each naming b1.
    const events = await getJson<PerInstance<'events', { eventType: string; data: { backendName: string } }>>(`${s.url}/_emulator/events`);
    expect(events.instances.map((i) => [i.instance, i.events.map((e) => `${e.eventType.split('.').pop()} ${e.data.backendName}`)])).toEqual([
      [0, ['Opened b1']],
      [1, ['Opened b1']],
      [2, ['Opened b1']],
    ]);
    const health = await getJson<{
      instances: number;
      backends: { openCircuitBreakers: string[]; instances: Array<{ instance: number; openCircuitBreakers: string[] }> };
    }>(`${s.url}/_emulator/health`);
    expect(health.instances).toBe(3);
    expect(health.backends.openCircuitBreakers).toEqual(['b1']);
    expect(health.backends.instances.map((i) => i.openCircuitBreakers)).toEqual([['b1'], ['b1'], ['b1']]);
  });

  it('with one instance the same rule protects the backend after one 429, and responses and admin shapes are unchanged', async () => {
    const { s, set } = await serveInstances(1);
    for (let i = 0; i < 3; i++) {
      const r = await chat(s.url);
      expect(r.headers['x-mock-backend']).toBe('b2');
      expect(r.headers[INSTANCE_HEADER]).toBeUndefined();
    }
    expect(set.get('b1')!.requests).toHaveLength(1);
    const b = await getJson<{ backends: BackendRow[]; instances?: unknown }>(`${s.url}/_emulator/backends`);
    expect(b.instances).toBeUndefined();
    expect(b.backends.find((x) => x.id === 'b1')!.breaker).toMatchObject({ state: 'open', trips: 1 });
    const events = await getJson<{ events: unknown[]; instances?: unknown }>(`${s.url}/_emulator/events`);
    expect([events.events.length, events.instances]).toEqual([1, undefined]);
    const health = await getJson<Record<string, unknown>>(`${s.url}/_emulator/health`);
    expect(health.instances).toBeUndefined();
    expect(health.backends).toEqual({ total: 3, openCircuitBreakers: ['b1'] });
  });

  it('breakers close per instance on the shared clock, each after its own trip duration', async () => {
    const { s, clock } = await serveInstances(2, { b1: '429; 200' });
    await chat(s.url); // instance 0 trips b1 at t0 (b1 then answers 200 from its second call on)
    clock.advance(30_000);
    await chat(s.url); // instance 1 sees a 200 from b1: its breaker stays closed
    expect(await breakerStates(s.url)).toEqual(['open', 'closed']);
    clock.advance(30_000);
    expect(await breakerStates(s.url)).toEqual(['closed', 'closed']);
    const r = await chat(s.url, { [INSTANCE_HEADER]: '0' });
    expect([r.headers[INSTANCE_HEADER], r.headers['x-mock-backend']]).toEqual(['0', 'b1']);
  });

  it('x-emulator-instance pins a request to one instance without moving the rotation, and is not forwarded', async () => {
    const { s, set } = await serveInstances(3, { b1: '200' });
    const pinned = await chat(s.url, { [INSTANCE_HEADER]: '2' });
    expect([pinned.status, pinned.headers[INSTANCE_HEADER]]).toEqual([200, '2']);
    expect(set.get('b1')!.requests[0]!.headers[INSTANCE_HEADER]).toBeUndefined();
    // The rotation still starts at 0.
    const order = [];
    for (let i = 0; i < 4; i++) order.push((await chat(s.url)).headers[INSTANCE_HEADER]);
    expect(order).toEqual(['0', '1', '2', '0']);

    for (const bad of ['3', '-1', 'one', '1.0']) {
      const r = await chat(s.url, { [INSTANCE_HEADER]: bad });
      expect(r.status).toBe(400);
      expect(r.headers[INSTANCE_HEADER]).toBeUndefined();
      expect(r.json()).toEqual({
        statusCode: 400,
        message: `The x-emulator-instance request header must be one gateway instance number from 0 to 2; got ${JSON.stringify(bad)}.`,
      });
    }
    expect(set.get('b1')!.requests).toHaveLength(5);
  });

  it("reset closes every instance's breakers, clears their events and restarts the rotation", async () => {
    const { s, set } = await serveInstances(3);
    for (let i = 0; i < 4; i++) await chat(s.url);
    expect(await breakerStates(s.url)).toEqual(['open', 'open', 'open']);
    const reset = await request(`${s.url}/_emulator/reset`, { method: 'POST', headers: { 'x-emulator-request': '1' } });
    expect(reset.json()).toMatchObject({
      instances: 3,
      reset: expect.arrayContaining(['circuit breakers', 'instance rotation', 'mock backends', 'events']) as unknown,
    });
    expect(await breakerStates(s.url)).toEqual(['closed', 'closed', 'closed']);
    const events = await getJson<PerInstance<'events', unknown>>(`${s.url}/_emulator/events`);
    expect(events.instances.map((i) => i.events.length)).toEqual([0, 0, 0]);
    // Instance 0 again, and it reaches b1 again (its breaker is closed).
    const r = await chat(s.url);
    expect(r.headers[INSTANCE_HEADER]).toBe('0');
    expect(set.get('b1')!.requests).toHaveLength(1);
  });

  it('rate-limit counters are per instance, as in APIM: 3 instances each let 1 call in', async () => {
    const policy = `<policies><inbound><base /><rate-limit-by-key calls="1" renewal-period="60" counter-key="everyone" />
      <return-response><set-status code="200" /></return-response></inbound><backend /><outbound /><on-error /></policies>`;
    const { s } = await serveInstances(3, { apiPolicy: policy });
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await chat(s.url)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
  });

  it('traces from every instance are in one store and name the instance', async () => {
    const { s } = await serveInstances(2, { b1: '200' });
    await chat(s.url);
    const traced = await chat(s.url, { 'Apim-Debug-Authorization': 'x' });
    const id = traced.headers['apim-trace-id'] as string;
    const trace = await getJson<{ instance: number; response: { headers: Record<string, string[]> }; backend: { memberId: string } }>(
      `${s.url}/_emulator/traces/${id}`,
    );
    expect(trace.instance).toBe(1);
    expect(trace.response.headers[INSTANCE_HEADER]).toEqual(['1']);
    expect(trace.backend.memberId).toBe('b1');
    const pinnedBad = await chat(s.url, { 'Apim-Debug-Authorization': 'x', [INSTANCE_HEADER]: '9' });
    const badTrace = await getJson<{ instance?: number; events: Array<{ message: string }> }>(
      `${s.url}/_emulator/traces/${pinnedBad.headers['apim-trace-id'] as string}`,
    );
    expect(badTrace.instance).toBeUndefined();
    expect(badTrace.events[0]!.message).toMatch(/must be one gateway instance number from 0 to 1/);
  });

  it('refuses the same Gateway object twice and more than 64 instances', async () => {
    const clock = new VirtualClock();
    const set = await mocks(clock, { b1: '200', b2: '200' });
    const built = Gateway.build(definition(set.get('b1')!.url, set.get('b2')!.url), { clock, upstream: new UndiciUpstream(clock) });
    const g = built.gateway!;
    await expect(startServer({ gateway: [g, g], clock, logger: false })).rejects.toThrow(/its own Gateway/);
    await expect(startServer({ gateway: Array.from({ length: 65 }, () => g), clock, logger: false })).rejects.toThrow(
      'the number of gateway instances must be from 1 to 64, got 65',
    );
    await expect(startServer({ gateway: [], clock, logger: false })).rejects.toThrow('got 0');
    await g.close();
    expect(running).toHaveLength(0);
  });
});

describe('serve --instances and server.instances', () => {
  function files(): { dir: string; policy: string; backends: string } {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'apim-instances-'));
    tempDirs.push(dir);
    const policy = path.join(dir, 'api.xml');
    const backends = path.join(dir, 'backends.json');
    writeFileSync(policy, POLICY);
    // Placeholder urls: --mock replaces them with mock backends on 127.0.0.1.
    writeFileSync(backends, backendsJson('http://b1.invalid', 'http://b2.invalid'));
    return { dir, policy, backends };
  }
  const quiet = { out: () => undefined, err: () => undefined };

  it('serve builds N instances that share the mocks and the clock', async () => {
    const f = files();
    const e = await startEmulator(
      {
        policy: f.policy,
        backends: [f.backends],
        apiPath: 'api',
        fragments: [],
        namedValuesFiles: [],
        namedValues: [],
        mocks: ['b1=429', 'b2=200'],
        virtualClock: true,
        port: 0,
        logLevel: 'silent',
        instances: 3,
        params: {},
      },
      quiet,
    );
    emulators.push(e);
    const answers = [];
    for (let i = 0; i < 4; i++) {
      const r = await chat(e.url);
      answers.push(`${r.headers[INSTANCE_HEADER] as string} ${r.headers['x-mock-backend'] as string}`);
    }
    expect(answers).toEqual(['0 b2', '1 b2', '2 b2', '0 b2']);
    const b1 = await getJson<{ requests: unknown[] }>(`${e.url}/_emulator/mocks/b1/requests`);
    expect(b1.requests).toHaveLength(3);
    expect((await getJson<{ instances: number }>(`${e.url}/_emulator/health`)).instances).toBe(3);
  });

  it('the config file sets server.instances; out-of-range values are schema errors with the JSON path', async () => {
    const f = files();
    const config = (instances: unknown) => {
      const file = path.join(f.dir, 'apim-emulator.json');
      writeFileSync(
        file,
        JSON.stringify(
          { backends: 'backends.json', apis: [{ id: 'api', path: 'api', subscriptionRequired: false, policy: 'api.xml' }], server: { instances } },
          null,
          2,
        ),
      );
      return file;
    };
    expect(loadConfig(config(4)).server.instances).toBe(4);
    for (const bad of [0, 65, 1.5]) {
      const d = loadConfig(config(bad)).diagnostics.filter((x) => x.severity === 'error');
      expect(d).toHaveLength(1);
      expect(d[0]).toMatchObject({ jsonPath: '$.server.instances', line: expect.any(Number) as unknown });
    }
    const err = await startEmulator(
      {
        config: config(2),
        backends: [],
        apiPath: '',
        fragments: [],
        namedValuesFiles: [],
        namedValues: [],
        mocks: ['b1=200', 'b2=200'],
        port: 0,
        logLevel: 'silent',
        instances: 99,
        params: {},
      },
      quiet,
    ).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StartFailure);
    expect((err as StartFailure).message).toBe('--instances must be a whole number from 1 to 64, got 99');
  });
});

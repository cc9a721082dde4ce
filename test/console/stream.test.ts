import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { serveExample } from '../helpers/example.js';
import { BackendRegistry } from '../../src/backends/index.js';
import { VirtualClock } from '../../src/clock.js';
import { UndiciUpstream } from '../../src/server/undici-upstream.js';
import { buildGateway as buildTestGateway, policies } from '../helpers/gateway.js';
import type { ConsoleState, RequestRow } from '../../src/console/index.js';
import { CONSOLE_LIMITS } from '../../src/console/index.js';
import { OutcomeRecorder, RECENT_OUTCOMES } from '../../src/console/snapshot.js';
import type { MockBackendSet } from '../../src/mocks/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';

/**
 * The console's Server-Sent Events stream over real HTTP on 127.0.0.1 (no browser): what it sends, that nothing is
 * recorded while no console is connected, and its bounds.
 */

const CHAT = '/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21';

interface SseEvent {
  event: string;
  data: unknown;
}

/** A console connection: parses the stream as it arrives; next(name) waits for the next event of that name. */
function openStream(url: string): { next(name: string): Promise<SseEvent>; close(): void } {
  const abort = new AbortController();
  const queue: SseEvent[] = [];
  const waiters: Array<() => void> = [];
  void (async () => {
    const res = await fetch(`${url}/_emulator/console/stream`, { signal: abort.signal });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let end;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) queue.push({ event, data: JSON.parse(data) as unknown });
          for (const w of waiters.splice(0)) w();
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return {
    async next(name) {
      for (;;) {
        const i = queue.findIndex((e) => e.event === name);
        if (i >= 0) return queue.splice(i, 1)[0]!;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    close: () => abort.abort(),
  };
}

describe('console event stream', () => {
  let server: RunningServer;
  let mocks: MockBackendSet;
  const clock = new VirtualClock(Date.UTC(2025, 0, 1), 'advance');

  beforeAll(async () => {
    ({ server, mocks } = await serveExample(clock));
  }, 30_000);

  afterAll(async () => {
    await server?.close();
    await mocks?.closeAll();
  });

  const chat = async (traced = false) => {
    const res = await fetch(`${server.url}${CHAT}`, {
      method: 'POST',
      headers: { 'api-key': 'example-key', 'content-type': 'application/json', ...(traced ? { 'Apim-Debug-Authorization': 't' } : {}) },
      body: '{"messages":[{"role":"user","content":"Hi"}]}',
    });
    await res.text();
    return res.status;
  };

  it('records nothing while no console is connected, then pushes state, rows and breaker events', async () => {
    expect(await chat()).toBe(200); // nobody watching: not recorded
    const s = openStream(server.url);
    onTestFinished(() => s.close());
    const hello = (await s.next('hello')).data as { state: ConsoleState; requests: RequestRow[] };
    expect(hello.requests).toEqual([]);
    expect(hello.state.clock).toMatchObject({ epochMs: Date.UTC(2025, 0, 1), virtual: true });
    const pool = hello.state.instances[0]!.pools.find((p) => p.id === 'openai-backend-pool')!;
    expect(pool.groups.map((g) => [g.priority, g.members.map((m) => `${m.backendId}:${m.weight}:${m.share}`)])).toEqual([
      [1, ['foundry1:1:1']],
      [2, ['foundry2:50:0.5', 'foundry3:50:0.5']],
      [3, ['foundry4:1:1']],
    ]);

    await fetch(`${server.url}/_emulator/mocks/foundry1/script`, {
      method: 'PUT',
      headers: { 'content-type': 'text/plain', 'X-Emulator-Request': '1' },
      body: '429 retry-after=30; aoai',
    });
    expect(await chat(true)).toBe(200);
    const rows = (await s.next('requests')).data as RequestRow[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ method: 'POST', url: CHAT, api: 'openai', status: 200, backends: ['foundry1', 'foundry2'] });
    expect(rows[0]!.traceId).toMatch(/^[0-9a-f-]{36}$/);
    const opened = (await s.next('breaker')).data as Array<{ eventType: string; data: { backendName: string } }>;
    expect(opened.map((e) => `${e.eventType} ${e.data.backendName}`)).toEqual(['Microsoft.ApiManagement.CircuitBreaker.Opened foundry1']);
    // State pushes are diffs of the whole state: wait for the one that has the trip (the script change came first).
    let state = (await s.next('state')).data as ConsoleState;
    const foundry1 = () => state.instances[0]!.singles.find((x) => x.id === 'foundry1')!;
    while (foundry1().breaker!.state !== 'open') state = (await s.next('state')).data as ConsoleState;
    expect(foundry1().breaker).toMatchObject({
      state: 'open',
      openUntil: '2025-01-01T00:00:30.000Z',
      failuresInWindow: 1,
      trips: 1,
      rule: { name: 'openAIBreakerRule', count: 1, interval: 'PT1M' },
    });
    expect(foundry1().recent.map((o) => o.status)).toEqual([429]);

    // Moving the clock is a change by itself: the breaker closes and its Closed event is pushed.
    await fetch(`${server.url}/_emulator/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"advanceMs":30000}' });
    const closed = (await s.next('breaker')).data as Array<{ eventType: string; eventTime: string }>;
    expect(closed.map((e) => `${e.eventType} ${e.eventTime}`)).toEqual(['Microsoft.ApiManagement.CircuitBreaker.Closed 2025-01-01T00:00:30.000Z']);
    do state = (await s.next('state')).data as ConsoleState;
    while (foundry1().breaker!.state !== 'closed');
    expect(state.clock.iso).toBe('2025-01-01T00:00:30.000Z');
    s.close();
  });

  it('stops recording when the last console goes away', async () => {
    const connected = async () => ((await (await fetch(`${server.url}/_emulator/console/status`)).json()) as { connected: number }).connected;
    const s = openStream(server.url);
    await s.next('hello');
    expect(await connected()).toBe(1);
    s.close();
    // The server learns of the closed stream when its socket closes.
    while ((await connected()) > 0);
    await (await fetch(`${server.url}/not-an-api/while-nobody-watches`)).text();
    const again = openStream(server.url);
    onTestFinished(() => again.close());
    const hello = (await again.next('hello')).data as { requests: RequestRow[] };
    expect(hello.requests.length).toBeGreaterThan(0);
    expect(hello.requests.map((r) => r.url)).not.toContain('/not-an-api/while-nobody-watches');
  });

  it('refuses more consoles than its bound, and serves only its own assets', async () => {
    const streams = Array.from({ length: CONSOLE_LIMITS.clients }, () => openStream(server.url));
    onTestFinished(() => streams.forEach((x) => x.close()));
    await Promise.all(streams.map((s) => s.next('hello')));
    const extra = await fetch(`${server.url}/_emulator/console/stream`);
    expect(extra.status).toBe(503);
    expect(((await extra.json()) as { error: string }).error).toContain(`at most ${CONSOLE_LIMITS.clients}`);
    for (const s of streams) s.close();
    const asset = await fetch(`${server.url}/_emulator/console/assets/console.js`);
    expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await asset.text()).toContain('/console/stream');
    const other = await fetch(`${server.url}/_emulator/console/assets/index.ts`);
    expect(other.status).toBe(404);
  });
});

describe('throttling counters while a console watches', () => {
  it('come from every request, traced or not, and context.Tracing stays false for untraced ones', async () => {
    const { gateway, clock } = buildTestGateway({
      apiPath: '',
      api: policies({
        inbound:
          '<rate-limit-by-key calls="3" renewal-period="60" counter-key="@(context.Request.Headers.GetValueOrDefault(&quot;x-user&quot;,&quot;anon&quot;))" />' +
          '<return-response><set-status code="200" /><set-header name="x-tracing" exists-action="override"><value>@(context.Tracing.ToString())</value></set-header></return-response>',
      }),
    });
    const server = await startServer({ gateway, clock, logger: false });
    onTestFinished(() => server.close());
    const s = openStream(server.url);
    onTestFinished(() => s.close());
    await s.next('hello');
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${server.url}/x`, { headers: { 'x-user': 'alice' } });
      expect(r.status).toBe(200);
      expect(r.headers.get('x-tracing')).toBe('False');
    }
    let state = (await s.next('state')).data as ConsoleState;
    while (!state.throttling.some((c) => c.data.key === 'alice' && c.data.used === 2)) state = (await s.next('state')).data as ConsoleState;
    const counter = state.throttling.find((c) => c.data.key === 'alice')!;
    expect(counter).toMatchObject({ policy: 'rate-limit-by-key', data: { key: 'alice', used: 2, limit: 3 } });
  });
});

describe('console behind an admin token', () => {
  it('serves the page without the token and the data only with it', async () => {
    const clock = new VirtualClock(0);
    const { Gateway } = await import('../../src/gateway/gateway.js');
    const built = Gateway.build(
      {
        service: { name: 'apim', region: 'local', gatewayId: 'managed' },
        apis: [],
        products: [],
        subscriptions: [],
        namedValues: [],
        fragments: [],
        backendFiles: [],
      },
      { clock, upstream: new UndiciUpstream(clock) },
    );
    const token = 'console-test-token-0123456789';
    const server = await startServer({ gateway: built.gateway!, clock, logger: false, admin: { token } });
    onTestFinished(() => server.close());
    const page = await fetch(`${server.url}/_emulator/`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect((await fetch(`${server.url}/_emulator/console/status`)).status).toBe(401);
    const ok = await fetch(`${server.url}/_emulator/console/status`, { headers: { authorization: `Bearer ${token}` } });
    expect(await ok.json()).toMatchObject({ connected: 0 });
  });
});

describe('OutcomeRecorder', () => {
  it('keeps the last answers per backend and gives the registry its own report() back', () => {
    const clock = new VirtualClock(0);
    const registry = new BackendRegistry([], clock);
    const rec = new OutcomeRecorder(clock);
    const detach = rec.attach(registry);
    for (let i = 0; i < RECENT_OUTCOMES + 5; i++) registry.report('b', { status: 200 + i });
    registry.report('b', { errorReason: 'Timeout' });
    const recent = rec.recent('b');
    expect(recent).toHaveLength(RECENT_OUTCOMES);
    expect(recent.at(-1)).toEqual({ at: 0, error: 'Timeout' });
    expect(recent[0]!.status).toBe(200 + 6);
    detach();
    expect(Object.prototype.hasOwnProperty.call(registry, 'report')).toBe(false);
    registry.report('b', { status: 500 });
    expect(rec.recent('b').at(-1)).toEqual({ at: 0, error: 'Timeout' });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveExample } from '../helpers/example.js';
import type { BackendStateSnapshot, CircuitBreakerEvent } from '../../src/backends/index.js';
import { VirtualClock } from '../../src/clock.js';
import type { TraceEvent } from '../../src/engine/context.js';
import { AZURE_OPENAI_MOCK, type MockBackendSet } from '../../src/mocks/index.js';
import { attemptsFromTrace, describeAttempt } from '../../src/scenarios/index.js';
import { type RunningServer } from '../../src/server/index.js';

/**
 * The bundled example end to end, through the real Express server on 127.0.0.1 with real mock backends: failover,
 * trip, Retry-After, all-open 503 and reset, driven over HTTP the way users' own integration tests drive it. Time only
 * moves through POST /_emulator/clock (a VirtualClock), so minutes of breaker time take no wall time. Which backend
 * served each attempt is read from the request's trace with the scenario runner's own attemptsFromTrace.
 */

const CHAT = '/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21';

let server: RunningServer;
let mocks: MockBackendSet;
const clock = new VirtualClock(Date.UTC(2025, 0, 1), 'advance');

beforeAll(async () => {
  ({ server, mocks } = await serveExample(clock));
});

afterAll(async () => {
  // The server closes the gateway (its upstream) too.
  await server?.close();
  await mocks?.closeAll();
});

interface Sent {
  status: number;
  body: string;
  attempts: string[];
}

/** One chat completion through the server, traced; returns the attempts as the scenario runner describes them. */
async function chat(): Promise<Sent> {
  const res = await fetch(`${server.url}${CHAT}`, {
    method: 'POST',
    headers: { 'api-key': 'example-key', 'content-type': 'application/json', 'Apim-Debug-Authorization': 'e2e' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'Hello' }] }),
  });
  const body = await res.text();
  const traceId = res.headers.get('apim-trace-id');
  expect(traceId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  const trace = (await admin('GET', `/traces/${traceId}`)) as { events: TraceEvent[] };
  return { status: res.status, body, attempts: attemptsFromTrace(trace.events).map(describeAttempt) };
}

async function admin(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<unknown> {
  const res = await fetch(`${server.url}/_emulator${path}`, {
    method,
    // The header marks state-changing admin calls as not coming from a cross-site page (SECURITY.md).
    headers: { 'x-emulator-request': '1', ...(body !== undefined ? { 'content-type': contentType } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  expect(res.status, `${method} ${path}: ${text}`).toBe(200);
  return JSON.parse(text) as unknown;
}

async function breaker(id: string): Promise<string> {
  const r = (await admin('GET', '/backends')) as { backends: BackendStateSnapshot[] };
  return r.backends.find((b) => b.id === id)?.breaker?.state ?? 'none';
}

async function events(): Promise<string[]> {
  const r = (await admin('GET', '/events')) as { events: CircuitBreakerEvent[] };
  return r.events.map(
    (e) => `${e.eventTime} ${e.eventType.split('.').pop()} ${e.data.backendName} ${Object.values(e.data.circuitBreaker.rules)[0]?.tripDuration}`,
  );
}

async function script(id: string, text: string): Promise<void> {
  await admin('PUT', `/mocks/${id}/script`, text, 'text/plain');
}

describe('the example failover story over HTTP', () => {
  it('priority 1 serves while healthy', async () => {
    const r = await chat();
    expect(r.status).toBe(200);
    expect(r.attempts).toEqual(['foundry1 200']);
    expect(JSON.parse(r.body)).toMatchObject({ object: 'chat.completion', choices: [{ message: { role: 'assistant' } }] });
  });

  it('a 429 with Retry-After trips foundry1; the retry re-selects and priority 2 answers', async () => {
    await script('foundry1', '429 retry-after=30; aoai');
    const r = await chat();
    expect(r.status).toBe(200);
    expect(r.attempts).toEqual(['foundry1 429', 'foundry2 200']);
    expect(await breaker('foundry1')).toBe('open');
    expect(await events()).toEqual(['2025-01-01T00:00:00.000Z Opened foundry1 00:00:30']);
  });

  it('priority 2 splits 50/50 while foundry1 is open', async () => {
    const served: string[] = [];
    for (let i = 0; i < 4; i++) served.push(...(await chat()).attempts);
    expect(served).toEqual(['foundry3 200', 'foundry2 200', 'foundry3 200', 'foundry2 200']);
  });

  it('foundry1 comes back exactly when Retry-After has passed on the virtual clock', async () => {
    await admin('POST', '/clock', { advanceMs: 29_999 });
    expect(await breaker('foundry1')).toBe('open');
    expect((await chat()).attempts).toEqual(['foundry3 200']);
    await admin('POST', '/clock', { advanceMs: 1 });
    expect(await breaker('foundry1')).toBe('closed');
    expect((await chat()).attempts).toEqual(['foundry1 200']);
    expect((await events()).slice(-1)).toEqual(['2025-01-01T00:00:30.000Z Closed foundry1 00:00:30']);
  });

  it('every member open: 503 from on-error without calling a backend; reset closes everything', async () => {
    for (const id of ['foundry1', 'foundry2', 'foundry3', 'foundry4']) await script(id, '429 retry-after=120');
    const first = await chat();
    expect(first.attempts).toEqual(['foundry1 429', 'foundry2 429', 'foundry3 429']);
    expect(first.status).toBe(429);
    const second = await chat();
    expect(second.attempts).toEqual(['foundry4 429', 'openai-backend-pool unavailable', 'openai-backend-pool unavailable']);
    expect(second.status).toBe(503);
    const third = await chat();
    expect(third.status).toBe(503);
    expect(third.attempts.filter((a) => !a.endsWith('unavailable'))).toEqual([]);

    await admin('POST', '/reset');
    for (const id of ['foundry1', 'foundry2', 'foundry3', 'foundry4']) {
      mocks.get(id)!.setScript(AZURE_OPENAI_MOCK);
      expect(await breaker(id)).toBe('closed');
    }
    expect(await events()).toEqual([]);
    expect((await chat()).attempts).toEqual(['foundry1 200']);
  });
});

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/cli/serve.js';
import type { ReloadOutcome } from '../../src/server/reload.js';
import { apiopsOptions, FIXTURES, quiet, startEcho } from './helpers.js';

/**
 * Hot reload on a copy of fixtures/v7: `serve --watch` re-validates an edited tree and swaps it in; an invalid edit keeps
 * the old pipeline; rate-limit counters and breaker state survive. The watcher is driven by real file events, waited
 * for with a bounded timeout (no sleeping).
 */
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function copyTree(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'apiops-reload-'));
  cpSync(path.join(FIXTURES, 'v7'), dir, { recursive: true });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The next reload outcome matching `pred`, or a failure after `ms` (file events arrive well within it). */
function nextReload(emu: RunningEmulator, pred: (r: ReloadOutcome) => boolean, ms = 10_000): Promise<ReloadOutcome> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching reload within ${ms} ms`));
    }, ms);
    const off = emu.onReload((r) => {
      if (!pred(r)) return;
      clearTimeout(timer);
      off();
      resolve(r);
    });
  });
}

function editPolicy(dir: string, from: string, to: string): void {
  const file = path.join(dir, 'apis/echo-api/policy.xml');
  writeFileSync(file, readFileSync(file, 'utf8').replace(from, to));
}

describe('hot reload', () => {
  it('--watch: an edited policy serves the next request; an invalid edit keeps the old one; rate-limit counters survive', async () => {
    const dir = copyTree();
    const echo = await startEcho();
    cleanups.push(() => echo.close());
    const emu = await startEmulator(
      apiopsOptions(dir, { watch: true, subscriptionKeys: ['starter-sub=k1'], backendUrls: [{ id: 'local', url: echo.url }] }),
      quiet,
    );
    cleanups.push(() => emu.close());
    const call = () => fetch(`${emu.url}/echo/hello`, { headers: { 'Ocp-Apim-Subscription-Key': 'k1' } });

    expect((await call()).status).toBe(200);
    expect(echo.received.at(-1)!.headers).toMatchObject({ 'x-api-version': '1', 'x-product': 'starter', 'x-global': 'hi', 'x-operation': 'get-hello' });

    let reloaded = nextReload(emu, (r) => r.applied && r.changes.length > 0);
    editPolicy(dir, '<value>1</value>', '<value>2</value>');
    const applied = await reloaded;
    expect(applied.changes).toEqual(['api echo-api: policy changed']);
    expect(applied.message).toBe('reloaded: api echo-api: policy changed');
    expect((await call()).status).toBe(200);
    expect(echo.received.at(-1)!.headers['x-api-version']).toBe('2');

    reloaded = nextReload(emu, (r) => !r.applied);
    editPolicy(dir, '<base />\n\t\t<set-backend-service', '<base />\n\t\t<set-backend-service backend-id="nowhere" /><set-backend-service');
    const rejected = await reloaded;
    const errors = rejected.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]!.file).toMatch(/apis\/echo-api\/policy\.xml$/);
    expect(rejected.message).toContain('still serving the previous configuration');
    expect((await call()).status).toBe(200);
    expect(echo.received.at(-1)!.headers['x-api-version']).toBe('2');

    // POST /_emulator/reload does the same on demand: 422 with the diagnostics while the edit is invalid.
    const viaEndpoint = await fetch(`${emu.url}/_emulator/reload`, { method: 'POST', headers: { 'X-Emulator-Request': '1' } });
    expect(viaEndpoint.status).toBe(422);
    expect(((await viaEndpoint.json()) as { applied: boolean }).applied).toBe(false);

    reloaded = nextReload(emu, (r) => r.applied && r.changes.length > 0);
    editPolicy(dir, '<set-backend-service backend-id="nowhere" />', '');
    editPolicy(dir, '<value>2</value>', '<value>3</value>');
    await reloaded;
    expect((await call()).status).toBe(200);
    expect(echo.received.at(-1)!.headers['x-api-version']).toBe('3');
    // rate-limit-by-key calls="4" in the service policy: the four calls above were counted across three reloads.
    expect((await call()).status).toBe(429);
  });

  it("POST /_emulator/reload keeps an open circuit breaker open, and --backend-url keeps the backend's breaker", async () => {
    const dir = copyTree();
    const echo = await startEcho();
    cleanups.push(() => echo.close());
    const emu = await startEmulator(
      apiopsOptions(dir, { subscriptionKeys: ['starter-sub=k1'], backendUrls: [{ id: 'local', url: echo.url }], virtualClock: true }),
      quiet,
    );
    cleanups.push(() => emu.close());
    const call = () => fetch(`${emu.url}/echo/hello`, { headers: { 'Ocp-Apim-Subscription-Key': 'k1' } });

    echo.answer.status = 500;
    expect((await call()).status).toBe(500); // trips the breaker (count 1 of 5xx)
    echo.answer.status = 200;
    const reached = echo.received.length;
    expect((await call()).status).toBe(503);

    editPolicy(dir, '<value>1</value>', '<value>2</value>');
    const r = await fetch(`${emu.url}/_emulator/reload`, { method: 'POST', headers: { 'X-Emulator-Request': '1' } });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { changes: string[] }).changes).toEqual(['api echo-api: policy changed']);
    expect((await call()).status).toBe(503);
    expect(echo.received.length).toBe(reached);

    // After the trip duration on the (virtual) clock the backend is called again, with the new policy.
    await fetch(`${emu.url}/_emulator/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ advanceMs: 61_000 }) });
    expect((await call()).status).toBe(200);
    expect(echo.received.at(-1)!.headers['x-api-version']).toBe('2');
  });

  it('a request in flight during a reload finishes on the pipeline it started on; the next one uses the new pipeline', async () => {
    const dir = copyTree();
    const file = path.join(dir, 'apis/echo-api/policy.xml');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(
        '<outbound>\n\t\t<base />',
        '<outbound>\n\t\t<base />\n\t\t<set-header name="x-out" exists-action="override"><value>old</value></set-header>',
      ),
    );
    // A backend that holds the first request until the test releases it.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let arrived: () => void = () => undefined;
    const firstArrived = new Promise<void>((resolve) => (arrived = resolve));
    const { createServer } = await import('node:http');
    let calls = 0;
    const backend = createServer((req, res) => {
      calls++;
      req.resume();
      if (calls === 1) {
        arrived();
        void held.then(() => res.writeHead(200).end('first'));
      } else res.writeHead(200).end('second');
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => backend.close(() => resolve())));
    const url = `http://127.0.0.1:${(backend.address() as { port: number }).port}`;
    const emu = await startEmulator(apiopsOptions(dir, { subscriptionKeys: ['starter-sub=k1'], backendUrls: [{ id: 'local', url }] }), quiet);
    cleanups.push(() => emu.close());
    const call = () => fetch(`${emu.url}/echo/hello`, { headers: { 'Ocp-Apim-Subscription-Key': 'k1' } });

    const first = call();
    await firstArrived;
    writeFileSync(file, readFileSync(file, 'utf8').replace('<value>old</value>', '<value>new</value>'));
    const r = await emu.reload();
    expect(r.applied).toBe(true);
    const second = await call();
    expect(second.headers.get('x-out')).toBe('new');
    release();
    const done = await first;
    expect(await done.text()).toBe('first');
    expect(done.headers.get('x-out')).toBe('old');
  });
});

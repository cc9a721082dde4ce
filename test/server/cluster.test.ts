import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_ARGS } from '../helpers/cli.js';

/**
 * `serve --workers 2` as users run it: the workers share the port (node:cluster hands connections out in turn), one
 * rate limit and the built-in cache (both live in the primary), keep their own circuit breakers (per gateway
 * instance, as in APIM), and a worker that dies is replaced without losing the shared counters.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const policy = (inbound: string, backend = '') => `<policies><inbound>${inbound}</inbound><backend>${backend}</backend><outbound /><on-error /></policies>`;

interface Primary {
  child: ChildProcess;
  url: string;
  stderr: string;
  waitForStderr(re: RegExp): Promise<string>;
}

function startPrimary(config: string): Promise<Primary> {
  const child = spawn(process.execPath, [...CLI_ARGS, 'serve', '--config', config, '--workers', '2', '--port', '0', '--log-level', 'warn'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const waiters: Array<{ re: RegExp; resolve: (line: string) => void }> = [];
  const p: Primary = {
    child,
    url: '',
    stderr: '',
    waitForStderr(re) {
      const m = re.exec(p.stderr);
      if (m) return Promise.resolve(m[0]);
      return new Promise((resolve) => waiters.push({ re, resolve }));
    },
  };
  child.stderr!.on('data', (d: Buffer) => {
    p.stderr += d.toString();
    for (const w of waiters.splice(0)) {
      const m = w.re.exec(p.stderr);
      if (m) w.resolve(m[0]);
      else waiters.push(w);
    }
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+) \(2 workers\)/.exec(out);
      if (m) resolve(Object.assign(p, { url: m[1]! }));
    });
    child.once('exit', (code) => reject(new Error(`emulator exited (${code}): ${p.stderr}`)));
  });
}

/** One request on its own connection, so the primary hands it to the next worker in turn. */
function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** The primary's node children (a TypeScript run also has a compiler service child, which is not a worker). */
function workerPids(primary: ChildProcess): number[] {
  const r = spawnSync('ps', ['-o', 'pid=,comm=', '--ppid', String(primary.pid)], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([pid, comm]) => pid && comm === 'node')
    .map(([pid]) => Number(pid));
}

describe('serve --workers 2', () => {
  let dir: string;
  let backend: http.Server;
  let backendHits = 0;
  let p: Primary | undefined;
  /** The same gateway with state.shareBreakers. */
  let q: Primary | undefined;

  beforeAll(async () => {
    backend = http.createServer((_req, res) => {
      backendHits++;
      res.statusCode = 500;
      res.end('down');
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    dir = mkdtempSync(path.join(os.tmpdir(), 'apim-workers-'));
    const files: Record<string, string> = {
      'limit.xml': policy('<rate-limit-by-key calls="5" renewal-period="60" counter-key="all" /><return-response />'),
      'cache.xml': policy(`<cache-lookup-value key="first" variable-name="v" />
        <choose><when condition="@(!context.Variables.ContainsKey(&quot;v&quot;))">
          <cache-store-value key="first" value="@(context.RequestId.ToString())" duration="60" />
          <return-response><set-body>@("stored " + context.RequestId)</set-body></return-response>
        </when></choose>
        <return-response><set-body>@("hit " + (string)context.Variables["v"])</set-body></return-response>`),
      'flaky.xml': policy('<set-backend-service backend-id="b1" />', '<forward-request />'),
      'backends.json': JSON.stringify({
        backends: [
          {
            name: 'b1',
            properties: {
              url: `http://127.0.0.1:${(backend.address() as AddressInfo).port}`,
              protocol: 'http',
              circuitBreaker: {
                rules: [
                  { name: 'trip-on-500', failureCondition: { count: 1, interval: 'PT1M', statusCodeRanges: [{ min: 500, max: 599 }] }, tripDuration: 'PT1M' },
                ],
              },
            },
          },
        ],
      }),
    };
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
    const api = (id: string) => ({ id, path: id, subscriptionRequired: false, policy: `${id}.xml` });
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ backends: ['backends.json'], apis: [api('limit'), api('cache'), api('flaky')] }));
    writeFileSync(path.join(dir, 'shared.json'), JSON.stringify({ backends: ['backends.json'], apis: [api('flaky')], state: { shareBreakers: true } }));
    [p, q] = await Promise.all([startPrimary(path.join(dir, 'config.json')), startPrimary(path.join(dir, 'shared.json'))]);
  }, 90_000);

  afterAll(async () => {
    await Promise.all(
      [p, q].map((x) =>
        x && x.child.exitCode === null
          ? new Promise<void>((resolve) => {
              x.child.once('exit', () => resolve());
              x.child.kill('SIGTERM');
            })
          : undefined,
      ),
    );
    backend?.closeAllConnections();
    await new Promise((r) => backend?.close(r));
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('share one rate limit and the built-in cache; breakers stay per worker; a dead worker is replaced', async () => {
    const P = p!;
    expect(workerPids(P.child)).toHaveLength(2);

    // 5 calls per minute for the gateway, not per worker: 4 go to each worker, exactly 5 pass.
    const limit: number[] = [];
    for (let i = 0; i < 8; i++) limit.push((await get(`${P.url}/limit/x`)).status);
    expect(limit).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);

    // The value one worker stored is the other's hit.
    const cache: string[] = [];
    for (let i = 0; i < 3; i++) cache.push((await get(`${P.url}/cache/x`)).body);
    const id = /^stored (.+)$/.exec(cache[0]!)?.[1];
    expect(id).toBeDefined();
    expect(cache.slice(1)).toEqual([`hit ${id}`, `hit ${id}`]);

    // A rule that trips on the first 500 lets one request per worker through: the backend sees 2 of 4.
    const flaky: number[] = [];
    for (let i = 0; i < 4; i++) flaky.push((await get(`${P.url}/flaky/x`)).status);
    expect(flaky).toEqual([500, 500, 503, 503]);
    expect(backendHits).toBe(2);

    // A worker killed from outside is replaced; the counters live in the primary, so the limit still holds.
    const [victim] = workerPids(P.child);
    process.kill(victim!, 'SIGKILL');
    expect(await P.waitForStderr(/worker \d \(pid \d+\) exited unexpectedly \(SIGKILL\); starting a replacement/)).toContain(`pid ${victim}`);
    await P.waitForStderr(/worker \d replaced \(pid \d+\); 2 workers listening/);
    const pids = workerPids(P.child);
    expect(pids).toHaveLength(2);
    expect(pids).not.toContain(victim);
    const after: number[] = [];
    for (let i = 0; i < 4; i++) after.push((await get(`${P.url}/limit/x`)).status);
    expect(after).toEqual([429, 429, 429, 429]);
  }, 90_000);

  it('with state.shareBreakers the workers share one breaker: the backend sees one failure', async () => {
    const Q = q!;
    const before = backendHits;
    expect((await get(`${Q.url}/flaky/x`)).status).toBe(500);
    // The trip reaches the other worker over IPC: two admin answers in a row (one per worker) both say open.
    const breakerState = async () =>
      (JSON.parse((await get(`${Q.url}/_emulator/backends`)).body) as { backends: Array<{ id: string; breaker?: { state: string } }> }).backends.find(
        (b) => b.id === 'b1',
      )?.breaker?.state;
    for (let i = 0; i < 100 && ![await breakerState(), await breakerState()].every((s) => s === 'open'); i++) await new Promise((r) => setTimeout(r, 20));
    const rest: number[] = [];
    for (let i = 0; i < 3; i++) rest.push((await get(`${Q.url}/flaky/x`)).status);
    expect(rest).toEqual([503, 503, 503]);
    expect(backendHits - before).toBe(1);
  });
});

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_ARGS } from '../helpers/cli.js';
import { RedisServer, redisAvailable } from './redis-server.js';

/**
 * Two emulator processes (the CLI, as users run it) against one redis-server enforce one rate-limit-by-key, one
 * quota-by-key and one llm-token-limit together, with exact counts on their virtual clocks, and keep doing so after
 * Redis restarts. A finds Redis in its config file (`state.redis`); B's config file names an unreachable Redis and
 * `--state` gives the right one: the flag wins.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const POLICY = `<policies>
  <inbound>
    <rate-limit-by-key calls="5" renewal-period="60" counter-key="shared" />
    <return-response><set-status code="200" /></return-response>
  </inbound>
  <backend /><outbound /><on-error /></policies>`;
const QUOTA = `<policies>
  <inbound><quota-by-key calls="3" renewal-period="3600" counter-key="shared" /><return-response /></inbound>
  <backend /><outbound /><on-error /></policies>`;
// Each answer reports 100 tokens: 250 per minute lets a third call start (200 used) and refuses the fourth.
const TOKENS = `<policies>
  <inbound><llm-token-limit counter-key="shared" tokens-per-minute="250" estimate-prompt-tokens="false" remaining-tokens-header-name="x-remaining" /><base /></inbound>
  <backend><forward-request /></backend><outbound /><on-error /></policies>`;

function config(redisUrl: string, backendUrl: string): string {
  const api = (id: string, policy: string, serviceUrl = '') => ({ id, path: id, serviceUrl, subscriptionRequired: false, policy });
  return JSON.stringify({
    apis: [api('api', 'policy.xml'), api('quota', 'quota.xml'), api('tokens', 'tokens.xml', backendUrl)],
    state: { redis: redisUrl },
    server: { virtualClock: true, logLevel: 'info' },
  });
}

const available = redisAvailable();
if (!available) console.warn('[shared-limit] skipped: redis-server is not installed');

interface Emulator {
  child: ChildProcess;
  url: string;
  stderr: string[];
}

function startEmulator(configFile: string, flags: string[]): Promise<Emulator> {
  const child = spawn(process.execPath, [...CLI_ARGS, 'serve', '--config', configFile, '--port', '0', ...flags], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]!, stderr });
    });
    child.once('exit', (code) => reject(new Error(`emulator exited (${code}): ${stderr.join('')}`)));
  });
}

async function stop(e: Emulator | undefined): Promise<void> {
  if (!e || e.child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    e.child.once('exit', () => resolve());
    e.child.kill('SIGTERM');
  });
}

async function status(e: Emulator, api = 'api'): Promise<number> {
  return (await fetch(`${e.url}/${api}/x`)).status;
}

async function setClock(e: Emulator, iso: string): Promise<void> {
  const r = await fetch(`${e.url}/_emulator/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ set: iso }) });
  expect(r.status).toBe(200);
}

(available ? describe : describe.skip)('two emulators, one Redis', () => {
  let redis: RedisServer;
  let dir: string;
  let a: Emulator | undefined;
  let b: Emulator | undefined;
  let backend: http.Server | undefined;

  beforeAll(async () => {
    redis = await RedisServer.start();
    backend = http.createServer((_req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ choices: [], usage: { prompt_tokens: 60, completion_tokens: 40, total_tokens: 100 } }));
    });
    await new Promise<void>((r) => backend!.listen(0, '127.0.0.1', r));
    const backendUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
    dir = mkdtempSync(path.join(os.tmpdir(), 'apim-shared-'));
    writeFileSync(path.join(dir, 'policy.xml'), POLICY);
    writeFileSync(path.join(dir, 'quota.xml'), QUOTA);
    writeFileSync(path.join(dir, 'tokens.xml'), TOKENS);
    writeFileSync(path.join(dir, 'a.json'), config(redis.url, backendUrl));
    writeFileSync(path.join(dir, 'b.json'), config('redis://127.0.0.1:1', backendUrl));
    [a, b] = await Promise.all([startEmulator(path.join(dir, 'a.json'), []), startEmulator(path.join(dir, 'b.json'), ['--state', redis.url])]);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([stop(a), stop(b)]);
    await new Promise((r) => backend?.close(r));
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('share one rate limit with exact counts, across a window and a Redis restart', async () => {
    const A = a!;
    const B = b!;
    // Both clocks at the same instant: the window is the same for both processes.
    await Promise.all([setClock(A, '2030-01-01T00:00:00Z'), setClock(B, '2030-01-01T00:00:00Z')]);
    const first: number[] = [];
    for (let i = 0; i < 4; i++) first.push(await status(A), await status(B));
    expect(first).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);

    // One quota: 3 calls between the two, then 403 on both.
    const quota: number[] = [];
    for (let i = 0; i < 3; i++) quota.push(await status(A, 'quota'), await status(B, 'quota'));
    expect(quota).toEqual([200, 200, 200, 403, 403, 403]);

    // One token limit: the usage one process counted is what the other sees (remaining after the prompt, 0 estimated).
    const tokens: Array<[number, string | null]> = [];
    for (const e of [A, B, A, B]) {
      const r = await fetch(`${e.url}/tokens/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"messages":[{"role":"user","content":"hi"}]}',
      });
      tokens.push([r.status, r.headers.get('x-remaining')]);
    }
    expect(tokens).toEqual([
      [200, '250'],
      [200, '150'],
      [200, '50'],
      [429, null],
    ]);

    // 60 s later on both clocks the window is empty again.
    await Promise.all([setClock(A, '2030-01-01T00:01:00Z'), setClock(B, '2030-01-01T00:01:00Z')]);
    const second: number[] = [];
    for (let i = 0; i < 3; i++) second.push(await status(B), await status(A));
    expect(second).toEqual([200, 200, 200, 200, 200, 429]);

    // Redis goes away: both fail open (requests pass), each says so once.
    await redis.stop();
    expect([await status(A), await status(B), await status(A)]).toEqual([200, 200, 200]);

    // Redis is back (empty): the shared limit holds again without restarting either emulator. Each client reconnects
    // on its own back-off (up to 1 s of wall time, ioredis) and says so on its first command that succeeds: probe both
    // through the quota route (not asserted any more) until both have said it, so every counted call below is shared.
    await redis.start();
    const back = (e: Emulator) => /Redis reachable again/.test(e.stderr.join(''));
    for (let i = 0; i < 200 && !(back(A) && back(B)); i++) {
      await Promise.all([status(A, 'quota'), status(B, 'quota')]);
      if (!(back(A) && back(B))) await new Promise((r) => setTimeout(r, 50));
    }
    expect([back(A), back(B)], A.stderr.join('') + B.stderr.join('')).toEqual([true, true]);
    await Promise.all([setClock(A, '2030-01-01T00:02:00Z'), setClock(B, '2030-01-01T00:02:00Z')]);
    const third: number[] = [];
    for (let i = 0; i < 6; i++) third.push(await status(i % 2 ? A : B));
    expect(third).toEqual([200, 200, 200, 200, 200, 429]);
    const logs = A.stderr.join('') + B.stderr.join('');
    expect(logs.match(/Redis unreachable/g)?.length, logs).toBe(2);
  }, 60_000);
});

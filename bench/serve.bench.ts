/**
 * The gateway measured the way users run it: every server in its own process (loopback only; stops by itself).
 * Run: `npx tsx bench/serve.bench.ts [--duration=8] [--warmup=2] [--connections=32] [--rounds=2] [--only='prefix|prefix|exact name$'] [--cpu-prof=DIR]`
 *
 * Processes:
 *   1. this one: the mock backend (node:http, a fixed chat-completion JSON with `Content-Length`) and the load generator
 *      (autocannon for throughput, an undici Pool with one keep-alive connection for latency);
 *   2. the bare proxy: node:http + undici.request, this file forked with `--bare-proxy`;
 *   3. the emulator: the CLI as shipped (`node dist/cli/main.js` when built, else `node bin/apim-emulator.js`, i.e. tsx),
 *      `serve --config <generated config>`.
 * Processes 2 and 3 preload bench/probe.mjs, which reports their CPU time, V8 bytes allocated and RSS per run.
 * Targets alternate round by round; medians are reported. Output: a markdown table on stdout.
 */
import { fork, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Agent, Pool, request } from 'undici';

const args = new Map(process.argv.slice(2).map((a) => [a.replace(/^--/, '').split('=')[0]!, a.split('=').slice(1).join('=') || 'true']));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PROBE = path.join(ROOT, 'bench', 'probe.mjs');

// ------------------------------------------------------------------------------------------- bare proxy (process 2)

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);

/** The baseline: a thin node:http + undici reverse proxy (pooled Agent, streaming both ways, abort on disconnect). */
function runBareProxy(upstream: string): void {
  const agent = new Agent({ connections: 128, keepAliveTimeout: 30_000 });
  const server = http.createServer((req, res) => {
    void (async () => {
      const ac = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) ac.abort();
      });
      try {
        const headers: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
        const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
        const up = await request(upstream + (req.url ?? '/'), { method: req.method as 'GET', headers, body: hasBody ? req : null, dispatcher: agent, signal: ac.signal });
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
        res.writeHead(up.statusCode, out);
        pipeline(up.body, res, () => undefined);
      } catch {
        if (!res.headersSent) res.writeHead(502).end();
        else res.destroy();
      }
    })();
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

// ------------------------------------------------------------------------------------------- configuration files

const ONE_POLICY = `<policies>
  <inbound>
    <base />
    <set-backend-service backend-id="aoai-1" />
    <set-header name="x-request-path" exists-action="override"><value>@(context.Request.Url.Path)</value></set-header>
  </inbound>
  <backend><forward-request /></backend>
  <outbound><base /></outbound>
  <on-error><base /></on-error>
</policies>`;

/** The bundled example's shape (pool, retry, key header) plus the LLM policies: token limit and token metrics. */
const LLM_POLICY = `<policies>
  <inbound>
    <base />
    <set-header name="api-key" exists-action="override"><value>{{openai-api-key}}</value></set-header>
    <llm-token-limit counter-key="@(context.Subscription?.Id ?? &quot;anonymous&quot;)" tokens-per-minute="100000000" estimate-prompt-tokens="true" remaining-tokens-header-name="x-remaining-tokens" />
    <llm-emit-token-metric namespace="bench">
      <dimension name="API ID" />
      <dimension name="Client IP" value="@(context.Request.IpAddress)" />
    </llm-emit-token-metric>
    <set-backend-service backend-id="pool" />
  </inbound>
  <backend>
    <retry count="2" interval="0" first-fast-retry="true" condition="@(context.Response.StatusCode == 429 || context.Response.StatusCode == 503)">
      <set-backend-service backend-id="pool" />
      <forward-request buffer-request-body="true" />
    </retry>
  </backend>
  <outbound><base /></outbound>
  <on-error><base /></on-error>
</policies>`;

function writeConfig(dir: string, upstream: string): { simple: string; llm: string } {
  const breaker = { rules: [{ name: 'r', failureCondition: { count: 1, interval: 'PT1M', statusCodeRanges: [{ min: 429, max: 429 }] }, tripDuration: 'PT1M', acceptRetryAfter: true }] };
  const backends = {
    backends: [
      { name: 'aoai-1', properties: { url: `${upstream}/openai`, protocol: 'http', circuitBreaker: breaker } },
      { name: 'aoai-2', properties: { url: `${upstream}/openai`, protocol: 'http', circuitBreaker: breaker } },
      { name: 'pool', properties: { type: 'Pool', pool: { services: [{ id: '/backends/aoai-1', priority: 1 }, { id: '/backends/aoai-2', priority: 2 }] } } },
    ],
  };
  writeFileSync(path.join(dir, 'backends.json'), JSON.stringify(backends));
  writeFileSync(path.join(dir, 'one-policy.xml'), ONE_POLICY);
  writeFileSync(path.join(dir, 'llm.xml'), LLM_POLICY);
  const config = (policy: string) => ({
    service: { name: 'apim-bench', region: 'local' },
    namedValues: { 'openai-api-key': { value: 'bench-key', secret: true } },
    backends: ['backends.json'],
    apis: [{ id: 'openai', name: 'Azure OpenAI', path: 'openai', serviceUrl: `${upstream}/openai`, subscriptionRequired: false, policy }],
  });
  writeFileSync(path.join(dir, 'simple.json'), JSON.stringify(config('one-policy.xml')));
  writeFileSync(path.join(dir, 'llm.json'), JSON.stringify(config('llm.xml')));
  return { simple: path.join(dir, 'simple.json'), llm: path.join(dir, 'llm.json') };
}

// ------------------------------------------------------------------------------------------- mock backend (process 1)

const COMPLETION = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'gpt-4o',
    choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'x'.repeat(800) } }],
    usage: { prompt_tokens: 10, completion_tokens: 200, total_tokens: 210 },
  }),
);
const REQUEST_BODY = JSON.stringify({ messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 200 });
const REQUEST_PATH = '/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21';

function mockBackend(): http.Server {
  return http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': COMPLETION.length });
      res.end(COMPLETION);
    });
  });
}

// ------------------------------------------------------------------------------------------- targets

interface Started {
  child: ChildProcess;
  url: string;
}

function cliCommand(): string[] {
  const dist = path.join(ROOT, 'dist', 'cli', 'main.js');
  return existsSync(dist) ? [dist] : [path.join(ROOT, 'bin', 'apim-emulator.js')];
}

/** Starts a process that prints `listening on URL` on stdout; its stderr (request logs) goes to /dev/null. */
function startProcess(argv: string[], timeoutMs = 60_000): Promise<Started> {
  // --cpu-prof=DIR: a V8 CPU profile of each server process, written to DIR when it exits (bench/profile-summary.ts reads it).
  const prof = args.get('cpu-prof');
  const profiling = prof ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(prof)}`] : [];
  const child = spawn(process.execPath, [...profiling, '--import', PROBE, ...argv], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore', 'ipc'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no "listening on" from ${argv.join(' ')} within ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve({ child, url: m[1]! });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${argv.join(' ')} exited (${code}) before listening: ${out}`));
    });
  });
}

async function stopProcess(s: Started): Promise<void> {
  if (s.child.exitCode !== null) return;
  const exited = new Promise<void>((r) => s.child.once('exit', () => r()));
  s.child.kill('SIGTERM');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

interface ProbeReport {
  cpuUs: number;
  allocated: number;
  gcs: number;
  rss: number;
}

function probe(s: Started, m: 'start' | 'stop'): Promise<ProbeReport | null> {
  if (m === 'start') {
    s.child.send('start');
    return Promise.resolve(null);
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), 5000);
    s.child.once('message', (r) => {
      clearTimeout(timer);
      resolve(r as ProbeReport);
    });
    s.child.send('stop');
  });
}

interface Target {
  name: string;
  /** Processes that serve the target (workers report through their primary only). */
  start(configs: { simple: string; llm: string }, upstream: string, port: number): Promise<Started>;
  /** false when the CPU/allocation probe sees only part of the work (cluster workers). */
  probed: boolean;
}

const TARGETS: Target[] = [
  { name: 'bare proxy (node:http + undici)', probed: true, start: (_c, upstream) => startProcess(['--import', 'tsx', fileURLToPath(import.meta.url), `--bare-proxy=${upstream}`]) },
  { name: 'emulator, default flags', probed: true, start: (c, _u, port) => startProcess([...cliCommand(), 'serve', '--config', c.simple, '--port', String(port)]) },
  { name: 'emulator, request logs off (--log-level warn)', probed: true, start: (c, _u, port) => startProcess([...cliCommand(), 'serve', '--config', c.simple, '--port', String(port), '--log-level', 'warn']) },
  { name: 'emulator, full LLM policy', probed: true, start: (c, _u, port) => startProcess([...cliCommand(), 'serve', '--config', c.llm, '--port', String(port)]) },
  { name: 'emulator, default flags, --workers 2', probed: false, start: (c, _u, port) => startProcess([...cliCommand(), 'serve', '--config', c.simple, '--port', String(port), '--workers', '2']) },
];

// ------------------------------------------------------------------------------------------- load (process 1)

interface Throughput {
  rps: number;
  p50: number;
  p99: number;
  total: number;
  bad: number;
}

async function throughput(url: string, connections: number, duration: number): Promise<Throughput> {
  const { default: autocannon } = await import('autocannon');
  const r = await autocannon({ url, connections, duration, method: 'POST', body: REQUEST_BODY, headers: { 'content-type': 'application/json' } });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, total: r['2xx'], bad: r.errors + r.timeouts + r.non2xx };
}

/** Sequential POSTs over one keep-alive connection, timed with performance.now() (autocannon rounds to 1 ms). */
async function latency(url: string, n: number, warmup: number): Promise<{ p50: number; p99: number }> {
  const u = new URL(url);
  const pool = new Pool(u.origin, { connections: 1 });
  const times: number[] = [];
  try {
    for (let i = 0; i < warmup + n; i++) {
      const t0 = performance.now();
      const r = await pool.request({ path: u.pathname + u.search, method: 'POST', body: REQUEST_BODY, headers: { 'content-type': 'application/json' } });
      await r.body.arrayBuffer();
      const dt = performance.now() - t0;
      if (r.statusCode !== 200) throw new Error(`latency run: ${url} answered ${r.statusCode}`);
      if (i >= warmup) times.push(dt);
    }
  } finally {
    await pool.close();
  }
  times.sort((a, b) => a - b);
  const pct = (p: number) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))]!;
  return { p50: pct(50), p99: pct(99) };
}

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * `--only`: target name prefixes separated by `|`; a prefix ending in `$` must match the whole name
 * (`--only='bare|emulator, default flags$'` runs the bare proxy and the default emulator, not `--workers 2`).
 */
function selected(name: string, only: string): boolean {
  return only.split('|').some((p) => (p.endsWith('$') ? name === p.slice(0, -1) : name.startsWith(p)));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface Run {
  t: Throughput;
  l: { p50: number; p99: number };
  probe: ProbeReport | null;
}

async function main(): Promise<void> {
  const duration = Number(args.get('duration') ?? 8);
  const warmup = Number(args.get('warmup') ?? 2);
  const connections = Number(args.get('connections') ?? 32);
  const rounds = Number(args.get('rounds') ?? 2);
  const latencyN = Number(args.get('latency-requests') ?? 3000);
  const only = args.get('only');
  const targets = only ? TARGETS.filter((t) => selected(t.name, only)) : TARGETS;
  const loadBefore = os.loadavg();

  const backend = mockBackend();
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  const upstream = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'apim-bench-'));
  const configs = writeConfig(dir, upstream);
  const runs = new Map<string, Run[]>();
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const target of targets) {
        const s = await target.start(configs, upstream, await freePort());
        try {
          const url = s.url + REQUEST_PATH;
          // One request first: lazy one-time work (the tokenizer of the LLM policy loads its ranks on first use,
          // seconds on a busy machine) must not fall into the timed run.
          await latency(url, 1, 0);
          await throughput(url, connections, warmup);
          await probe(s, 'start');
          const t = await throughput(url, connections, duration);
          const p = await probe(s, 'stop');
          if (t.bad > 0) throw new Error(`${target.name}: ${t.bad} errors or non-2xx responses`);
          const l = await latency(url, latencyN, 300);
          runs.set(target.name, [...(runs.get(target.name) ?? []), { t, l, probe: target.probed ? p : null }]);
          const perReq = p && target.probed ? `, ${(p.cpuUs / t.total).toFixed(0)} µs CPU/req, ${(p.allocated / t.total / 1024).toFixed(1)} KB allocated/req` : '';
          console.error(`round ${round} ${target.name}: ${t.rps.toFixed(0)} req/s${perReq}, 1-conn p50 ${l.p50.toFixed(3)} ms`);
        } finally {
          await stopProcess(s);
        }
      }
    }
  } finally {
    backend.closeAllConnections();
    backend.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const rows = [...runs].map(([name, rs]) => {
    const probed = rs.filter((r) => r.probe);
    return {
      name,
      rps: median(rs.map((r) => r.t.rps)),
      acP50: median(rs.map((r) => r.t.p50)),
      acP99: median(rs.map((r) => r.t.p99)),
      p50: median(rs.map((r) => r.l.p50)),
      p99: median(rs.map((r) => r.l.p99)),
      cpu: median(probed.map((r) => r.probe!.cpuUs / r.t.total)),
      alloc: median(probed.map((r) => r.probe!.allocated / r.t.total / 1024)),
      rss: median(probed.map((r) => r.probe!.rss / 1048576)),
    };
  });
  const b = rows[0]!;
  const num = (x: number, d: number) => (Number.isNaN(x) ? 'n/a' : x.toFixed(d));
  console.log(
    [
      `date: ${new Date().toISOString()}  node ${process.version}  ${os.cpus().length} cores  load average at start: ${loadBefore.map((x) => x.toFixed(2)).join(' ')}`,
      `POST ${REQUEST_PATH}; throughput: ${connections} connections x ${duration} s after ${warmup} s warm-up; latency: ${latencyN} sequential requests on 1 keep-alive connection; medians of ${rounds} alternating round(s); CLI: ${path.relative(ROOT, cliCommand()[0]!)}`,
      '',
      '| target | req/s | vs first | autocannon p50 / p99 ms | 1-conn p50 ms | 1-conn p99 ms | added p50 ms | server CPU µs/req | KB allocated/req | RSS MB |',
      '|---|---|---|---|---|---|---|---|---|---|',
      ...rows.map(
        (r) =>
          `| ${r.name} | ${r.rps.toFixed(0)} | ${((100 * r.rps) / b.rps).toFixed(1)}% | ${r.acP50} / ${r.acP99} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${r === b ? '–' : `${(r.p50 - b.p50) >= 0 ? '+' : ''}${(r.p50 - b.p50).toFixed(3)}`} | ${num(r.cpu, 0)} | ${num(r.alloc, 1)} | ${num(r.rss, 0)} |`,
      ),
    ].join('\n'),
  );
}

// Last, so every module-level constant above is initialised first.
if (args.has('bare-proxy')) runBareProxy(args.get('bare-proxy')!);
else await main();

/**
 * Gateway overhead benchmark (loopback only; stops by itself). Run: `npx tsx bench/gateway.bench.ts [--duration=10] [--connections=50] [--rounds=1] [--with-express]`
 *
 * Layout: this process hosts a plain node:http mock backend (a fixed 1 KB JSON) and, one at a time, the proxy under test;
 * a forked child process generates load (autocannon, programmatic) and measures per-request latency with a
 * high-resolution clock over one keep-alive connection. Targets:
 *   baseline   node:http + undici.request reverse proxy (the plain-proxy reference point of docs/performance.md)
 *   emulator   startServer() with the bundled example's policy shape: set-backend-service to a pool + retry + forward-request
 *   emulator+log  the same with pino request logs written to /dev/null
 */
import { UndiciUpstream } from '../src/server/undici-upstream.js';
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Agent, Pool, request } from 'undici';
import { SystemClock } from '../src/clock.js';
import { formatDiagnosticLine } from '../src/diagnostics/diagnostic.js';
import { SourceText } from '../src/diagnostics/source.js';
import type { GatewayDefinition } from '../src/gateway/definition.js';
import { Gateway } from '../src/gateway/gateway.js';
import { startServer } from '../src/server/index.js';

interface ThroughputResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  total: number;
}
interface LatencyResult {
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  n: number;
}
type LoadRequest = { kind: 'throughput'; url: string; connections: number; duration: number } | { kind: 'latency'; url: string; n: number; warmup: number };

const args = new Map(process.argv.slice(2).map((a) => [a.replace(/^--/, '').split('=')[0]!, a.split('=')[1] ?? 'true']));

// ---------------------------------------------------------------------------------------------- load generator (child)

function runLoadChild(): void {
  process.on('message', (m: LoadRequest) => {
    void (async () => {
      if (m.kind === 'throughput') {
        const { default: autocannon } = await import('autocannon');
        const r = await autocannon({ url: m.url, connections: m.connections, duration: m.duration });
        const out: ThroughputResult = { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx, total: r['2xx'] };
        process.send!(out);
      } else {
        process.send!(await sequentialLatency(m.url, m.n, m.warmup));
      }
    })();
  });
}

/** Sequential requests over one keep-alive connection; latency per request in milliseconds (hrtime resolution). */
async function sequentialLatency(url: string, n: number, warmup: number): Promise<LatencyResult> {
  const u = new URL(url);
  const pool = new Pool(u.origin, { connections: 1 });
  const times: number[] = [];
  for (let i = 0; i < warmup + n; i++) {
    const t0 = performance.now();
    const r = await pool.request({ path: u.pathname + u.search, method: 'GET' });
    await r.body.arrayBuffer();
    const dt = performance.now() - t0;
    if (r.statusCode !== 200) throw new Error(`latency run: ${url} answered ${r.statusCode}`);
    if (i >= warmup) times.push(dt);
  }
  await pool.close();
  times.sort((a, b) => a - b);
  const pct = (p: number) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))]!;
  return { p50: pct(50), p90: pct(90), p99: pct(99), mean: times.reduce((a, b) => a + b, 0) / times.length, n };
}

// ---------------------------------------------------------------------------------------------- servers (main)

const PAYLOAD = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    model: 'gpt-4o',
    choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'x'.repeat(800) } }],
    usage: { prompt_tokens: 10, completion_tokens: 200, total_tokens: 210 },
  }),
);

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

function mockBackend(): http.Server {
  return http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': PAYLOAD.length });
    res.end(PAYLOAD);
  });
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);

/** The baseline: a thin node:http + undici reverse proxy (pooled Agent, streaming both ways, abort on disconnect). */
function baselineProxy(upstream: string): { server: http.Server; agent: Agent } {
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
      } catch (e) {
        if (process.env.BENCH_DEBUG) console.error(e);
        if (!res.headersSent) res.writeHead(502).end();
        else res.destroy();
      }
    })();
  });
  return { server, agent };
}

/** The bundled example's policy shape: pool + retry + forward-request, built in code (no config files needed). */
function exampleDefinition(upstream: string): GatewayDefinition {
  const breaker = { rules: [{ name: 'r', failureCondition: { count: 1, interval: 'PT1M', statusCodeRanges: [{ min: 429, max: 429 }] }, tripDuration: 'PT1M', acceptRetryAfter: true }] };
  const backends = {
    backends: [
      { name: 'aoai-1', properties: { url: `${upstream}/openai`, protocol: 'http', circuitBreaker: breaker } },
      { name: 'aoai-2', properties: { url: `${upstream}/openai`, protocol: 'http', circuitBreaker: breaker } },
      { name: 'pool', properties: { type: 'Pool', pool: { services: [{ id: '/backends/aoai-1', priority: 1 }, { id: '/backends/aoai-2', priority: 2 }] } } },
    ],
  };
  const policy = `<policies>
  <inbound>
    <base />
    <set-header name="api-key" exists-action="override"><value>{{openai-api-key}}</value></set-header>
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
  return {
    service: { name: 'apim-bench', region: 'local', gatewayId: 'managed' },
    fragments: [],
    namedValues: [{ name: 'openai-api-key', value: 'bench-key', secret: true }],
    backendFiles: [{ file: 'bench-backends.json', text: JSON.stringify(backends) }],
    products: [],
    apis: [{ id: 'openai', name: 'Azure OpenAI', path: 'openai', serviceUrl: '', subscriptionRequired: false, policy: new SourceText('bench-api.xml', policy), operations: [] }],
    subscriptions: [],
  };
}

function ask<T>(child: ChildProcess, m: LoadRequest): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`load generator exited (${code})`));
    child.once('message', (r) => {
      child.off('exit', onExit);
      resolve(r as T);
    });
    child.once('exit', onExit);
    child.send(m);
  });
}

interface Target {
  name: string;
  start(upstream: string): Promise<{ url: string; stop(): Promise<void> }>;
}

const TARGETS: Target[] = [
  {
    name: 'baseline (node:http + undici)',
    async start(upstream) {
      const base = baselineProxy(upstream);
      const url = await listen(base.server);
      return {
        url,
        stop: async () => {
          await closeServer(base.server);
          await base.agent.close();
        },
      };
    },
  },
  ...[
    { withLogs: false, viaExpress: false },
    { withLogs: true, viaExpress: false },
    // Only with --with-express: what routing gateway traffic through the Express router would cost.
    ...(args.has('with-express') ? [{ withLogs: false, viaExpress: true }] : []),
  ].map(
    ({ withLogs, viaExpress }): Target => ({
      name: viaExpress ? 'emulator, through the Express router' : withLogs ? 'emulator, request logs on' : 'emulator',
      async start(upstream) {
        const clock = new SystemClock();
        const built = Gateway.build(exampleDefinition(upstream), { clock, upstream: new UndiciUpstream(clock, { wallClock: true }) });
        if (!built.gateway) throw new Error(built.diagnostics.map(formatDiagnosticLine).join('\n'));
        const logger = withLogs ? pino({ level: 'info' }, pino.destination({ fd: openSync('/dev/null', 'w'), sync: false })) : false;
        const s = await startServer({ gateway: built.gateway, clock, logger, traceLimit: 100, routeGatewayThroughExpress: viaExpress });
        return { url: s.url, stop: () => s.close() };
      },
    }),
  ),
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  const duration = Number(args.get('duration') ?? 10);
  const connections = Number(args.get('connections') ?? 50);
  const warmup = Number(args.get('warmup') ?? 3);
  const rounds = Number(args.get('rounds') ?? 1);
  const latencyN = Number(args.get('latency-requests') ?? 5000);
  // --only=emulator runs one target (for profiling with node --cpu-prof).
  const only = args.get('only');
  const targets = only ? TARGETS.filter((t) => t.name.startsWith(only)) : TARGETS;
  const path = '/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21';
  const loadBefore = os.loadavg();

  const backend = mockBackend();
  const upstream = await listen(backend);
  const child = fork(fileURLToPath(import.meta.url), ['--load-child'], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const runs = new Map<string, Array<{ t: ThroughputResult; l: LatencyResult; cpuUsPerRequest: number }>>();

  try {
    // Targets interleaved round by round, so a noisy neighbour hits all of them alike; medians are reported.
    for (let round = 1; round <= rounds; round++) {
      for (const target of targets) {
        const running = await target.start(upstream);
        try {
          const url = running.url + path;
          await ask<ThroughputResult>(child, { kind: 'throughput', url, connections, duration: warmup });
          const cpu0 = process.cpuUsage();
          const t = await ask<ThroughputResult>(child, { kind: 'throughput', url, connections, duration });
          const cpu = process.cpuUsage(cpu0);
          if (t.errors > 0 || t.non2xx > 0) throw new Error(`${target.name}: ${t.errors} errors, ${t.non2xx} non-2xx responses`);
          // CPU of this process (proxy under test + mock backend) per request: steadier than req/s on a shared machine.
          const cpuUsPerRequest = (cpu.user + cpu.system) / Math.max(1, t.total);
          const l = await ask<LatencyResult>(child, { kind: 'latency', url, n: latencyN, warmup: 500 });
          runs.set(target.name, [...(runs.get(target.name) ?? []), { t, l, cpuUsPerRequest }]);
          console.error(`round ${round} ${target.name}: ${t.rps.toFixed(0)} req/s, ${cpuUsPerRequest.toFixed(0)} µs CPU/request, 1-conn p50 ${l.p50.toFixed(3)} ms, p99 ${l.p99.toFixed(3)} ms`);
        } finally {
          await running.stop();
        }
      }
    }
  } finally {
    child.kill();
    await closeServer(backend);
  }

  const summary = [...runs].map(([name, rs]) => ({
    name,
    rps: median(rs.map((r) => r.t.rps)),
    cpu: median(rs.map((r) => r.cpuUsPerRequest)),
    acP50: median(rs.map((r) => r.t.p50)),
    acP99: median(rs.map((r) => r.t.p99)),
    p50: median(rs.map((r) => r.l.p50)),
    p99: median(rs.map((r) => r.l.p99)),
  }));
  const b = summary[0]!;
  const lines = [
    `date: ${new Date().toISOString()}  node ${process.version}  ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'})  load average at start: ${loadBefore.map((x) => x.toFixed(2)).join(' ')}`,
    `throughput: ${connections} connections x ${duration} s after ${warmup} s warm-up; latency: ${latencyN} sequential requests on 1 connection; medians of ${rounds} interleaved round(s)`,
    '',
    '| target | req/s | vs first | server CPU µs/req | autocannon p50 / p99 ms | 1-conn p50 ms | 1-conn p99 ms | added p50 ms | added p99 ms |',
    '|---|---|---|---|---|---|---|---|---|',
    ...summary.map(
      (r) =>
        `| ${r.name} | ${r.rps.toFixed(0)} | ${((100 * r.rps) / b.rps).toFixed(1)}% | ${r.cpu.toFixed(0)} | ${r.acP50} / ${r.acP99} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${(r.p50 - b.p50).toFixed(3)} | ${(r.p99 - b.p99).toFixed(3)} |`,
    ),
  ];
  console.log(lines.join('\n'));
}

// Last, so every module-level constant above is initialised before either side starts.
if (args.has('load-child')) runLoadChild();
else await main();

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
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import {
  bareProxy,
  CHAT_PATH,
  cliArgs,
  closeServer,
  fixedBackend,
  listen,
  loadAverage,
  markdownTable,
  median,
  runHeader,
  sequentialLatency,
  throughput,
  type Latency,
  type Throughput,
} from './lib/index.js';
import { SystemClock } from '../src/clock.js';
import { formatDiagnosticLine } from '../src/diagnostics/diagnostic.js';
import { SourceText } from '../src/diagnostics/source.js';
import type { GatewayDefinition } from '../src/gateway/definition.js';
import { Gateway } from '../src/gateway/gateway.js';
import { startServer } from '../src/server/index.js';

type LoadRequest = { kind: 'throughput'; url: string; connections: number; duration: number } | { kind: 'latency'; url: string; n: number; warmup: number };

const args = cliArgs();

// ---------------------------------------------------------------------------------------------- load generator (child)

function runLoadChild(): void {
  process.on('message', (m: LoadRequest) => {
    void (async () => {
      process.send!(m.kind === 'throughput' ? await throughput(m.url, m.connections, m.duration) : await sequentialLatency(m.url, m.n, m.warmup));
    })();
  });
}

// ---------------------------------------------------------------------------------------------- servers (main)

/** The bundled example's policy shape: pool + retry + forward-request, built in code (no config files needed). */
function exampleDefinition(upstream: string): GatewayDefinition {
  const breaker = {
    rules: [
      { name: 'r', failureCondition: { count: 1, interval: 'PT1M', statusCodeRanges: [{ min: 429, max: 429 }] }, tripDuration: 'PT1M', acceptRetryAfter: true },
    ],
  };
  const backends = {
    backends: [
      { name: 'aoai-1', properties: { url: `${upstream}/openai`, protocol: 'http', circuitBreaker: breaker } },
      { name: 'aoai-2', properties: { url: `${upstream}/openai`, protocol: 'http', circuitBreaker: breaker } },
      {
        name: 'pool',
        properties: {
          type: 'Pool',
          pool: {
            services: [
              { id: '/backends/aoai-1', priority: 1 },
              { id: '/backends/aoai-2', priority: 2 },
            ],
          },
        },
      },
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
    apis: [
      {
        id: 'openai',
        name: 'Azure OpenAI',
        path: 'openai',
        serviceUrl: '',
        subscriptionRequired: false,
        policy: new SourceText('bench-api.xml', policy),
        operations: [],
      },
    ],
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
      const base = bareProxy(upstream);
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
  ].map(({ withLogs, viaExpress }): Target => ({
    name: viaExpress ? 'emulator, through the Express router' : withLogs ? 'emulator, request logs on' : 'emulator',
    async start(upstream) {
      const clock = new SystemClock();
      const built = Gateway.build(exampleDefinition(upstream), { clock, upstream: new UndiciUpstream(clock, { wallClock: true }) });
      if (!built.gateway) throw new Error(built.diagnostics.map(formatDiagnosticLine).join('\n'));
      const logger = withLogs ? pino({ level: 'info' }, pino.destination({ fd: openSync('/dev/null', 'w'), sync: false })) : false;
      const s = await startServer({ gateway: built.gateway, clock, logger, traceLimit: 100, routeGatewayThroughExpress: viaExpress });
      return { url: s.url, stop: () => s.close() };
    },
  })),
];

async function main(): Promise<void> {
  const duration = Number(args.get('duration') ?? 10);
  const connections = Number(args.get('connections') ?? 50);
  const warmup = Number(args.get('warmup') ?? 3);
  const rounds = Number(args.get('rounds') ?? 1);
  const latencyN = Number(args.get('latency-requests') ?? 5000);
  // --only=emulator runs one target (for profiling with node --cpu-prof).
  const only = args.get('only');
  const targets = only ? TARGETS.filter((t) => t.name.startsWith(only)) : TARGETS;
  const path = CHAT_PATH;
  const loadBefore = loadAverage();

  const backend = fixedBackend();
  const upstream = await listen(backend);
  const child = fork(fileURLToPath(import.meta.url), ['--load-child'], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const runs = new Map<string, Array<{ t: Throughput; l: Latency; cpuUsPerRequest: number }>>();

  try {
    // Targets interleaved round by round, so a noisy neighbour hits all of them alike; medians are reported.
    for (let round = 1; round <= rounds; round++) {
      for (const target of targets) {
        const running = await target.start(upstream);
        try {
          const url = running.url + path;
          await ask<Throughput>(child, { kind: 'throughput', url, connections, duration: warmup });
          const cpu0 = process.cpuUsage();
          const t = await ask<Throughput>(child, { kind: 'throughput', url, connections, duration });
          const cpu = process.cpuUsage(cpu0);
          if (t.bad > 0) throw new Error(`${target.name}: ${t.bad} errors or non-2xx responses`);
          // CPU of this process (proxy under test + mock backend) per request: steadier than req/s on a shared machine.
          const cpuUsPerRequest = (cpu.user + cpu.system) / Math.max(1, t.total);
          const l = await ask<Latency>(child, { kind: 'latency', url, n: latencyN, warmup: 500 });
          runs.set(target.name, [...(runs.get(target.name) ?? []), { t, l, cpuUsPerRequest }]);
          console.error(
            `round ${round} ${target.name}: ${t.rps.toFixed(0)} req/s, ${cpuUsPerRequest.toFixed(0)} µs CPU/request, 1-conn p50 ${l.p50.toFixed(3)} ms, p99 ${l.p99.toFixed(3)} ms`,
          );
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
    runHeader(loadBefore),
    `throughput: ${connections} connections x ${duration} s after ${warmup} s warm-up; latency: ${latencyN} sequential requests on 1 connection; medians of ${rounds} interleaved round(s)`,
    '',
    markdownTable(
      ['target', 'req/s', 'vs first', 'server CPU µs/req', 'autocannon p50 / p99 ms', '1-conn p50 ms', '1-conn p99 ms', 'added p50 ms', 'added p99 ms'],
      summary.map((r) => [
        r.name,
        r.rps.toFixed(0),
        `${((100 * r.rps) / b.rps).toFixed(1)}%`,
        r.cpu.toFixed(0),
        `${r.acP50} / ${r.acP99}`,
        r.p50.toFixed(3),
        r.p99.toFixed(3),
        (r.p50 - b.p50).toFixed(3),
        (r.p99 - b.p99).toFixed(3),
      ]),
    ),
  ];
  console.log(lines.join('\n'));
}

// Last, so every module-level constant above is initialised before either side starts.
if (args.has('load-child')) runLoadChild();
else await main();

/**
 * The gateway measured the way users run it: every server in its own process (loopback only; stops by itself).
 * Run: `npx tsx bench/serve.bench.ts [--duration=8] [--warmup=2] [--connections=32] [--rounds=2] [--only='prefix|prefix|exact name$'] [--cpu-prof=DIR] [--pin]`
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
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  aoaiPoolBackends,
  bareProxy,
  CHAT_BODY,
  CHAT_PATH,
  cliArgs,
  cliCommand,
  cpuProfileArgs,
  ROOT,
  closeServer,
  fixed,
  fixedBackend,
  freePort,
  listen,
  loadAverage,
  markdownTable,
  median,
  pinning,
  pinProcess,
  probeStart,
  probeStop,
  runHeader,
  sequentialLatency,
  signed,
  startServerProcess,
  stopProcess,
  throughput,
  type Latency,
  type ProbeReport,
  type ServerProcess,
  type Throughput,
} from './lib/index.js';

const args = cliArgs();
// --pin (opt-in here, to keep the history comparable): server on CPU 0, load generator + mock on CPU 1; never for
// --workers targets, whose point is using both cores.
const PIN = args.has('pin') ? pinning(args) : null;

// ------------------------------------------------------------------------------------------- bare proxy (process 2)

/** The baseline in its own process: bench/lib's node:http + undici proxy, printing its URL like the CLI does. */
async function runBareProxy(upstream: string): Promise<void> {
  const { server } = bareProxy(upstream);
  process.stdout.write(`listening on ${await listen(server)}\n`);
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

/**
 * The one-policy API plus CPU-bound policy work (a 100,000-iteration expression loop, about 1 ms per request): the server, not the load
 * generator, is then what limits throughput, so `--workers 2` can show what a second core buys on this 2-core machine
 * (with the light one-policy API the load generator and the mock backend need the second core themselves).
 */
const CPU_POLICY = ONE_POLICY.replace(
  '<set-backend-service backend-id="aoai-1" />',
  `<set-backend-service backend-id="aoai-1" />
    <set-variable name="work" value="@{ int s = 0; for (int i = 0; i < 100000; i++) { s += i % 7; } return s; }" />`,
);

type Configs = { simple: string; llm: string; cpu: string };

function writeConfig(dir: string, upstream: string): Configs {
  const breaker = {
    rules: [
      { name: 'r', failureCondition: { count: 1, interval: 'PT1M', statusCodeRanges: [{ min: 429, max: 429 }] }, tripDuration: 'PT1M', acceptRetryAfter: true },
    ],
  };
  const backends = aoaiPoolBackends(upstream, breaker);
  writeFileSync(path.join(dir, 'backends.json'), JSON.stringify(backends));
  writeFileSync(path.join(dir, 'one-policy.xml'), ONE_POLICY);
  writeFileSync(path.join(dir, 'llm.xml'), LLM_POLICY);
  writeFileSync(path.join(dir, 'cpu.xml'), CPU_POLICY);
  const config = (policy: string) => ({
    service: { name: 'apim-bench', region: 'local' },
    namedValues: { 'openai-api-key': { value: 'bench-key', secret: true } },
    backends: ['backends.json'],
    apis: [{ id: 'openai', name: 'Azure OpenAI', path: 'openai', serviceUrl: `${upstream}/openai`, subscriptionRequired: false, policy }],
  });
  writeFileSync(path.join(dir, 'simple.json'), JSON.stringify(config('one-policy.xml')));
  writeFileSync(path.join(dir, 'llm.json'), JSON.stringify(config('llm.xml')));
  writeFileSync(path.join(dir, 'cpu.json'), JSON.stringify(config('cpu.xml')));
  return { simple: path.join(dir, 'simple.json'), llm: path.join(dir, 'llm.json'), cpu: path.join(dir, 'cpu.json') };
}

// ------------------------------------------------------------------------------------------- targets

/** Server processes started with the probe; --cpu-prof=DIR writes a V8 CPU profile of each (bench/profile-summary.ts reads it). */
function startProcess(argv: string[]): Promise<ServerProcess> {
  return startServerProcess(argv, { probe: true, pin: PIN && !argv.includes('--workers') ? PIN.server : null, ...cpuProfileArgs(args) });
}

interface Target {
  name: string;
  /** Processes that serve the target (workers report through their primary only). */
  start(configs: Configs, upstream: string, port: number): Promise<ServerProcess>;
  /** false when the CPU/allocation probe sees only part of the work (cluster workers). */
  probed: boolean;
}

const TARGETS: Target[] = [
  {
    name: 'bare proxy (node:http + undici)',
    probed: true,
    start: (_c, upstream) => startProcess(['--import', 'tsx', fileURLToPath(import.meta.url), `--bare-proxy=${upstream}`]),
  },
  {
    name: 'emulator, default flags',
    probed: true,
    start: (c, _u, port) => startProcess([...cliCommand(), 'serve', '--config', c.simple, '--port', String(port)]),
  },
  {
    name: 'emulator, request logs off (--log-level warn)',
    probed: true,
    start: (c, _u, port) => startProcess([...cliCommand(), 'serve', '--config', c.simple, '--port', String(port), '--log-level', 'warn']),
  },
  {
    name: 'emulator, full LLM policy',
    probed: true,
    start: (c, _u, port) => startProcess([...cliCommand(), 'serve', '--config', c.llm, '--port', String(port)]),
  },
  {
    name: 'emulator, default flags, --workers 2',
    probed: false,
    start: (c, _u, port) => startProcess([...cliCommand(), 'serve', '--config', c.simple, '--port', String(port), '--workers', '2']),
  },
  {
    name: 'emulator, CPU-bound policy, logs off',
    probed: true,
    start: (c, _u, port) => startProcess([...cliCommand(), 'serve', '--config', c.cpu, '--port', String(port), '--log-level', 'warn']),
  },
  {
    name: 'emulator, CPU-bound policy, logs off, --workers 2',
    probed: false,
    start: (c, _u, port) => startProcess([...cliCommand(), 'serve', '--config', c.cpu, '--port', String(port), '--log-level', 'warn', '--workers', '2']),
  },
];

// ------------------------------------------------------------------------------------------- load (process 1)

const POST = { method: 'POST', body: CHAT_BODY } as const;

interface Run {
  t: Throughput;
  l: Latency;
  probe: ProbeReport | null;
}

/**
 * `--only`: target name prefixes separated by `|`; a prefix ending in `$` must match the whole name
 * (`--only='bare|emulator, default flags$'` runs the bare proxy and the default emulator, not `--workers 2`).
 */
function selected(name: string, only: string): boolean {
  return only.split('|').some((p) => (p.endsWith('$') ? name === p.slice(0, -1) : name.startsWith(p)));
}

async function main(): Promise<void> {
  const duration = Number(args.get('duration') ?? 8);
  const warmup = Number(args.get('warmup') ?? 2);
  const connections = Number(args.get('connections') ?? 32);
  const rounds = Number(args.get('rounds') ?? 2);
  const latencyN = Number(args.get('latency-requests') ?? 3000);
  const only = args.get('only');
  const targets = only ? TARGETS.filter((t) => selected(t.name, only)) : TARGETS;
  const loadBefore = loadAverage();
  if (PIN) pinProcess(process.pid, PIN.client);

  const backend = fixedBackend();
  const upstream = await listen(backend);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'apim-bench-'));
  const configs = writeConfig(dir, upstream);
  const runs = new Map<string, Run[]>();
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const target of targets) {
        const s = await target.start(configs, upstream, await freePort());
        try {
          const url = s.url + CHAT_PATH;
          // One request first: lazy one-time work (the tokenizer of the LLM policy loads its ranks on first use,
          // seconds on a busy machine) must not fall into the timed run.
          await sequentialLatency(url, 1, 0, POST);
          await throughput(url, connections, warmup, POST);
          probeStart(s.child);
          const t = await throughput(url, connections, duration, POST);
          const p = await probeStop(s.child);
          if (t.bad > 0) throw new Error(`${target.name}: ${t.bad} errors or non-2xx responses`);
          const l = await sequentialLatency(url, latencyN, 300, POST);
          runs.set(target.name, [...(runs.get(target.name) ?? []), { t, l, probe: target.probed ? p : null }]);
          const perReq =
            p && target.probed ? `, ${(p.cpuUs / t.total).toFixed(0)} µs CPU/req, ${(p.allocated / t.total / 1024).toFixed(1)} KB allocated/req` : '';
          console.error(`round ${round} ${target.name}: ${t.rps.toFixed(0)} req/s${perReq}, 1-conn p50 ${l.p50.toFixed(3)} ms`);
        } finally {
          await stopProcess(s.child);
        }
      }
    }
  } finally {
    await closeServer(backend);
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
  console.log(
    [
      runHeader(loadBefore),
      `${PIN ? `server pinned to CPU ${PIN.server}, load generator + mock to CPU ${PIN.client} (not --workers); ` : ''}POST ${CHAT_PATH}; throughput: ${connections} connections x ${duration} s after ${warmup} s warm-up; latency: ${latencyN} sequential requests on 1 keep-alive connection; medians of ${rounds} alternating round(s); CLI: ${path.relative(ROOT, cliCommand()[0]!)}`,
      '',
      markdownTable(
        [
          'target',
          'req/s',
          'vs first',
          'autocannon p50 / p99 ms',
          '1-conn p50 ms',
          '1-conn p99 ms',
          'added p50 ms',
          'server CPU µs/req',
          'KB allocated/req',
          'RSS MB',
        ],
        rows.map((r) => [
          r.name,
          r.rps.toFixed(0),
          `${((100 * r.rps) / b.rps).toFixed(1)}%`,
          `${r.acP50} / ${r.acP99}`,
          r.p50.toFixed(3),
          r.p99.toFixed(3),
          r === b ? '–' : signed(r.p50 - b.p50, 3),
          fixed(r.cpu),
          fixed(r.alloc, 1),
          fixed(r.rss),
        ]),
      ),
      ...workersLine(rows),
    ].join('\n'),
  );
}

/** What a second worker buys where the server is the bottleneck: the CPU-bound rows, 2 workers over 1. */
function workersLine(rows: ReadonlyArray<{ name: string; rps: number }>): string[] {
  const one = rows.find((r) => r.name === 'emulator, CPU-bound policy, logs off');
  const two = rows.find((r) => r.name === 'emulator, CPU-bound policy, logs off, --workers 2');
  if (!one || !two) return [];
  return ['', `CPU-bound policy: --workers 2 serves ${(two.rps / one.rps).toFixed(2)}x the requests of one worker.`];
}

// Last, so every module-level constant above is initialised first.
if (args.has('bare-proxy')) await runBareProxy(args.get('bare-proxy')!);
else await main();

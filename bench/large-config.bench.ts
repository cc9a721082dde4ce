/**
 * Cost that must not grow with the configuration (loopback only; stops by itself).
 * Run: `npx tsx bench/large-config.bench.ts [--apis=1000] [--duration=6] [--rounds=5] [--validate-runs=5] [--no-pin] [--corpus=../shared/corpus/ai-gateway]`
 * Only the files: `--generate=DIR`; only the load + compile step: `--load=DIR/apim-emulator.json`.
 *
 * Generates a configuration of N APIs x 10 operations (each API: its own policy with set-backend-service,
 * include-fragment and a set-header expression), 500 backends (400 single, 100 pools of 1..30 members, APIM's maximum) and 200
 * fragments, plus the same shape with one API. Measures, each in its own process:
 *   - load + validate + compile (the serve start-up path, in-process timing) and the RSS after it;
 *   - `apim-emulator validate` of the large config and of the AI-Gateway corpus (CLI wall time, node start included);
 *   - throughput of `serve` (CLI, --log-level warn) on the large and the one-API config, alternating rounds, 32
 *     connections, against a mock backend in this process.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  cliArgs,
  cliCommand,
  closeServer,
  freePort,
  listen,
  loadAverage,
  markdownTable,
  median,
  pinning,
  pinProcess,
  probeStart,
  probeStop,
  ROOT,
  runHeader,
  runNode,
  startServerProcess,
  stopProcess,
  throughput,
} from './lib/index.js';

const args = cliArgs();
const PIN = pinning(args);

// ------------------------------------------------------------------------------------------- child: load + compile

/** `validate` as the CLI runs it, timed in-process (wall and CPU), without node's own start-up. */
async function validateChild(target: string): Promise<void> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const { runValidate } = await import('../src/cli/validate.js');
  const r = runValidate({ inputs: [target], backends: [], namedValues: [], scope: 'api', backendParameters: {} });
  const cpu = process.cpuUsage(c0);
  const errors = r.diagnostics.filter((d) => d.severity === 'error').length;
  process.stdout.write(JSON.stringify({ ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, files: r.files.length, errors }));
}

async function loadChild(config: string): Promise<void> {
  const t0 = performance.now();
  const { loadConfig, prepareDefinition, buildGateway } = await import('../src/config/load.js');
  const { SystemClock } = await import('../src/clock.js');
  const { UndiciUpstream } = await import('../src/server/undici-upstream.js');
  const t1 = performance.now();
  // CPU time as well as wall time: on a busy machine wall time mostly measures the neighbours.
  const c1 = process.cpuUsage();
  const loaded = loadConfig(config);
  const prepared = prepareDefinition(loaded.definition!);
  const t2 = performance.now();
  const c2 = process.cpuUsage(c1);
  const clock = new SystemClock();
  const built = buildGateway(prepared, { clock, upstream: new UndiciUpstream(clock) });
  const t3 = performance.now();
  const c3 = process.cpuUsage(c1);
  const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;
  const errors = [...loaded.diagnostics, ...built.diagnostics].filter((d) => d.severity === 'error');
  global.gc?.();
  process.stdout.write(
    JSON.stringify({
      importMs: t1 - t0,
      loadMs: t2 - t1,
      compileMs: t3 - t2,
      loadCpuMs: cpuMs(c2),
      compileCpuMs: cpuMs(c3) - cpuMs(c2),
      errors: errors.length,
      firstError: errors[0]?.message ?? null,
      rssMb: process.memoryUsage().rss / 1048576,
      heapMb: process.memoryUsage().heapUsed / 1048576,
    }),
  );
  await built.gateway?.close();
}

// ------------------------------------------------------------------------------------------- generated configuration

const API_POLICY = (i: number, backend: string, fragment: string) => `<policies>
  <inbound>
    <base />
    <set-backend-service backend-id="${backend}" />
    <include-fragment fragment-id="${fragment}" />
    <set-header name="x-api" exists-action="override"><value>@(context.Api.Id + "-${i}")</value></set-header>
  </inbound>
  <backend><forward-request /></backend>
  <outbound><base /></outbound>
  <on-error><base /></on-error>
</policies>`;

function generate(dir: string, apiCount: number, upstream: string): string {
  mkdirSync(path.join(dir, 'policies'), { recursive: true });
  mkdirSync(path.join(dir, 'fragments'), { recursive: true });
  const singles = 400;
  const backends: unknown[] = [];
  for (let i = 0; i < singles; i++)
    backends.push({
      name: `b${i}`,
      properties: {
        url: `${upstream}/svc${i}`,
        protocol: 'http',
        circuitBreaker: {
          rules: [{ name: 'r', failureCondition: { count: 3, interval: 'PT1M', statusCodeRanges: [{ min: 500, max: 599 }] }, tripDuration: 'PT1M' }],
        },
      },
    });
  for (let p = 0; p < 100; p++) {
    // APIM allows at most 30 members in a pool (the emulator refuses more), so pools hold 1..30 members.
    const members = (p % 30) + 1;
    backends.push({
      name: `pool${p}`,
      properties: {
        type: 'Pool',
        pool: {
          services: Array.from({ length: members }, (_, m) => ({ id: `/backends/b${(p * 7 + m) % singles}`, priority: 1 + (m % 3), weight: 1 + (m % 5) })),
        },
      },
    });
  }
  writeFileSync(path.join(dir, 'backends.json'), JSON.stringify({ backends }));
  const fragments: Record<string, string> = {};
  for (let f = 0; f < 200; f++) {
    writeFileSync(
      path.join(dir, 'fragments', `f${f}.xml`),
      `<fragment><set-header name="x-fragment" exists-action="override"><value>f${f}</value></set-header></fragment>`,
    );
    fragments[`f${f}`] = `fragments/f${f}.xml`;
  }
  const apis = [];
  for (let i = 0; i < apiCount; i++) {
    const id = `api-${String(i).padStart(4, '0')}`;
    // Single backends keep the one-API and the large case on the same request path (a pool of 1..100 members costs
    // its own selection; pools are still loaded and compiled for every API that names one).
    const backend = i === apiCount - 1 || apiCount === 1 ? 'b0' : i % 2 ? `pool${i % 100}` : `b${i % singles}`;
    writeFileSync(path.join(dir, 'policies', `${id}.xml`), API_POLICY(i, backend, `f${i % 200}`));
    apis.push({
      id,
      name: `API ${i}`,
      path: `${id}/v1`,
      serviceUrl: `${upstream}/svc`,
      subscriptionRequired: false,
      policy: `policies/${id}.xml`,
      operations: Array.from({ length: 10 }, (_, j) => ({
        id: `op${j}`,
        method: j % 2 ? 'POST' : 'GET',
        urlTemplate: `/resource${j}/{id}${j === 9 ? '/items/{item}' : ''}`,
      })),
    });
  }
  const config = { service: { name: 'large', region: 'local' }, fragments, backends: ['backends.json'], apis };
  const file = path.join(dir, 'apim-emulator.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}

// ------------------------------------------------------------------------------------------- process helpers

/** `serve` (CLI, logs off) on a configuration; `startMs` is spawn to "listening on". */
async function serve(config: string, port: number): Promise<{ stop(): Promise<void>; url: string; startMs: number; child: ChildProcess }> {
  const s = await startServerProcess([...cliCommand(), 'serve', '--config', config, '--port', String(port), '--log-level', 'warn'], {
    captureStderr: true,
    timeoutMs: 300_000,
    probe: true,
    pin: PIN?.server ?? null,
  });
  return { url: s.url, startMs: s.readyMs, child: s.child, stop: () => stopProcess(s.child) };
}

// ------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const apiCount = Number(args.get('apis') ?? 1000);
  const duration = Number(args.get('duration') ?? 6);
  const rounds = Number(args.get('rounds') ?? 5);
  const validateRuns = Number(args.get('validate-runs') ?? 5);
  const corpus = path.resolve(ROOT, args.get('corpus') ?? '../shared/corpus/ai-gateway');
  const loadBefore = loadAverage();
  const body = Buffer.from(JSON.stringify({ ok: true, items: Array.from({ length: 20 }, (_, i) => ({ i })) }));
  const backend = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
    res.end(body);
  });
  const upstream = await listen(backend);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'apim-large-'));
  const lines: string[] = [];
  try {
    const tGen = performance.now();
    const large = generate(path.join(dir, 'large'), apiCount, upstream);
    const small = generate(path.join(dir, 'small'), 1, upstream);
    console.error(`generated in ${(performance.now() - tGen).toFixed(0)} ms`);

    // 1. load + validate + compile, in its own process (tsx, as bin/apim-emulator.js runs it).
    const loads = [];
    for (const [name, file] of [
      ['one API', small],
      [`${apiCount} APIs x 10 operations`, large],
    ] as const) {
      const r = await runNode(['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), `--load=${file}`]);
      if (r.code !== 0) throw new Error(`load child failed: ${r.err}`);
      const j = JSON.parse(r.out) as {
        importMs: number;
        loadMs: number;
        compileMs: number;
        loadCpuMs: number;
        compileCpuMs: number;
        errors: number;
        firstError: string | null;
        rssMb: number;
        heapMb: number;
      };
      if (j.errors) throw new Error(`${name}: ${j.errors} errors, first: ${j.firstError}`);
      loads.push({ name, ...j });
      console.error(`${name}: load ${j.loadMs.toFixed(0)} ms, compile ${j.compileMs.toFixed(0)} ms, RSS ${j.rssMb.toFixed(0)} MB`);
    }

    // 2. the CLI's validate (node start-up included).
    const validations = [];
    for (const [name, target] of [
      [`${apiCount}-API config`, large],
      ['AI-Gateway corpus', corpus],
    ] as const) {
      if (!existsSync(target)) {
        console.error(`skipped validate of ${name}: ${target} not found`);
        continue;
      }
      // Several runs, the median reported: one CLI run on this machine varies by ±15%.
      const walls: number[] = [];
      let r = await runNode([...cliCommand(), 'validate', target]);
      for (let i = 0; i < validateRuns; i++) {
        if (i > 0) r = await runNode([...cliCommand(), 'validate', target]);
        walls.push(r.ms);
      }
      const summary = r.out.trim().split('\n').pop() ?? '';
      const inproc = await runNode(['--import', 'tsx', fileURLToPath(import.meta.url), `--validate=${target}`]);
      const j = JSON.parse(inproc.out) as { ms: number; cpuMs: number };
      const ms = median(walls);
      validations.push({ name, ms, walls, code: r.code, summary, inMs: j.ms, inCpuMs: j.cpuMs });
      console.error(
        `validate ${name}: median ${ms.toFixed(0)} ms of ${walls.map((w) => w.toFixed(0)).join(', ')}, exit ${r.code}: ${summary}; in-process ${j.ms.toFixed(0)} ms (${j.cpuMs.toFixed(0)} ms CPU)`,
      );
    }
    const bare = await runNode(['-e', '0']);

    // 3. throughput, large vs one API, alternating. Pinned from here on: the children above ran on both cores.
    if (PIN) pinProcess(process.pid, PIN.client);
    const tput = new Map<string, number[]>();
    const starts = new Map<string, number[]>();
    const cpuPerReq = new Map<string, number[]>();
    for (let round = 1; round <= rounds; round++) {
      for (const [name, file, api] of [
        ['one API', small, 'api-0000'],
        [`${apiCount} APIs`, large, `api-${String(apiCount - 1).padStart(4, '0')}`],
      ] as const) {
        const s = await serve(file, await freePort());
        try {
          const url = `${s.url}/${api}/v1/resource4/42`;
          await throughput(url, 32, 2);
          probeStart(s.child);
          const r = await throughput(url, 32, duration);
          const probe = await probeStop(s.child);
          if (r.bad > 0) throw new Error(`${name}: ${r.bad} errors or non-2xx answers`);
          tput.set(name, [...(tput.get(name) ?? []), r.rps]);
          // Server CPU per request: less sensitive than req/s to how the two cores were shared in this round.
          if (probe) cpuPerReq.set(name, [...(cpuPerReq.get(name) ?? []), probe.cpuUs / r.total]);
          starts.set(name, [...(starts.get(name) ?? []), s.startMs]);
          console.error(
            `round ${round} ${name}: ${r.rps.toFixed(0)} req/s, ${probe ? (probe.cpuUs / r.total).toFixed(0) : '?'} µs CPU/req (serve ready after ${s.startMs.toFixed(0)} ms)`,
          );
        } finally {
          await s.stop();
        }
      }
    }

    const one = median(tput.get('one API')!);
    const oneCpu = median(cpuPerReq.get('one API') ?? [NaN]);
    const loadRows = loads.map((l) => {
      const key = l.name === 'one API' ? 'one API' : `${apiCount} APIs`;
      const rps = median(tput.get(key)!);
      const cpu = median(cpuPerReq.get(key) ?? [NaN]);
      return [
        l.name,
        `${l.loadMs.toFixed(0)} (${l.loadCpuMs.toFixed(0)})`,
        `${l.compileMs.toFixed(0)} (${l.compileCpuMs.toFixed(0)})`,
        l.rssMb.toFixed(0),
        median(starts.get(key)!).toFixed(0),
        rps.toFixed(0),
        `${((100 * rps) / one).toFixed(1)}%`,
        Number.isNaN(cpu) ? 'n/a' : `${cpu.toFixed(0)} (${((100 * cpu) / oneCpu).toFixed(1)}%)`,
      ];
    });
    lines.push(
      runHeader(loadBefore),
      PIN ? `server pinned to CPU ${PIN.server}, load generator + mock backend to CPU ${PIN.client}` : 'not pinned',
      '',
      markdownTable(
        [
          'configuration',
          'load + validate ms (CPU ms)',
          'compile ms (CPU ms)',
          'RSS after compile MB',
          '`serve` ready after ms (median)',
          `req/s (median of ${rounds})`,
          'vs one API',
          'server CPU µs/req (vs one API)',
        ],
        loadRows,
      ),
      '',
      markdownTable(
        [
          '`apim-emulator validate` of',
          `CLI wall ms, median of ${validateRuns} (node start-up included; a bare \`node -e 0\` took ${bare.ms.toFixed(0)} ms)`,
          'every run ms',
          'in-process ms (CPU ms)',
          'exit',
          'summary',
        ],
        validations.map((v) => [
          v.name,
          v.ms.toFixed(0),
          v.walls.map((w) => w.toFixed(0)).join(', '),
          `${v.inMs.toFixed(0)} (${v.inCpuMs.toFixed(0)})`,
          String(v.code),
          v.summary,
        ]),
      ),
    );
  } finally {
    await closeServer(backend);
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(lines.join('\n'));
}

if (args.has('load')) await loadChild(args.get('load')!);
else if (args.has('validate')) await validateChild(args.get('validate')!);
// --generate=DIR: only write the configuration (for profiling: node --cpu-prof ... --load=DIR/apim-emulator.json).
else if (args.has('generate')) console.log(generate(path.resolve(args.get('generate')!), Number(args.get('apis') ?? 1000), 'http://127.0.0.1:9'));
else await main();

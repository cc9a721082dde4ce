/**
 * Streamed chat completions through the gateway (loopback only; stops by itself).
 * Run: `npx tsx bench/sse.bench.ts [--streams=1000] [--chunks=80] [--interval=200] [--ramp=10000] [--rounds=3]`
 * Options: `--only=REGEX` (targets by name), `--policy=FILE` (another API policy for the emulator), `--no-pin`,
 * `--cpu-prof=DIR` (profiles of the server processes).
 *
 * By default the streams start evenly over `ramp` ms (100 a second) and each lasts longer than the ramp (80 chunks
 * 200 ms apart = 16 s), so the last of them start while all 1,000 are open. Started all at once (`--ramp=0`) or at
 * 500 a second, the first event waits behind connection set-ups that saturate this 2-core machine for every target,
 * the bare proxy included (docs/performance.md), and the figure says nothing about the gateway.
 *
 * This process: a mock Azure OpenAI backend that answers every request with server-sent events (the first chunk at
 * once, then one every `interval` ms, then a usage chunk and `[DONE]`), and the client, which opens `streams`
 * concurrent streamed chat completions and times the first event of each. Targets, each in its own process:
 *   direct      the mock itself (no proxy): the reference for first-event latency;
 *   bare proxy  node:http + undici (bench/serve.bench.ts --bare-proxy);
 *   emulator    the CLI, `serve` with pool + retry + llm-token-limit (estimate-prompt-tokens, counting the streamed
 *               usage) + llm-emit-token-metric, request logs off.
 * The server's RSS is read while every stream is open (bench/probe.mjs).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import {
  aoaiPoolBackends,
  CHAT_PATH,
  cliArgs,
  cliCommand,
  cpuProfileArgs,
  closeServer,
  freePort,
  listen,
  loadAverage,
  markdownTable,
  median,
  percentile,
  pinning,
  pinProcess,
  probeStart,
  probeStop,
  ROOT,
  runHeader,
  startServerProcess,
  stopProcess,
  type ServerProcess,
} from './lib/index.js';

const args = cliArgs();
const PIN = pinning(args);
const STREAMS = Number(args.get('streams') ?? 1000);
const CHUNKS = Number(args.get('chunks') ?? 80);
const INTERVAL = Number(args.get('interval') ?? 200);
const RAMP_MS = Number(args.get('ramp') ?? 10_000);
const BODY = JSON.stringify({ messages: [{ role: 'user', content: 'Count to twenty.' }], stream: true, stream_options: { include_usage: true } });

const POLICY = `<policies>
  <inbound>
    <base />
    <set-header name="api-key" exists-action="override"><value>{{openai-api-key}}</value></set-header>
    <llm-token-limit counter-key="@(context.Request.IpAddress)" tokens-per-minute="1000000000" estimate-prompt-tokens="true" remaining-tokens-header-name="x-remaining-tokens" />
    <llm-emit-token-metric namespace="bench"><dimension name="API ID" /></llm-emit-token-metric>
    <set-backend-service backend-id="pool" />
  </inbound>
  <backend>
    <retry count="2" interval="0" first-fast-retry="true" condition="@(context.Response.StatusCode == 429)">
      <set-backend-service backend-id="pool" />
      <forward-request buffer-request-body="true" timeout="120" />
    </retry>
  </backend>
  <outbound><base /></outbound>
  <on-error><base /></on-error>
</policies>`;

function chunk(i: number): string {
  return `data: ${JSON.stringify({ id: 'chatcmpl-sse', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o', choices: [{ index: 0, delta: { content: ` ${i}` }, finish_reason: null }] })}\n\n`;
}
const USAGE = `data: ${JSON.stringify({ id: 'chatcmpl-sse', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o', choices: [], usage: { prompt_tokens: 12, completion_tokens: CHUNKS, total_tokens: 12 + CHUNKS } })}\n\ndata: [DONE]\n\n`;

/**
 * When the mock wrote each stream's first event (performance.now(), by the client's `x-bench-stream` id). The mock
 * and the client share this process and its clock, so a stream's time splits into the way in (request sent until the
 * mock answers: the gateway's request path and its connection to the backend) and the way out (the first event from
 * the mock's write to the client's read: the relay through the gateway, token counting included).
 */
const firstWrites = new Map<string, number>();

function mock(): http.Server {
  return http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      const id = req.headers['x-bench-stream'];
      if (typeof id === 'string') firstWrites.set(id, performance.now());
      res.write(chunk(0));
      // The warm-up's streams are short (`bench-chunks=2`): they load the tokenizer and open connections, no more.
      const chunks = req.url?.includes('bench-chunks=2') ? 2 : CHUNKS;
      let i = 1;
      const timer = setInterval(() => {
        if (i < chunks) res.write(chunk(i++));
        else {
          clearInterval(timer);
          res.end(USAGE);
        }
      }, INTERVAL);
      res.on('close', () => clearInterval(timer));
    });
  });
}

/** A target: a server process, or the mock itself (no process: "direct"). */
interface Started {
  server: ServerProcess | null;
  url: string;
}

function startProcess(argv: string[]): Promise<Started> {
  return startServerProcess(argv, { probe: true, pin: PIN?.server ?? null, ...cpuProfileArgs(args) }).then((server) => ({ server, url: server.url }));
}

/** The server's RSS now (bench/probe.mjs), or this process's for "direct". */
async function rss(s: Started): Promise<number | null> {
  if (!s.server) return process.memoryUsage().rss;
  probeStart(s.server.child);
  return (await probeStop(s.server.child))?.rss ?? null;
}

interface StreamRun {
  firstMs: number[];
  /** First-event times of the last tenth of the streams to start (all the others are open by then). */
  lastTenthMs: number[];
  /** The way in: request sent until the mock wrote the first event. */
  inMs: number[];
  /** The way out: the mock's write of the first event until the client read it. */
  outMs: number[];
  totalMs: number[];
  events: number;
  rssMb: number | null;
}

let streamRuns = 0;

/** Opens `n` concurrent streams; resolves when every one has ended. RSS is read once all first events arrived. */
async function streams(url: string, n: number, target: Started): Promise<StreamRun> {
  const agent = new Agent({ connections: n + 10, pipelining: 1, headersTimeout: 120_000, bodyTimeout: 120_000 });
  const firstMs: number[] = [];
  const totalMs: number[] = [];
  let events = 0;
  let firsts = 0;
  const lastTenthMs: number[] = [];
  const inMs: number[] = [];
  const outMs: number[] = [];
  const runId = String(++streamRuns);
  let allFirst!: () => void;
  const allFirstP = new Promise<void>((r) => (allFirst = r));
  const one = async (_: unknown, i: number) => {
    if (RAMP_MS > 0) await new Promise((r) => setTimeout(r, (i * RAMP_MS) / n));
    const id = `${runId}-${i}`;
    const t0 = performance.now();
    const r = await request(url, { method: 'POST', body: BODY, headers: { 'content-type': 'application/json', 'x-bench-stream': id }, dispatcher: agent });
    if (r.statusCode !== 200) throw new Error(`stream answered ${r.statusCode}: ${await r.body.text()}`);
    let first = true;
    for await (const c of r.body) {
      if (first) {
        first = false;
        const t1 = performance.now();
        const written = firstWrites.get(id);
        firstWrites.delete(id);
        if (written === undefined) throw new Error(`stream ${id}: the mock saw no x-bench-stream header`);
        inMs.push(written - t0);
        outMs.push(t1 - written);
        firstMs.push(t1 - t0);
        if (i >= n - Math.ceil(n / 10)) lastTenthMs.push(performance.now() - t0);
        if (++firsts === n) allFirst();
      }
      // Events end with a blank line; counted on the bytes (no string per chunk: the client shares its core).
      for (let at = (c as Buffer).indexOf('\n\n'); at >= 0; at = (c as Buffer).indexOf('\n\n', at + 2)) events++;
    }
    totalMs.push(performance.now() - t0);
  };
  const all = Promise.all(Array.from({ length: n }, one));
  await Promise.race([allFirstP, all]);
  const bytes = await rss(target);
  await all;
  await agent.close();
  return { firstMs, lastTenthMs, inMs, outMs, totalMs, events, rssMb: bytes === null ? null : bytes / 1048576 };
}

async function main(): Promise<void> {
  const rounds = Number(args.get('rounds') ?? 3);
  if (PIN) pinProcess(process.pid, PIN.client);
  const loadBefore = loadAverage();
  const backend = mock();
  backend.maxConnections = STREAMS * 4;
  const upstream = await listen(backend, 1024);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'apim-sse-'));
  // --policy=FILE: another API policy in place of the LLM one (e.g. to see what the token policies cost).
  writeFileSync(path.join(dir, 'policy.xml'), args.has('policy') ? readFileSync(args.get('policy')!, 'utf8') : POLICY);
  writeFileSync(path.join(dir, 'backends.json'), JSON.stringify(aoaiPoolBackends(upstream)));
  writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({
      service: { name: 'sse', region: 'local' },
      namedValues: { 'openai-api-key': { value: 'bench-key', secret: true } },
      backends: ['backends.json'],
      apis: [{ id: 'openai', name: 'Azure OpenAI', path: 'openai', serviceUrl: `${upstream}/openai`, subscriptionRequired: false, policy: 'policy.xml' }],
    }),
  );
  const cli = cliCommand();
  const targets: Array<{ name: string; start(): Promise<Started> }> = [
    { name: 'direct (no proxy)', start: async () => ({ server: null, url: upstream }) },
    {
      name: 'bare proxy (node:http + undici)',
      start: () => startProcess(['--import', 'tsx', path.join(ROOT, 'bench', 'serve.bench.ts'), `--bare-proxy=${upstream}`]),
    },
    {
      name: 'emulator, LLM policy, token counting on',
      start: async () => startProcess([...cli, 'serve', '--config', path.join(dir, 'config.json'), '--port', String(await freePort()), '--log-level', 'warn']),
    },
  ];
  // --only=REGEX: a subset of the targets (by name), e.g. --only='direct|emulator'.
  const only = args.has('only') ? new RegExp(args.get('only')!) : null;
  const chosen = targets.filter((t) => !only || only.test(t.name));
  const runs = new Map<string, StreamRun[]>();
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const t of chosen) {
        const s = await t.start();
        try {
          await streams(`${s.url}${CHAT_PATH}&bench-chunks=2`, 5, s); // warm-up (tokenizer, connections)
          const r = await streams(s.url + CHAT_PATH, STREAMS, s);
          if (r.firstMs.length !== STREAMS || r.totalMs.length !== STREAMS) throw new Error(`${t.name}: ${r.totalMs.length} of ${STREAMS} streams completed`);
          runs.set(t.name, [...(runs.get(t.name) ?? []), r]);
          console.error(
            `round ${round} ${t.name}: first event p50 ${percentile(r.firstMs, 50).toFixed(2)} ms p99 ${percentile(r.firstMs, 99).toFixed(2)} ms (in ${percentile(r.inMs, 50).toFixed(2)}, out ${percentile(r.outMs, 50).toFixed(2)}, last tenth ${percentile(r.lastTenthMs, 50).toFixed(2)}), ${r.events} events, RSS ${r.rssMb?.toFixed(0) ?? 'n/a'} MB`,
          );
        } finally {
          if (s.server) await stopProcess(s.server.child);
        }
      }
    }
  } finally {
    await closeServer(backend);
    rmSync(dir, { recursive: true, force: true });
  }
  const rows = [...runs].map(([name, rs]) => ({
    name,
    p50: median(rs.map((r) => percentile(r.firstMs, 50))),
    p99: median(rs.map((r) => percentile(r.firstMs, 99))),
    last: median(rs.map((r) => percentile(r.lastTenthMs, 50))),
    in: median(rs.map((r) => percentile(r.inMs, 50))),
    out: median(rs.map((r) => percentile(r.outMs, 50))),
    total: median(rs.map((r) => percentile(r.totalMs, 50))),
    rss: median(rs.map((r) => r.rssMb ?? NaN)),
  }));
  const direct = rows.find((r) => r.name.startsWith('direct')) ?? null;
  const bare = rows.find((r) => r.name.startsWith('bare')) ?? null;
  const added = (r: (typeof rows)[number], base: (typeof rows)[number] | null) => {
    if (!base || r === base) return '–';
    const d = r.p50 - base.p50;
    return `${d < 0 ? '−' : '+'}${Math.abs(d).toFixed(2)}`;
  };
  console.log(
    [
      runHeader(loadBefore),
      `${STREAMS} concurrent streamed chat completions, ${CHUNKS} chunks ${INTERVAL} ms apart + usage${RAMP_MS ? `, started evenly over ${RAMP_MS} ms` : ''}; medians of ${rounds} round(s); ${PIN ? `server pinned to CPU ${PIN.server}, client + mock to CPU ${PIN.client}` : 'not pinned'}`,
      '',
      markdownTable(
        [
          'target',
          'first event p50 ms',
          'p99 ms',
          'way in p50 ms (request → mock)',
          'way out p50 ms (mock → client)',
          'p50 of the last tenth to start ms',
          'added p50 vs direct ms',
          'added p50 vs bare proxy ms',
          'whole stream p50 ms',
          'server RSS with all streams open MB',
        ],
        rows.map((r) => [
          r.name,
          r.p50.toFixed(2),
          r.p99.toFixed(2),
          r.in.toFixed(2),
          r.out.toFixed(2),
          r.last.toFixed(2),
          added(r, direct),
          r.name.startsWith('emulator') ? added(r, bare) : '–',
          r.total.toFixed(0),
          r === direct ? '(mock + client process)' : Number.isNaN(r.rss) ? 'n/a' : r.rss.toFixed(0),
        ]),
      ),
    ].join('\n'),
  );
}

await main();

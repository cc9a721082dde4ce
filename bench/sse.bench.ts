/**
 * Streamed chat completions through the gateway (loopback only; stops by itself).
 * Run: `npx tsx bench/sse.bench.ts [--streams=1000] [--chunks=20] [--interval=50] [--rounds=2] [--ramp=0]`
 * `--ramp=MS` starts the streams evenly over MS milliseconds instead of all at once: with streams longer than the
 * ramp (e.g. `--chunks=100 --ramp=2000`) all of them are still open together, but the first event no longer waits
 * behind a burst of connection set-ups, so the added first-event latency is the per-stream cost.
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
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import {
  CHAT_PATH,
  cliArgs,
  cliCommand,
  closeServer,
  freePort,
  listen,
  loadAverage,
  markdownTable,
  median,
  percentile,
  probeStart,
  probeStop,
  ROOT,
  runHeader,
  startServerProcess,
  stopProcess,
  type ServerProcess,
} from './lib/index.js';

const args = cliArgs();
const STREAMS = Number(args.get('streams') ?? 1000);
const CHUNKS = Number(args.get('chunks') ?? 20);
const INTERVAL = Number(args.get('interval') ?? 50);
const RAMP_MS = Number(args.get('ramp') ?? 0);
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

function mock(): http.Server {
  return http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      res.write(chunk(0));
      let i = 1;
      const timer = setInterval(() => {
        if (i < CHUNKS) res.write(chunk(i++));
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
  return startServerProcess(argv, { probe: true }).then((server) => ({ server, url: server.url }));
}

/** The server's RSS now (bench/probe.mjs), or this process's for "direct". */
async function rss(s: Started): Promise<number | null> {
  if (!s.server) return process.memoryUsage().rss;
  probeStart(s.server.child);
  return (await probeStop(s.server.child))?.rss ?? null;
}

interface StreamRun {
  firstMs: number[];
  totalMs: number[];
  events: number;
  rssMb: number | null;
}

/** Opens `n` concurrent streams; resolves when every one has ended. RSS is read once all first events arrived. */
async function streams(url: string, n: number, target: Started): Promise<StreamRun> {
  const agent = new Agent({ connections: n + 10, pipelining: 1, headersTimeout: 120_000, bodyTimeout: 120_000 });
  const firstMs: number[] = [];
  const totalMs: number[] = [];
  let events = 0;
  let firsts = 0;
  let allFirst!: () => void;
  const allFirstP = new Promise<void>((r) => (allFirst = r));
  const one = async (_: unknown, i: number) => {
    if (RAMP_MS > 0) await new Promise((r) => setTimeout(r, (i * RAMP_MS) / n));
    const t0 = performance.now();
    const r = await request(url, { method: 'POST', body: BODY, headers: { 'content-type': 'application/json' }, dispatcher: agent });
    if (r.statusCode !== 200) throw new Error(`stream answered ${r.statusCode}: ${await r.body.text()}`);
    let first = true;
    for await (const c of r.body) {
      if (first) {
        first = false;
        firstMs.push(performance.now() - t0);
        if (++firsts === n) allFirst();
      }
      events += (c as Buffer).toString().split('\n\n').length - 1;
    }
    totalMs.push(performance.now() - t0);
  };
  const all = Promise.all(Array.from({ length: n }, one));
  await Promise.race([allFirstP, all]);
  const bytes = await rss(target);
  await all;
  await agent.close();
  return { firstMs, totalMs, events, rssMb: bytes === null ? null : bytes / 1048576 };
}

async function main(): Promise<void> {
  const rounds = Number(args.get('rounds') ?? 2);
  const loadBefore = loadAverage();
  const backend = mock();
  backend.maxConnections = STREAMS * 4;
  const upstream = await listen(backend, 1024);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'apim-sse-'));
  writeFileSync(path.join(dir, 'policy.xml'), POLICY);
  writeFileSync(
    path.join(dir, 'backends.json'),
    JSON.stringify({
      backends: [
        { name: 'aoai-1', properties: { url: `${upstream}/openai`, protocol: 'http' } },
        { name: 'aoai-2', properties: { url: `${upstream}/openai`, protocol: 'http' } },
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
    }),
  );
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
  const runs = new Map<string, StreamRun[]>();
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const t of targets) {
        const s = await t.start();
        try {
          await streams(s.url + CHAT_PATH, 5, s); // warm-up (tokenizer, connections)
          const r = await streams(s.url + CHAT_PATH, STREAMS, s);
          if (r.firstMs.length !== STREAMS || r.totalMs.length !== STREAMS) throw new Error(`${t.name}: ${r.totalMs.length} of ${STREAMS} streams completed`);
          runs.set(t.name, [...(runs.get(t.name) ?? []), r]);
          console.error(
            `round ${round} ${t.name}: first event p50 ${percentile(r.firstMs, 50).toFixed(2)} ms p99 ${percentile(r.firstMs, 99).toFixed(2)} ms, ${r.events} events, RSS ${r.rssMb?.toFixed(0) ?? 'n/a'} MB`,
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
    total: median(rs.map((r) => percentile(r.totalMs, 50))),
    rss: median(rs.map((r) => r.rssMb ?? NaN)),
  }));
  const direct = rows[0]!;
  console.log(
    [
      runHeader(loadBefore),
      `${STREAMS} concurrent streamed chat completions, ${CHUNKS} chunks ${INTERVAL} ms apart + usage; medians of ${rounds} round(s)`,
      '',
      markdownTable(
        ['target', 'first event p50 ms', 'p99 ms', 'added p50 vs direct ms', 'whole stream p50 ms', 'server RSS with all streams open MB'],
        rows.map((r) => [
          r.name,
          r.p50.toFixed(2),
          r.p99.toFixed(2),
          r === direct ? '–' : `+${(r.p50 - direct.p50).toFixed(2)}`,
          r.total.toFixed(0),
          r === direct ? '(mock + client process)' : Number.isNaN(r.rss) ? 'n/a' : r.rss.toFixed(0),
        ]),
      ),
    ].join('\n'),
  );
}

await main();

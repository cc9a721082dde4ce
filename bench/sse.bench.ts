/**
 * Streamed chat completions through the gateway (loopback only; stops by itself).
 * Run: `npx tsx bench/sse.bench.ts [--streams=1000] [--chunks=20] [--interval=50] [--rounds=2]`
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
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';

const args = new Map(process.argv.slice(2).map((a) => [a.replace(/^--/, '').split('=')[0]!, a.split('=').slice(1).join('=') || 'true']));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PROBE = path.join(ROOT, 'bench', 'probe.mjs');
const STREAMS = Number(args.get('streams') ?? 1000);
const CHUNKS = Number(args.get('chunks') ?? 20);
const INTERVAL = Number(args.get('interval') ?? 50);
const REQUEST_PATH = '/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21';
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

interface Started {
  child: ChildProcess | null;
  url: string;
}

function startProcess(argv: string[]): Promise<Started> {
  const child = spawn(process.execPath, ['--import', PROBE, ...argv], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore', 'ipc'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    child.once('exit', (code) => reject(new Error(`${argv.join(' ')} exited (${code}): ${out}`)));
  });
}

async function stopProcess(s: Started): Promise<void> {
  const c = s.child;
  if (!c || c.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    c.once('exit', () => resolve());
    c.kill('SIGTERM');
    setTimeout(() => c.kill('SIGKILL'), 10_000).unref();
  });
}

function rss(s: Started): Promise<number | null> {
  const c = s.child;
  if (!c) return Promise.resolve(process.memoryUsage().rss);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), 5000);
    c.once('message', (m: { rss: number }) => {
      clearTimeout(timer);
      resolve(m.rss);
    });
    c.send('start');
    c.send('stop');
  });
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
  const one = async () => {
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

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function main(): Promise<void> {
  const rounds = Number(args.get('rounds') ?? 2);
  const loadBefore = os.loadavg();
  const backend = mock();
  backend.maxConnections = STREAMS * 4;
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', 1024, r));
  const upstream = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'apim-sse-'));
  writeFileSync(path.join(dir, 'policy.xml'), POLICY);
  writeFileSync(path.join(dir, 'backends.json'), JSON.stringify({ backends: [{ name: 'aoai-1', properties: { url: `${upstream}/openai`, protocol: 'http' } }, { name: 'aoai-2', properties: { url: `${upstream}/openai`, protocol: 'http' } }, { name: 'pool', properties: { type: 'Pool', pool: { services: [{ id: '/backends/aoai-1', priority: 1 }, { id: '/backends/aoai-2', priority: 2 }] } } }] }));
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ service: { name: 'sse', region: 'local' }, namedValues: { 'openai-api-key': { value: 'bench-key', secret: true } }, backends: ['backends.json'], apis: [{ id: 'openai', name: 'Azure OpenAI', path: 'openai', serviceUrl: `${upstream}/openai`, subscriptionRequired: false, policy: 'policy.xml' }] }));
  const dist = path.join(ROOT, 'dist', 'cli', 'main.js');
  const cli = existsSync(dist) ? [dist] : [path.join(ROOT, 'bin', 'apim-emulator.js')];
  const targets: Array<{ name: string; start(): Promise<Started> }> = [
    { name: 'direct (no proxy)', start: async () => ({ child: null, url: upstream }) },
    { name: 'bare proxy (node:http + undici)', start: () => startProcess(['--import', 'tsx', path.join(ROOT, 'bench', 'serve.bench.ts'), `--bare-proxy=${upstream}`]) },
    { name: 'emulator, LLM policy, token counting on', start: async () => startProcess([...cli, 'serve', '--config', path.join(dir, 'config.json'), '--port', String(await freePort()), '--log-level', 'warn']) },
  ];
  const runs = new Map<string, StreamRun[]>();
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const t of targets) {
        const s = await t.start();
        try {
          await streams(s.url + REQUEST_PATH, 5, s); // warm-up (tokenizer, connections)
          const r = await streams(s.url + REQUEST_PATH, STREAMS, s);
          if (r.firstMs.length !== STREAMS || r.totalMs.length !== STREAMS) throw new Error(`${t.name}: ${r.totalMs.length} of ${STREAMS} streams completed`);
          runs.set(t.name, [...(runs.get(t.name) ?? []), r]);
          console.error(`round ${round} ${t.name}: first event p50 ${pct(r.firstMs, 50).toFixed(2)} ms p99 ${pct(r.firstMs, 99).toFixed(2)} ms, ${r.events} events, RSS ${r.rssMb?.toFixed(0) ?? 'n/a'} MB`);
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
  const rows = [...runs].map(([name, rs]) => ({ name, p50: median(rs.map((r) => pct(r.firstMs, 50))), p99: median(rs.map((r) => pct(r.firstMs, 99))), total: median(rs.map((r) => pct(r.totalMs, 50))), rss: median(rs.map((r) => r.rssMb ?? NaN)) }));
  const direct = rows[0]!;
  console.log(
    [
      `date: ${new Date().toISOString()}  node ${process.version}  ${os.cpus().length} cores  load average at start: ${loadBefore.map((x) => x.toFixed(2)).join(' ')}`,
      `${STREAMS} concurrent streamed chat completions, ${CHUNKS} chunks ${INTERVAL} ms apart + usage; medians of ${rounds} round(s)`,
      '',
      '| target | first event p50 ms | p99 ms | added p50 vs direct ms | whole stream p50 ms | server RSS with all streams open MB |',
      '|---|---|---|---|---|---|',
      ...rows.map((r) => `| ${r.name} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r === direct ? '–' : `+${(r.p50 - direct.p50).toFixed(2)}`} | ${r.total.toFixed(0)} | ${r === direct ? '(mock + client process)' : Number.isNaN(r.rss) ? 'n/a' : r.rss.toFixed(0)} |`),
    ].join('\n'),
  );
}

await main();

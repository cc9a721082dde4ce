/**
 * Soak: idle RSS of a served gateway after sustained load stays within 2x its idle RSS at start (docs/limits.md).
 * Run: `npx tsx bench/soak.ts [--seconds=60] [--connections=50]`
 *
 * The emulator runs in its own process (`apim-emulator serve` on the bundled example with mock backends, port 0); this
 * process drives load with autocannon over loopback and reads the server's RSS from /proc. Exits 1 when the bound fails.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { CHAT_PATH, cliArgs, cliCommand, numberArg, startServerProcess, stopProcess } from './lib/index.js';

const args = cliArgs();
const seconds = numberArg(args, 'seconds', 60);
const connections = numberArg(args, 'connections', 50);

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

const server = await startServerProcess([
  ...cliCommand(),
  'serve',
  '--config',
  'policies/example/apim-emulator.json',
  '--mock-backends',
  '--port',
  '0',
  '--log-level',
  'silent',
]);
const { child, url } = server;
try {
  const health = await fetch(`${url}/_emulator/health`);
  if (!health.ok) throw new Error(`health: ${health.status}`);
  const load = (duration: number) =>
    autocannon({
      url: `${url}${CHAT_PATH}`,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'api-key': 'example-key' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hello' }] }),
      connections,
      duration,
    });
  // Warm-up: the modules a request needs (upstream, tokenizer, admin API) load on first use since the start-up work, so
  // "at start" is the served, warmed-up gateway, not the process before its first request.
  await load(2);
  await sleep(2000);
  const start = rssMb(child.pid!);
  // RSS every 15 s during the load: a plateau is bounded buffers filling, a steady climb would be a leak.
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(Math.round(rssMb(child.pid!))), 15_000);
  const result = await load(seconds);
  clearInterval(sampler);
  const peak = rssMb(child.pid!);
  console.log(`RSS during the load, every 15 s: ${samples.join(', ')} MB`);
  await sleep(5000);
  const idle = rssMb(child.pid!);
  const ok = idle <= 2 * start;
  console.log(
    `soak ${seconds}s x ${connections} connections: ${result.requests.total} requests (${result.non2xx} non-2xx, ${result.errors} errors); RSS idle at start ${start.toFixed(0)} MB, at end of load ${peak.toFixed(0)} MB, idle after ${idle.toFixed(0)} MB (bound 2x start: ${ok ? 'ok' : 'FAILED'})`,
  );
  process.exitCode = ok ? 0 : 1;
} finally {
  await stopProcess(child);
}

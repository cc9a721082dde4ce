/**
 * How fast a change reaches a connected web console (loopback only; stops by itself).
 * Run: `npx tsx bench/console.bench.ts [--samples=40]`
 *
 * The emulator runs in its own process (`serve` on the bundled example with mock backends and a virtual clock); this
 * process holds one console stream (/_emulator/console/stream) and measures, per sample, the wall time from sending a
 * change to receiving its push:
 *   clock    POST /_emulator/clock {"advanceMs": 1000}  →  the `state` event with the new clock time
 *   request  a chat completion through the gateway       →  the `requests` event with its row
 * Baseline in the same run: the round trip of the change itself (the admin or gateway response time).
 * Output: a markdown table on stdout.
 */
import { performance } from 'node:perf_hooks';
import {
  CHAT_PATH as CHAT,
  cliArgs,
  cliCommand,
  loadAverage,
  markdownTable,
  numberArg,
  percentile,
  runHeader,
  startServerProcess,
  stopProcess,
} from './lib/index.js';

const args = cliArgs();
const SAMPLES = numberArg(args, 'samples', 40);
const loadBefore = loadAverage();

const server = await startServerProcess([
  ...cliCommand(),
  'serve',
  '--config',
  'policies/example/apim-emulator.json',
  '--mock-backends',
  '--virtual-clock',
  '--port',
  '0',
  '--log-level',
  'silent',
]);
const url = server.url;

type Waiter = { event: string; test: (data: unknown) => boolean; resolve: () => void };
const waiters: Waiter[] = [];
const abort = new AbortController();
const stream = await fetch(`${url}/_emulator/console/stream`, { signal: abort.signal });
void (async () => {
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for await (const chunk of stream.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (!event || !data) continue;
        const parsed = JSON.parse(data) as unknown;
        for (let i = waiters.length - 1; i >= 0; i--) {
          const w = waiters[i]!;
          if (w.event === event && w.test(parsed)) {
            waiters.splice(i, 1);
            w.resolve();
          }
        }
      }
    }
  } catch {
    // closed at the end
  }
})();

function push(event: string, test: (data: unknown) => boolean): Promise<void> {
  return new Promise((resolve) => waiters.push({ event, test, resolve }));
}

const clockMs: number[] = [];
const clockRtt: number[] = [];
const reqMs: number[] = [];
const reqRtt: number[] = [];
let now = ((await (await fetch(`${url}/_emulator/clock`)).json()) as { epochMs: number }).epochMs;
for (let i = 0; i < SAMPLES; i++) {
  now += 1000;
  const target = now;
  const seen = push('state', (d) => (d as { clock: { epochMs: number } }).clock.epochMs === target);
  const t0 = performance.now();
  await (await fetch(`${url}/_emulator/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"advanceMs":1000}' })).text();
  clockRtt.push(performance.now() - t0);
  await seen;
  clockMs.push(performance.now() - t0);

  const marker = `${CHAT}&sample=${i}`;
  const row = push('requests', (d) => (d as Array<{ url: string }>).some((r) => r.url === marker));
  const t1 = performance.now();
  await (
    await fetch(`${url}${marker}`, {
      method: 'POST',
      headers: { 'api-key': 'example-key', 'content-type': 'application/json' },
      body: '{"messages":[{"role":"user","content":"Hi"}]}',
    })
  ).text();
  reqRtt.push(performance.now() - t1);
  await row;
  reqMs.push(performance.now() - t1);
}
abort.abort();
await stopProcess(server.child);

const q = (xs: number[]) => [50, 90, 100].map((p) => percentile(xs, p).toFixed(1)).join(' / ');
console.log(`${runHeader(loadBefore)}\n${SAMPLES} samples\n`);
console.log(
  markdownTable(
    ['change', 'its own round trip p50 / p90 / max ms', 'pushed to the console p50 / p90 / max ms'],
    [
      ['clock advanced (admin API)', q(clockRtt), q(clockMs)],
      ['request through the gateway', q(reqRtt), q(reqMs)],
    ],
  ),
);

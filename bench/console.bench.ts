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
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const args = new Map(process.argv.slice(2).map((a) => [a.replace(/^--/, '').split('=')[0]!, a.split('=').slice(1).join('=') || 'true']));
const SAMPLES = Number(args.get('samples') ?? 40);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHAT = '/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21';

const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--config', 'policies/example/apim-emulator.json', '--mock-backends', '--virtual-clock', '--port', '0', '--log-level', 'silent'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise<string>((resolve, reject) => {
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    const m = /listening on (http:\/\/[^\s]+)/.exec(out);
    if (m) resolve(m[1]!);
  });
  child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
});

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
let now = (await (await fetch(`${url}/_emulator/clock`)).json() as { epochMs: number }).epochMs;
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
  await (await fetch(`${url}${marker}`, { method: 'POST', headers: { 'api-key': 'example-key', 'content-type': 'application/json' }, body: '{"messages":[{"role":"user","content":"Hi"}]}' })).text();
  reqRtt.push(performance.now() - t1);
  await row;
  reqMs.push(performance.now() - t1);
}
abort.abort();
child.kill();

const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(1);
};
console.log(`${SAMPLES} samples, node ${process.version}, load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
console.log('| change | its own round trip p50 / p90 / max ms | pushed to the console p50 / p90 / max ms |');
console.log('|---|---|---|');
console.log(`| clock advanced (admin API) | ${q(clockRtt, 0.5)} / ${q(clockRtt, 0.9)} / ${q(clockRtt, 1)} | ${q(clockMs, 0.5)} / ${q(clockMs, 0.9)} / ${q(clockMs, 1)} |`);
console.log(`| request through the gateway | ${q(reqRtt, 0.5)} / ${q(reqRtt, 0.9)} / ${q(reqRtt, 1)} | ${q(reqMs, 0.5)} / ${q(reqMs, 0.9)} / ${q(reqMs, 1)} |`);

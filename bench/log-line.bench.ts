/**
 * What one request log line costs on its own: CPU and bytes allocated per `logger.info(line, 'request')` with the
 * serve command's pino settings (asynchronous sonic-boom destination, 4 KiB batches, here to /dev/null), against
 * JSON.stringify of the same object. The loop yields every 10 lines, as a server does between requests.
 * Run: `npx tsx bench/log-line.bench.ts [--lines=100000]`
 */
import v8 from 'node:v8';
import pino from 'pino';
import { cliArgs, markdownTable, numberArg } from './lib/index.js';

const lines = numberArg(cliArgs(), 'lines', 100_000);

/** The handler's request line (src/server/handler.ts), fixed shape. */
const line = (i: number) => ({
  method: 'POST',
  path: '/openai/deployments/gpt-4o/chat/completions',
  api: 'openai',
  operation: 'openai-any',
  status: 200,
  backend: 'aoai-1',
  durationMs: 1.234,
  requestId: `00000000-0000-0000-0000-00000000000${i % 10}`,
});

async function measure(f: (i: number) => void): Promise<{ cpuUs: number; bytes: number }> {
  const pass = async (n: number) => {
    for (let i = 0; i < n; i++) {
      f(i);
      if (i % 10 === 0) await new Promise<void>((r) => setImmediate(r));
    }
  };
  await pass(5_000); // warm-up
  const profiler = new v8.GCProfiler();
  profiler.start();
  const used0 = v8.getHeapStatistics().used_heap_size;
  const cpu0 = process.cpuUsage();
  await pass(lines);
  const cpu = process.cpuUsage(cpu0);
  const report = profiler.stop();
  let freed = 0;
  for (const gc of report.statistics) freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
  return { cpuUs: (cpu.user + cpu.system) / lines, bytes: (freed + v8.getHeapStatistics().used_heap_size - used0) / lines };
}

const base = await measure(() => undefined);
const logger = pino({ level: 'info', base: null }, pino.destination({ dest: '/dev/null', sync: false, minLength: 4096, periodicFlush: 200 }));
const logged = await measure((i) => logger.info(line(i), 'request'));
const stringified = await measure((i) => JSON.stringify(line(i)));
const row = (name: string, m: { cpuUs: number; bytes: number }) => [name, (m.cpuUs - base.cpuUs).toFixed(2), (m.bytes - base.bytes).toFixed(0)];
console.log(
  markdownTable(
    ['per line', 'CPU µs (above the loop)', 'bytes allocated'],
    [row('pino, as `serve` logs a request', logged), row('JSON.stringify of the same object', stringified)],
  ),
);
process.exit(0);

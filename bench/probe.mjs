// Preloaded (`node --import ./bench/probe.mjs ...`) into a server process under benchmark. Over the IPC channel the
// benchmark sends 'start' and 'stop'; 'stop' answers with the CPU time and the bytes the V8 heap allocated in between
// (sum over garbage collections of the heap freed, plus the growth of the live heap), and the RSS.
// Plain JavaScript so it loads before any TypeScript loader. Only the process started by the benchmark takes part.
import cluster from 'node:cluster';
import v8 from 'node:v8';

if (process.send && !cluster.isWorker) {
  let profiler = null;
  let cpu0 = null;
  let used0 = 0;
  process.on('message', (m) => {
    if (m === 'start') {
      profiler = new v8.GCProfiler();
      profiler.start();
      cpu0 = process.cpuUsage();
      used0 = v8.getHeapStatistics().used_heap_size;
    } else if (m === 'stop' && profiler) {
      const report = profiler.stop();
      profiler = null;
      const cpu = process.cpuUsage(cpu0);
      let freed = 0;
      for (const gc of report.statistics) freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
      const allocated = freed + v8.getHeapStatistics().used_heap_size - used0;
      process.send({ kind: 'probe', cpuUs: cpu.user + cpu.system, allocated, gcs: report.statistics.length, rss: process.memoryUsage().rss });
    }
  });
  // The benchmark's channel must not keep a server alive on its own.
  process.channel?.unref();
}

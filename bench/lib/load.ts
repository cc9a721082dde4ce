import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { percentile } from './stats.js';

export interface Throughput {
  rps: number;
  /** autocannon's latency percentiles (whole milliseconds). */
  p50: number;
  p99: number;
  /** 2xx answers. */
  total: number;
  /** Errors, timeouts and non-2xx answers. */
  bad: number;
}

export interface RequestShape {
  method?: 'GET' | 'POST';
  body?: string;
}

/** autocannon against one URL (programmatic; JSON content type when a body is sent). */
export async function throughput(url: string, connections: number, duration: number, shape: RequestShape = {}): Promise<Throughput> {
  const { default: autocannon } = await import('autocannon');
  const r = await autocannon({
    url,
    connections,
    duration,
    method: shape.method ?? 'GET',
    ...(shape.body !== undefined ? { body: shape.body, headers: { 'content-type': 'application/json' } } : {}),
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, total: r['2xx'], bad: r.errors + r.timeouts + r.non2xx };
}

export interface Latency {
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  n: number;
}

/**
 * Sequential requests over one keep-alive connection, each timed with performance.now() (autocannon rounds to whole
 * milliseconds, too coarse for a 0.3 ms goal). The first `warmup` are not counted; any non-200 answer fails the run.
 */
export async function sequentialLatency(url: string, n: number, warmup: number, shape: RequestShape = {}): Promise<Latency> {
  const u = new URL(url);
  const pool = new Pool(u.origin, { connections: 1 });
  const times: number[] = [];
  const method = shape.method ?? 'GET';
  const body = shape.body;
  try {
    for (let i = 0; i < warmup + n; i++) {
      const t0 = performance.now();
      const r = await pool.request({
        path: u.pathname + u.search,
        method,
        ...(body !== undefined ? { body, headers: { 'content-type': 'application/json' } } : {}),
      });
      await r.body.arrayBuffer();
      const dt = performance.now() - t0;
      if (r.statusCode !== 200) throw new Error(`latency run: ${url} answered ${r.statusCode}`);
      if (i >= warmup) times.push(dt);
    }
  } finally {
    await pool.close();
  }
  return {
    p50: percentile(times, 50),
    p90: percentile(times, 90),
    p99: percentile(times, 99),
    mean: times.reduce((a, b) => a + b, 0) / Math.max(1, times.length),
    n,
  };
}

import cluster from 'node:cluster';
import { PrimaryStateClient } from './primary.js';
import type { StateStore } from './store.js';

export type { Awaitable, CheckResult, CounterCheck, FixedCheck, SlidingCheck, SlidingHit, StateStore, StoredEntry, TakeResult } from './store.js';
export { isPromise, passAll, StateUnavailableError, whenReady } from './store.js';
export { MemoryStateStore } from './memory.js';
export type { RedisStateStore } from './redis.js';

export interface StateOptions {
  /** `redis://HOST:PORT[/DB]` (or `rediss://`); absent = counters in this process (or the cluster's primary). */
  url?: string;
  /** Default true: requests pass uncounted while Redis is down. */
  failOpen?: boolean;
  log: (level: 'warn' | 'info', message: string) => void;
}

/**
 * The store `serve` uses: Redis when a URL is given (checked at start-up), the primary process in a `--workers`
 * worker, else undefined (the gateway's own in-memory store). Throws an Error with a one-line reason.
 */
export async function openStateStore(o: StateOptions): Promise<StateStore | undefined> {
  if (o.url !== undefined) {
    if (!/^rediss?:\/\/[^/\s]+/i.test(o.url)) throw new Error(`--state must be a Redis URL (redis://HOST:PORT), got "${o.url}"`);
    // ioredis (~300 ms to import) loads only with --state (docs/performance.md, start-up).
    const { RedisStateStore } = await import('./redis.js');
    const store = new RedisStateStore({ url: o.url, failOpen: o.failOpen ?? true, log: o.log });
    try {
      await store.ready(5000);
    } catch {
      await store.close();
      throw new Error(`cannot reach Redis at ${o.url} (--state): is redis-server running there?`);
    }
    return store;
  }
  if (cluster.isWorker) return new PrimaryStateClient();
  return undefined;
}

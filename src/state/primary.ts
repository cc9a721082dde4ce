import type { Worker } from 'node:cluster';
import { MemoryStateStore } from './memory.js';
import type { BreakerOutcomeRecord, CounterCheck, SharedBreakerState, SlidingHit, StateStore, StoredEntry, TakeResult } from './store.js';

/**
 * `serve --workers N`: the counters and the built-in cache live in the primary process, so rate limits hold for the
 * gateway as a whole, as APIM counts per gateway, and the cache is "shared by all units" as APIM's built-in cache is.
 * Workers ask over the cluster's IPC channel; the primary answers from a MemoryStateStore, one message at a time (each
 * call is atomic there).
 */

/** The store operations a worker may ask for (every data operation of StateStore). */
const OPS = ['hit', 'add', 'take', 'correct', 'addFixed', 'cacheGet', 'cacheSet', 'cacheDelete', 'breakerRecord', 'reset'] as const;
type Op = (typeof OPS)[number];
const KNOWN: ReadonlySet<string> = new Set(OPS);

type Request = { kind: 'apim-emulator:state'; id: number; op: Op; args: unknown[] };
type Reply = { kind: 'apim-emulator:state-reply'; id: number; result?: unknown; error?: string };
/** A shared breaker opened (state.shareBreakers): sent to every worker. */
type BreakerNews = { kind: 'apim-emulator:breaker-opened'; key: string; state: SharedBreakerState };

/** What the host needs of a cluster Worker (a stand-in in tests). */
export type WorkerChannel = Pick<Worker, 'on' | 'once' | 'send' | 'isConnected'>;

/** What the client needs of its process's IPC channel (a stand-in in tests). */
export interface ProcessChannel {
  send(message: unknown): void;
  on(event: 'message', listener: (m: never) => void): void;
  off(event: 'message', listener: (m: never) => void): void;
}

/** In the primary: answers the workers' calls, and tells every worker when a shared breaker opens. */
export class PrimaryStateHost {
  private readonly store = new MemoryStateStore();
  private readonly workers = new Set<WorkerChannel>();

  constructor() {
    this.store.onBreakerOpened((key, state) => {
      const news: BreakerNews = { kind: 'apim-emulator:breaker-opened', key, state };
      for (const w of this.workers) if (w.isConnected()) w.send(news);
    });
  }

  attach(worker: WorkerChannel): void {
    this.workers.add(worker);
    worker.once('exit', () => this.workers.delete(worker));
    worker.on('message', (m: Request) => {
      if (m?.kind !== 'apim-emulator:state') return;
      let reply: Reply;
      try {
        if (!KNOWN.has(m.op)) throw new Error(`unknown state operation ${String(m.op)}`);
        const method = this.store[m.op] as (...a: unknown[]) => unknown;
        // undefined does not survive the IPC channel's JSON: null stands for it.
        reply = { kind: 'apim-emulator:state-reply', id: m.id, result: method.apply(this.store, m.args) ?? null };
      } catch (e) {
        reply = { kind: 'apim-emulator:state-reply', id: m.id, error: (e as Error).message };
      }
      if (worker.isConnected()) worker.send(reply);
    });
  }
}

/** In a worker: the store that asks the primary. */
export class PrimaryStateClient implements StateStore {
  readonly kind = 'primary';
  readonly shared = true;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  private readonly breakerListeners = new Set<(key: string, state: SharedBreakerState) => void>();
  private readonly onMessage = (m: Reply | BreakerNews) => {
    if (m?.kind === 'apim-emulator:breaker-opened') {
      for (const l of this.breakerListeners) l(m.key, m.state);
      return;
    }
    if (m?.kind !== 'apim-emulator:state-reply') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.error !== undefined) p.reject(new Error(m.error));
    else p.resolve(m.result ?? undefined);
  };

  constructor(private readonly channel: ProcessChannel = process as unknown as ProcessChannel) {
    channel.on('message', this.onMessage);
  }

  hit(key: string, now: number, windowMs: number, limit: number, need: number, commit: boolean): Promise<SlidingHit> {
    return this.call('hit', [key, now, windowMs, limit, need, commit]) as Promise<SlidingHit>;
  }

  async add(key: string, now: number, windowMs: number, amount: number): Promise<void> {
    await this.call('add', [key, now, windowMs, amount]);
  }

  take(now: number, checks: readonly CounterCheck[]): Promise<TakeResult> {
    return this.call('take', [now, checks]) as Promise<TakeResult>;
  }

  async correct(key: string, entry: number, at: number, amount: number, now: number, windowMs: number): Promise<void> {
    await this.call('correct', [key, entry, at, amount, now, windowMs]);
  }

  async addFixed(key: string, periodStart: number, expiresAt: number, now: number, calls: number, amount: number, roll: boolean): Promise<void> {
    await this.call('addFixed', [key, periodStart, expiresAt, now, calls, amount, roll]);
  }

  cacheGet(key: string, now: number): Promise<StoredEntry | undefined> {
    return this.call('cacheGet', [key, now]) as Promise<StoredEntry | undefined>;
  }

  async cacheSet(key: string, value: string, now: number, expiresAt: number): Promise<void> {
    await this.call('cacheSet', [key, value, now, expiresAt]);
  }

  async cacheDelete(key: string): Promise<boolean> {
    return (await this.call('cacheDelete', [key])) === true;
  }

  breakerRecord(key: string, now: number, o: BreakerOutcomeRecord): Promise<SharedBreakerState> {
    return this.call('breakerRecord', [key, now, o]) as Promise<SharedBreakerState>;
  }

  onBreakerOpened(listener: (key: string, state: SharedBreakerState) => void): () => void {
    this.breakerListeners.add(listener);
    return () => this.breakerListeners.delete(listener);
  }

  async reset(): Promise<void> {
    await this.call('reset', []);
  }

  async close(): Promise<void> {
    this.channel.off('message', this.onMessage);
    for (const p of this.pending.values()) p.reject(new Error('state store closed'));
    this.pending.clear();
  }

  private call(op: Op, args: unknown[]): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.channel.send({ kind: 'apim-emulator:state', id, op, args } satisfies Request);
    });
  }
}

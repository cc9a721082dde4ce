import type { Worker } from 'node:cluster';
import { MemoryStateStore } from './memory.js';
import type { SlidingHit, StateStore } from './store.js';

/**
 * `serve --workers N`: the counters live in the primary process, so rate limits hold for the gateway as a whole, as
 * APIM counts per gateway. Workers ask over the cluster's IPC channel; the primary answers from a MemoryStateStore,
 * one message at a time (each call is atomic there).
 */

type Call =
  | { op: 'hit'; args: [string, number, number, number, number, boolean] }
  | { op: 'add'; args: [string, number, number, number] }
  | { op: 'reset'; args: [] };
type Request = { kind: 'apim-emulator:state'; id: number } & Call;
type Reply = { kind: 'apim-emulator:state-reply'; id: number; result?: SlidingHit | null; error?: string };

/** In the primary: answers the workers' calls. */
export class PrimaryStateHost {
  private readonly store = new MemoryStateStore();

  attach(worker: Worker): void {
    worker.on('message', (m: Request) => {
      if (m?.kind !== 'apim-emulator:state') return;
      let reply: Reply;
      try {
        const result = m.op === 'hit' ? this.store.hit(...m.args) : m.op === 'add' ? (this.store.add(...m.args), null) : (this.store.reset(), null);
        reply = { kind: 'apim-emulator:state-reply', id: m.id, result };
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
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: SlidingHit | null) => void; reject: (e: Error) => void }>();
  private readonly onMessage = (m: Reply) => {
    if (m?.kind !== 'apim-emulator:state-reply') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.error !== undefined) p.reject(new Error(m.error));
    else p.resolve(m.result ?? null);
  };

  constructor() {
    process.on('message', this.onMessage);
  }

  hit(key: string, now: number, windowMs: number, limit: number, need: number, commit: boolean): Promise<SlidingHit> {
    return this.call({ op: 'hit', args: [key, now, windowMs, limit, need, commit] }) as Promise<SlidingHit>;
  }

  async add(key: string, now: number, windowMs: number, amount: number): Promise<void> {
    await this.call({ op: 'add', args: [key, now, windowMs, amount] });
  }

  async reset(): Promise<void> {
    await this.call({ op: 'reset', args: [] });
  }

  async close(): Promise<void> {
    process.off('message', this.onMessage);
    for (const p of this.pending.values()) p.reject(new Error('state store closed'));
    this.pending.clear();
  }

  private call(c: Call): Promise<SlidingHit | null> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      process.send!({ kind: 'apim-emulator:state', id, ...c } satisfies Request);
    });
  }
}

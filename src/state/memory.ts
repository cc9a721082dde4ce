import { SlidingWindow } from '../policies/support/windows.js';
import type { SlidingHit, StateStore } from './store.js';

/** The default store: counters in this process, answers synchronously. */
export class MemoryStateStore implements StateStore {
  readonly kind = 'memory';
  private readonly windows = new Map<string, SlidingWindow>();

  hit(key: string, now: number, windowMs: number, limit: number, need: number, commit: boolean): SlidingHit {
    const w = this.window(key);
    const used = w.total(now, windowMs);
    if (need > 0 && used + need > limit) return { allowed: false, used, waitMs: w.waitFor(now, windowMs, limit, need) };
    if (commit && need > 0) w.add(now, need);
    return { allowed: true, used, waitMs: 0 };
  }

  add(key: string, now: number, windowMs: number, amount: number): void {
    const w = this.window(key);
    // Expire first so the window never keeps more than its period.
    w.total(now, windowMs);
    if (amount > 0) w.add(now, amount);
  }

  reset(): void {
    this.windows.clear();
  }

  async close(): Promise<void> {
    this.windows.clear();
  }

  private window(key: string): SlidingWindow {
    let w = this.windows.get(key);
    if (!w) {
      w = new SlidingWindow();
      this.windows.set(key, w);
    }
    return w;
  }
}

/**
 * The in-process counters of the state store (src/state/memory.ts), all on clock time (epoch ms from the injected Clock):
 * - SlidingWindow: rate-limit, rate-limit-by-key and the tokens-per-minute part of the token-limit policies. An amount
 *   counted at time t stays in the window while now < t + window, so the sum always covers exactly the last window.
 * - FixedWindow: quota, quota-by-key and token-quota. The counter resets when a new period begins.
 */

/** One counted amount; `amount` may be changed later (a token estimate corrected by the reported usage). */
export interface WindowEntry {
  readonly at: number;
  amount: number;
  /** The store's id for the entry (0 when the caller keeps the entry object itself). */
  readonly id: number;
}

export class SlidingWindow {
  private entries: WindowEntry[] = [];
  private head = 0;
  private sum = 0;

  /** Sum of the amounts counted in the last `windowMs` before `now`. */
  total(now: number, windowMs: number): number {
    this.expire(now, windowMs);
    return this.sum;
  }

  /** Counts `amount` at `now`; returns the entry so that the caller can correct it later. */
  add(now: number, amount: number, id = 0): WindowEntry {
    const entry: WindowEntry = { at: now, amount, id };
    this.entries.push(entry);
    this.sum += amount;
    return entry;
  }

  /** Changes an entry's amount (it keeps its time); a no-op once the entry has left the window. */
  correct(entry: WindowEntry, amount: number, now: number, windowMs: number): void {
    this.expire(now, windowMs);
    if (entry.at <= now - windowMs) return;
    this.sum += amount - entry.amount;
    entry.amount = amount;
  }

  /** The live entry with store id `id` (ids grow in the order entries are added, so a binary search finds it), or undefined. */
  find(id: number): WindowEntry | undefined {
    let lo = this.head;
    let hi = this.entries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const e = this.entries[mid]!;
      if (e.id === id) return e;
      if (e.id < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /**
   * Milliseconds from `now` until `need` more fits under `limit`, i.e. until enough of the oldest entries have left
   * the window. 0 when it fits now. When it can never fit (need > limit) the whole window is returned.
   */
  waitFor(now: number, windowMs: number, limit: number, need: number): number {
    let sum = this.total(now, windowMs);
    if (sum + need <= limit) return 0;
    if (need > limit) return windowMs;
    for (let i = this.head; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      sum -= e.amount;
      if (sum + need <= limit) return e.at + windowMs - now;
    }
    return windowMs;
  }

  private expire(now: number, windowMs: number): void {
    const cutoff = now - windowMs;
    const list = this.entries;
    while (this.head < list.length && list[this.head]!.at <= cutoff) {
      this.sum -= list[this.head]!.amount;
      this.head++;
    }
    // Compact now and then so a long-lived counter does not keep every expired entry.
    if (this.head > 64 && this.head * 2 > list.length) {
      this.entries = list.slice(this.head);
      this.head = 0;
    }
    if (this.head === list.length && this.sum !== 0) this.sum = 0; // guard against float drift
  }
}

/** A fixed-window counter of calls and bytes (quota) or tokens (token-quota). */
export class FixedWindow {
  periodStart = Number.NEGATIVE_INFINITY;
  calls = 0;
  amount = 0;

  /** Resets the counters when `periodStart` (of the period that contains now) differs from the stored one. */
  roll(periodStart: number): void {
    if (periodStart !== this.periodStart) {
      this.periodStart = periodStart;
      this.calls = 0;
      this.amount = 0;
    }
  }

  /** Adds to the amount when the counter is still in the period that started at `periodStart` (late bandwidth/usage). */
  addIn(periodStart: number, amount: number): void {
    if (periodStart === this.periodStart) this.amount = Math.max(0, this.amount + amount);
  }
}

import type { BreakerOutcomeRecord, CheckResult, CounterCheck, SharedBreakerState, SlidingHit, StateStore, StoredEntry, TakeResult } from './store.js';
import { FixedWindow, SlidingWindow } from './windows.js';

/** Bounds of the in-process cache of serialized entries (the primary of `serve --workers`): docs/limits.md. */
export const MEMORY_CACHE_LIMITS = { entries: 10_000, bytes: 64 * 1024 * 1024 };

/** The default store: counters in this process, answers synchronously. */
export class MemoryStateStore implements StateStore {
  readonly kind = 'memory';
  readonly shared = false;
  private readonly windows = new Map<string, SlidingWindow>();
  private readonly fixed = new Map<string, FixedWindow>();
  private readonly cache = new Map<string, StoredEntry>();
  private cacheBytes = 0;
  private nextEntry = 1;
  private readonly breakers = new Map<string, SharedBreaker>();
  private readonly breakerListeners = new Set<(key: string, state: SharedBreakerState) => void>();

  hit(key: string, now: number, windowMs: number, limit: number, need: number, commit: boolean): SlidingHit {
    const w = this.window(key);
    const used = w.total(now, windowMs);
    if (need > 0 && used + need > limit) return { allowed: false, used, waitMs: w.waitFor(now, windowMs, limit, need) };
    if (commit && need > 0) w.add(now, need, this.nextEntry++);
    return { allowed: true, used, waitMs: 0 };
  }

  add(key: string, now: number, windowMs: number, amount: number): void {
    const w = this.window(key);
    // Expire first so the window never keeps more than its period.
    w.total(now, windowMs);
    if (amount > 0) w.add(now, amount, this.nextEntry++);
  }

  take(now: number, checks: readonly CounterCheck[]): TakeResult {
    const results: CheckResult[] = [];
    for (let i = 0; i < checks.length; i++) {
      const c = checks[i]!;
      if (c.kind === 'sliding') {
        const w = this.window(c.key);
        const used = w.total(now, c.windowMs);
        const fits = !(c.need > 0 && used + c.need > c.limit);
        results.push({ used, amount: 0, waitMs: fits ? 0 : w.waitFor(now, c.windowMs, c.limit, c.need), entry: 0 });
        if (!fits) return { allowed: false, failed: i, results };
      } else {
        const f = this.counter(c.key);
        f.roll(c.periodStart);
        results.push({ used: f.calls, amount: f.amount, waitMs: 0, entry: 0 });
        if (!fixedFits(c, f.calls, f.amount)) return { allowed: false, failed: i, results };
      }
    }
    for (let i = 0; i < checks.length; i++) {
      const c = checks[i]!;
      if (c.kind === 'sliding') {
        if (c.add > 0) results[i]!.entry = this.window(c.key).add(now, c.add, this.nextEntry++).id;
      } else {
        const f = this.counter(c.key);
        f.calls += c.addCalls;
        f.amount = Math.max(0, f.amount + c.addAmount);
      }
    }
    return { allowed: true, failed: -1, results };
  }

  correct(key: string, entry: number, _at: number, amount: number, now: number, windowMs: number): void {
    const w = this.windows.get(key);
    const e = w?.find(entry);
    if (w && e) w.correct(e, amount, now, windowMs);
  }

  addFixed(key: string, periodStart: number, _expiresAt: number, _now: number, calls: number, amount: number, roll: boolean): void {
    const f = this.counter(key);
    if (roll) f.roll(periodStart);
    else if (f.periodStart !== periodStart) return;
    f.calls += calls;
    f.amount = Math.max(0, f.amount + amount);
  }

  cacheGet(key: string, now: number): StoredEntry | undefined {
    const e = this.cache.get(key);
    if (!e) return undefined;
    if (now >= e.expiresAt) {
      this.dropCached(key, e);
      return undefined;
    }
    return e;
  }

  cacheSet(key: string, value: string, now: number, expiresAt: number): void {
    const old = this.cache.get(key);
    if (old) this.dropCached(key, old); // re-inserted below, so Map order stays oldest-first
    if (!(expiresAt > now) || value.length > MEMORY_CACHE_LIMITS.bytes) return;
    this.cacheBytes += value.length;
    this.cache.set(key, { value, expiresAt });
    if (this.cache.size > MEMORY_CACHE_LIMITS.entries || this.cacheBytes > MEMORY_CACHE_LIMITS.bytes) this.evict(now);
  }

  cacheDelete(key: string): boolean {
    const e = this.cache.get(key);
    if (e) this.dropCached(key, e);
    return e !== undefined;
  }

  breakerRecord(key: string, now: number, o: BreakerOutcomeRecord): SharedBreakerState {
    let b = this.breakers.get(key);
    if (!b) {
      b = { openUntil: 0, openForMs: 0, trips: 0, reason: '', ats: [], fails: [], head: 0, failures: 0, total: 0 };
      this.breakers.set(key, b);
    }
    const state = (tripped: boolean): SharedBreakerState => ({
      openUntil: b.openUntil,
      openForMs: b.openForMs,
      trips: b.trips,
      reason: b.reason,
      failures: b.failures,
      total: b.total,
      tripped,
    });
    if (b.openUntil > now) return state(false);
    while (b.head < b.ats.length && now - b.ats[b.head]! >= o.intervalMs) {
      b.total--;
      if (b.fails[b.head]) b.failures--;
      b.head++;
    }
    if (b.head > 1024 && b.head * 2 > b.ats.length) {
      b.ats.splice(0, b.head);
      b.fails.splice(0, b.head);
      b.head = 0;
    }
    b.ats.push(now);
    b.fails.push(o.failure);
    b.total++;
    if (o.failure) b.failures++;
    const threshold = breakerThreshold(o, b.failures, b.total);
    if (!o.failure || threshold === undefined) return state(false);
    b.openUntil = now + o.openForMs;
    b.openForMs = o.openForMs;
    b.trips++;
    b.reason = `${o.why}; ${threshold} within ${o.interval}; open for ${o.source}`;
    const opened = state(true);
    b.ats = [];
    b.fails = [];
    b.head = 0;
    b.failures = 0;
    b.total = 0;
    for (const l of this.breakerListeners) l(key, opened);
    return opened;
  }

  onBreakerOpened(listener: (key: string, state: SharedBreakerState) => void): () => void {
    this.breakerListeners.add(listener);
    return () => this.breakerListeners.delete(listener);
  }

  reset(): void {
    this.breakers.clear();
    this.windows.clear();
    this.fixed.clear();
    this.cache.clear();
    this.cacheBytes = 0;
  }

  async close(): Promise<void> {
    this.reset();
  }

  private dropCached(key: string, e: StoredEntry): void {
    this.cache.delete(key);
    this.cacheBytes -= e.value.length;
  }

  /** Expired entries first, then the oldest, until both bounds hold. */
  private evict(now: number): void {
    for (const [k, e] of this.cache) if (now >= e.expiresAt) this.dropCached(k, e);
    for (const [k, e] of this.cache) {
      if (this.cache.size <= MEMORY_CACHE_LIMITS.entries && this.cacheBytes <= MEMORY_CACHE_LIMITS.bytes) break;
      this.dropCached(k, e);
    }
  }

  private window(key: string): SlidingWindow {
    let w = this.windows.get(key);
    if (!w) {
      w = new SlidingWindow();
      this.windows.set(key, w);
    }
    return w;
  }

  private counter(key: string): FixedWindow {
    let f = this.fixed.get(key);
    if (!f) {
      f = new FixedWindow();
      this.fixed.set(key, f);
    }
    return f;
  }
}

/** A shared breaker in this process: its trip state and the outcomes of its interval (parallel arrays from `head`). */
interface SharedBreaker {
  openUntil: number;
  openForMs: number;
  trips: number;
  reason: string;
  ats: number[];
  fails: boolean[];
  head: number;
  failures: number;
  total: number;
}

/** The rule met by `failures` of `total` ("N failures >= count C" / "F/T failures >= P%"), or undefined. */
export function breakerThreshold(o: Pick<BreakerOutcomeRecord, 'count' | 'percentage'>, failures: number, total: number): string | undefined {
  if (o.count !== undefined) return failures >= o.count ? `${failures} failures >= count ${o.count}` : undefined;
  const pct = o.percentage ?? 100;
  return failures > 0 && failures * 100 >= pct * total ? `${failures}/${total} failures >= ${pct}%` : undefined;
}

/** A fixed counter's check (shared with the Redis script's logic, test/state/contract.ts pins both). */
function fixedFits(c: { callsLimit?: number; callsNeed: number; amountLimit?: number; amountNeed: number }, calls: number, amount: number): boolean {
  if (c.callsLimit !== undefined && calls + c.callsNeed > c.callsLimit) return false;
  if (c.amountLimit !== undefined && amount + c.amountNeed > c.amountLimit) return false;
  return true;
}

/**
 * Where the throttling policies keep their counters and the caches their entries (docs/performance.md, "Shared
 * state"): in this process (the default), in the primary process of `serve --workers N` (shared by the workers), or in
 * Redis (`--state redis://…`, shared by several emulator processes). Every implementation passes the same contract
 * tests (test/state/contract.ts). Windows and cache lifetimes run on the emulator's clock: callers pass `now`, stores
 * never read a clock.
 */

/** Memory answers synchronously (no microtask on the default path); remote stores answer with a promise. */
export type Awaitable<T> = T | Promise<T>;

export interface SlidingHit {
  /** Whether `need` more fitted under the limit (and, with commit, was counted). */
  allowed: boolean;
  /** The window's total before this call. */
  used: number;
  /** When not allowed: milliseconds until `need` fits (the whole window when need > limit). 0 when allowed. */
  waitMs: number;
}

/**
 * A sliding window of amounts (rate-limit, rate-limit-by-key, tokens-per-minute): fits when used + need <= limit;
 * `add` is counted at `now` when every check of the call fits.
 */
export interface SlidingCheck {
  readonly kind: 'sliding';
  readonly key: string;
  readonly windowMs: number;
  readonly limit: number;
  readonly need: number;
  readonly add: number;
}

/**
 * A fixed-period counter of calls and an amount (quota, quota-by-key, token-quota). A counter last used in another
 * period starts again from zero. Fits when calls + callsNeed <= callsLimit and amount + amountNeed <= amountLimit
 * (a limit left out is not checked); `addCalls` / `addAmount` are counted when every check of the call fits.
 */
export interface FixedCheck {
  readonly kind: 'fixed';
  readonly key: string;
  /** Start of the period that contains now (the counter's identity in time). */
  readonly periodStart: number;
  /** Clock time after which the counter is of no use (the period's end); 0 = never (a quota that is not renewed). */
  readonly expiresAt: number;
  readonly callsLimit?: number | undefined;
  readonly callsNeed: number;
  readonly amountLimit?: number | undefined;
  readonly amountNeed: number;
  readonly addCalls: number;
  readonly addAmount: number;
}

export type CounterCheck = SlidingCheck | FixedCheck;

/** What one check found (before this call's additions). */
export interface CheckResult {
  /** Sliding: the window's total. Fixed: the calls of the period. */
  used: number;
  /** Fixed: the amount of the period (0 for sliding). */
  amount: number;
  /** Sliding, not fitting: ms until `need` fits (the whole window when need > limit); else 0. */
  waitMs: number;
  /** Sliding: the id of the amount counted by this call (for correct()), 0 when nothing was counted. */
  entry: number;
}

export interface TakeResult {
  /** Every check fitted and the additions were counted. */
  allowed: boolean;
  /** Index of the first check that did not fit (-1 when allowed). Checks after it were not evaluated. */
  failed: number;
  results: CheckResult[];
}

/** A cached entry as a remote store keeps it: text the cache's codec produced, and its expiry on the emulator clock. */
export interface StoredEntry {
  value: string;
  expiresAt: number;
}

/** One outcome of a shared circuit breaker (`state.shareBreakers`), as the forward-request that saw it judged it. */
export interface BreakerOutcomeRecord {
  /** The rule's sliding interval. */
  intervalMs: number;
  /** Trip at this many failures in the interval (or, without it, at `percentage`). */
  count?: number | undefined;
  percentage?: number | undefined;
  failure: boolean;
  /** How long a trip caused by this outcome keeps the breaker open (tripDuration, or the response's Retry-After). */
  openForMs: number;
  /** Texts for the trip reason: why this outcome failed, the rule's interval, where the open time comes from. */
  why: string;
  interval: string;
  source: string;
}

/** A shared breaker's state after a record (or announced to the other gateways when it trips). */
export interface SharedBreakerState {
  /** Clock time until which it is open; 0 (or a past time) when closed. */
  openUntil: number;
  openForMs: number;
  trips: number;
  reason: string;
  failures: number;
  total: number;
  /** This record opened it. */
  tripped: boolean;
}

export interface StateStore {
  /** `memory`, `primary` or `redis`: shown in logs and the admin health answer. */
  readonly kind: string;
  /** Whether several gateway processes see the same state through this store (primary, Redis). */
  readonly shared: boolean;
  /**
   * Sliding-window counter `key`: the amounts counted in the last `windowMs` before `now`. When used + need <= limit,
   * counts `need` at `now` (only with `commit`); otherwise counts nothing. One atomic step per call.
   */
  hit(key: string, now: number, windowMs: number, limit: number, need: number, commit: boolean): Awaitable<SlidingHit>;
  /** Counts `amount` at `now` without a check (rate-limit-by-key's postponed increments). */
  add(key: string, now: number, windowMs: number, amount: number): Awaitable<void>;
  /**
   * Checks every counter in order, stopping at the first that does not fit; only when all fit are their additions
   * counted. One atomic step: concurrent gateways never both take the last call (rate-limit with nested limits,
   * quotas, token limits).
   */
  take(now: number, checks: readonly CounterCheck[]): Awaitable<TakeResult>;
  /**
   * Changes the amount of sliding entry `entry` (counted at `at` by take) to `amount`: a token estimate replaced by the
   * reported usage. Nothing happens once the entry has left the window.
   */
  correct(key: string, entry: number, at: number, amount: number, now: number, windowMs: number): Awaitable<void>;
  /**
   * Adds to fixed counter `key` of the period starting at `periodStart`. `roll`: a counter of another period starts
   * again from zero first (a postponed call count); else the addition is dropped when the period has changed (late
   * bandwidth or token usage). The amount never goes below zero.
   */
  addFixed(key: string, periodStart: number, expiresAt: number, now: number, calls: number, amount: number, roll: boolean): Awaitable<void>;
  /** A cached entry still alive at `now`, or undefined. */
  cacheGet(key: string, now: number): Awaitable<StoredEntry | undefined>;
  /** Keeps `value` until `expiresAt` (clock time); an expiry not after `now` removes the key. */
  cacheSet(key: string, value: string, now: number, expiresAt: number): Awaitable<void>;
  /** Removes a cached entry; true when one was there. */
  cacheDelete(key: string): Awaitable<boolean>;
  /**
   * Records one outcome of shared breaker `key`: ignored while it is open; else counted in the interval's window and,
   * when the rule is met, the breaker opens (its window starts empty again) and every gateway sharing it is told
   * (onBreakerOpened). One atomic step.
   */
  breakerRecord(key: string, now: number, o: BreakerOutcomeRecord): Awaitable<SharedBreakerState>;
  /** Listens for shared breakers opened by any gateway using this store (this one included); returns the unsubscribe function. */
  onBreakerOpened(listener: (key: string, state: SharedBreakerState) => void): () => void;
  /** Forgets every counter and cached entry (CI mode between tests: POST /_emulator/reset). */
  reset(): Awaitable<void>;
  close(): Promise<void>;
}

/** A remote store could not answer and is configured to fail closed: the request is refused (503). */
export class StateUnavailableError extends Error {
  constructor(
    readonly store: string,
    message: string,
  ) {
    super(message);
    this.name = 'StateUnavailableError';
  }
}

export function isPromise<T>(v: Awaitable<T>): v is Promise<T> {
  return typeof (v as Promise<T> | null)?.then === 'function';
}

/** Runs `then` on a value that may still be on its way, without a microtask when it is already there. */
export function whenReady<T, R>(v: Awaitable<T>, then: (value: T) => R): R | Promise<Awaited<R>> {
  return isPromise(v) ? (v.then(then) as Promise<Awaited<R>>) : then(v);
}

/** Fail-open answer of take(): every check passes, nothing is known about the counts. */
export function passAll(checks: readonly CounterCheck[]): TakeResult {
  return { allowed: true, failed: -1, results: checks.map(() => ({ used: 0, amount: 0, waitMs: 0, entry: 0 })) };
}

/**
 * Real-time lifetime added to a remote counter or cache entry beyond its clock-time end: remote keys expire on the
 * store's own (wall) clock only to collect garbage, so a virtual clock that stands still keeps its counts for this long
 * (docs/emulator-choices.md, "Shared state on a virtual clock").
 */
export const REMOTE_GRACE_MS = 10 * 60_000;

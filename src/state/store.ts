/**
 * Where the throttling policies keep their counters (docs/performance.md, "Shared state"): in this process (the
 * default), in the primary process of `serve --workers N` (shared by the workers), or in Redis (`--state redis://…`,
 * shared by several emulator processes). Every implementation passes the same contract tests
 * (test/state/contract.ts). Windows run on the emulator's clock: callers pass `now`, stores never read a clock.
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

export interface StateStore {
  /** `memory`, `primary` or `redis`: shown in logs and the admin health answer. */
  readonly kind: string;
  /**
   * Sliding-window counter `key`: the amounts counted in the last `windowMs` before `now`. When used + need <= limit,
   * counts `need` at `now` (only with `commit`); otherwise counts nothing. One atomic step per call.
   */
  hit(key: string, now: number, windowMs: number, limit: number, need: number, commit: boolean): Awaitable<SlidingHit>;
  /** Counts `amount` at `now` without a check (rate-limit-by-key's postponed increments). */
  add(key: string, now: number, windowMs: number, amount: number): Awaitable<void>;
  /** Forgets every counter (CI mode between tests: POST /_emulator/reset). */
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

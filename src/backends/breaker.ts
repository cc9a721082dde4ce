import { formatTimeSpan, retryAfterMs } from './duration.js';
import type { BreakerOutcome, BreakerSnapshot, CircuitBreakerRule } from './types.js';
import type { SharedBreakerState, StateStore } from '../state/store.js';
import { isPromise } from '../state/store.js';

/**
 * `state.shareBreakers`: the breaker's window and trips live in the state store (the primary of `serve --workers`, or
 * Redis), so every gateway sharing it sees one breaker (docs/backends.md, "Shared breakers"). A remote store answers
 * later: record() then returns a promise of whether this outcome opened the breaker.
 */
export interface BreakerSharing {
  store: StateStore;
  key: string;
}

/**
 * One backend's circuit breaker (one rule; ARM allows no more). Closed → open when the failures in the sliding
 * `interval` reach `count` (or `percentage` of all outcomes, with at least one failure); open for `tripDuration`, or for
 * the tripping response's Retry-After when `acceptRetryAfter`; then closed again with an empty window (no half-open:
 * APIM documents none). Time only comes in as arguments, from the registry's injected Clock. See docs/backends.md.
 */
export class CircuitBreaker {
  state: 'closed' | 'open' = 'closed';
  openUntil = 0;
  /** Effective open duration of the current/last trip, ms. */
  openForMs = 0;
  trips = 0;
  lastTripReason: string | undefined;

  // The sliding window as a deque of buckets (parallel arrays; `head` is the oldest live bucket). Outcomes in the same
  // millisecond share a bucket; beyond EXACT_BUCKETS live buckets, outcomes closer than interval/4096 share one too,
  // which bounds memory under heavy traffic at the cost of evicting them up to interval/4096 early.
  private ats: number[] = [];
  private totals: number[] = [];
  private fails: number[] = [];
  private head = 0;
  private sumTotal = 0;
  private sumFail = 0;
  private readonly mergeWithinMs: number;
  private readonly errorReasons: Set<string>;
  private sharing: BreakerSharing | undefined;
  /** With sharing: the shared window's counts after the last outcome recorded there. */
  private sharedWindow = { failures: 0, total: 0 };

  constructor(
    readonly backendName: string,
    readonly rule: CircuitBreakerRule,
    private readonly connectionFailuresTrip: boolean,
  ) {
    this.mergeWithinMs = rule.intervalMs / 4096;
    this.errorReasons = new Set(rule.errorReasons.map((r) => r.toLowerCase()));
  }

  /** Why this outcome counts as a failure of the rule, or undefined when it does not. */
  failureOf(outcome: BreakerOutcome): string | undefined {
    if ('status' in outcome) {
      for (const r of this.rule.statusCodeRanges) {
        if (outcome.status >= r.min && outcome.status <= r.max) return `status ${outcome.status} in ${r.min}-${r.max}`;
      }
      return undefined;
    }
    const reason = outcome.errorReason;
    if (reason === 'BackendConnectionFailure' && !this.connectionFailuresTrip) return undefined;
    return this.errorReasons.has(reason.toLowerCase()) ? `error ${reason}` : undefined;
  }

  /** Closes the breaker when `now` has reached openUntil; returns the time it closed (openUntil) or undefined. */
  refresh(now: number): number | undefined {
    if (this.state === 'open' && now >= this.openUntil) {
      this.state = 'closed';
      this.clearWindow();
      return this.openUntil;
    }
    return undefined;
  }

  isOpen(now: number): boolean {
    return this.state === 'open' && now < this.openUntil;
  }

  /**
   * Records one forward-request outcome (call refresh() first). Returns true when this outcome opened the breaker, or
   * a promise of it when a remote store decides. Outcomes arriving while open (requests sent before the trip) are
   * ignored: they neither extend nor count.
   */
  record(outcome: BreakerOutcome, now: number): boolean | Promise<boolean> {
    if (this.state === 'open') return false;
    const failure = this.failureOf(outcome);
    if (this.sharing) return this.recordShared(this.sharing, outcome, failure, now);
    return this.recordLocal(outcome, failure, now);
  }

  /** Keeps this breaker's window and trips in a shared store from now on (state.shareBreakers). */
  share(sharing: BreakerSharing): void {
    this.sharing = sharing;
  }

  /**
   * Takes over a shared breaker's state (the store's answer to a record, or a trip another gateway announced).
   * Returns true when this opened the breaker here.
   */
  adopt(s: SharedBreakerState, now: number): boolean {
    this.sharedWindow = s.tripped ? { failures: 0, total: 0 } : { failures: s.failures, total: s.total };
    if (!(s.openUntil > now) || (this.state === 'open' && this.openUntil === s.openUntil)) return false;
    this.state = 'open';
    this.openUntil = s.openUntil;
    this.openForMs = s.openForMs;
    this.trips = s.trips;
    this.lastTripReason = s.reason;
    this.clearWindow();
    return true;
  }

  /**
   * The store decides; a synchronous store answers at once, a remote one later (a promise). A store that cannot
   * answer (Redis down) leaves the decision to this gateway's own window, as without sharing.
   */
  private recordShared(sharing: BreakerSharing, outcome: BreakerOutcome, failure: string | undefined, now: number): boolean | Promise<boolean> {
    const r = this.rule;
    const { duration, source } = this.openFor(outcome, now);
    let answer;
    try {
      answer = sharing.store.breakerRecord(sharing.key, now, {
        intervalMs: r.intervalMs,
        count: r.count,
        percentage: r.percentage,
        failure: failure !== undefined,
        openForMs: duration,
        why: failure ?? '',
        interval: r.interval,
        source,
      });
    } catch {
      return this.recordLocal(outcome, failure, now);
    }
    if (!isPromise(answer)) return this.adopt(answer, now);
    return answer.then(
      (s) => this.adopt(s, now),
      () => this.recordLocal(outcome, failure, now),
    );
  }

  /** How long a trip caused by `outcome` keeps the breaker open, and why that long. */
  private openFor(outcome: BreakerOutcome, now: number): { duration: number; source: string } {
    const r = this.rule;
    if (r.acceptRetryAfter && 'status' in outcome) {
      const ra = retryAfterMs(outcome.headers, now);
      if (ra !== undefined) return { duration: ra, source: `Retry-After ${formatTimeSpan(ra)}` };
    }
    return { duration: r.tripDurationMs, source: `tripDuration ${r.tripDuration}` };
  }

  private recordLocal(outcome: BreakerOutcome, failure: string | undefined, now: number): boolean {
    this.evict(now);
    this.push(now, failure !== undefined);
    if (failure === undefined) return false;
    const r = this.rule;
    const tripped = r.count !== undefined ? this.sumFail >= r.count : this.sumFail > 0 && this.sumFail * 100 >= (r.percentage ?? 100) * this.sumTotal;
    if (!tripped) return false;

    const { duration, source } = this.openFor(outcome, now);
    const threshold = r.count !== undefined ? `${this.sumFail} failures >= count ${r.count}` : `${this.sumFail}/${this.sumTotal} failures >= ${r.percentage}%`;
    this.state = 'open';
    this.openUntil = now + duration;
    this.openForMs = duration;
    this.trips++;
    this.lastTripReason = `${failure}; ${threshold} within ${r.interval}; open for ${source}`;
    return true;
  }

  snapshot(now: number): BreakerSnapshot {
    if (this.state === 'closed') this.evict(now);
    return {
      rule: this.rule.name,
      state: this.state,
      ...(this.state === 'open' ? { openUntil: new Date(this.openUntil).toISOString() } : {}),
      failuresInWindow: this.sharing ? this.sharedWindow.failures : this.sumFail,
      totalInWindow: this.sharing ? this.sharedWindow.total : this.sumTotal,
      ...(this.lastTripReason !== undefined ? { lastTripReason: this.lastTripReason } : {}),
      trips: this.trips,
    };
  }

  reset(): void {
    this.state = 'closed';
    this.openUntil = 0;
    this.openForMs = 0;
    this.trips = 0;
    this.lastTripReason = undefined;
    this.clearWindow();
  }

  private clearWindow(): void {
    this.ats.length = 0;
    this.totals.length = 0;
    this.fails.length = 0;
    this.head = 0;
    this.sumTotal = 0;
    this.sumFail = 0;
  }

  private evict(now: number): void {
    const interval = this.rule.intervalMs;
    while (this.head < this.ats.length && now - this.ats[this.head]! >= interval) {
      this.sumTotal -= this.totals[this.head]!;
      this.sumFail -= this.fails[this.head]!;
      this.head++;
    }
    if (this.head === this.ats.length) {
      this.ats.length = this.totals.length = this.fails.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.ats.length) {
      this.ats.splice(0, this.head);
      this.totals.splice(0, this.head);
      this.fails.splice(0, this.head);
      this.head = 0;
    }
  }

  private push(now: number, failure: boolean): void {
    const last = this.ats.length - 1;
    const live = this.ats.length - this.head;
    if (live > 0 && (this.ats[last] === now || (live >= EXACT_BUCKETS && now - this.ats[last]! < this.mergeWithinMs))) {
      this.totals[last]!++;
      if (failure) this.fails[last]!++;
    } else {
      this.ats.push(now);
      this.totals.push(1);
      this.fails.push(failure ? 1 : 0);
    }
    this.sumTotal++;
    if (failure) this.sumFail++;
  }
}

const EXACT_BUCKETS = 1024;

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BreakerOutcomeRecord, FixedCheck, SharedBreakerState, SlidingCheck, StateStore } from '../../src/state/store.js';

/**
 * The contract every StateStore keeps (src/state/store.ts). Times are plain numbers (the emulator's clock), so the
 * counts are exact. `make` gives a fresh, empty store.
 */
export function stateStoreContract(name: string, make: () => Promise<StateStore>, skip: string | null): void {
  const d = skip ? describe.skip : describe;
  if (skip) console.warn(`[${name}] contract tests skipped: ${skip}`);
  d(`StateStore contract: ${name}`, () => {
    let store: StateStore;
    beforeEach(async () => {
      store = await make();
      await store.reset();
    });
    afterEach(async () => {
      await store.close();
    });
    const T = 1_800_000_000_000;

    it('counts up to the limit, then refuses and counts nothing', async () => {
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await store.hit('k', T + i, 10_000, 3, 1, true));
      expect(results.map((r) => [r.allowed, r.used])).toEqual([
        [true, 0],
        [true, 1],
        [true, 2],
        [false, 3],
      ]);
      // Retry-After: until the oldest call (at T) leaves the window.
      expect(results[3]!.waitMs).toBe(10_000 - 3);
      expect((await store.hit('k', T + 5, 10_000, 3, 0, false)).used).toBe(3);
    });

    it('slides: an amount leaves the window exactly windowMs after it was counted', async () => {
      await store.hit('s', T, 1000, 2, 2, true);
      expect(await store.hit('s', T + 999, 1000, 2, 1, true)).toMatchObject({ allowed: false, used: 2, waitMs: 1 });
      expect(await store.hit('s', T + 1000, 1000, 2, 1, true)).toMatchObject({ allowed: true, used: 0 });
    });

    it('weighs amounts; a need above the limit waits the whole window', async () => {
      await store.hit('w', T, 60_000, 10, 4, true);
      await store.hit('w', T + 10, 60_000, 10, 5, true);
      expect(await store.hit('w', T + 20, 60_000, 10, 3, true)).toMatchObject({ allowed: false, used: 9, waitMs: 60_000 - 20 });
      expect(await store.hit('w', T + 20, 60_000, 10, 11, true)).toMatchObject({ allowed: false, waitMs: 60_000 });
      expect(await store.hit('w', T + 20, 60_000, 10, 1, true)).toMatchObject({ allowed: true, used: 9 });
    });

    it('checks without counting when commit is false; add counts without a check', async () => {
      expect(await store.hit('c', T, 1000, 1, 1, false)).toMatchObject({ allowed: true, used: 0 });
      await store.add('c', T, 1000, 5);
      expect(await store.hit('c', T + 1, 1000, 10, 0, false)).toMatchObject({ allowed: true, used: 5 });
    });

    it('keeps keys apart and forgets everything on reset', async () => {
      await store.hit('a', T, 1000, 5, 2, true);
      await store.hit('b', T, 1000, 5, 3, true);
      expect((await store.hit('a', T, 1000, 5, 0, false)).used).toBe(2);
      expect((await store.hit('b', T, 1000, 5, 0, false)).used).toBe(3);
      await store.reset();
      expect((await store.hit('a', T, 1000, 5, 0, false)).used).toBe(0);
    });

    it('is atomic under concurrent callers: exactly the limit gets through', async () => {
      const all = await Promise.all(Array.from({ length: 50 }, (_, i) => store.hit('race', T + i, 60_000, 20, 1, true)));
      expect(all.filter((r) => r.allowed)).toHaveLength(20);
    });
    const sliding = (key: string, limit: number, need: number, add = need, windowMs = 60_000): SlidingCheck => ({
      kind: 'sliding',
      key,
      windowMs,
      limit,
      need,
      add,
    });
    const fixed = (key: string, o: Partial<FixedCheck> = {}): FixedCheck => ({
      kind: 'fixed',
      key,
      periodStart: T,
      expiresAt: T + 3_600_000,
      callsNeed: 1,
      amountNeed: 0,
      addCalls: 1,
      addAmount: 0,
      ...o,
    });

    it('take: checks every counter, counts in all only when all fit, and names the first that does not', async () => {
      const checks = [sliding('t-a', 3, 1), sliding('t-b', 2, 1)];
      const got = [];
      for (let i = 0; i < 3; i++) got.push(await store.take(T + i, checks));
      expect(got.map((r) => [r.allowed, r.failed, r.results.map((x) => x.used)])).toEqual([
        [true, -1, [0, 0]],
        [true, -1, [1, 1]],
        [false, 1, [2, 2]],
      ]);
      expect(got[2]!.results[1]!.waitMs).toBe(60_000 - 2); // until the first call (at T) leaves
      // The refused call was counted in neither window.
      expect((await store.hit('t-a', T + 3, 60_000, 10, 0, false)).used).toBe(2);
      // A first check that fails stops there: later checks are not evaluated.
      const r = await store.take(T + 4, [sliding('t-b', 2, 1), sliding('t-c', 5, 1)]);
      expect([r.allowed, r.failed, r.results.length]).toEqual([false, 0, 1]);
      expect((await store.hit('t-c', T + 4, 60_000, 10, 0, false)).used).toBe(0);
    });

    it('take: fixed periods count calls and amounts, and start again from zero in a new period', async () => {
      const q = (o: Partial<FixedCheck> = {}) => fixed('q', { callsLimit: 2, amountLimit: 100, ...o });
      expect(await store.take(T, [q()])).toMatchObject({ allowed: true, results: [{ used: 0, amount: 0 }] });
      await store.addFixed('q', T, T + 3_600_000, T + 1, 0, 60, false);
      expect(await store.take(T + 2, [q()])).toMatchObject({ allowed: true, results: [{ used: 1, amount: 60 }] });
      expect(await store.take(T + 3, [q()])).toMatchObject({ allowed: false, failed: 0, results: [{ used: 2, amount: 60 }] });
      // Late bandwidth of an earlier period is dropped; a rolled addition starts the new period.
      const next = T + 3_600_000;
      await store.addFixed('q', T - 3_600_000, T, T + 4, 0, 1000, false);
      expect(await store.take(T + 5, [q({ callsNeed: 0 })])).toMatchObject({ results: [{ used: 2, amount: 60 }] });
      await store.addFixed('q', next, next + 3_600_000, next, 3, 0, true);
      expect(await store.take(next + 1, [q({ periodStart: next, callsLimit: 10, addCalls: 0 })])).toMatchObject({
        allowed: true,
        results: [{ used: 3, amount: 0 }],
      });
      // Amounts: need against the limit, never below zero.
      expect(await store.take(T, [fixed('tok', { callsNeed: 0, amountLimit: 50, amountNeed: 30, addCalls: 0, addAmount: 30 })])).toMatchObject({
        allowed: true,
      });
      expect(await store.take(T, [fixed('tok', { callsNeed: 0, amountLimit: 50, amountNeed: 30, addCalls: 0, addAmount: 30 })])).toMatchObject({
        allowed: false,
        results: [{ amount: 30 }],
      });
      await store.addFixed('tok', T, 0, T, 0, -500, false);
      expect(await store.take(T, [fixed('tok', { callsNeed: 0, amountLimit: 50, amountNeed: 30, addCalls: 0, addAmount: 0 })])).toMatchObject({
        allowed: true,
        results: [{ amount: 0 }],
      });
    });

    it('correct: replaces a reserved amount while it is in the window, not after', async () => {
      const r = await store.take(T, [sliding('m', 100, 10)]);
      const entry = r.results[0]!.entry;
      expect(entry).toBeGreaterThan(0);
      await store.take(T + 1000, [sliding('m', 100, 5)]);
      await store.correct('m', entry, T, 40, T + 2000, 60_000);
      expect((await store.hit('m', T + 2000, 60_000, 100, 0, false)).used).toBe(45);
      // The corrected amount leaves at the reservation's time, and a late correction changes nothing.
      expect((await store.hit('m', T + 60_000, 60_000, 100, 0, false)).used).toBe(5);
      await store.correct('m', entry, T, 1000, T + 60_500, 60_000);
      expect((await store.hit('m', T + 60_500, 60_000, 100, 0, false)).used).toBe(5);
    });

    it('take is atomic under concurrent callers with several counters', async () => {
      const all = await Promise.all(Array.from({ length: 30 }, (_, i) => store.take(T + i, [fixed('race-q', { callsLimit: 12 }), sliding('race-s', 20, 1)])));
      expect(all.filter((r) => r.allowed)).toHaveLength(12);
      expect((await store.take(T + 40, [fixed('race-q', { callsNeed: 0, addCalls: 0 })])).results[0]!.used).toBe(12);
    });

    it('caches entries until their clock-time expiry; delete and reset remove them', async () => {
      await store.cacheSet('c1', 'one', T, T + 1000);
      await store.cacheSet('c2', 'two', T, T + 5000);
      expect(await store.cacheGet('c1', T + 999)).toEqual({ value: 'one', expiresAt: T + 1000 });
      expect(await store.cacheGet('c1', T + 1000)).toBeUndefined();
      expect(await store.cacheDelete('c2')).toBe(true);
      expect(await store.cacheDelete('c2')).toBe(false);
      expect(await store.cacheGet('c2', T)).toBeUndefined();
      // An expiry not after now removes what was there.
      await store.cacheSet('c3', 'three', T, T + 1000);
      await store.cacheSet('c3', 'again', T, T);
      expect(await store.cacheGet('c3', T)).toBeUndefined();
      await store.cacheSet('c4', 'four', T, T + 1000);
      await store.reset();
      expect(await store.cacheGet('c4', T)).toBeUndefined();
    });
    const outcome = (failure: boolean, o: Partial<BreakerOutcomeRecord> = {}): BreakerOutcomeRecord => ({
      intervalMs: 10_000,
      count: 2,
      failure,
      openForMs: 30_000,
      why: 'status 500 in 500-599',
      interval: 'PT10S',
      source: 'tripDuration PT30S',
      ...o,
    });

    it('breakerRecord: one window for every caller; trips at the rule, ignores outcomes while open, starts empty after', async () => {
      const opened: Array<[string, SharedBreakerState]> = [];
      const heard = new Promise<void>((resolve) => {
        store.onBreakerOpened((key, st) => {
          opened.push([key, st]);
          resolve();
        });
      });
      expect(await store.breakerRecord('b1', T, outcome(true))).toMatchObject({ tripped: false, failures: 1, total: 1, openUntil: 0 });
      expect(await store.breakerRecord('b1', T + 1, outcome(false))).toMatchObject({ tripped: false, failures: 1, total: 2 });
      // The first failure leaves the 10 s window before the next one: no trip.
      expect(await store.breakerRecord('b1', T + 10_000, outcome(true))).toMatchObject({ tripped: false, failures: 1, total: 2 });
      const trip = await store.breakerRecord('b1', T + 10_001, outcome(true));
      expect(trip).toEqual({
        openUntil: T + 40_001,
        openForMs: 30_000,
        trips: 1,
        reason: 'status 500 in 500-599; 2 failures >= count 2 within PT10S; open for tripDuration PT30S',
        failures: 2,
        total: 2,
        tripped: true,
      });
      await heard;
      expect(opened).toEqual([['b1', { ...trip }]]);
      expect(await store.breakerRecord('b1', T + 20_000, outcome(true))).toMatchObject({ tripped: false, openUntil: T + 40_001, trips: 1 });
      expect(await store.breakerRecord('b1', T + 40_001, outcome(true))).toMatchObject({ tripped: false, openUntil: T + 40_001, failures: 1, total: 1 });
      // Percentage rules: failures * 100 >= percentage * total, with at least one failure.
      expect(await store.breakerRecord('p', T, outcome(false, { count: undefined, percentage: 50 }))).toMatchObject({ tripped: false });
      expect(await store.breakerRecord('p', T + 1, outcome(true, { count: undefined, percentage: 50 }))).toMatchObject({
        tripped: true,
        reason: 'status 500 in 500-599; 1/2 failures >= 50% within PT10S; open for tripDuration PT30S',
      });
    });
  });
}

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StateStore } from '../../src/state/store.js';

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
  });
}

import fc from 'fast-check';
import { describe, it } from 'vitest';
import { arbitraries, TARGETS } from './targets.js';

/**
 * Property-based fuzzing of every reader of user files, seeded by the corpus where present: whatever the input, each
 * ends as diagnostics, never a thrown JS error. A fixed seed and a small case count keep `npm test` quick and
 * repeatable; bench/fuzz.ts runs the same targets for as many cases as asked, and also times each input.
 */
const RUNS = 15;
const SEED = 20261202;

describe('fuzz: no input escapes as a thrown error', () => {
  const arbs = arbitraries();
  for (const [name, target] of Object.entries(TARGETS)) {
    it(name, () => {
      fc.assert(
        fc.property(arbs[name]!, (input) => {
          target(input);
        }),
        { numRuns: RUNS, seed: SEED },
      );
    });
  }
});

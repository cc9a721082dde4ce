/**
 * Long fuzz run over the same targets as test/fuzz (every reader of user files, seeded by the corpus). Run:
 * `npx tsx bench/fuzz.ts [--cases=10000] [--seed=N] [--target=xml]`
 *
 * Checks per input: no thrown JS error escapes (it would surface as `internal error`), and no input takes more than
 * 2 s. Prints one line per target and exits 1 with the first failing input (saved under /tmp) when either is broken.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { arbitraries, TARGETS } from '../test/fuzz/targets.js';

const arg = (name: string, def: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? def;
const cases = Number(arg('cases', '10000'));
const seed = Number(arg('seed', String(Date.now() % 1_000_000)));
const only = arg('target', '');
const LIMIT_MS = 2000;

const arbs = arbitraries();
let failed = false;
for (const [name, target] of Object.entries(TARGETS)) {
  if (only && only !== name) continue;
  let slowest = 0;
  let slowestLen = 0;
  const started = performance.now();
  const samples = fc.sample(arbs[name]!, { numRuns: cases, seed });
  for (const input of samples) {
    const t0 = performance.now();
    let escaped: unknown = null;
    try {
      target(input);
    } catch (e) {
      escaped = e;
    }
    const ms = performance.now() - t0;
    if (ms > slowest) {
      slowest = ms;
      slowestLen = input.length;
    }
    if (escaped !== null || ms > LIMIT_MS) {
      const file = path.join(tmpdir(), `fuzz-${name}-${seed}.txt`);
      writeFileSync(file, input);
      console.log(
        `${name}: FAIL ${escaped !== null ? `escaped ${(escaped as Error).name}: ${(escaped as Error).message}` : `took ${ms.toFixed(0)} ms`} (input saved to ${file})`,
      );
      failed = true;
      break;
    }
  }
  console.log(
    `${name}: ${samples.length} cases in ${((performance.now() - started) / 1000).toFixed(1)} s, slowest ${slowest.toFixed(1)} ms (${slowestLen} chars), seed ${seed}`,
  );
}
process.exitCode = failed ? 1 : 0;

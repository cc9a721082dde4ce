/**
 * Hot reload of an APIOps tree: how long `serve --watch` takes from a saved edit to the new gateway answering.
 * Run: `npx tsx bench/apiops-reload.bench.ts [--rounds=15]` (needs ../shared/corpus/apiops-sample beside the clone).
 *
 * A copy of Microsoft's APIOps sample (58 files, 8 APIs) is served in this process with --watch and --mock-backends.
 * Per round, interleaved:
 *   baseline   load + compile the tree alone (loadApiopsFolder + Gateway.build, what any reload must do)
 *   reload()   POST-/SIGHUP-style reload: load, compile, carry state over, swap
 *   watch      write the API policy, wait for the reload event, then one request is answered (real fs events)
 * Target (issue 13): a change is swapped in within a second. Loopback only; everything stops by itself.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadApiopsFolder } from '../src/apiops/index.js';
import { startEmulator } from '../src/cli/serve.js';
import { VirtualClock } from '../src/clock.js';
import { buildGateway, prepareDefinition } from '../src/config/load.js';
import { UndiciUpstream } from '../src/server/undici-upstream.js';
import { cliArgs, numberArg, ROOT } from './lib/index.js';

const SAMPLE = path.resolve(ROOT, '../shared/corpus/apiops-sample/SampleArtifacts');
const rounds = numberArg(cliArgs(), 'rounds', 15);

const dir = mkdtempSync(path.join(tmpdir(), 'apiops-bench-'));
cpSync(SAMPLE, dir, { recursive: true });
const policy = path.join(dir, 'apis/revisioned-api;rev=2/policy.xml');
const emu = await startEmulator(
  {
    apiops: dir,
    subscriptionKeys: ['subscription1=k'],
    watch: true,
    mockBackends: true,
    backends: [],
    apiPath: '',
    fragments: [],
    namedValues: [],
    namedValuesFiles: [],
    mocks: [],
    port: 0,
    logLevel: 'silent',
    params: {},
  },
  { out: () => undefined, err: () => undefined },
);
const times = { baseline: [] as number[], reload: [] as number[], watch: [] as number[] };
try {
  for (let i = 0; i < rounds; i++) {
    let t = performance.now();
    const r = loadApiopsFolder(dir, {});
    const clock = new VirtualClock();
    const b = buildGateway(prepareDefinition(r.definition!), { clock, upstream: new UndiciUpstream(clock) });
    await b.gateway!.close();
    times.baseline.push(performance.now() - t);

    t = performance.now();
    await emu.reload();
    times.reload.push(performance.now() - t);

    t = performance.now();
    const seen = new Promise<void>((resolve) => {
      const off = emu.onReload((o) => {
        if (o.applied && o.changes.length) {
          off();
          resolve();
        }
      });
    });
    writeFileSync(policy, readFileSync(policy, 'utf8').replace(/<value>\d+<\/value>/, `<value>${i + 10}</value>`));
    await seen;
    const res = await fetch(`${emu.url}/revisioned-api;rev=2/revision`, { headers: { 'Ocp-Apim-Subscription-Key': 'k' } });
    await res.arrayBuffer();
    times.watch.push(performance.now() - t);
  }
} finally {
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`| step | median ms (${rounds} rounds) | max ms |\n|---|---|---|`);
for (const [k, xs] of Object.entries(times)) console.log(`| ${k} | ${median(xs).toFixed(1)} | ${Math.max(...xs).toFixed(1)} |`);

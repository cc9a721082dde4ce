/**
 * What importing one module costs at start-up: CPU (user + system) of `node --import SPEC -e 0` above a bare
 * `node -e 0`, medians of interleaved runs, each in its own process. Run after `npm run build`:
 *   npx tsx bench/import-cost.ts [--rounds=5] [SPEC...]
 * SPEC is a package name (`graphql`) or a file (`./dist/cli/validate.js`); without SPECs, the packages and entry
 * modules the CLI commands load. docs/performance.md, start-up.
 */
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { cliArgs, median, ROOT } from './lib/index.js';

const args = cliArgs();
const rounds = Number(args.get('rounds') ?? 5);
const DEFAULT_SPECS = [
  'commander',
  'ajv',
  'yaml',
  'graphql',
  'liquidjs',
  'xslt-processor',
  'jose',
  'fast-xml-parser',
  'js-tiktoken/lite',
  'undici',
  'express',
  'pino',
  'ioredis',
  './dist/cli/validate.js',
  './dist/policies/registry.js',
  './dist/config/load.js',
  './dist/server/index.js',
  './dist/cli/serve.js',
];
const specs = process.argv.slice(2).filter((a) => !a.startsWith('--'));

/** CPU milliseconds of one `node [--import spec] -e 0`, reported by the child at exit. */
function cpuOf(spec: string | null): number {
  const report = `process.on('exit',()=>{const u=process.resourceUsage();process.stderr.write('cpu-us:'+(u.userCPUTime+u.systemCPUTime))})`;
  const argv = ['--import', `data:text/javascript,${encodeURIComponent(report)}`];
  if (spec) argv.push('--import', spec.startsWith('.') ? pathToFileURL(path.join(ROOT, spec)).href : spec);
  const r = spawnSync(process.execPath, [...argv, '-e', '0'], { cwd: ROOT, encoding: 'utf8' });
  const m = /cpu-us:(\d+)/.exec(r.stderr);
  if (!m) throw new Error(`${spec}: ${r.stderr}`);
  return Number(m[1]) / 1000;
}

const list = specs.length ? specs : DEFAULT_SPECS;
const samples = new Map<string | null, number[]>([[null, []], ...list.map((s): [string, number[]] => [s, []])]);
for (let r = 0; r < rounds; r++) for (const [spec, xs] of samples) xs.push(cpuOf(spec));
const base = median(samples.get(null)!);
const lines = [
  `Node ${process.version}, ${rounds} interleaved rounds; \`node -e 0\`: ${base.toFixed(0)} ms CPU`,
  '',
  '| module | CPU ms above node -e 0 |',
  '|---|---|',
];
for (const s of list) lines.push(`| \`${s}\` | ${(median(samples.get(s)!) - base).toFixed(0)} |`);
console.log(lines.join('\n'));

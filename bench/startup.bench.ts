/**
 * Start-up benchmark of the compiled CLI (what `npx apim-emulator` runs). Run: `npx tsx bench/startup.bench.ts [--rounds=7]`
 *
 * Each command runs in its own process, rounds interleaved with a baseline `node -e 0` in the same run, so a busy
 * machine slows every target alike; the table gives medians of wall time and of CPU (user + system) per command and
 * the difference to the baseline. Targets (docs/performance.md, start-up):
 *   --help                       under 0.25 s above node
 *   validate of one policy       under 0.5 s above node
 *   serve, until "listening on"  under 1 s
 * Runs dist/ (builds it first with `npm run build` when missing). Loopback only; every child stops by itself.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { cliArgs, loadAverage, markdownTable, median, numberArg, ROOT, runHeader } from './lib/index.js';

const args = cliArgs();
const rounds = numberArg(args, 'rounds', 7);
const BIN = path.join(ROOT, 'bin/apim-emulator.js');

interface Target {
  name: string;
  args: string[];
  /** Stop when a stdout line matches (the server is ready), instead of waiting for the process to exit. */
  readyLine?: RegExp;
  /** Milliseconds above the baseline allowed; undefined for the baseline itself. */
  budgetAbove?: number;
  /** Absolute budget in milliseconds. */
  budget?: number;
}

const TARGETS: Target[] = [
  { name: 'node -e 0 (baseline)', args: ['-e', '0'] },
  { name: 'apim-emulator --help', args: [BIN, '--help'], budgetAbove: 250 },
  {
    name: 'apim-emulator validate (one policy)',
    args: [BIN, 'validate', 'policies/example/openai-api.xml', 'policies/example/fragments', '--backends', 'policies/example/backends.json'],
    budgetAbove: 500,
  },
  {
    name: 'apim-emulator serve (until listening)',
    args: [BIN, 'serve', '--config', 'policies/example/apim-emulator.json', '--mock-backends', '--port', '0', '--log-level', 'silent'],
    readyLine: /^listening on /m,
    budget: 1000,
  },
];

/** One run: wall milliseconds from spawn to exit (or to the ready line). */
function runOnce(t: Target): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, t.args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let readyAt: number | undefined;
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (t.readyLine && readyAt === undefined && t.readyLine.test(out)) {
        readyAt = performance.now();
        child.kill('SIGTERM');
      }
    });
    child.stderr.resume();
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const end = readyAt ?? performance.now();
      if (t.readyLine && readyAt === undefined) return reject(new Error(`${t.name}: exited (${code ?? signal}) before it was ready:\n${out}`));
      if (!t.readyLine && code !== 0) return reject(new Error(`${t.name}: exit code ${code}:\n${out}`));
      resolve(end - start);
    });
  });
}

/**
 * CPU of one run (user + system, start-up included), reported by the child itself: at exit, or for a server on
 * SIGUSR2 once it printed its ready line (then it is stopped with SIGTERM).
 */
function runCpu(t: Target): Promise<number> {
  const preload = `const r=()=>{const u=process.resourceUsage();process.stderr.write('\\ncpu-us:'+(u.userCPUTime+u.systemCPUTime)+'\\n')};process.on('exit',r);process.on('SIGUSR2',r)`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(preload)}`, ...t.args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let signalled = false;
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (!signalled && t.readyLine?.test(out)) {
        signalled = true;
        child.kill('SIGUSR2');
      }
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
      if (signalled && /cpu-us:\d+\n/.test(err)) child.kill('SIGTERM');
    });
    child.on('error', reject);
    child.on('close', () => {
      const m = /cpu-us:(\d+)/.exec(err);
      if (m) resolve(Number(m[1]) / 1000);
      else reject(new Error(`${t.name}: no CPU figure:\n${err}`));
    });
  });
}

async function main(): Promise<void> {
  if (!existsSync(path.join(ROOT, 'dist/cli/main.js'))) {
    console.error('dist/ is missing: running npm run build first');
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  }
  const loadBefore = loadAverage();
  const wall = new Map<string, number[]>(TARGETS.map((t) => [t.name, []]));
  const cpu = new Map<string, number[]>(TARGETS.map((t) => [t.name, []]));
  // One warm-up run each (file system cache), not counted.
  for (const t of TARGETS) await runOnce(t);
  for (let r = 1; r <= rounds; r++) {
    for (const t of TARGETS) {
      wall.get(t.name)!.push(await runOnce(t));
      cpu.get(t.name)!.push(await runCpu(t));
    }
    process.stderr.write(`round ${r}/${rounds}\n`);
  }
  const base = median(wall.get(TARGETS[0]!.name)!);
  const baseCpu = median(cpu.get(TARGETS[0]!.name)!);
  const rows: string[][] = [];
  let failed = false;
  for (const t of TARGETS) {
    const w = median(wall.get(t.name)!);
    const c = median(cpu.get(t.name)!);
    const above = w - base;
    const target = t.budgetAbove !== undefined ? `< ${t.budgetAbove} above node` : t.budget !== undefined ? `< ${t.budget}` : '–';
    const met = t.budgetAbove !== undefined ? above < t.budgetAbove : t.budget !== undefined ? w < t.budget : undefined;
    if (met === false) failed = true;
    const isBase = t === TARGETS[0];
    rows.push([
      t.name,
      w.toFixed(0),
      isBase ? '–' : above.toFixed(0),
      c.toFixed(0),
      isBase ? '–' : (c - baseCpu).toFixed(0),
      target,
      met === undefined ? '–' : met ? 'yes' : 'no',
    ]);
  }
  const lines = [
    runHeader(loadBefore),
    `${rounds} interleaved rounds, medians; load average at the end: ${loadAverage()}`,
    '',
    markdownTable(['command', 'wall ms', 'above node ms', 'CPU ms', 'CPU above node ms', 'target', 'met'], rows),
  ];
  console.log(lines.join('\n'));
  if (failed) process.exitCode = 1;
}

await main();

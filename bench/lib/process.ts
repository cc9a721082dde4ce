import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT } from './args.js';

/** bench/probe.mjs: preloaded into a server under benchmark, it reports CPU, bytes allocated and RSS over IPC. */
export const PROBE = path.join(ROOT, 'bench', 'probe.mjs');

/** The CLI as users run it: the compiled `dist/cli/main.js` when built, else `bin/apim-emulator.js` (tsx). */
export function cliCommand(): string[] {
  const dist = path.join(ROOT, 'dist', 'cli', 'main.js');
  return existsSync(dist) ? [dist] : [path.join(ROOT, 'bin', 'apim-emulator.js')];
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Milliseconds from spawn to the `listening on` line. */
  readyMs: number;
  /** stderr so far, when it was captured. */
  stderr(): string;
}

export interface ServerProcessOptions {
  /** Preload bench/probe.mjs (and open an IPC channel) for CPU / allocation / RSS reports. */
  probe?: boolean;
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
  /** Keep stderr (request logs are discarded by default). */
  captureStderr?: boolean;
  timeoutMs?: number;
  /** Pin the server (all its threads) to this CPU list, e.g. `'0'` (see `pinning()`). */
  pin?: string | null;
}

/**
 * CPU pinning for a benchmark: the server under test on CPU 0, this process (load generator and mock backend) on
 * CPU 1. Without it the scheduler moves the processes between the two cores of this machine and one round can run
 * at half the speed of the next (seen: the same server at 2,300 and 4,900 req/s in consecutive rounds); with it
 * the rounds agree. Null when `taskset` is missing, there are fewer than 2 CPUs, or `--no-pin` was given.
 */
export function pinning(args: Map<string, string>): { server: string; client: string } | null {
  if (args.has('no-pin') || os.cpus().length < 2) return null;
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
  } catch {
    return null;
  }
  return { server: '0', client: '1' };
}

/** `--cpu-prof=DIR`: node flags that write a V8 CPU profile of a server process there (bench/profile-summary.ts). */
export function cpuProfileArgs(args: Map<string, string>): { nodeArgs?: string[] } {
  const dir = args.get('cpu-prof');
  return dir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${path.resolve(dir)}`] } : {};
}

/** Pins a process and all its threads to a CPU list (`taskset -a -p -c LIST PID`). */
export function pinProcess(pid: number, cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

/** Spawns `node [flags] argv...` and resolves once it prints `listening on URL` on stdout. */
export function startServerProcess(argv: string[], o: ServerProcessOptions = {}): Promise<ServerProcess> {
  const t0 = performance.now();
  const timeoutMs = o.timeoutMs ?? 60_000;
  const child = spawn(process.execPath, [...(o.nodeArgs ?? []), ...(o.probe ? ['--import', PROBE] : []), ...argv], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', o.captureStderr ? 'pipe' : 'ignore', ...(o.probe ? (['ipc'] as const) : [])],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no "listening on" from ${argv.join(' ')} within ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        // Pinned once listening: every thread (GC helpers, libuv pool) exists by then and moves with -a.
        if (o.pin) pinProcess(child.pid!, o.pin);
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve({ child, url: m[1]!, readyMs: performance.now() - t0, stderr: () => err });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${argv.join(' ')} exited (${code}) before listening: ${out}${err}`));
    });
  });
}

/** SIGTERM (graceful close), SIGKILL after 10 s; resolves when the process has exited. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export interface ProbeReport {
  cpuUs: number;
  /** Bytes the V8 heap allocated between start and stop. */
  allocated: number;
  gcs: number;
  rss: number;
}

/** Starts the probe's measurement window in a process started with `probe: true`. */
export function probeStart(child: ChildProcess): void {
  child.send('start');
}

/** Ends the window; null when the process does not answer within 5 s (a cluster primary does not run the work). */
export function probeStop(child: ChildProcess): Promise<ProbeReport | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), 5000);
    child.once('message', (r) => {
      clearTimeout(timer);
      resolve(r as ProbeReport);
    });
    child.send('stop');
  });
}

export interface Finished {
  code: number | null;
  out: string;
  err: string;
  ms: number;
}

/** Runs `node argv...` to completion (SIGKILL after the timeout), collecting its output and wall time. */
export function runNode(argv: string[], timeoutMs = 120_000): Promise<Finished> {
  const t0 = performance.now();
  const child = spawn(process.execPath, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err, ms: performance.now() - t0 });
    });
  });
}

import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import os from 'node:os';
import { PrimaryStateHost } from '../state/primary.js';

/**
 * `serve --workers N`: N worker processes (node:cluster) share the listening port, each running the whole emulator
 * (docs/performance.md, "Workers"). The primary process only starts, watches and stops them; it also keeps the
 * rate-limit, quota and token-limit counters every worker shares and the built-in cache (src/state/primary.ts), as
 * APIM counts per gateway, not per process, and shares its built-in cache between units. Breakers, pool positions,
 * traces and admin state stay per worker, like per gateway instance.
 */

/** Messages a worker sends to the primary. */
export type WorkerReport = { kind: 'apim-emulator:listening'; url: string } | { kind: 'apim-emulator:failed'; message: string; exitCode: number };

export const MAX_WORKERS = 64;

/** `--workers auto`: the machine's cores. */
export function autoWorkers(): number {
  return Math.max(1, Math.min(MAX_WORKERS, os.availableParallelism()));
}

export function isWorker(): boolean {
  return cluster.isWorker;
}

/** In a worker: tells the primary how starting went. */
export function reportToPrimary(r: WorkerReport): void {
  process.send?.(r);
}

/** In a worker that has closed its gateway: disconnects from the primary, so that the process can exit. */
export function leavePrimary(): void {
  if (cluster.worker?.isConnected()) cluster.worker.disconnect();
}

export interface PrimaryIo {
  out(line: string): void;
  err(line: string): void;
}

/** A worker that dies is replaced, but not more often than this in a minute (a crash loop stops the gateway). */
export const MAX_REPLACEMENTS_PER_MINUTE = 5;

/**
 * In the primary: forks `count` workers running the same command line, prints `listening on URL` once all of them
 * listen, and stops them on SIGINT/SIGTERM. A worker that dies after it listened is replaced (one line on stderr each
 * time; the counters and built-in cache live here, so they survive it); one that fails to start, or more than
 * MAX_REPLACEMENTS_PER_MINUTE deaths in a minute, stops them all. Resolves with the exit code when every worker has
 * exited.
 */
export function runPrimary(count: number, io: PrimaryIo): Promise<number> {
  const state = new PrimaryStateHost();
  return new Promise((resolve) => {
    const workers: Worker[] = [];
    let listening = 0;
    let stopping = false;
    let exitCode = 0;
    let url = '';
    const deaths: number[] = [];
    const stop = () => {
      if (stopping) return;
      stopping = true;
      for (const w of workers) if (!w.isDead()) w.process.kill('SIGTERM');
    };
    const start = (slot: number, replacing: boolean): void => {
      const w = cluster.fork({ APIM_EMULATOR_WORKER: String(slot) });
      workers[slot] = w;
      state.attach(w);
      let listened = false;
      w.on('message', (m: WorkerReport) => {
        if (m?.kind === 'apim-emulator:listening') {
          listened = true;
          url = m.url;
          if (replacing) io.err(`worker ${slot} replaced (pid ${w.process.pid}); ${count} workers listening on ${url}`);
          else if (++listening === count) io.out(`listening on ${url} (${count} workers)`);
        } else if (m?.kind === 'apim-emulator:failed') {
          // Every worker fails the same way (same inputs): print the first, stop the rest.
          if (!stopping) io.err(`error: ${m.message}`);
          exitCode = Math.max(exitCode, m.exitCode);
          stop();
        }
      });
      w.on('exit', (code, signal) => {
        if (!stopping) {
          const how = signal ?? `code ${code}`;
          const now = Date.now();
          while (deaths.length && now - deaths[0]! > 60_000) deaths.shift();
          deaths.push(now);
          if (listened && deaths.length <= MAX_REPLACEMENTS_PER_MINUTE) {
            io.err(`worker ${slot} (pid ${w.process.pid}) exited unexpectedly (${how}); starting a replacement`);
            start(slot, true);
          } else {
            io.err(
              `error: worker ${slot} exited unexpectedly (${how})${listened ? `, ${deaths.length} worker deaths within a minute` : ' before it listened'}; stopping the others`,
            );
            exitCode = Math.max(exitCode, 3);
            stop();
          }
        }
        if (workers.every((x) => x.isDead())) resolve(exitCode);
      });
    };
    for (let i = 0; i < count; i++) start(i, false);
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

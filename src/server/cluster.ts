import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import os from 'node:os';
import { PrimaryStateHost } from '../state/primary.js';

/**
 * `serve --workers N`: N worker processes (node:cluster) share the listening port, each running the whole emulator
 * (docs/performance.md, "Workers"). The primary process only starts, watches and stops them; it also keeps the
 * rate-limit counters every worker shares (src/state/primary.ts), as APIM counts per gateway, not per process.
 * Breakers, pool positions, traces and admin state stay per worker, like per gateway instance.
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

export interface PrimaryIo {
  out(line: string): void;
  err(line: string): void;
}

/**
 * In the primary: forks `count` workers running the same command line, prints `listening on URL` once all of them
 * listen, and stops them on SIGINT/SIGTERM. Resolves with the exit code when every worker has exited.
 */
export function runPrimary(count: number, io: PrimaryIo): Promise<number> {
  const state = new PrimaryStateHost();
  return new Promise((resolve) => {
    const workers: Worker[] = [];
    let listening = 0;
    let stopping = false;
    let exitCode = 0;
    let url = '';
    const stop = () => {
      if (stopping) return;
      stopping = true;
      for (const w of workers) if (!w.isDead()) w.process.kill('SIGTERM');
    };
    for (let i = 0; i < count; i++) {
      const w = cluster.fork({ APIM_EMULATOR_WORKER: String(i) });
      workers.push(w);
      state.attach(w);
      w.on('message', (m: WorkerReport) => {
        if (m?.kind === 'apim-emulator:listening') {
          url = m.url;
          if (++listening === count) io.out(`listening on ${url} (${count} workers)`);
        } else if (m?.kind === 'apim-emulator:failed') {
          // Every worker fails the same way (same inputs): print the first, stop the rest.
          if (!stopping) io.err(`error: ${m.message}`);
          exitCode = Math.max(exitCode, m.exitCode);
          stop();
        }
      });
      w.on('exit', (code, signal) => {
        if (!stopping) {
          io.err(`error: worker ${i} exited unexpectedly (${signal ?? `code ${code}`}); stopping the others`);
          exitCode = Math.max(exitCode, 3);
          stop();
        }
        if (workers.every((x) => x.isDead())) resolve(exitCode);
      });
    }
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

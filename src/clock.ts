/**
 * Time source for everything time-dependent: breaker windows, trip durations, Retry-After, retry intervals,
 * rate-limit windows and `DateTime.UtcNow` in expressions. Injected everywhere so tests and CI mode run on a
 * virtual clock.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /**
   * A wait that is part of the request's own flow (retry interval, the `wait` policy, mock latency): resolves after
   * `ms` of this clock's time; rejects with the signal's reason when aborted.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * A deadline raced against something else (forward-request timeout): resolves when `ms` of clock time have passed.
   * Unlike sleep(), a virtual clock never jumps forward for a deadline; only advance()/set() (or another sleeper that
   * jumps the clock, such as a mock backend's latency) makes it fire.
   */
  deadline(ms: number, signal?: AbortSignal): Promise<void>;
}

export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  deadline(ms: number, signal?: AbortSignal): Promise<void> {
    return this.sleep(ms, signal);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(t);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/**
 * How a sleep behaves on the virtual clock:
 * - `advance` (default): the sleeper moves the clock forward by its own duration and continues at once, so a
 *   retry interval of 10 s costs no wall time yet is visible as 10 s of clock time (emulator choice, docs/emulator-choices.md).
 * - `wait`: the sleeper waits until somebody calls advance()/set() past its deadline.
 */
export type VirtualSleepMode = 'advance' | 'wait';

interface Sleeper {
  until: number;
  resolve: () => void;
}

export class VirtualClock implements Clock {
  private current: number;
  private sleepers: Sleeper[] = [];

  constructor(
    start: number | Date = Date.UTC(2025, 0, 1),
    readonly sleepMode: VirtualSleepMode = 'advance',
  ) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`cannot move the virtual clock backwards (${ms} ms)`);
    this.set(this.current + ms);
  }

  set(epochMs: number): void {
    if (!Number.isFinite(epochMs)) throw new RangeError(`not a time: ${epochMs}`);
    this.current = epochMs;
    const due = this.sleepers.filter((s) => s.until <= this.current);
    this.sleepers = this.sleepers.filter((s) => s.until > this.current);
    for (const s of due) s.resolve();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (ms <= 0) return Promise.resolve();
    if (this.sleepMode === 'advance') {
      this.advance(ms);
      return Promise.resolve();
    }
    return this.deadline(ms, signal);
  }

  deadline(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const sleeper: Sleeper = {
        until: this.current + ms,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.sleepers.push(sleeper);
    });
  }

  /** Number of sleepers waiting (mode `wait`); lets tests advance only once a request is parked. */
  get pendingSleeps(): number {
    return this.sleepers.length;
  }
}

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { LastError, TraceEvent } from '../engine/context.js';
import type { CoverageSummary, FileCoverage } from './coverage.js';
import type { AttemptRecord, TimelineEntry } from './timeline.js';
import type { ScenarioStep } from './types.js';

/** What a scenario run produces: the results the reporters read (text, JSON, JUnit, HTML). */

/**
 * How snapshots are treated:
 * - `compare` (default): compare with the stored snapshot; write it when there is none yet and the scenario passed;
 * - `update`: (re)write every snapshot (`--update-snapshots`);
 * - `ci`: compare, and a missing snapshot is a failure (`--ci`: CI never writes files);
 * - `off`: ignore snapshots.
 */
export type SnapshotMode = 'compare' | 'update' | 'ci' | 'off';

export interface RunOptions {
  snapshots?: SnapshotMode;
  /**
   * Real HTTP between the gateway and the mock backends (loopback sockets, undici). Default false: the in-process
   * upstream calls the mocks' handlers directly, no socket is opened, and virtual time moves exactly when every
   * request in flight waits on the clock.
   */
  realSockets?: boolean;
}

/** One failed expectation (or snapshot, or load failure), explained. */
export interface Failure {
  /** 1-based step, 0 for failures of the whole scenario (policies do not load, snapshot changed). */
  step: number;
  stepLabel: string;
  /** Which request of the step (1-based) and how many it sent. */
  request?: { n: number; of: number };
  /** One line: what was expected and what happened instead. */
  message: string;
  /** What happened around it: attempts, breaker transitions, trace. */
  details: string[];
}

export interface StepResult {
  index: number;
  label: string;
  kind: ScenarioStep['kind'];
  requests: number;
  failures: Failure[];
}

export interface SnapshotOutcome {
  path: string;
  /** `not-written`: none stored, and this run failed, so none was written. */
  status: 'matched' | 'written' | 'updated' | 'changed' | 'missing' | 'not-written';
  diff?: string;
}

export interface ScenarioResult {
  /** Absolute path of the scenario file. */
  path: string;
  /** As shown (relative to the working directory). */
  file: string;
  name: string;
  /** `invalid`: the scenario file is wrong (exit 2); `failed`: an expectation or snapshot failed, or the policies under test do not load. */
  status: 'passed' | 'failed' | 'invalid';
  diagnostics: Diagnostic[];
  steps: StepResult[];
  failures: Failure[];
  timeline: string | null;
  snapshot: SnapshotOutcome | null;
  coverage: FileCoverage[];
  requests: number;
  /** Virtual time the scenario covered, ms. */
  virtualMs: number;
  /** Wall time it took, ms (reports only; never in snapshots). */
  wallMs: number;
  /** The timeline as data (the HTML report draws it); empty when the scenario did not run. */
  entries: TimelineEntry[];
  /** The requests sent with their traces, for the HTML report; the last MAX_LOGGED_REQUESTS of them. */
  requestLog: ScenarioRequest[];
}

/** One request a scenario sent: what the HTML report shows as a timeline row and a trace tree. */
export interface ScenarioRequest {
  step: number;
  /** Virtual ms since the scenario started. */
  at: number;
  method: string;
  path: string;
  status: number;
  attempts: AttemptRecord[];
  lastError: LastError | null;
  trace: readonly TraceEvent[];
}

/** Bound on ScenarioResult.requestLog, so a long `repeat` cannot make a report (or memory) grow without end. */
export const MAX_LOGGED_REQUESTS = 500;

export interface RunSummary {
  results: ScenarioResult[];
  /** Coverage of every policy file, merged over all scenarios. */
  coverage: CoverageSummary[];
  counts: { passed: number; failed: number; invalid: number };
  /** 0 all passed, 1 any failure, 2 any invalid scenario (or nothing to run). */
  exitCode: 0 | 1 | 2;
  /** Problems with the paths given (missing, no scenarios in a folder). */
  diagnostics: Diagnostic[];
  wallMs: number;
}

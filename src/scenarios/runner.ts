import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { displayPath } from '../config/files.js';
import { formatDiagnosticLine } from '../diagnostics/diagnostic.js';
import { CoverageIndex } from './coverage.js';
import { createEnvironment } from './environment.js';
import { loadScenario, snapshotPathFor } from './load.js';
import { checkAgainstEnvironment } from './references.js';
import type { Failure, RunOptions, ScenarioResult } from './results.js';
import type { Scenario } from './types.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { ScenarioRun } from './run.js';
import { handleSnapshot } from './snapshot.js';
import { renderTimeline } from './timeline.js';

export type { Failure, RunOptions, ScenarioRequest, ScenarioResult, SnapshotMode, SnapshotOutcome, StepResult } from './results.js';
export { MAX_LOGGED_REQUESTS } from './results.js';
export { attemptsFromTrace } from './run.js';

/** Loads, validates and runs one scenario file on a fresh gateway, virtual clock and mock backends. */
export async function runScenarioFile(file: string, opts: RunOptions = {}): Promise<ScenarioResult> {
  const wallStart = performance.now();
  const abs = path.resolve(file);
  const base: ScenarioResult = {
    path: abs,
    file: displayPath(abs),
    name: path.basename(abs).replace(/\.(scenario\.)?(ya?ml|json)$/i, ''),
    status: 'invalid',
    diagnostics: [],
    steps: [],
    failures: [],
    timeline: null,
    entries: [],
    requestLog: [],
    snapshot: null,
    coverage: [],
    requests: 0,
    virtualMs: 0,
    wallMs: 0,
  };
  const done = (r: ScenarioResult): ScenarioResult => ({ ...r, wallMs: performance.now() - wallStart });
  const loaded = loadScenario(abs);
  if (!loaded.scenario) {
    // Invalid already; still name the files it cannot read and the ids it gets wrong, all in this one report.
    const more = loaded.partial ? await checkPathsAndReferences(loaded.partial, opts) : [];
    return done({ ...base, name: loaded.partial?.name ?? base.name, diagnostics: [...loaded.diagnostics, ...more] });
  }
  const s = loaded.scenario;
  const result: ScenarioResult = { ...base, name: s.name, diagnostics: loaded.diagnostics };

  const created = await createEnvironment(s, { realSockets: opts.realSockets ?? false });
  if ('failure' in created) {
    if (created.failure.kind === 'invalid') return done({ ...result, diagnostics: [...result.diagnostics, ...created.failure.diagnostics] });
    const errors = created.failure.diagnostics.filter((d) => d.severity === 'error');
    return done({
      ...result,
      status: 'failed',
      diagnostics: [...result.diagnostics, ...created.failure.diagnostics],
      failures: [
        {
          step: 0,
          stepLabel: 'load',
          message: `the policies and backends under test do not load (${errors.length} error${errors.length === 1 ? '' : 's'})`,
          details: errors.map(formatDiagnosticLine),
        },
      ],
    });
  }
  const env = created.env;
  try {
    const coverage = new CoverageIndex(env.definition);
    const semantic = [...created.problems, ...checkAgainstEnvironment(s, env, coverage)];
    if (semantic.length) return done({ ...result, diagnostics: [...result.diagnostics, ...semantic] });
    const run = new ScenarioRun(s, env, coverage);
    try {
      await run.execute();
    } catch (e) {
      // A bug in the emulator or the runner: report it on this scenario and keep running the others.
      const step = run.steps[run.steps.length - 1];
      const failure: Failure = {
        step: step?.index ?? 0,
        stepLabel: step?.label ?? 'run',
        message: `internal error while running the scenario: ${e instanceof Error ? e.message : String(e)}`,
        details:
          e instanceof Error && e.stack
            ? e.stack
                .split('\n')
                .slice(1, 6)
                .map((l) => l.trim())
            : [],
      };
      if (step) step.failures.push(failure);
      else run.steps.push({ index: 0, label: 'run', kind: 'check', requests: 0, failures: [failure] });
    }
    result.steps = run.steps;
    result.failures = run.steps.flatMap((x) => x.failures);
    result.requests = run.requestCount;
    result.virtualMs = env.clock.now() - s.start;
    result.timeline = renderTimeline(s.name, run.timeline);
    result.entries = run.timeline;
    result.requestLog = run.requestLog;
    result.coverage = [...coverage.files.values()];
    if (s.snapshot && (opts.snapshots ?? 'compare') !== 'off') {
      result.snapshot = handleSnapshot(snapshotPathFor(s.path), result.timeline, opts.snapshots ?? 'compare', result.failures.length > 0);
      if (result.snapshot.status === 'changed' || result.snapshot.status === 'missing') {
        result.failures.push({
          step: 0,
          stepLabel: 'snapshot',
          message:
            result.snapshot.status === 'changed'
              ? `the timeline differs from the snapshot ${displayPath(result.snapshot.path)} (- snapshot, + this run; run with --update-snapshots if the change is intended)`
              : `no snapshot ${displayPath(result.snapshot.path)} (not written in --ci mode; run once without --ci and commit it)`,
          details: result.snapshot.diff ? result.snapshot.diff.split('\n') : [],
        });
      }
    }
    result.status = result.failures.length ? 'failed' : 'passed';
    return done(result);
  } finally {
    await env.close();
  }
}

/** The checks a scenario with errors can still get: files it names that cannot be read, ids the gateway does not have. */
async function checkPathsAndReferences(s: Scenario, opts: RunOptions): Promise<Diagnostic[]> {
  const created = await createEnvironment(s, { realSockets: opts.realSockets ?? false });
  // Policies under test that do not load are not the scenario's mistake; they are reported once the file is valid.
  if ('failure' in created) return created.failure.kind === 'invalid' ? created.failure.diagnostics : [];
  try {
    return [...created.problems, ...checkAgainstEnvironment(s, created.env, new CoverageIndex(created.env.definition))];
  } finally {
    await created.env.close();
  }
}

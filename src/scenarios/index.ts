import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { displayPath } from '../config/files.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { mergeCoverage, summarizeCoverage, type FileCoverage } from './coverage.js';
import type { RunOptions, RunSummary, ScenarioResult } from './results.js';
import { runScenarioFile } from './runner.js';

export { loadScenario, parseDuration, snapshotPathFor, DEFAULT_START, DEFAULT_TOLERANCE } from './load.js';
export { runScenarioFile, attemptsFromTrace } from './runner.js';
export type { RunOptions, RunSummary, ScenarioResult, Failure, StepResult, SnapshotOutcome, SnapshotMode } from './results.js';
export { enumerateItems, CoverageIndex, mergeCoverage, summarizeCoverage } from './coverage.js';
export type { CoverageItem, CoverageSummary, FileCoverage } from './coverage.js';
export { renderTimeline, diffLines, formatOffset, describeAttempt, describeTransition } from './timeline.js';
export type { AttemptRecord, BreakerTransition, TimelineEntry } from './timeline.js';
export { formatRunReport, SCENARIO_REPORTERS, type ScenarioReporter } from './report.js';
export type { Scenario, ScenarioStep, Expectations } from './types.js';

/** Scenario files inside folders are found by name: `*.scenario.yaml`, `*.scenario.yml`, `*.scenario.json`. */
export const SCENARIO_FILE = /\.scenario\.(ya?ml|json)$/i;

/** Expands files and folders into scenario files (folders recursively, sorted, `node_modules` and dot folders skipped). */
export function findScenarioFiles(inputs: string[], diagnostics: Diagnostic[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (SCENARIO_FILE.test(e.name)) out.push(p);
    }
  };
  for (const input of inputs) {
    const abs = path.resolve(input);
    let st;
    try {
      st = statSync(abs);
    } catch {
      diagnostics.push({
        severity: 'error',
        code: 'io/unreadable',
        message: `cannot read ${displayPath(abs)}: no such file or folder`,
        file: displayPath(abs),
      });
      continue;
    }
    if (st.isDirectory()) {
      const before = out.length;
      walk(abs);
      if (out.length === before) {
        diagnostics.push({
          severity: 'error',
          code: 'scenario/none',
          message: `no scenario files in ${displayPath(abs)}`,
          hint: 'scenario files are named *.scenario.yaml, *.scenario.yml or *.scenario.json',
          file: displayPath(abs),
        });
      }
    } else out.push(abs);
  }
  return [...new Set(out)];
}

/** How many scenario files run at the same time by default. */
export const DEFAULT_CONCURRENCY = 4;

/**
 * Runs scenario files and folders and sums them up, in the order given. Each scenario has its own gateway, virtual
 * clock and mock backends, so several run at once (`concurrency`, default 4) without affecting each other's results:
 * while one waits for a loopback round trip, another computes.
 */
export async function runScenarios(inputs: string[], opts: RunOptions & { concurrency?: number } = {}): Promise<RunSummary> {
  const start = performance.now();
  const diagnostics: Diagnostic[] = [];
  const files = findScenarioFiles(inputs, diagnostics);
  const results = new Array<ScenarioResult>(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      results[i] = await runScenarioFile(files[i]!, opts);
    }
  };
  const n = Math.max(1, Math.min(opts.concurrency ?? DEFAULT_CONCURRENCY, files.length));
  await Promise.all(Array.from({ length: n }, worker));
  return summarize(results, diagnostics, performance.now() - start);
}

export function summarize(results: ScenarioResult[], diagnostics: Diagnostic[] = [], wallMs = 0): RunSummary {
  const counts = { passed: 0, failed: 0, invalid: 0 };
  for (const r of results) counts[r.status]++;
  const coverage = mergeCoverage(results.flatMap((r): FileCoverage[] => r.coverage)).map(summarizeCoverage);
  const exitCode = counts.invalid > 0 || diagnostics.some((d) => d.severity === 'error') || results.length === 0 ? 2 : counts.failed > 0 ? 1 : 0;
  return { results, coverage, counts, exitCode, diagnostics, wallMs };
}

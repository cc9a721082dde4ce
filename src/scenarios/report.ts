import { formatDiagnosticLine } from '../diagnostics/diagnostic.js';
import { xmlEscape } from '../diagnostics/format.js';
import { displayPath } from '../config/files.js';
import type { Failure, RunSummary } from './results.js';
import { htmlReport } from './report-html.js';
import { formatSpan } from './timeline.js';

export type ScenarioReporter = 'text' | 'json' | 'junit' | 'html';
export const SCENARIO_REPORTERS: readonly ScenarioReporter[] = ['text', 'json', 'junit', 'html'];

/** Renders a run for humans (text), for tools (json), for CI test tabs (JUnit XML) or as one web page (html, CI artifacts). */
export function formatRunReport(summary: RunSummary, reporter: ScenarioReporter): string {
  switch (reporter) {
    case 'text':
      return textReport(summary);
    case 'json':
      return JSON.stringify(jsonReport(summary), null, 2) + '\n';
    case 'junit':
      return junitReport(summary);
    case 'html':
      return htmlReport(summary);
    default: {
      const never: never = reporter;
      throw new Error(`unknown reporter "${String(never)}" (allowed: ${SCENARIO_REPORTERS.join(', ')})`);
    }
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function virtual(ms: number): string {
  return formatSpan(ms);
}

function failureLines(f: Failure, indent: string): string[] {
  return [`${indent}✗ ${f.message}`, ...f.details.map((d) => `${indent}    ${d}`)];
}

function textReport(s: RunSummary): string {
  const lines: string[] = [];
  for (const d of s.diagnostics) lines.push(formatDiagnosticLine(d));
  for (const r of s.results) {
    const head = r.status === 'passed' ? 'PASS' : r.status === 'failed' ? 'FAIL' : 'INVALID';
    const stats = r.status === 'invalid' ? '' : `  (${plural(r.requests, 'request')}, ${virtual(r.virtualMs)} virtual)`;
    lines.push(`${head} ${r.file} — ${r.name}${stats}`);
    if (r.status === 'invalid') for (const d of r.diagnostics.filter((x) => x.severity === 'error')) lines.push(`  ${formatDiagnosticLine(d)}`);
    for (const f of r.failures) lines.push(...failureLines(f, '  '));
    if (r.snapshot && (r.snapshot.status === 'written' || r.snapshot.status === 'updated'))
      lines.push(`  snapshot ${r.snapshot.status}: ${displayPath(r.snapshot.path)}`);
    if (r.snapshot?.status === 'not-written')
      lines.push(`  snapshot not written: ${displayPath(r.snapshot.path)} (the scenario failed; it is written on the first passing run)`);
  }
  if (s.coverage.length) {
    lines.push('', 'Policy coverage (statements run, when/otherwise branches taken, on-error statements run):');
    for (const c of s.coverage) {
      lines.push(
        `  ${c.file}  statements ${c.statements.covered}/${c.statements.total}  branches ${c.branches.covered}/${c.branches.total}  on-error ${c.onError.covered}/${c.onError.total}`,
      );
      if (c.missed.length) lines.push(`    not run: ${c.missed.join('; ')}`);
    }
  }
  const requests = s.results.reduce((n, r) => n + r.requests, 0);
  const vms = s.results.reduce((n, r) => n + r.virtualMs, 0);
  lines.push(
    '',
    `${plural(s.results.length, 'scenario')}: ${s.counts.passed} passed, ${s.counts.failed} failed, ${s.counts.invalid} invalid (${plural(requests, 'request')}, ${virtual(vms)} of virtual time) in ${(s.wallMs / 1000).toFixed(2)} s`,
  );
  return lines.join('\n') + '\n';
}

function jsonReport(s: RunSummary): unknown {
  return {
    counts: s.counts,
    exitCode: s.exitCode,
    diagnostics: s.diagnostics,
    scenarios: s.results.map((r) => ({
      file: r.file,
      name: r.name,
      status: r.status,
      requests: r.requests,
      virtualMs: r.virtualMs,
      wallMs: Math.round(r.wallMs),
      diagnostics: r.diagnostics,
      steps: r.steps.map((st) => ({ index: st.index, label: st.label, kind: st.kind, requests: st.requests, passed: st.failures.length === 0 })),
      failures: r.failures,
      snapshot: r.snapshot ? { path: displayPath(r.snapshot.path), status: r.snapshot.status, ...(r.snapshot.diff ? { diff: r.snapshot.diff } : {}) } : null,
      timeline: r.timeline,
    })),
    coverage: s.coverage,
  };
}

function attr(s: string): string {
  return xmlEscape(s).replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/**
 * JUnit XML: one testsuite per scenario file, one testcase per step (plus `snapshot` when compared). An invalid
 * scenario is one testcase with an `<error>`; policies that do not load are a `load` testcase with a `<failure>`.
 */
function junitReport(s: RunSummary): string {
  interface Case {
    name: string;
    failure?: { message: string; body: string };
    error?: { message: string; body: string };
  }
  const suites = s.results.map((r) => {
    const cases: Case[] = [];
    if (r.status === 'invalid') {
      const errs = r.diagnostics.filter((d) => d.severity === 'error');
      cases.push({
        name: 'scenario file',
        error: { message: `invalid scenario: ${errs[0] ? errs[0].message : 'see details'}`, body: errs.map(formatDiagnosticLine).join('\n') },
      });
    } else {
      const load = r.failures.filter((f) => f.stepLabel === 'load');
      if (load.length) cases.push({ name: 'load', failure: { message: load[0]!.message, body: load.flatMap((f) => f.details).join('\n') } });
      for (const st of r.steps) {
        const c: Case = { name: st.label };
        if (st.failures.length) c.failure = { message: st.failures[0]!.message, body: st.failures.flatMap((f) => failureLines(f, '')).join('\n') };
        cases.push(c);
      }
      if (r.snapshot) {
        const f = r.failures.find((x) => x.stepLabel === 'snapshot');
        cases.push({ name: 'snapshot', ...(f ? { failure: { message: f.message, body: f.details.join('\n') } } : {}) });
      }
    }
    return { r, cases };
  });
  const total = suites.reduce((n, x) => n + x.cases.length, 0);
  const failures = suites.reduce((n, x) => n + x.cases.filter((c) => c.failure).length, 0);
  const errors = suites.reduce((n, x) => n + x.cases.filter((c) => c.error).length, 0);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="apim-emulator test" tests="${total}" failures="${failures}" errors="${errors}" time="${seconds(s.wallMs)}">`,
  ];
  for (const { r, cases } of suites) {
    const f = cases.filter((c) => c.failure).length;
    const e = cases.filter((c) => c.error).length;
    lines.push(
      `  <testsuite name="${attr(`${r.file} — ${r.name}`)}" tests="${cases.length}" failures="${f}" errors="${e}" skipped="0" time="${seconds(r.wallMs)}">`,
    );
    for (const c of cases) {
      const open = `    <testcase name="${attr(c.name)}" classname="${attr(r.file)}"`;
      if (!c.failure && !c.error) {
        lines.push(`${open}/>`);
        continue;
      }
      lines.push(`${open}>`);
      if (c.failure) lines.push(`      <failure message="${attr(c.failure.message)}" type="expectation">${xmlEscape(c.failure.body)}</failure>`);
      if (c.error) lines.push(`      <error message="${attr(c.error.message)}" type="invalid-scenario">${xmlEscape(c.error.body)}</error>`);
      lines.push('    </testcase>');
    }
    if (r.timeline) lines.push(`    <system-out>${xmlEscape(r.timeline)}</system-out>`);
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return lines.join('\n') + '\n';
}

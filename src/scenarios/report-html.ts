import { readConsoleAsset } from '../console/assets.js';
import { formatDiagnosticLine } from '../diagnostics/diagnostic.js';
import type { RunSummary, ScenarioRequest, ScenarioResult } from './results.js';
import { describeAttempt, describeTransition, formatOffset, formatSpan } from './timeline.js';
import type { BreakerTransition } from './timeline.js';

/**
 * `apim-emulator test --report html`: one self-contained page (styles, scripts and data inline; no network) with, per
 * scenario, its failures, a chart of which backend answered over virtual time with the breakers' open periods, the
 * request timeline, and each request's trace tree drawn by the console's own trace view (docs/console.md).
 */
export function htmlReport(s: RunSummary): string {
  const css = readConsoleAsset('console.css') ?? '';
  const traceView = readConsoleAsset('trace-view.js');
  const requests = s.results.map((r) =>
    r.requestLog.map((q) => ({
      method: q.method,
      url: q.path,
      api: null,
      operation: null,
      response: { status: q.status, reason: '', headers: {} },
      lastError: q.lastError,
      events: q.trace,
    })),
  );
  const total = s.results.reduce((n, r) => n + r.requests, 0);
  const head = `${s.results.length} scenario${s.results.length === 1 ? '' : 's'}: ${s.counts.passed} passed, ${s.counts.failed} failed, ${s.counts.invalid} invalid (${total} request${total === 1 ? '' : 's'}) in ${(s.wallMs / 1000).toFixed(2)} s`;
  const body = [
    `<header class="top"><h1>apim-emulator test report</h1><p class="clock" id="summary">${esc(head)}</p></header>`,
    s.diagnostics.length
      ? `<section class="scenario"><h2>Problems with the paths given</h2><ul>${s.diagnostics.map((d) => `<li>${esc(formatDiagnosticLine(d))}</li>`).join('')}</ul></section>`
      : '',
    '<main>',
    ...s.results.map((r, i) => scenarioSection(r, i)),
    '</main>',
  ].join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>apim-emulator test report — ${esc(`${s.counts.passed} passed, ${s.counts.failed} failed, ${s.counts.invalid} invalid`)}</title>
<style>${css}</style>
</head>
<body>
${body}
<script type="application/json" id="report-data">${jsonForScript(requests)}</script>
${traceView === null ? '<p class="muted">The trace view script is missing from this installation: trace trees are not available.</p>' : `<script>${traceView.replace(/<\/script/gi, '<\\/script')}</script>`}
<script>${CLIENT}</script>
</body>
</html>
`;
}

/** Opens a request's trace tree when its button is pressed (the data are in #report-data). */
const CLIENT = `(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  document.addEventListener('click', function (ev) {
    var b = ev.target.closest && ev.target.closest('button[data-req]');
    if (!b || !window.ApimTraceView) return;
    var parts = b.getAttribute('data-req').split(':');
    var target = document.getElementById('trace-' + parts[0]);
    var rows = b.closest('tbody').querySelectorAll('tr');
    for (var i = 0; i < rows.length; i++) rows[i].setAttribute('aria-selected', String(rows[i] === b.closest('tr')));
    window.ApimTraceView.render(target, data[Number(parts[0])][Number(parts[1])]);
    target.setAttribute('data-request', parts[1]);
  });
})();`;

function scenarioSection(r: ScenarioResult, i: number): string {
  const cls = r.status === 'passed' ? 'pass' : 'fail';
  const label = r.status === 'passed' ? 'PASS' : r.status === 'failed' ? 'FAIL' : 'INVALID';
  const parts: string[] = [];
  parts.push(
    `<h2><span class="${cls}">${label}</span> ${esc(r.name)} <span class="small">${esc(r.file)} · ${r.requests} request${r.requests === 1 ? '' : 's'}, ${esc(formatSpan(r.virtualMs))} virtual</span></h2>`,
  );
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) parts.push(`<ul class="lasterror">${errors.map((d) => `<li>${esc(formatDiagnosticLine(d))}</li>`).join('')}</ul>`);
  if (r.failures.length) {
    parts.push(
      `<div class="lasterror" role="note"><strong>Failures</strong><ul>${r.failures
        .map((f) => `<li>${esc(f.message)}${f.details.length ? `<pre class="timeline">${esc(f.details.join('\n'))}</pre>` : ''}</li>`)
        .join('')}</ul></div>`,
    );
  }
  if (r.requestLog.length) {
    parts.push(`<h3>Which backend answered over time</h3>`, chart(r, i));
    parts.push(`<h3>Requests</h3>`, requestTable(r, i));
    parts.push(`<div class="trace-host" id="trace-${i}" aria-live="polite"><p class="muted">Choose a request to see its trace.</p></div>`);
  }
  if (r.timeline) parts.push(`<details><summary>Timeline (snapshot format)</summary><pre class="timeline">${esc(r.timeline)}</pre></details>`);
  return `<section class="scenario" data-scenario="${esc(r.name)}" data-status="${r.status}" aria-label="${esc(`${label} ${r.name}`)}">\n${parts.join('\n')}\n</section>`;
}

function requestTable(r: ScenarioResult, i: number): string {
  const rows = r.requestLog.map((q, n) => {
    const attempts = q.attempts.length ? q.attempts.map(describeAttempt).join(', ') : 'no backend called';
    return `<tr data-request="${n}"><td class="mono">${esc(formatOffset(q.at))}</td><td>${q.step}</td><td><button type="button" class="req-btn" data-req="${i}:${n}" aria-label="${esc(`show trace of request ${n + 1}: ${q.method} ${q.path}`)}">${esc(`${q.method} ${q.path}`)}</button></td><td class="status s${String(q.status).charAt(0)}">${q.status}</td><td>${esc(attempts)}</td></tr>`;
  });
  return `<div class="table-wrap"><table><caption class="sr-only">Requests of ${esc(r.name)}; choose one to see its trace</caption><thead><tr><th scope="col">Virtual time</th><th scope="col">Step</th><th scope="col">Request</th><th scope="col">Status</th><th scope="col">Attempts</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

const ROW_H = 26;
const LEFT = 110;
const WIDTH = 760;

/**
 * An SVG chart: one row per backend that received an attempt, x = virtual time; a marker per attempt (green 2xx,
 * red 4xx/5xx or a gateway error, with the status written in its tooltip) and a red band while its breaker was open.
 */
function chart(r: ScenarioResult, i: number): string {
  const log: ScenarioRequest[] = r.requestLog;
  const backends: string[] = [];
  for (const q of log) for (const a of q.attempts) if (a.kind === 'sent' && a.memberId && !backends.includes(a.memberId)) backends.push(a.memberId);
  const transitions = r.entries.flatMap((e): BreakerTransition[] => (e.kind === 'breaker' ? [e.event] : []));
  for (const t of transitions) if (!backends.includes(t.backend)) backends.push(t.backend);
  if (backends.length === 0) return '<p class="muted">No backend was called.</p>';
  const end = Math.max(r.virtualMs, ...log.map((q) => q.at), 1);
  const x = (ms: number) => LEFT + ((WIDTH - LEFT - 10) * ms) / end;
  const height = backends.length * ROW_H + 30;
  const out: string[] = [];
  backends.forEach((b, row) => {
    const y = row * ROW_H + 8;
    out.push(`<text x="4" y="${y + 15}">${esc(b)}</text><line x1="${LEFT}" x2="${WIDTH - 10}" y1="${y + 11}" y2="${y + 11}" stroke="#c9d1d9"/>`);
    // Open periods: from each `opened` to the next `closed` of the same backend (or the end of the scenario).
    let openAt: number | null = null;
    for (const t of transitions.filter((x) => x.backend === b)) {
      if (t.kind === 'opened') openAt = t.at;
      else if (openAt !== null) {
        out.push(band(x(openAt), x(t.at), y, `${b} open ${formatOffset(openAt)} → ${formatOffset(t.at)}`));
        openAt = null;
      }
    }
    if (openAt !== null)
      out.push(
        band(
          x(openAt),
          x(end),
          y,
          `${b} open from ${formatOffset(openAt)} (${describeTransition(transitions.filter((t) => t.backend === b && t.kind === 'opened').at(-1)!)})`,
        ),
      );
  });
  // Requests at the same virtual time (a repeat without waits) sit side by side, 9 px apart, so each stays visible;
  // attempts of one request 3 px apart.
  const sameTime = new Map<number, number>();
  log.forEach((q, n) => {
    const nth = sameTime.get(q.at) ?? 0;
    sameTime.set(q.at, nth + 1);
    q.attempts.forEach((a, k) => {
      if (a.kind !== 'sent' || !a.memberId) return;
      const row = backends.indexOf(a.memberId);
      const good = a.status !== undefined && a.status < 400;
      const what = a.status ?? a.error ?? 'no answer';
      out.push(
        `<circle cx="${Math.min(WIDTH - 6, x(q.at) + nth * 9 + k * 3).toFixed(1)}" cy="${row * ROW_H + 19}" r="4.5" fill="${good ? '#116329' : '#a40e26'}" data-backend="${esc(a.memberId)}" data-status="${esc(String(what))}"><title>${esc(`request ${n + 1} at ${formatOffset(q.at)}: ${a.memberId} ${what}`)}</title></circle>`,
      );
    });
  });
  out.push(
    `<text x="${LEFT}" y="${height - 4}">${esc(formatOffset(0))}</text><text x="${WIDTH - 10}" y="${height - 4}" text-anchor="end">${esc(formatOffset(end))}</text>`,
  );
  return `<svg class="chart" id="chart-${i}" role="img" aria-label="${esc(`which backend answered each attempt over ${formatSpan(end)} of virtual time; red bands: breaker open`)}" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">${out.join('')}</svg>`;
}

function band(x1: number, x2: number, y: number, title: string): string {
  return `<rect class="open-band" x="${x1.toFixed(1)}" y="${y + 3}" width="${Math.max(2, x2 - x1).toFixed(1)}" height="16" fill="#ffebe9" stroke="#a40e26" stroke-width="0.5"><title>${esc(title)}</title></rect>`;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** JSON safe inside a <script> element: no `</script>` or `<!--` can end or change it. */
function jsonForScript(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

import type { BackendStateSnapshot } from '../backends/index.js';
import type { LastError, TraceEvent } from '../engine/context.js';
import type { HeaderMap } from '../engine/headers.js';
import type { MockBackendSet } from '../mocks/index.js';
import { ranStatements } from './coverage.js';
import { parseTraceSpec, specMatches, type TraceSpec } from './references.js';
import type { Failure } from './results.js';
import { describeAttempt, describeTransition, formatOffset, type AttemptRecord, type BreakerTransition, type TimelineEntry } from './timeline.js';
import type { SentMessage } from './sinks.js';
import type { Expectations, ScenarioStep, SentSpec } from './types.js';

/**
 * Expectations of a step checked against what happened: per request (status, headers, body, attempts, trace), over the
 * step's requests together (distribution), and on state after the step (breakers, mock request counts). Each failure
 * says what was expected, what happened instead, and the context of the request that broke it.
 */

/** A request the runner sent, with what the trace says happened to it. */
export interface RequestRecord {
  at: number;
  method: string;
  path: string;
  status: number;
  headers: HeaderMap;
  bodyText: string;
  /** Set when the response body broke off before its end. */
  bodyError: string | undefined;
  attempts: AttemptRecord[];
  transitions: BreakerTransition[];
  trace: readonly TraceEvent[];
  error: string | undefined;
  lastError: LastError | null;
  /** Breakers already open when the request arrived, e.g. "foundry1 until +00:01:07.000". */
  openBefore: string[];
  /** The gateway's id of the request (context.RequestId), which the sinks record. */
  requestId: string;
  /** Virtual ms when the response (body included) was complete; set for requests of a concurrent step. */
  doneAt?: number;
}

const MAX_TRACE_LINES = 40;

/** What a state expectation looks at after a step. */
export interface StateView {
  /** Breaker state of every backend (empty without backends). */
  backends: readonly BackendStateSnapshot[];
  /** Virtual ms since the scenario started, now and for an epoch time. */
  now: number;
  rel: (epochMs: number) => number;
  timeline: readonly TimelineEntry[];
  mocks: MockBackendSet;
}

export function checkState(step: ScenarioStep, label: string, e: Expectations, v: StateView): Failure[] {
  const out: Failure[] = [];
  const fail = (message: string, details: string[] = []) => out.push({ step: step.index, stepLabel: label, message, details });
  if (e.breakers) {
    for (const [id, want] of e.breakers) {
      const b = v.backends.find((x) => x.id === id)?.breaker;
      const got = b?.state ?? 'closed';
      if (got !== want) {
        const details = [
          `at ${formatOffset(v.now)}: ${got}${b?.openUntil ? ` until ${formatOffset(v.rel(Date.parse(b.openUntil)))}` : ''}; ${b?.failuresInWindow ?? 0} failure(s) of ${b?.totalInWindow ?? 0} in the window; ${b?.trips ?? 0} trip(s)`,
        ];
        if (b?.lastTripReason) details.push(`last trip: ${b.lastTripReason}`);
        const recent = v.timeline.filter((t): t is Extract<TimelineEntry, { kind: 'breaker' }> => t.kind === 'breaker' && t.event.backend === id).slice(-3);
        for (const t of recent) details.push(`${formatOffset(t.event.at)} ${describeTransition(t.event)}`);
        fail(`expected breaker ${id} ${want} but it is ${got}`, details);
      }
    }
  }
  for (const [id, want] of e.mockRequests ?? []) {
    const got = v.mocks.get(id)?.describe().requestCount ?? 0;
    if (got !== want) fail(`expected mock ${id} to have received ${want} request${want === 1 ? '' : 's'} but it received ${got}`);
  }
  return out;
}

/**
 * Where the checked requests sit in their step: `offset` requests of the step come before them, `of` in all (a concurrent
 * step's entry checks a slice). `explained` holds the requests whose context a failure already shows, so a request that
 * breaks several expectations has its attempts and trace printed once.
 */
export interface CheckContext {
  offset: number;
  of: number;
  explained: Set<RequestRecord>;
  /** Messages recorded by the local sinks so far (the `sent` expectation keeps those of the checked requests). */
  sent: readonly SentMessage[];
}

export function checkRequests(
  step: ScenarioStep,
  label: string,
  e: Expectations,
  records: RequestRecord[],
  cx: CheckContext = { offset: 0, of: records.length, explained: new Set(), sent: [] },
): Failure[] {
  const out: Failure[] = [];
  // One failure per expectation: the first request that breaks it, with how many others did too.
  const perRequest: Array<[string, (r: RequestRecord) => string | undefined]> = [];
  if (e.status) {
    const want = e.status;
    perRequest.push(['status', (r) => (want.includes(r.status) ? undefined : `expected status ${want.join(' or ')} but got ${r.status}`)]);
  }
  for (const [name, want] of e.headers ?? []) {
    perRequest.push([
      `header ${name}`,
      (r) => {
        const got = r.headers.getJoined(name);
        if (want === null || want === false) return got === undefined ? undefined : `expected no header ${name} but got "${got}"`;
        if (want === true) return got !== undefined ? undefined : `expected a header ${name} but there is none`;
        return got === want ? undefined : `expected header ${name}: "${want}" but got ${got === undefined ? 'none' : `"${got}"`}`;
      },
    ]);
  }
  for (const [p, want] of e.body ?? []) {
    perRequest.push([
      `body ${p}`,
      (r) => {
        let json: unknown;
        try {
          json = JSON.parse(r.bodyText) as unknown;
        } catch {
          return `expected a JSON body with ${p || 'a value'} = ${JSON.stringify(want)} but the body is not JSON: ${clip(r.bodyText)}`;
        }
        const got = readPath(json, p);
        if (!got.found) return `expected body ${p} = ${JSON.stringify(want)} but the body has no ${p} (${got.why}); body: ${clip(r.bodyText)}`;
        return deepEqual(got.value, want) ? undefined : `expected body ${p || '(whole body)'} = ${JSON.stringify(want)} but got ${JSON.stringify(got.value)}`;
      },
    ]);
  }
  if (e.bodyContains !== undefined) {
    const want = e.bodyContains;
    perRequest.push([
      'bodyContains',
      (r) => (r.bodyText.includes(want) ? undefined : `expected the body to contain ${JSON.stringify(want)} but it is ${clip(r.bodyText)}`),
    ]);
  }
  if (e.backend !== undefined) {
    const want = e.backend;
    perRequest.push([
      'backend',
      (r) => {
        const got = servedBy(r);
        if (want === null) return got === null ? undefined : `expected no backend to be called but ${got} served the request`;
        return got === want ? undefined : `expected backend ${want} to serve the request but ${got === null ? 'no backend did' : `${got} did`}`;
      },
    ]);
  }
  if (e.attempts) {
    const want = e.attempts;
    perRequest.push([
      'attempts',
      (r) => {
        const sent = r.attempts.filter((a) => a.kind === 'sent');
        const ok =
          sent.length === want.length &&
          want.every(
            (w, i) =>
              sent[i]!.memberId === w.backend &&
              (w.outcome === undefined || (w.outcome === 'error' ? sent[i]!.error !== undefined : sent[i]!.status === w.outcome)),
          );
        if (ok) return undefined;
        const show = (xs: string[]) => (xs.length ? xs.join(', ') : '(none)');
        return `expected attempts ${show(want.map((w) => (w.outcome === undefined ? w.backend : `${w.backend} ${w.outcome}`)))} but got ${show(sent.map(describeAttempt))}`;
      },
    ]);
  }
  if (e.attemptCount !== undefined) {
    const want = e.attemptCount;
    perRequest.push([
      'attemptCount',
      (r) => {
        const n = r.attempts.filter((a) => a.kind === 'sent').length;
        return n === want ? undefined : `expected ${want} attempt${want === 1 ? '' : 's'} but got ${n}`;
      },
    ]);
  }
  for (const spec of e.traceRan ?? []) {
    const parsed = parseTraceSpec(spec) as TraceSpec;
    perRequest.push([
      `trace ran ${spec}`,
      (r) => (ranStatements(r.trace).some((x) => specMatches(parsed, x)) ? undefined : `expected ${spec} to run but it did not`),
    ]);
  }
  for (const spec of e.traceNotRan ?? []) {
    const parsed = parseTraceSpec(spec) as TraceSpec;
    perRequest.push([
      `trace notRan ${spec}`,
      (r) => {
        const hit = ranStatements(r.trace).find((x) => specMatches(parsed, x));
        return hit ? `expected ${spec} not to run but ${hit.scope} ${hit.section} ${hit.path} ran` : undefined;
      },
    ]);
  }

  for (const [, check] of perRequest) {
    let first: { i: number; msg: string } | undefined;
    let count = 0;
    records.forEach((r, i) => {
      const msg = check(r);
      if (msg === undefined) return;
      count++;
      first ??= { i, msg };
    });
    if (!first) continue;
    const r = records[first.i]!;
    const n = cx.offset + first.i + 1;
    const others = count > 1 ? `; ${count - 1} more of the ${records.length} failed this too` : '';
    const seen = cx.explained.has(r);
    cx.explained.add(r);
    out.push({
      step: step.index,
      stepLabel: label,
      request: { n, of: cx.of },
      message: `${first.msg} (request ${n} of ${cx.of} in ${label}${others})`,
      details: seen ? [`request ${n}: its attempts and trace are shown above`] : explainRequest(r),
    });
  }

  for (const [key, want, outcome] of [
    ['statuses', e.statuses?.map(([k, v]) => [String(k), v] as const), (r: RequestRecord) => String(r.status)],
    ['servedBy', e.servedBy, (r: RequestRecord) => servedBy(r) ?? 'none'],
  ] as const) {
    if (!want) continue;
    const f = checkCounts(key, new Map(want), records, outcome);
    if (f) out.push({ step: step.index, stepLabel: label, message: `${label}: ${f}`, details: requestSummary(records) });
  }

  if (e.sent) {
    const ids = new Set(records.map((r) => r.requestId));
    const mine = cx.sent.filter((m) => ids.has(m.requestId));
    for (const want of e.sent) {
      const f = checkSent(want, mine, records.length);
      if (f)
        out.push({
          step: step.index,
          stepLabel: label,
          message: `${label}: ${f}`,
          details: mine.length ? mine.slice(0, 10).map(describeMessage) : ['no message was sent by these requests'],
        });
    }
  }

  if (e.distribution) {
    const counts = new Map<string, number>();
    for (const r of records) {
      const who = servedBy(r) ?? '(no backend)';
      counts.set(who, (counts.get(who) ?? 0) + 1);
    }
    const n = records.length;
    const pct = (id: string) => ((counts.get(id) ?? 0) * 100) / n;
    const wanted = new Map(e.distribution);
    const problems: string[] = [];
    for (const [id, share] of e.distribution) {
      const got = pct(id);
      if (Math.abs(got - share) > e.tolerance + 1e-9) problems.push(`${id} ${fmtPct(got)} (expected ${fmtPct(share)} ± ${e.tolerance})`);
    }
    for (const [id] of counts) if (!wanted.has(id)) problems.push(`${id} ${fmtPct(pct(id))} (expected none)`);
    if (problems.length) {
      const all = [...counts]
        .sort((a, b) => b[1] - a[1])
        .map(([id, c]) => `${id} ${c}`)
        .join(', ');
      out.push({
        step: step.index,
        stepLabel: label,
        message: `${label}: the distribution of ${n} requests is off: ${problems.join('; ')}`,
        details: [`served by: ${all}`, ...requestSummary(records)],
      });
    }
  }
  return out;
}

/** One `sent` item against the messages of the checked requests; the failure text, or undefined when it holds. */
function checkSent(want: SentSpec, messages: readonly SentMessage[], requests: number): string | undefined {
  const matching = messages.filter(
    (m) =>
      m.kind === want.kind &&
      (want.target === undefined || m.target === want.target) &&
      (want.payloadContains === undefined || m.payload.includes(want.payloadContains)) &&
      (want.payload === undefined || payloadEquals(m.payload, want.payload)),
  );
  const ok = want.count === undefined ? matching.length > 0 : matching.length === want.count;
  if (ok) return undefined;
  const what = [
    `${want.kind} message${want.count !== undefined && want.count !== 1 ? 's' : ''}`,
    ...(want.target !== undefined ? [`to "${want.target}"`] : []),
    ...(want.payload !== undefined ? [`with payload ${JSON.stringify(want.payload)}`] : []),
    ...(want.payloadContains !== undefined ? [`containing ${JSON.stringify(want.payloadContains)}`] : []),
  ].join(' ');
  const of = `the ${requests} request${requests === 1 ? '' : 's'}`;
  return `expected ${want.count === undefined ? 'at least one' : want.count} ${what} but ${matching.length} ${matching.length === 1 ? 'was' : 'were'} sent by ${of} (${messages.length} message${messages.length === 1 ? '' : 's'} in all)`;
}

function payloadEquals(text: string, want: unknown): boolean {
  if (typeof want === 'string') return text === want;
  try {
    return deepEqual(JSON.parse(text) as unknown, want);
  } catch {
    return false;
  }
}

function describeMessage(m: SentMessage): string {
  return `${m.kind} ${m.target}: ${clip(m.payload, 120)}`;
}

/** `what` of the requests counted per outcome against the wanted counts; undefined when they match. */
function checkCounts(what: string, want: Map<string, number>, records: RequestRecord[], outcome: (r: RequestRecord) => string): string | undefined {
  const got = new Map<string, number>();
  for (const r of records) got.set(outcome(r), (got.get(outcome(r)) ?? 0) + 1);
  const problems: string[] = [];
  for (const [k, n] of want) if ((got.get(k) ?? 0) !== n) problems.push(`${k} ×${got.get(k) ?? 0} (expected ${n})`);
  for (const [k, n] of got) if (!want.has(k)) problems.push(`${k} ×${n} (expected none)`);
  if (!problems.length) return undefined;
  return `the ${what} of ${records.length} request${records.length === 1 ? '' : 's'} are off: ${problems.join('; ')}`;
}

/** One line per request (the first 10): when it started, its attempts, status, and when it ended if that was later. */
function requestSummary(records: RequestRecord[]): string[] {
  const lines = records
    .slice(0, 10)
    .map(
      (r, i) =>
        `${formatOffset(r.at)} #${i + 1} ${r.attempts.map(describeAttempt).join(', ') || 'no backend called'} → ${r.status}${r.doneAt !== undefined && r.doneAt !== r.at ? ` (done ${formatOffset(r.doneAt)})` : ''}`,
    );
  return records.length > 10 ? [...lines, `… ${records.length - 10} more`] : lines;
}

/** The single backend that produced the response: the last attempt sent. */
export function servedBy(r: RequestRecord): string | null {
  const sent = r.attempts.filter((a) => a.kind === 'sent');
  const last = sent[sent.length - 1];
  return last ? last.memberId || last.url : null;
}

/** What happened to one request: its attempts, breaker transitions, the error that reached on-error, the trace. */
export function explainRequest(r: RequestRecord): string[] {
  const lines = [`${r.method} ${r.path} at ${formatOffset(r.at)} → ${r.status}${r.bodyError ? ` (body broke off: ${r.bodyError})` : ''}`];
  lines.push(`breakers open before it: ${r.openBefore.length ? r.openBefore.join(', ') : 'none'}`);
  lines.push(`attempts: ${r.attempts.length ? r.attempts.map(describeAttempt).join(', ') : 'no backend called'}`);
  for (const t of r.transitions) lines.push(`${formatOffset(t.at)} ${describeTransition(t)}`);
  if (r.error) lines.push(`LastError: ${r.error}`);
  lines.push('trace:');
  const trace = traceLines(r.trace);
  lines.push(...trace.slice(0, MAX_TRACE_LINES).map((l) => `  ${l}`));
  if (trace.length > MAX_TRACE_LINES) lines.push(`  … ${trace.length - MAX_TRACE_LINES} more`);
  return lines;
}

function traceLines(events: readonly TraceEvent[]): string[] {
  const out: string[] = [];
  for (const e of events) {
    if (e.kind === 'info' || e.kind === 'response') continue;
    if (e.kind === 'policy' && e.scope && e.section) out.push(`${e.scope} ${e.section} ${e.path ?? e.policy ?? ''}`);
    else if (e.kind === 'error') out.push(`error: ${e.message}`);
    else out.push(e.message);
  }
  return out;
}

function readPath(json: unknown, p: string): { found: true; value: unknown } | { found: false; why: string } {
  if (p.trim() === '') return { found: true, value: json };
  const tokens: Array<string | number> = [];
  const re = /([^.[\]]+)|\[(\d+)\]/g;
  for (const m of p.matchAll(re)) tokens.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  let cur: unknown = json;
  let at = '';
  for (const t of tokens) {
    if (typeof t === 'number') {
      if (!Array.isArray(cur)) return { found: false, why: `${at || 'the body'} is not an array` };
      if (t >= cur.length) return { found: false, why: `${at || 'the body'} has ${cur.length} item${cur.length === 1 ? '' : 's'}` };
      cur = cur[t];
      at += `[${t}]`;
    } else {
      if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !(t in cur)) return { found: false, why: `no "${t}" in ${at || 'the body'}` };
      cur = (cur as Record<string, unknown>)[t];
      at += at ? `.${t}` : t;
    }
  }
  return { found: true, value: cur };
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((x, i) => deepEqual(x, (b as unknown[])[i]));
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function clip(s: string, n = 200): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return JSON.stringify(t.length > n ? `${t.slice(0, n)}…` : t);
}

function fmtPct(x: number): string {
  return `${Math.round(x * 10) / 10}%`;
}

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import type { BackendRegistry, CircuitBreakerEvent } from '../backends/index.js';
import { displayPath } from '../config/files.js';
import { formatDiagnosticLine, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { LastError, TraceEvent } from '../engine/context.js';
import { HeaderMap } from '../engine/headers.js';
import { CoverageIndex, ranStatements, type FileCoverage } from './coverage.js';
import { createEnvironment, type ScenarioEnvironment } from './environment.js';
import { loadScenario, snapshotPathFor } from './load.js';
import {
  describeAttempt,
  describeTransition,
  diffLines,
  formatOffset,
  renderTimeline,
  type AttemptRecord,
  type BreakerTransition,
  type TimelineEntry,
} from './timeline.js';
import type { Expectations, Loc, RequestSpec, Scenario, ScenarioStep } from './types.js';

/**
 * How snapshots are treated:
 * - `compare` (default): compare with the stored snapshot; write it when there is none yet;
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
  status: 'matched' | 'written' | 'updated' | 'changed' | 'missing';
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

/** A request the runner sent, with what the trace says happened to it. */
interface RequestRecord {
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
}

const MAX_TRACE_LINES = 40;
/** How often (wall ms) a pending request is checked for a stall. */
const POLL_MS = 5;
/** Wall time after which a request that makes no progress is aborted. */
const WATCHDOG_MS = 30_000;
/** Event-loop turns without progress after which an in-process request is known to wait on the clock only. */
const IDLE_TURNS = 3;

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
  if (!loaded.scenario) return done({ ...base, diagnostics: loaded.diagnostics });
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
      failures: [{ step: 0, stepLabel: 'load', message: `the policies and backends under test do not load (${errors.length} error${errors.length === 1 ? '' : 's'})`, details: errors.map(formatDiagnosticLine) }],
    });
  }
  const env = created.env;
  try {
    const coverage = new CoverageIndex(env.definition);
    const semantic = checkAgainstEnvironment(s, env, coverage);
    if (semantic.length) return done({ ...result, diagnostics: [...result.diagnostics, ...semantic] });
    const run = new ScenarioRun(s, env, coverage);
    try {
      await run.execute();
    } catch (e) {
      // A bug in the emulator or the runner: report it on this scenario and keep running the others.
      const step = run.steps[run.steps.length - 1];
      const failure: Failure = { step: step?.index ?? 0, stepLabel: step?.label ?? 'run', message: `internal error while running the scenario: ${e instanceof Error ? e.message : String(e)}`, details: e instanceof Error && e.stack ? e.stack.split('\n').slice(1, 6).map((l) => l.trim()) : [] };
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
      result.snapshot = handleSnapshot(snapshotPathFor(s.path), result.timeline, opts.snapshots ?? 'compare');
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

function handleSnapshot(file: string, timeline: string, mode: SnapshotMode): SnapshotOutcome {
  const exists = existsSync(file);
  if (mode === 'update' || (!exists && mode === 'compare')) {
    const before = exists ? readFileSync(file, 'utf8') : undefined;
    if (before !== timeline) {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, timeline);
    }
    return { path: file, status: exists ? (before === timeline ? 'matched' : 'updated') : 'written' };
  }
  if (!exists) return { path: file, status: 'missing' };
  const stored = readFileSync(file, 'utf8').replace(/\r\n/g, '\n');
  if (stored === timeline) return { path: file, status: 'matched' };
  return { path: file, status: 'changed', diff: diffLines(stored, timeline) };
}

/** Checks that need the loaded gateway: backend ids named in expectations, trace paths that exist. */
function checkAgainstEnvironment(s: Scenario, env: ScenarioEnvironment, coverage: CoverageIndex): Diagnostic[] {
  const out: Diagnostic[] = [];
  const singles = new Set(env.backends.filter((b) => b.type === 'Single').map((b) => b.id));
  const pools = new Set(env.backends.filter((b) => b.type === 'Pool').map((b) => b.id));
  const withBreaker = new Set(env.backends.filter((b) => b.circuitBreaker).map((b) => b.id));
  const err = (loc: Loc | undefined, message: string, hint: string) => out.push({ severity: 'error', code: 'scenario/unknown-reference', message, hint, ...(loc ?? { file: s.file }) });
  const knownSingles = singles.size ? `backends: ${[...singles].join(', ')}` : 'no single backends are defined';
  const checkMember = (id: string, loc: Loc | undefined, what: string) => {
    if (singles.has(id)) return;
    if (pools.has(id)) err(loc, `${what} names "${id}", which is a pool`, `attempts reach pool members: ${knownSingles}`);
    else err(loc, `${what} names backend "${id}", which is not defined`, knownSingles);
  };
  const items = [...coverage.files.values()].flatMap((f) => f.items);
  for (const step of s.steps) {
    const e = step.expect;
    if (!e) continue;
    const at = (k: string) => e.keyLocs.get(k) ?? e.loc;
    if (e.backend) checkMember(e.backend, at('backend'), '"backend"');
    e.attempts?.forEach((a, i) => checkMember(a.backend, at(`attempts[${i}]`), '"attempts"'));
    for (const [id] of e.distribution ?? []) checkMember(id, at(`distribution.${id}`), '"distribution"');
    for (const [id] of e.breakers ?? []) {
      if (!singles.has(id) && !pools.has(id)) err(at(`breakers.${id}`), `"breakers" names backend "${id}", which is not defined`, knownSingles);
      else if (!withBreaker.has(id)) err(at(`breakers.${id}`), `backend "${id}" has no circuit breaker`, withBreaker.size ? `backends with a breaker: ${[...withBreaker].join(', ')}` : 'no backend defines circuitBreaker.rules');
    }
    for (const [id] of e.mockRequests ?? []) {
      if (!env.mocks.get(id)) err(at(`mockRequests.${id}`), `"mockRequests" names "${id}", which has no mock backend`, `mocked backends: ${env.mocks.all().map((m) => m.name).join(', ') || 'none'}`);
    }
    const specs = [...(e.traceRan ?? []).map((t, i) => [t, `trace.ran[${i}]`] as const), ...(e.traceNotRan ?? []).map((t, i) => [t, `trace.notRan[${i}]`] as const)];
    for (const [spec, key] of specs) {
      const parsed = parseTraceSpec(spec);
      const loc = e.keyLocs.get(key) ?? at('trace');
      if ('error' in parsed) {
        out.push({ severity: 'error', code: 'scenario/trace', message: `"${spec}": ${parsed.error}`, hint: 'write a policy name (retry), a path (choose[1]/when[2]), "section path" or "scope section path"', ...loc });
        continue;
      }
      if (!items.some((it) => specMatches(parsed, { scope: undefined, section: it.section, path: it.path, policy: it.policy }))) {
        const near = [...new Set(items.map((it) => `${it.section} ${it.path}`))].slice(0, 12).join(', ');
        out.push({ severity: 'error', code: 'scenario/trace', message: `"${spec}" names no policy in the documents under test`, hint: near ? `e.g. ${near}` : 'no policy documents are loaded', ...loc });
      }
    }
  }
  return out;
}

interface TraceSpec {
  scope?: string;
  section?: string;
  /** A path (contains "[") or a policy name. */
  what: string;
}

const SCOPE_WORDS = ['global', 'product', 'api', 'operation'];
const SECTION_WORDS = ['inbound', 'backend', 'outbound', 'on-error'];

function parseTraceSpec(spec: string): TraceSpec | { error: string } {
  const parts = spec.trim().split(/\s+/);
  if (parts.length > 3) return { error: 'too many words' };
  const what = parts[parts.length - 1]!;
  const section = parts.length >= 2 ? parts[parts.length - 2] : undefined;
  const scope = parts.length === 3 ? parts[0] : undefined;
  if (section !== undefined && !SECTION_WORDS.includes(section)) return { error: `"${section}" is not a section (${SECTION_WORDS.join(', ')})` };
  if (scope !== undefined && !SCOPE_WORDS.includes(scope)) return { error: `"${scope}" is not a scope (${SCOPE_WORDS.join(', ')})` };
  return { what, ...(section ? { section } : {}), ...(scope ? { scope } : {}) };
}

function specMatches(spec: TraceSpec, r: { scope: string | undefined; section: string; path: string; policy: string }): boolean {
  if (spec.scope && r.scope !== undefined && spec.scope !== r.scope) return false;
  if (spec.section && spec.section !== r.section) return false;
  return spec.what.includes('[') ? r.path === spec.what : r.policy === spec.what;
}

class ScenarioRun {
  readonly steps: StepResult[] = [];
  readonly timeline: TimelineEntry[] = [];
  readonly requestLog: ScenarioRequest[] = [];
  requestCount = 0;
  private pending: BreakerTransition[] = [];
  /** Aborts the request in flight when it makes no progress at all (see settle); one per request. */
  private watchdog = new AbortController();
  /** Set when the watchdog fired: the rest of the scenario is skipped. */
  stalled = false;
  private readonly registry: BackendRegistry | null;

  constructor(
    private readonly s: Scenario,
    private readonly env: ScenarioEnvironment,
    private readonly coverage: CoverageIndex,
  ) {
    this.registry = env.gateway.backends;
    this.registry?.onEvent((e) => this.onBreakerEvent(e));
  }

  private rel(ms: number): number {
    return ms - this.s.start;
  }

  private onBreakerEvent(e: CircuitBreakerEvent): void {
    const opened = e.eventType.endsWith('.Opened');
    const rule = Object.values(e.data.circuitBreaker.rules)[0];
    const t: BreakerTransition = { at: this.rel(Date.parse(e.eventTime)), backend: e.data.backendName, kind: opened ? 'opened' : 'closed' };
    if (opened && rule) t.openForMs = parseSpan(rule.tripDuration);
    this.pending.push(t);
  }

  /** Breaker transitions so far (closing is noticed lazily by the registry: state() makes it look). */
  private takeTransitions(): BreakerTransition[] {
    const state = this.registry?.state() ?? [];
    const out = this.pending.sort((a, b) => a.at - b.at);
    this.pending = [];
    for (const t of out) {
      if (t.kind !== 'opened') continue;
      const reason = state.find((x) => x.id === t.backend)?.breaker?.lastTripReason;
      const m = reason ? /open for (.+)$/.exec(reason) : null;
      if (m) t.source = m[1];
    }
    return out;
  }

  async execute(): Promise<void> {
    for (const step of this.s.steps) {
      if (this.stalled) break;
      const label = stepLabel(step);
      const sr: StepResult = { index: step.index, label, kind: step.kind, requests: 0, failures: [] };
      this.steps.push(sr);
      const now = () => this.rel(this.env.clock.now());
      switch (step.kind) {
        case 'send': {
          this.timeline.push({ kind: 'step', text: `step ${step.index}${step.name ? ` '${step.name}'` : ''}: send ${step.repeat > 1 ? `${step.repeat}× ` : ''}${step.request.method} ${step.request.path}` });
          const records: RequestRecord[] = [];
          for (let i = 0; i < step.repeat && !this.stalled; i++) {
            const rec = await this.send(step.request);
            if (this.stalled) {
              sr.failures.push({ step: step.index, stepLabel: label, request: { n: i + 1, of: step.repeat }, message: `request ${i + 1} of ${step.repeat} in ${label} did not complete within ${WATCHDOG_MS / 1000} s of wall time and was aborted; the rest of the scenario was skipped`, details: explainRequest(rec) });
              break;
            }
            records.push(rec);
            this.requestLog.push({ step: step.index, at: rec.at, method: rec.method, path: rec.path, status: rec.status, attempts: rec.attempts, lastError: rec.lastError, trace: rec.trace });
            if (this.requestLog.length > MAX_LOGGED_REQUESTS) this.requestLog.shift();
            this.timeline.push({ kind: 'request', at: rec.at, n: i + 1, of: step.repeat, attempts: rec.attempts, status: rec.status });
            for (const t of rec.transitions) this.timeline.push({ kind: 'breaker', event: t });
          }
          sr.requests = records.length;
          if (step.expect) sr.failures.push(...checkRequests(step, label, step.expect, records));
          break;
        }
        case 'advance': {
          this.env.clock.advance(step.ms);
          this.timeline.push({ kind: 'step', text: `step ${step.index}${step.name ? ` '${step.name}'` : ''}: advance ${step.text} → ${formatOffset(now())}` });
          for (const t of this.takeTransitions()) this.timeline.push({ kind: 'breaker', event: t });
          break;
        }
        case 'script': {
          for (const x of step.scripts) this.env.mocks.get(x.backendId)!.setScript(x.script);
          this.timeline.push({ kind: 'step', text: `step ${step.index}${step.name ? ` '${step.name}'` : ''}: script ${step.scripts.map((x) => `${x.backendId} = ${this.env.mocks.get(x.backendId)!.describe().scriptText}`).join('; ')}` });
          break;
        }
        case 'check':
          this.timeline.push({ kind: 'step', text: `step ${step.index}${step.name ? ` '${step.name}'` : ''}: check at ${formatOffset(now())}` });
          for (const t of this.takeTransitions()) this.timeline.push({ kind: 'breaker', event: t });
          break;
      }
      if (step.expect) sr.failures.push(...this.checkState(step, label, step.expect));
    }
  }

  private async send(req: RequestSpec): Promise<RequestRecord> {
    const at = this.rel(this.env.clock.now());
    const openBefore = (this.registry?.state() ?? []).filter((b) => b.breaker?.state === 'open').map((b) => `${b.id} until ${formatOffset(this.rel(Date.parse(b.breaker!.openUntil!)))}`);
    // Transitions noticed by that look (a breaker that closed meanwhile) belong before this request.
    for (const t of this.takeTransitions()) this.timeline.push({ kind: 'breaker', event: t });
    const q = req.path.indexOf('?');
    const headers = new HeaderMap(req.headers);
    let body: Readable | null = null;
    if (req.body !== undefined) {
      const buf = Buffer.from(req.body, 'utf8');
      body = Readable.from([buf]);
      if (!headers.has('content-length')) headers.set('Content-Length', [String(buf.length)]);
    }
    const pending = this.env.gateway.handle({
      method: req.method,
      path: q < 0 ? req.path : req.path.slice(0, q),
      search: q < 0 ? '' : req.path.slice(q),
      scheme: 'https',
      host: 'apim-emulator.local',
      port: 443,
      headers,
      body,
      ip: '127.0.0.1',
      tracing: true,
    }, this.requestAbort().signal);
    const result = await this.settle(pending);
    // Read the whole body so the mock's connection is reused and body expectations can look at it.
    let bodyText = '';
    let bodyError: string | undefined;
    try {
      bodyText = result.response.body ? (await this.settle(result.response.body.buffer())).toString('utf8') : '';
    } catch (e) {
      // A backend that cuts its body (stream-fail-after): the client sees a broken response, the scenario goes on.
      bodyError = e instanceof Error ? e.message : String(e);
    }
    const trace = result.context?.traceEvents ?? [];
    this.requestCount++;
    this.coverage.record(trace, { api: result.api, operation: result.operation, product: result.context?.product?.id ?? null });
    const le = result.context?.lastError;
    return {
      at,
      method: req.method,
      path: req.path,
      status: result.response.statusCode,
      headers: result.response.headers,
      bodyText,
      bodyError,
      attempts: attemptsFromTrace(trace),
      transitions: this.takeTransitions(),
      trace,
      error: le ? `${le.source} ${le.reason}: ${le.message}` : undefined,
      lastError: le ? { ...le } : null,
      openBefore,
    };
  }

  private requestAbort(): AbortController {
    this.watchdog = new AbortController();
    return this.watchdog;
  }

  /**
   * Waits for a request. When a mock backend hangs (a `hang` step), nothing but time can make progress: the clock moves to
   * the next pending deadline (the forward-request timeout, or the hang's own latency), exactly what would happen in
   * real time, so timeouts take no wall time and scenarios with hanging backends never stall. A request that still does
   * not complete within WATCHDOG_MS of wall time is aborted and the scenario fails.
   */
  private async settle<T>(p: Promise<T>): Promise<T> {
    let done = false;
    const tracked = p.finally(() => {
      done = true;
    });
    if (this.env.inProcess) return this.settleInProcess(tracked, () => done);
    const started = performance.now();
    let stalledPolls = 0;
    while (!done) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([tracked.then(() => undefined, () => undefined), new Promise((r) => (timer = setTimeout(r, POLL_MS)))]);
      clearTimeout(timer);
      if (done) break;
      // Two polls in a row with a hanging mock, so a request still being read is not mistaken for a stall.
      stalledPolls = this.mockIsHanging() ? stalledPolls + 1 : 0;
      const next = this.env.clock.nextDeadline();
      if (stalledPolls >= 2 && next !== undefined) {
        this.env.clock.set(Math.max(next, this.env.clock.now()));
        stalledPolls = 0;
      }
      if (performance.now() - started > WATCHDOG_MS && !this.watchdog.signal.aborted) {
        this.stalled = true;
        this.watchdog.abort(new Error('scenario watchdog'));
      }
    }
    return tracked;
  }

  /**
   * In-process mode: nothing runs outside this process's event loop, so when the request has not finished after the
   * loop went idle (every callback, stream tick and microtask ran: IDLE_TURNS turns of setImmediate), each request in
   * flight waits on the clock. Time then moves to the next deadline, exactly; no wall-time polling, no heuristics.
   * A request waiting on nothing at all (no deadline) is a stall: aborted at once.
   */
  private async settleInProcess<T>(tracked: Promise<T>, isDone: () => boolean): Promise<T> {
    const settled = tracked.then(() => undefined, () => undefined);
    let idle = 0;
    while (!isDone()) {
      await Promise.race([settled, new Promise<void>((r) => setImmediate(r))]);
      if (isDone()) break;
      if (++idle < IDLE_TURNS) continue;
      idle = 0;
      const next = this.env.clock.nextDeadline();
      if (next !== undefined) this.env.clock.set(Math.max(next, this.env.clock.now()));
      else if (!this.watchdog.signal.aborted) {
        this.stalled = true;
        this.watchdog.abort(new Error('scenario stall: the request waits on nothing'));
      }
    }
    return tracked;
  }

  private mockIsHanging(): boolean {
    for (const m of this.env.mocks.all()) {
      const log = m.requests;
      for (let i = log.length - 1; i >= 0 && i >= log.length - 4; i--) {
        const e = log[i]!;
        if (e.outcome === 'pending' && e.stepIndex !== null && m.script.steps[e.stepIndex]?.hang) return true;
      }
    }
    return false;
  }

  private checkState(step: ScenarioStep, label: string, e: Expectations): Failure[] {
    const out: Failure[] = [];
    const fail = (message: string, details: string[] = []) => out.push({ step: step.index, stepLabel: label, message, details });
    if (e.breakers) {
      const state = this.registry?.state() ?? [];
      for (const [id, want] of e.breakers) {
        const b = state.find((x) => x.id === id)?.breaker;
        const got = b?.state ?? 'closed';
        if (got !== want) {
          const details = [`at ${formatOffset(this.rel(this.env.clock.now()))}: ${got}${b?.openUntil ? ` until ${formatOffset(this.rel(Date.parse(b.openUntil)))}` : ''}; ${b?.failuresInWindow ?? 0} failure(s) of ${b?.totalInWindow ?? 0} in the window; ${b?.trips ?? 0} trip(s)`];
          if (b?.lastTripReason) details.push(`last trip: ${b.lastTripReason}`);
          const recent = this.timeline.filter((t): t is Extract<TimelineEntry, { kind: 'breaker' }> => t.kind === 'breaker' && t.event.backend === id).slice(-3);
          for (const t of recent) details.push(`${formatOffset(t.event.at)} ${describeTransition(t.event)}`);
          fail(`expected breaker ${id} ${want} but it is ${got}`, details);
        }
      }
    }
    for (const [id, want] of e.mockRequests ?? []) {
      const got = this.env.mocks.get(id)?.describe().requestCount ?? 0;
      if (got !== want) fail(`expected mock ${id} to have received ${want} request${want === 1 ? '' : 's'} but it received ${got}`);
    }
    return out;
  }
}

/** Attempts of one request, from forward-request's trace events (a pool member chosen, its answer or failure). */
export function attemptsFromTrace(events: readonly TraceEvent[]): AttemptRecord[] {
  const out: AttemptRecord[] = [];
  let last: AttemptRecord | undefined;
  for (const e of events) {
    if (e.kind === 'breaker' && e.decision === 'unavailable') {
      out.push({ kind: 'unavailable', backendId: e.backendId, memberId: '', url: '', message: e.message });
      last = undefined;
    } else if (e.kind === 'attempt') {
      if (e.phase === 'sent') {
        last = { kind: 'sent', backendId: e.backendId, memberId: e.memberId, url: e.url };
        out.push(last);
      } else if (last && e.phase === 'answered' && e.status !== undefined) last.status = e.status;
      else if (last && e.phase === 'failed') last.error = e.reason ?? 'failed';
    }
  }
  return out;
}

function stepLabel(step: ScenarioStep): string {
  const what = step.kind === 'send' ? 'send' : step.kind === 'advance' ? `advance ${step.text}` : step.kind === 'script' ? 'script' : 'check';
  return `step ${step.index}${step.name ? ` '${step.name}'` : `: ${what}`}`;
}

function parseSpan(s: string): number | undefined {
  const m = /^(?:(\d+)\.)?(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(s);
  if (!m) return undefined;
  return Math.round(((Number(m[1] ?? 0) * 24 + Number(m[2])) * 3600 + Number(m[3]) * 60 + Number(m[4])) * 1000);
}

// ------------------------------------------------------------------------------------------------ expectations

function checkRequests(step: ScenarioStep, label: string, e: Expectations, records: RequestRecord[]): Failure[] {
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
    perRequest.push(['bodyContains', (r) => (r.bodyText.includes(want) ? undefined : `expected the body to contain ${JSON.stringify(want)} but it is ${clip(r.bodyText)}`)]);
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
        const ok = sent.length === want.length && want.every((w, i) => sent[i]!.memberId === w.backend && (w.outcome === undefined || (w.outcome === 'error' ? sent[i]!.error !== undefined : sent[i]!.status === w.outcome)));
        if (ok) return undefined;
        const show = (xs: string[]) => (xs.length ? xs.join(', ') : '(none)');
        return `expected attempts ${show(want.map((w) => (w.outcome === undefined ? w.backend : `${w.backend} ${w.outcome}`)))} but got ${show(sent.map(describeAttempt))}`;
      },
    ]);
  }
  if (e.attemptCount !== undefined) {
    const want = e.attemptCount;
    perRequest.push(['attemptCount', (r) => {
      const n = r.attempts.filter((a) => a.kind === 'sent').length;
      return n === want ? undefined : `expected ${want} attempt${want === 1 ? '' : 's'} but got ${n}`;
    }]);
  }
  for (const spec of e.traceRan ?? []) {
    const parsed = parseTraceSpec(spec) as TraceSpec;
    perRequest.push([`trace ran ${spec}`, (r) => (ranStatements(r.trace).some((x) => specMatches(parsed, x)) ? undefined : `expected ${spec} to run but it did not`)]);
  }
  for (const spec of e.traceNotRan ?? []) {
    const parsed = parseTraceSpec(spec) as TraceSpec;
    perRequest.push([`trace notRan ${spec}`, (r) => {
      const hit = ranStatements(r.trace).find((x) => specMatches(parsed, x));
      return hit ? `expected ${spec} not to run but ${hit.scope} ${hit.section} ${hit.path} ran` : undefined;
    }]);
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
    const others = count > 1 ? `; ${count - 1} more of the ${records.length} failed this too` : '';
    out.push({
      step: step.index,
      stepLabel: label,
      request: { n: first.i + 1, of: records.length },
      message: `${first.msg} (request ${first.i + 1} of ${records.length} in ${label}${others})`,
      details: explainRequest(r),
    });
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
      const all = [...counts].sort((a, b) => b[1] - a[1]).map(([id, c]) => `${id} ${c}`).join(', ');
      out.push({
        step: step.index,
        stepLabel: label,
        message: `${label}: the distribution of ${n} requests is off: ${problems.join('; ')}`,
        details: [`served by: ${all}`, ...records.slice(0, 10).map((r, i) => `${formatOffset(r.at)} #${i + 1} ${r.attempts.map(describeAttempt).join(', ') || 'no backend called'} → ${r.status}`), ...(records.length > 10 ? [`… ${records.length - 10} more`] : [])],
      });
    }
  }
  return out;
}

/** The single backend that produced the response: the last attempt sent. */
function servedBy(r: RequestRecord): string | null {
  const sent = r.attempts.filter((a) => a.kind === 'sent');
  const last = sent[sent.length - 1];
  return last ? last.memberId || last.url : null;
}

/** What happened to one request: its attempts, breaker transitions, the error that reached on-error, the trace. */
function explainRequest(r: RequestRecord): string[] {
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

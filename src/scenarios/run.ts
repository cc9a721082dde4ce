import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import type { BackendRegistry, CircuitBreakerEvent } from '../backends/index.js';
import type { TraceEvent } from '../engine/context.js';
import { HeaderMap } from '../engine/headers.js';
import type { CoverageIndex } from './coverage.js';
import type { ScenarioEnvironment } from './environment.js';
import { checkRequests, checkState, explainRequest, type RequestRecord, type StateView } from './expectations.js';
import { MAX_LOGGED_REQUESTS, type ScenarioRequest, type StepResult } from './results.js';
import { formatOffset, type AttemptRecord, type BreakerTransition, type TimelineEntry } from './timeline.js';
import { sentMessages, type SentMessage } from './sinks.js';
import type { RequestSpec, Scenario, ScenarioStep } from './types.js';

/** How often (wall ms) a pending request is checked for a stall. */
const POLL_MS = 5;
/** Wall time after which a request that makes no progress is aborted. */
const WATCHDOG_MS = 30_000;
/** Event-loop turns without progress after which an in-process request is known to wait on the clock only. */
const IDLE_TURNS = 3;

/** Runs the steps of one scenario against its environment, recording the timeline, requests and step results. */
export class ScenarioRun {
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
          this.timeline.push({
            kind: 'step',
            text: `${stepHead(step)}: send ${step.repeat > 1 ? `${step.repeat}× ` : ''}${step.request.method} ${step.request.path}`,
          });
          const records: RequestRecord[] = [];
          for (let i = 0; i < step.repeat && !this.stalled; i++) {
            const rec = await this.settle(this.perform(step.request, this.requestAbort().signal));
            rec.transitions = this.takeTransitions();
            if (this.stalled) {
              sr.failures.push({
                step: step.index,
                stepLabel: label,
                request: { n: i + 1, of: step.repeat },
                message: `request ${i + 1} of ${step.repeat} in ${label} ${this.stallText()}; the rest of the scenario was skipped`,
                details: explainRequest(rec),
              });
              break;
            }
            records.push(rec);
            this.log(step, rec, i + 1, step.repeat);
            for (const t of rec.transitions) this.timeline.push({ kind: 'breaker', event: t });
          }
          sr.requests = records.length;
          if (step.expect)
            sr.failures.push(...checkRequests(step, label, step.expect, records, { offset: 0, of: records.length, explained: new Set(), sent: this.sent() }));
          break;
        }
        case 'concurrent': {
          const total = step.entries.reduce((n, e) => n + e.repeat, 0);
          this.timeline.push({
            kind: 'step',
            text: `${stepHead(step)}: concurrent ${step.entries.map((e) => `${e.repeat}× ${e.request.method} ${e.request.path}`).join(' + ')}`,
          });
          // Every request starts before any of them can progress: each runs synchronously up to its first wait.
          const signal = this.requestAbort().signal;
          const started = step.entries.flatMap((e) =>
            Array.from({ length: e.repeat }, () =>
              this.perform(e.request, signal).then((r) => {
                r.doneAt = now();
                return r;
              }),
            ),
          );
          const records = await this.settle(Promise.all(started));
          const transitions = this.takeTransitions();
          for (const r of records) r.transitions = transitions;
          if (this.stalled) {
            sr.failures.push({
              step: step.index,
              stepLabel: label,
              message: `the ${total} requests of ${label} ${this.stallText()}; the rest of the scenario was skipped`,
              details: records
                .filter((r) => r.doneAt === undefined)
                .slice(0, 1)
                .flatMap(explainRequest),
            });
            break;
          }
          records.forEach((r, i) => this.log(step, r, i + 1, total));
          for (const t of transitions) this.timeline.push({ kind: 'breaker', event: t });
          sr.requests = records.length;
          const explained = new Set<RequestRecord>();
          const sent = this.sent();
          let offset = 0;
          for (const e of step.entries) {
            const slice = records.slice(offset, offset + e.repeat);
            if (e.expect) sr.failures.push(...checkRequests(step, label, e.expect, slice, { offset, of: total, explained, sent }));
            offset += e.repeat;
          }
          if (step.expect) sr.failures.push(...checkRequests(step, label, step.expect, records, { offset: 0, of: total, explained, sent }));
          break;
        }
        case 'advance': {
          this.env.clock.advance(step.ms);
          this.timeline.push({ kind: 'step', text: `${stepHead(step)}: advance ${step.text} → ${formatOffset(now())}` });
          for (const t of this.takeTransitions()) this.timeline.push({ kind: 'breaker', event: t });
          break;
        }
        case 'script': {
          for (const x of step.scripts) this.env.mocks.get(x.backendId)!.setScript(x.script);
          this.timeline.push({
            kind: 'step',
            text: `${stepHead(step)}: script ${step.scripts.map((x) => `${x.backendId} = ${this.env.mocks.get(x.backendId)!.describe().scriptText}`).join('; ')}`,
          });
          break;
        }
        case 'check':
          this.timeline.push({ kind: 'step', text: `${stepHead(step)}: check at ${formatOffset(now())}` });
          for (const t of this.takeTransitions()) this.timeline.push({ kind: 'breaker', event: t });
          break;
      }
      if (step.expect) sr.failures.push(...checkState(step, label, step.expect, this.stateView()));
    }
  }

  /** The request in the report (HTML) and on the timeline. */
  private log(step: ScenarioStep, rec: RequestRecord, n: number, of: number): void {
    this.requestLog.push({
      step: step.index,
      at: rec.at,
      method: rec.method,
      path: rec.path,
      status: rec.status,
      attempts: rec.attempts,
      lastError: rec.lastError,
      trace: rec.trace,
    });
    if (this.requestLog.length > MAX_LOGGED_REQUESTS) this.requestLog.shift();
    this.timeline.push({
      kind: 'request',
      at: rec.at,
      n,
      of,
      attempts: rec.attempts,
      status: rec.status,
      ...(rec.doneAt !== undefined && rec.doneAt !== rec.at ? { doneAt: rec.doneAt } : {}),
    });
  }

  private sent(): SentMessage[] {
    return sentMessages(this.env.gateway.services);
  }

  private stallText(): string {
    return this.env.inProcess
      ? 'waited on nothing (no request in flight had a pending deadline) and was aborted'
      : `did not complete within ${WATCHDOG_MS / 1000} s of wall time and was aborted`;
  }

  /**
   * Sends one request and reads its whole response. Its arrival time and the breakers open then are taken at the call,
   * before its first wait, so requests started together arrive together. Breaker transitions are the caller's to take.
   */
  private async perform(req: RequestSpec, signal: AbortSignal): Promise<RequestRecord> {
    const at = this.rel(this.env.clock.now());
    const openBefore = (this.registry?.state() ?? [])
      .filter((b) => b.breaker?.state === 'open')
      .map((b) => `${b.id} until ${formatOffset(this.rel(Date.parse(b.breaker!.openUntil!)))}`);
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
    const result = await this.env.gateway.handle(
      {
        method: req.method,
        path: q < 0 ? req.path : req.path.slice(0, q),
        search: q < 0 ? '' : req.path.slice(q),
        scheme: 'https',
        host: 'apim-emulator.local',
        port: 443,
        headers,
        body,
        ip: '127.0.0.1',
        // The runner reads every request's typed trace events; `context.Tracing` is true only when the scenario's
        // request asks for APIM tracing itself, as in APIM.
        tracing: headers.has('Apim-Debug-Authorization'),
        observed: true,
      },
      signal,
    );
    // Read the whole body so the mock's connection is reused and body expectations can look at it.
    let bodyText = '';
    let bodyError: string | undefined;
    try {
      bodyText = result.response.body ? (await result.response.body.buffer()).toString('utf8') : '';
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
      transitions: [],
      trace,
      error: le ? `${le.source} ${le.reason}: ${le.message}` : undefined,
      lastError: le ? { ...le } : null,
      openBefore,
      requestId: result.context?.requestId ?? '',
    };
  }

  private requestAbort(): AbortController {
    this.watchdog = new AbortController();
    return this.watchdog;
  }

  /**
   * Waits for a request, or for all requests of a concurrent step. In-process, see settleInProcess. Over real sockets,
   * when a mock backend hangs (a `hang` step) nothing but time can make progress: the clock moves to the next pending
   * deadline (the forward-request timeout, or the hang's own latency), so timeouts take no wall time. A request that
   * still does not complete within WATCHDOG_MS of wall time is aborted and the scenario fails.
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
      await Promise.race([
        tracked.then(
          () => undefined,
          () => undefined,
        ),
        new Promise((r) => (timer = setTimeout(r, POLL_MS))),
      ]);
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
    const settled = tracked.then(
      () => undefined,
      () => undefined,
    );
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

  private stateView(): StateView {
    return {
      backends: this.registry?.state() ?? [],
      now: this.rel(this.env.clock.now()),
      rel: (ms: number) => this.rel(ms),
      timeline: this.timeline,
      mocks: this.env.mocks,
    };
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

/** `step 3` or `step 3 'its name'`, as timeline lines start. */
function stepHead(step: ScenarioStep): string {
  return `step ${step.index}${step.name ? ` '${step.name}'` : ''}`;
}

export function stepLabel(step: ScenarioStep): string {
  const what =
    step.kind === 'send' || step.kind === 'concurrent'
      ? step.kind
      : step.kind === 'advance'
        ? `advance ${step.text}`
        : step.kind === 'script'
          ? 'script'
          : 'check';
  return `step ${step.index}${step.name ? ` '${step.name}'` : `: ${what}`}`;
}

function parseSpan(s: string): number | undefined {
  const m = /^(?:(\d+)\.)?(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(s);
  if (!m) return undefined;
  return Math.round(((Number(m[1] ?? 0) * 24 + Number(m[2])) * 3600 + Number(m[3]) * 60 + Number(m[4])) * 1000);
}

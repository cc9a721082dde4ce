import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { RequestTap } from '../console/index.js';
import type { GatewayContext } from '../engine/context.js';
import { HeaderMap } from '../engine/headers.js';
import type { Gateway, GatewayResult } from '../gateway/gateway.js';
import { gatewayErrorResponse, toGatewayResponse } from '../engine/policy-sdk.js';
import { INSTANCE_HEADER } from './instances.js';
import type { InstanceSelector } from './instances.js';
import type { ServerMetrics } from './metrics.js';
import { toIncomingRequest } from './request.js';
import { writeGatewayResponse } from './response.js';
import type { WriteOutcome } from './response.js';
import { requestCredentials, type SecretMasker } from './secrets.js';
import { DEBUG_HEADER, TRACE_ID_HEADER } from './traces.js';
import type { TraceRecord, TraceStore } from './traces.js';

/** Status recorded (metrics, log, trace) when the client went away before the response could be sent (nginx's convention). */
export const CLIENT_CLOSED_STATUS = 499;

/** Requests being handled, so that close() can wait for them. */
export class InFlight {
  private count = 0;
  private waiters: Array<() => void> = [];
  /** Set by close(): responses then carry `Connection: close` so keep-alive clients let go. */
  closing = false;

  begin(): void {
    this.count++;
  }

  end(): void {
    this.count--;
    if (this.count === 0) {
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    }
  }

  get size(): number {
    return this.count;
  }

  idle(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

export interface GatewayHandlerDeps {
  /** The simulated gateway instances (scale units), by instance number; usually one. */
  instances: readonly Gateway[];
  /** Picks the instance per request; null with a single instance (the hot path then skips it entirely). */
  selector: InstanceSelector | null;
  clock: Clock;
  logger: Logger | null;
  metrics: ServerMetrics;
  traces: TraceStore;
  masker: SecretMasker;
  /** When set, only this Apim-Debug-Authorization value turns tracing on; otherwise any non-empty value does. */
  debugToken: string | undefined;
  inFlight: InFlight;
  /** The web console's tap: finished requests are handed over only while a console is connected. */
  tap?: RequestTap;
}

/** The per-request log line (pino `info`, message "request"). */
interface RequestLogLine {
  method: string;
  path: string;
  api: string | null;
  operation: string | null;
  status: number;
  backend: string | null;
  durationMs: number;
  outcome?: WriteOutcome;
  instance?: number;
  requestId?: string;
  traceId?: string;
  lastError?: Record<string, string>;
  why?: string;
}

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The gateway as a Node request handler: builds the IncomingRequest, runs the gateway with an AbortSignal tied to the
 * client connection, writes the response (streaming), and records log line, metrics and trace.
 */
export function createGatewayHandler(d: GatewayHandlerDeps): NodeHandler {
  // Created once, not per request.
  const onInvalidHeader = (header: string, problem: string, requestId: string | undefined) =>
    d.logger?.warn({ header, problem, requestId }, 'response header left out');
  const single = d.instances[0]!;
  const selector = d.selector;
  const onStreamError = (err: Error, requestId: string | undefined) =>
    d.logger?.warn(
      { err: { message: err.message, code: (err as NodeJS.ErrnoException).code }, requestId },
      'response body failed mid-stream; client response ended abruptly',
    );
  // Decided once: with request logs off (level above info) the request path builds no log object at all.
  const logRequests = d.logger !== null && d.logger.isLevelEnabled('info');
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const arrived = d.clock.now();
    const headers = HeaderMap.fromRaw(req.rawHeaders);
    let tracing = false;
    const debug = headers.get(DEBUG_HEADER);
    if (debug) {
      // The debug credential is for the gateway, not the backend.
      headers.delete(DEBUG_HEADER);
      tracing = d.debugToken === undefined ? debug.some((v) => v.trim() !== '') : debug.includes(d.debugToken);
    }
    let gateway = single;
    let instance = -1;
    let rejected: string | null = null;
    if (selector) {
      const pick = selector.pick(headers);
      if ('error' in pick) rejected = pick.error;
      else {
        instance = pick.instance;
        gateway = d.instances[instance]!;
      }
    }
    // While a web console is connected every request collects its typed trace events (counters, pool choices, its
    // tree), so the console is not limited to traced requests; an unwatched gateway collects none (docs/console.md).
    const observed = d.tap?.active === true;
    const requestHeaders = tracing || observed ? headers.toRecord() : null;
    const incoming = toIncomingRequest(req, headers, tracing, observed);

    const abort = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) abort.abort(new Error('the client closed the connection'));
    };
    res.once('close', onClose);

    let result: GatewayResult;
    try {
      result =
        rejected === null
          ? await gateway.handle(incoming, abort)
          : { context: null, response: toGatewayResponse(gatewayErrorResponse(400, rejected)), api: null, operation: null };
    } catch (e) {
      // gateway.handle turns request errors into responses; reaching here is an emulator bug.
      const activityId = randomUUID();
      d.logger?.error({ err: e, activityId, method: incoming.method, path: d.masker.mask(incoming.path) }, 'gateway failed unexpectedly');
      result = { context: null, response: toGatewayResponse(gatewayErrorResponse(500, 'Internal server error', { activityId })), api: null, operation: null };
    }
    const ctx = result.context;

    // `record` is the request's trace record (traced, or seen by a console); `trace` is set only when APIM tracing was
    // asked for: it is stored for /_emulator/traces and named in the response header and the log line.
    const record =
      tracing || observed
        ? buildTrace(d, incoming.method, incoming.path + incoming.search, arrived, requestHeaders ?? {}, result, instance, rejected, tracing)
        : null;
    const trace = tracing ? record : null;
    const extra: Array<[string, string]> = [];
    if (trace) {
      d.traces.add(trace);
      extra.push([TRACE_ID_HEADER, trace.id]);
    }
    if (instance >= 0) extra.push([INSTANCE_HEADER, String(instance)]);
    if (d.inFlight.closing) extra.push(['Connection', 'close']);

    let outcome: WriteOutcome;
    if (res.destroyed || res.writableEnded) {
      result.response.body?.liveStream?.resume();
      outcome = 'aborted';
    } else {
      outcome = await writeGatewayResponse(res, result.response, {
        method: incoming.method,
        extraHeaders: extra,
        requestId: ctx?.requestId,
        onInvalidHeader,
        onStreamError,
      });
    }
    res.off('close', onClose);

    const durationMs = performance.now() - started;
    const status = outcome === 'aborted' && !res.headersSent ? CLIENT_CLOSED_STATUS : result.response.statusCode;
    const backend = backendLabel(ctx);
    d.metrics.requestFinished({ api: result.api ?? '', operation: result.operation ?? '', backend, status, seconds: durationMs / 1000 });
    if (d.tap?.active) {
      d.tap.finished({
        arrived,
        method: incoming.method,
        url: d.masker.mask(incoming.path + incoming.search),
        api: result.api,
        operation: result.operation,
        status,
        backend,
        durationMs,
        traceId: trace?.id ?? null,
        instance,
        context: ctx,
        trace: record,
      });
    }
    if (record) {
      record.durationMs = round(durationMs);
      record.outcome = outcome;
      if (status === CLIENT_CLOSED_STATUS && record.response) record.response.status = status;
    }
    if (logRequests) {
      // One object of a fixed shape (no spreads): pino serialises it on this thread, the write happens off it.
      const line: RequestLogLine = {
        method: incoming.method,
        path: d.masker.mask(incoming.path),
        api: result.api,
        operation: result.operation,
        status,
        backend: backend || null,
        durationMs: round(durationMs),
      };
      if (outcome !== 'completed') line.outcome = outcome;
      if (instance >= 0) line.instance = instance;
      if (ctx) line.requestId = ctx.requestId;
      if (trace) line.traceId = trace.id;
      // A failing request says why at the default level, not only in a trace: LastError and its policy position.
      if (status >= 400 && ctx?.lastError) line.lastError = lastErrorFields(ctx.lastError, d.masker);
      else if (status >= 400 && !ctx && status !== CLIENT_CLOSED_STATUS) line.why = d.masker.mask(rejected ?? whyNoPipeline(result));
      d.logger!.info(line, 'request');
    }
  };

  return (req, res) => {
    d.inFlight.begin();
    d.metrics.requestStarted();
    serve(req, res)
      .catch((e: unknown) => {
        d.logger?.error({ err: e }, 'request handling failed');
        if (!res.headersSent) {
          res.writeHead(500, { 'Content-Type': 'application/json; charset=utf-8' });
          res.end(JSON.stringify({ statusCode: 500, message: 'Internal server error' }));
        } else res.destroy();
      })
      .finally(() => d.inFlight.end());
  };
}

/** The request's trace record, secrets masked; `traced`: APIM tracing was asked for, so the response names the trace. */
function buildTrace(
  d: GatewayHandlerDeps,
  method: string,
  target: string,
  arrived: number,
  requestHeaders: Record<string, string[]>,
  result: GatewayResult,
  instance: number,
  rejected: string | null,
  traced: boolean,
): TraceRecord {
  const ctx = result.context;
  const r = result.response;
  const id = ctx?.requestId ?? randomUUID();
  const events = ctx ? ctx.traceEvents : [{ at: 0, kind: 'info' as const, message: rejected ?? whyNoPipeline(result) }];
  const responseHeaders = r.headers.toRecord();
  if (traced) responseHeaders[TRACE_ID_HEADER] = [id];
  if (instance >= 0) responseHeaders[INSTANCE_HEADER] = [String(instance)];
  const record: TraceRecord = {
    id,
    ...(instance >= 0 ? { instance } : {}),
    requestId: ctx?.requestId ?? null,
    time: new Date(arrived).toISOString(),
    method,
    url: ctx ? ctx.request.originalUrl.toString() : target,
    api: result.api,
    operation: result.operation,
    product: ctx?.product?.id ?? null,
    subscription: ctx?.subscription?.id ?? null,
    request: { headers: requestHeaders },
    response: { status: r.statusCode, reason: r.statusReason, headers: responseHeaders },
    backend: ctx?.lastBackend ? { ...ctx.lastBackend } : null,
    lastError: ctx?.lastError ? { ...ctx.lastError } : null,
    clockElapsedMs: ctx ? ctx.elapsedMs : null,
    durationMs: null,
    outcome: 'in-progress',
    events: [],
  };
  // The request's own credentials (Authorization, subscription key header or ?subscription-key=) are masked as well as
  // the configured secrets, valid or not: a trace is often shared.
  return d.masker.with(requestCredentials(requestHeaders, target)).maskValue({ ...record, events });
}

function lastErrorFields(e: NonNullable<GatewayContext['lastError']>, masker: SecretMasker): Record<string, string> {
  return {
    source: e.source,
    reason: e.reason,
    message: masker.mask(e.message),
    scope: e.scope,
    section: e.section,
    path: e.path,
    ...(e.policyId ? { policyId: e.policyId } : {}),
  };
}

function whyNoPipeline(result: GatewayResult): string {
  const s = result.response.statusCode;
  if (result.api === null) return `no API matched the request path: ${s}`;
  if (result.operation === null) return `API ${result.api} matched but none of its operations did: ${s}`;
  return `API ${result.api}, operation ${result.operation} matched; the subscription check answered ${s}`;
}

/** The backend a request went to, for metrics and logs: pool member, else backend id, else the URL's origin. */
function backendLabel(ctx: GatewayContext | null): string {
  const b = ctx?.lastBackend;
  if (!b) return '';
  if (b.memberId) return b.memberId;
  if (b.backendId) return b.backendId;
  const slash = b.url.indexOf('/', b.url.indexOf('//') + 2);
  return slash < 0 ? b.url : b.url.slice(0, slash);
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

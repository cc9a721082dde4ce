import type { GatewayContext, TraceEvent } from '../engine/context.js';

/** One finished gateway request as the server's handler hands it to the console (only while a console is connected). */
export interface FinishedRequest {
  /** Clock time the request arrived, epoch ms. */
  arrived: number;
  method: string;
  /** Path and query as the client called them, secrets masked. */
  url: string;
  api: string | null;
  operation: string | null;
  /** Status sent to the client (499 when it went away first). */
  status: number;
  /** Single backend (pool member) of the last forward-request, else backend id or URL origin; '' when none. */
  backend: string;
  durationMs: number;
  /** Set when the request carried Apim-Debug-Authorization: GET /_emulator/traces/:id has its tree. */
  traceId: string | null;
  /** Simulated gateway instance, -1 with a single instance. */
  instance: number;
  context: GatewayContext | null;
  /**
   * The request's trace record, secrets masked, in the shape GET /_emulator/traces/:id answers: built for every request
   * while a console is connected, stored only in the console's bounded history unless the request was traced.
   */
  trace: object | null;
}

/** A row of the console's request timeline. */
export interface RequestRow {
  seq: number;
  time: string;
  method: string;
  url: string;
  api: string | null;
  operation: string | null;
  status: number;
  /** Backends tried, in order (from the trace when traced, else the last one). */
  backends: string[];
  durationMs: number;
  traceId: string | null;
  /** The console holds this request's tree: GET /_emulator/console/requests/:seq/trace. */
  tree?: boolean;
  instance?: number;
}

/** The latest counter values a throttling policy reported in a trace (rate-limit, quota, token limits). */
export interface ThrottleCounter {
  policy: string;
  path: string;
  /** The data the policy put in its trace event (key, used, limit, remaining, calls, bytes...). */
  data: Record<string, unknown>;
  time: string;
}

/** Policies whose trace data are counters. */
const THROTTLING = new Set(['rate-limit', 'rate-limit-by-key', 'quota', 'quota-by-key', 'llm-token-limit', 'azure-openai-token-limit']);

/**
 * The switch the gateway handler checks once per request: `active` is true only while a console is connected, so an
 * unwatched gateway pays a single property read.
 */
export class RequestTap {
  active = false;
  private sink: ((r: FinishedRequest) => void) | null = null;

  connect(sink: (r: FinishedRequest) => void): void {
    this.sink = sink;
    this.active = true;
  }

  disconnect(): void {
    this.sink = null;
    this.active = false;
  }

  finished(r: FinishedRequest): void {
    this.sink?.(r);
  }
}

/** Backends tried by one request: every forward-request attempt in its trace, else the last backend. */
export function backendsTried(events: readonly TraceEvent[], last: string): string[] {
  const out: string[] = [];
  for (const e of events) {
    if (e.kind !== 'attempt' || e.phase !== 'sent') continue;
    out.push(e.memberId || e.url);
  }
  if (out.length === 0 && last) out.push(last);
  return out;
}

/** Counter values of throttling policies found in a trace, latest per policy element and key. */
export function throttleCounters(events: readonly TraceEvent[], time: string): ThrottleCounter[] {
  const out: ThrottleCounter[] = [];
  for (const e of events) {
    if (e.kind !== 'info' || !e.policy || !THROTTLING.has(e.policy) || !e.data) continue;
    out.push({ policy: e.policy, path: e.path ?? '', data: { ...e.data }, time });
  }
  return out;
}

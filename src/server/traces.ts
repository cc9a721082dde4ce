import type { LastError, TraceEvent } from '../engine/context.js';
import { RingBuffer } from './ring.js';

/** The name of the request header that asks for a trace, and of the response header that names it (docs/apim-behaviour.md: Tracing and headers). */
export const DEBUG_HEADER = 'Apim-Debug-Authorization';
export const TRACE_ID_HEADER = 'Apim-Trace-Id';

/** One request's trace as served by GET /_emulator/traces/:id. Secret values are masked before it is stored. */
export interface TraceRecord {
  id: string;
  /** The simulated gateway instance that served the request; present only when the server runs more than one. */
  instance?: number;
  /** context.RequestId; null when the request never reached a pipeline (no API or operation matched, key rejected). */
  requestId: string | null;
  /** Clock time the request arrived (ISO 8601; the virtual time when the server runs on a VirtualClock). */
  time: string;
  method: string;
  /** The URL the client called. */
  url: string;
  api: string | null;
  operation: string | null;
  product: string | null;
  subscription: string | null;
  request: { headers: Record<string, string[]> };
  response: { status: number; reason: string; headers: Record<string, string[]> } | null;
  /** The backend the last forward-request used: backend id, pool member and URL. */
  backend: { backendId: string; memberId: string; url: string } | null;
  lastError: LastError | null;
  /** Clock time the pipeline took (context.Elapsed at the end). */
  clockElapsedMs: number | null;
  /** Wall time from request received to response fully written; null while still streaming. */
  durationMs: number | null;
  /** How sending the response ended; `in-progress` while a streamed body is still flowing. */
  outcome: 'in-progress' | 'completed' | 'aborted' | 'failed-mid-body';
  /** What the pipeline did: policies with section and scope, expression values, backend choice and why, breaker decisions. */
  events: TraceEvent[];
}

export type TraceSummary = Pick<TraceRecord, 'id' | 'time' | 'method' | 'url' | 'api' | 'operation' | 'durationMs' | 'outcome'> & {
  status: number | null;
  events: number;
};

/** The last N traces (ring buffer), newest last. */
export class TraceStore {
  private readonly ring: RingBuffer<TraceRecord>;
  private readonly byId = new Map<string, TraceRecord>();

  constructor(readonly limit: number) {
    this.ring = new RingBuffer(limit);
  }

  add(t: TraceRecord): void {
    const evicted = this.ring.push(t);
    if (evicted) this.byId.delete(evicted.id);
    this.byId.set(t.id, t);
  }

  get(id: string): TraceRecord | undefined {
    return this.byId.get(id);
  }

  list(): TraceSummary[] {
    return this.ring.toArray().map((t) => ({
      id: t.id,
      time: t.time,
      method: t.method,
      url: t.url,
      api: t.api,
      operation: t.operation,
      status: t.response?.status ?? null,
      durationMs: t.durationMs,
      outcome: t.outcome,
      events: t.events.length,
    }));
  }

  get size(): number {
    return this.ring.size;
  }

  clear(): void {
    this.ring.clear();
    this.byId.clear();
  }
}

import { validateHeaderName, validateHeaderValue } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { GatewayResponse } from '../engine/context.js';

/** Headers that describe one connection, not the message (RFC 9110 §7.6.1); Node's server writes its own. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

/** Statuses that never carry content (RFC 9110 §6.4.1). */
function bodyless(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}

/** How writing a response ended. */
export type WriteOutcome =
  | 'completed'
  /** The client went away before the whole response was sent. */
  | 'aborted'
  /** The body stream failed (e.g. the backend's socket died mid-stream); the client response was ended abruptly. */
  | 'failed-mid-body';

export interface WriteOptions {
  /** Request method: a HEAD response carries the headers but no body. */
  method: string;
  /** Added after the gateway's headers (e.g. Apim-Trace-Id). */
  extraHeaders?: ReadonlyArray<readonly [string, string]>;
  /** Passed back to the callbacks below (lets a caller use one function for all requests). */
  requestId?: string | undefined;
  /** Called with headers that Node refused to write (invalid name or value), which are then left out. */
  onInvalidHeader?: (name: string, problem: string, requestId: string | undefined) => void;
  /** Called when the body stream failed after the headers were sent. */
  onStreamError?: (err: Error, requestId: string | undefined) => void;
}

/**
 * Writes a GatewayResponse to a Node response: status, reason phrase (when non-empty), headers from the HeaderMap
 * (multi-value names as repeated headers, hop-by-hop headers dropped) and the body: buffered bytes in one write, a live
 * stream piped chunk by chunk (server-sent events reach the client as the backend sends them).
 */
export function writeGatewayResponse(res: ServerResponse, r: GatewayResponse, o: WriteOptions): Promise<WriteOutcome> {
  const status = r.statusCode;
  const noBody = bodyless(status) || o.method === 'HEAD';
  const body = r.body;
  const live = body && !body.isBuffered ? body.liveStream : null;
  const buffered = body?.peek() ?? null;

  const raw: string[] = [];
  let connectionTokens = null as string[] | null;
  // A HEAD answer keeps the backend's length; a live backend stream is the backend's body, so its length holds.
  // Buffered bodies (possibly rewritten by policies) get their real length below.
  const keepLength = o.method === 'HEAD' || (live !== null && !bodyless(status));
  r.headers.forEach((name, values) => {
    const lower = name.toLowerCase();
    if (lower === 'connection') connectionTokens = values.flatMap((v) => v.split(',').map((t) => t.trim().toLowerCase()));
    if (HOP_BY_HOP.has(lower)) return;
    if (lower === 'content-length' && !keepLength) return;
    for (const v of values) raw.push(name, v);
  });
  if (connectionTokens) {
    // Headers named in Connection are hop-by-hop too.
    for (let i = raw.length - 2; i >= 0; i -= 2) if (connectionTokens.includes(raw[i]!.toLowerCase())) raw.splice(i, 2);
  }
  if (!bodyless(status) && o.method !== 'HEAD' && !live) raw.push('Content-Length', String(buffered?.length ?? 0));
  for (const [n, v] of o.extraHeaders ?? []) raw.push(n, v);

  try {
    writeHead(res, status, r.statusReason, raw);
  } catch {
    // Some header (or the reason phrase) has a character Node refuses; leave it out rather than failing the response.
    const reason = /^[\t\x20-\x7e\x80-\xff]*$/.test(r.statusReason) ? r.statusReason : '';
    if (reason !== r.statusReason) o.onInvalidHeader?.('(reason phrase)', 'invalid character in the status reason phrase', o.requestId);
    const kept: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      const problem = headerProblem(raw[i]!, raw[i + 1]!);
      if (problem) o.onInvalidHeader?.(raw[i]!, problem, o.requestId);
      else kept.push(raw[i]!, raw[i + 1]!);
    }
    writeHead(res, status, reason, kept);
  }

  if (noBody || !live) {
    // Drain a backend body we are not sending so its connection returns to the pool.
    if (live) live.resume();
    return new Promise((resolve) => {
      if (noBody) res.end();
      else res.end(buffered ?? undefined);
      resolve('completed');
    });
  }
  const contentType = r.headers.get('content-type')?.[0] ?? '';
  const flush = !r.headers.has('content-length') || contentType.toLowerCase().startsWith('text/event-stream');
  return pipeStream(res, live, o, flush);
}

/**
 * Pipes a live body to the client with Readable.pipe (backpressure and end handled natively) plus two listeners.
 * Not stream.pipeline(): it allocates an AbortController per call and aborts it on completion (a DOMException each
 * time), ~3% of CPU in bench/gateway.bench.ts.
 */
function pipeStream(res: ServerResponse, stream: Readable, o: WriteOptions, flushHeaders: boolean): Promise<WriteOutcome> {
  // SSE and other open-ended bodies: send the headers now, before the first event arrives. A body of known length
  // goes out with its first chunk (one write instead of two).
  if (flushHeaders) res.flushHeaders();
  return new Promise((resolve) => {
    let failed = false;
    // Stays attached after completion: a late error from a destroyed stream must not become an uncaught exception.
    stream.on('error', (err: Error) => {
      if (failed || res.writableFinished) return;
      failed = true;
      // The backend's socket died mid-body: end the client response abruptly (no final chunk), never crash.
      o.onStreamError?.(err, o.requestId);
      res.destroy();
    });
    // 'close' follows 'finish' on keep-alive connections too, so this settles every case.
    res.once('close', () => {
      if (res.writableFinished) return resolve('completed');
      // The client went away mid-body: stop reading from the backend (undici aborts its request).
      if (!stream.destroyed) stream.destroy();
      resolve(failed ? 'failed-mid-body' : 'aborted');
    });
    stream.pipe(res);
  });
}

function writeHead(res: ServerResponse, status: number, reason: string, raw: string[]): void {
  if (reason) res.writeHead(status, reason, raw);
  else res.writeHead(status, raw);
}

function headerProblem(name: string, value: string): string | null {
  try {
    validateHeaderName(name);
    validateHeaderValue(name, value);
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

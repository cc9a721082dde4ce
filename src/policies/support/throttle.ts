import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import type {
  Awaitable,
  AttributeSpec,
  CompileContext,
  CounterCheck,
  Flow,
  GatewayContext,
  StateStore,
  TakeResult,
  XmlElement,
} from '../../engine/policy-sdk.js';
import { isPromise, MessageBody, PolicyError, StateUnavailableError, gatewayErrorResponse } from '../../engine/policy-sdk.js';
import { isExpression } from '../../expressions/index.js';

/** Shared pieces of the throttling policies: output attributes, error responses, counting bytes, once-per-request keys. */

/** Names of headers and variables (never expressions in APIM: their values are known at load time). */
export const nameAttr = (name: string, dflt?: string): AttributeSpec => ({ name, expressions: false, ...(dflt ? { default: dflt } : {}) });

export const RATE_LIMIT_OUTPUT_ATTRIBUTES: readonly AttributeSpec[] = [
  nameAttr('retry-after-header-name', 'Retry-After'),
  nameAttr('retry-after-variable-name'),
  nameAttr('remaining-calls-header-name'),
  nameAttr('remaining-calls-variable-name'),
  nameAttr('total-calls-header-name'),
];

/** The literal text of an attribute (names of headers/variables), or undefined when absent or empty. */
export function literal(el: XmlElement, cx: CompileContext, name: string): string | undefined {
  const span = cx.attributeSpan(el, name);
  const t = span?.text.trim();
  return t ? t : undefined;
}

/** True when the attribute is present and holds a policy expression. */
export function isExpressionAttr(el: XmlElement, name: string): boolean {
  const a = el.attributes.find((x) => x.name === name);
  return a !== undefined && isExpression(a.value.text.trim());
}

/** A whole number from a literal attribute validated by metadata (undefined when absent). */
export function literalInt(el: XmlElement, cx: CompileContext, name: string): number | undefined {
  const t = literal(el, cx, name);
  if (t === undefined) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? Math.trunc(n) : undefined;
}

/**
 * Adds response headers once the pipeline has finished, so that they land on the response actually sent (the
 * backend's, or the one on-error produced), as APIM adds them "after each policy execution".
 */
export function addHeadersWhenDone(ctx: GatewayContext, headers: Array<[string, string]>): void {
  if (headers.length === 0) return;
  ctx.completed.push((c) => {
    for (const [n, v] of headers) c.response.headers.set(n, [v]);
  });
}

/** The 429 of rate-limit / rate-limit-by-key (docs/apim-behaviour.md: Throttling; Gateway error responses). */
export function rateLimitExceeded(source: string, retryAfter: number, headers: Record<string, string>): PolicyError {
  const message = `Rate limit is exceeded. Try again in ${retryAfter} seconds.`;
  return new PolicyError(source, 'RateLimitExceeded', message, gatewayErrorResponse(429, message, undefined, headers));
}

/**
 * A shared counter store that cannot answer and fails closed (src/state/redis.ts): the request is refused with 503
 * rather than let through uncounted. Any other error passes unchanged.
 */
export function stateUnavailable(e: unknown, source = 'rate-limit'): unknown {
  if (!(e instanceof StateUnavailableError)) return e;
  const message = 'Rate limit state is unavailable. Try again later.';
  return new PolicyError(source, 'RateLimitStateUnavailable', message, gatewayErrorResponse(503, message));
}

/**
 * One atomic check-and-count of `checks` in the state store, then `decide` on what it found. The in-process store
 * answers synchronously (no promise on the default path); shared ones with a promise. A store failing closed becomes
 * the 503 of stateUnavailable.
 */
export function takeCounters(
  state: StateStore,
  now: number,
  checks: readonly CounterCheck[],
  source: string,
  decide: (r: TakeResult) => Flow,
): Flow | Promise<Flow> {
  let r: Awaitable<TakeResult>;
  try {
    r = state.take(now, checks);
  } catch (e) {
    throw stateUnavailable(e, source);
  }
  return isPromise(r) ? r.then(decide, (e: unknown) => Promise.reject(stateUnavailable(e, source))) : decide(r);
}

/** A later write to the state store (a postponed count, a correction) that nobody waits for: its failure is the store's to report. */
export function inBackground(v: Awaitable<unknown>): void {
  if (isPromise(v)) v.catch(() => undefined);
}

/**
 * Byte counts for quota bandwidth: the request body plus the response body. Known sizes are used directly; a response
 * that streams without a length is counted as it passes and reported when it ends.
 */
export function countTransferredBytes(ctx: GatewayContext, report: (bytes: number) => void): void {
  const requestBytes = ctx.request.body?.byteLength ?? contentLength(ctx.request.headers.get('Content-Length')) ?? 0;
  const body = ctx.response.body;
  if (!body) return report(requestBytes);
  const known = body.byteLength ?? contentLength(ctx.response.headers.get('Content-Length'));
  if (known !== undefined || !body.liveStream) return report(requestBytes + (known ?? 0));
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      bytes += chunk.length;
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      report(requestBytes + bytes);
      cb();
    },
  });
  const live = body.toStream();
  live.on('error', (e) => counter.destroy(e));
  ctx.response.body = MessageBody.fromStream(live.pipe(counter));
}

function contentLength(v: string[] | undefined): number | undefined {
  const n = v?.[0] !== undefined ? Number(v[0]) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * "If multiple policies would increment the same key value, it is incremented only once per request" (quota-by-key):
 * per request, the keys already claimed and the calls this request added to each (so that a later policy with the
 * same key does not count this request's own call against it).
 */
const claimed = new WeakMap<GatewayContext, Map<string, number>>();

/** Calls this request already added under `key`, or undefined when no policy claimed the key yet. */
export function claimedIncrement(ctx: GatewayContext, key: string): number | undefined {
  return claimed.get(ctx)?.get(key);
}

/** Claims `key` for this request, recording the calls it added (0 when counted later, after the response). */
export function claimKey(ctx: GatewayContext, key: string, added: number): void {
  let map = claimed.get(ctx);
  if (!map) {
    map = new Map();
    claimed.set(ctx, map);
  }
  map.set(key, added);
}

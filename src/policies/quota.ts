import type { CompileContext, ElementSpec, GatewayContext, PolicyDefinition, XmlElement } from '../engine/policy-sdk.js';
import { PolicyError, gatewayErrorResponse } from '../engine/policy-sdk.js';
import { compileLimits } from './rate-limit.js';
import { countTransferredBytes, literalInt } from './support/throttle.js';
import { FixedWindow, fixedPeriod, formatTimeSpan, retryAfterSeconds } from './support/windows.js';

const QUOTA_ATTRIBUTES = [
  { name: 'calls', expressions: false, kind: 'int', min: 0 },
  { name: 'bandwidth', expressions: false, kind: 'int', min: 0 },
  { name: 'renewal-period', required: true, expressions: false, kind: 'int', min: 0 },
] as const;

// The docs' statement shows <api>/<operation> without renewal-period while their table marks it required: accepted
// without it, inheriting the policy's period (docs/policies-llm.md).
const CHILD_ATTRIBUTES = [
  { name: 'name', expressions: false },
  { name: 'id', expressions: false },
  { name: 'calls', expressions: false, kind: 'int', min: 0 },
  { name: 'bandwidth', expressions: false, kind: 'int', min: 0 },
  { name: 'renewal-period', expressions: false, kind: 'int', min: 0 },
] as const;

const OPERATION: ElementSpec = { name: 'operation', attributes: CHILD_ATTRIBUTES };
const API: ElementSpec = { name: 'api', attributes: CHILD_ATTRIBUTES, elements: [OPERATION] };

/** A quota counter: calls and/or kilobytes in fixed periods. */
export interface QuotaLimit {
  calls: number | undefined;
  /** Bytes (the attribute is in kilobytes). */
  bytes: number | undefined;
  periodMs: number;
}

/** The 403 of quota / quota-by-key with its Retry-After (docs/apim-behaviour.md: Errors and LastError reasons; Throttling). */
export function quotaExceeded(source: string, kind: 'calls' | 'bandwidth', periodEnd: number, now: number): PolicyError {
  const infinite = !Number.isFinite(periodEnd);
  const seconds = infinite ? 0 : retryAfterSeconds(periodEnd - now);
  const what = kind === 'calls' ? 'Out of call volume quota.' : 'Out of bandwidth quota.';
  // A lifetime quota (renewal-period 0) is never replenished: APIM is SILENT on the text; no Retry-After then.
  const message = infinite ? what : `${what} Quota will be replenished in ${formatTimeSpan(seconds)}.`;
  return new PolicyError(source, 'QuotaExceeded', message, gatewayErrorResponse(403, message, undefined, infinite ? undefined : { 'Retry-After': String(seconds) }));
}

/** Checks a fixed-window counter (less the calls this request itself added); throws the 403 when calls or bandwidth are used up. */
export function checkQuota(source: string, counter: FixedWindow, limit: QuotaLimit, start: number, end: number, now: number, ownCalls = 0): void {
  counter.roll(start);
  if (limit.calls !== undefined && counter.calls - ownCalls >= limit.calls) throw quotaExceeded(source, 'calls', end, now);
  if (limit.bytes !== undefined && counter.amount >= limit.bytes) throw quotaExceeded(source, 'bandwidth', end, now);
}

/** Reads calls / bandwidth / renewal-period of a quota element; reports one that sets neither calls nor bandwidth. */
export function readQuotaLimit(e: XmlElement, cx: CompileContext, policy: string, inheritedPeriodS?: number): QuotaLimit {
  const calls = literalInt(e, cx, 'calls');
  const kb = literalInt(e, cx, 'bandwidth');
  if (calls === undefined && kb === undefined) {
    cx.diagnostics.error(e.source, e.start, 'policy/missing-attribute', `<${e.name}>${e.name === policy ? '' : ` in <${policy}>`} needs "calls", "bandwidth" or both`, 'calls: number of calls per period; bandwidth: kilobytes per period');
  }
  const periodS = literalInt(e, cx, 'renewal-period') ?? inheritedPeriodS ?? 0;
  return { calls, bytes: kb === undefined ? undefined : kb * 1024, periodMs: periodS * 1000 };
}

/**
 * `<quota calls bandwidth renewal-period>` with optional `<api>` / `<operation>` quotas (docs/apim-behaviour.md: Throttling): per
 * subscription, fixed windows "relative to the start time of the subscription" (the subscription's startDate; the
 * Unix epoch when it has none), `renewal-period="0"` = never renewed. A call is counted when it is let through;
 * bandwidth (request + response bytes) is counted when the response has been sent. 403 `QuotaExceeded` with
 * Retry-After = seconds until the period ends.
 */
export const quota: PolicyDefinition = {
  name: 'quota',
  summary: 'Call and bandwidth quota per subscription in fixed periods, with nested <api>/<operation> quotas (403 + Retry-After).',
  support: 'full',
  sections: ['inbound'],
  scopes: ['product'],
  attributes: [...QUOTA_ATTRIBUTES],
  elements: [API, OPERATION],
  compile(el, cx) {
    const own = readQuotaLimit(el, cx, 'quota');
    const limits = compileLimits(el, cx, 'quota', (e) => (e === el ? own : readQuotaLimit(e, cx, 'quota', own.periodMs / 1000)));
    const { services, policyKey, path } = cx;

    return (ctx: GatewayContext) => {
      const sub = ctx.subscription;
      if (!sub) {
        if (ctx.tracing) ctx.trace({ kind: 'info', policy: 'quota', path, message: 'no subscription: quota applies only to calls made with a subscription key' });
        return 'continue';
      }
      const now = ctx.clock.now();
      const anchor = sub.startDate ?? 0;
      const active: Array<{ counter: FixedWindow; start: number; q: QuotaLimit }> = [];
      for (const { label, value: q, applies } of limits) {
        if (!applies(ctx)) continue;
        const counter = services.store(`${policyKey}|${sub.id}|${label}`, () => new FixedWindow());
        const { start, end } = fixedPeriod(now, anchor, q.periodMs);
        try {
          checkQuota('quota', counter, q, start, end, now);
        } catch (e) {
          if (ctx.tracing) ctx.trace({ kind: 'info', policy: 'quota', path, message: `subscription ${sub.id}${label ? ` ${label}` : ''}: quota used up (${counter.calls} calls, ${counter.amount} bytes)`, data: { calls: counter.calls, bytes: counter.amount } });
          throw e;
        }
        active.push({ counter, start, q });
      }
      for (const a of active) a.counter.calls++;
      if (active.some((a) => a.q.bytes !== undefined)) {
        ctx.completed.push((c) =>
          countTransferredBytes(c, (bytes) => {
            for (const a of active) a.counter.addIn(a.start, bytes);
          }),
        );
      }
      if (ctx.tracing) ctx.trace({ kind: 'info', policy: 'quota', path, message: `subscription ${sub.id}: counted`, data: { counters: active.map((a) => ({ calls: a.counter.calls, bytes: a.counter.amount })) } });
      return 'continue';
    };
  },
};


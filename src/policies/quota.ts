import type { CheckResult, CompileContext, ElementSpec, FixedCheck, GatewayContext, PolicyDefinition, XmlElement } from '../engine/policy-sdk.js';
import { PolicyError, gatewayErrorResponse } from '../engine/policy-sdk.js';
import { compileLimits } from './rate-limit.js';
import { countTransferredBytes, inBackground, literalInt, takeCounters } from './support/throttle.js';
import { fixedPeriod, formatTimeSpan, retryAfterSeconds } from './support/windows.js';

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
  return new PolicyError(
    source,
    'QuotaExceeded',
    message,
    gatewayErrorResponse(403, message, undefined, infinite ? undefined : { 'Retry-After': String(seconds) }),
  );
}

/**
 * The state-store check of a quota counter in the period [start, end): the call fits while calls (less the calls this
 * request itself already added) are under the limit and the bytes are not used up (`amount >= bytes` refuses, hence a
 * need of one byte); `addCalls` are counted when it fits.
 */
export function quotaCheck(key: string, limit: QuotaLimit, start: number, end: number, ownCalls: number, addCalls: number): FixedCheck {
  return {
    kind: 'fixed',
    key,
    periodStart: start,
    expiresAt: Number.isFinite(end) ? end : 0,
    callsLimit: limit.calls,
    callsNeed: 1 - ownCalls,
    amountLimit: limit.bytes,
    amountNeed: 1,
    addCalls,
    addAmount: 0,
  };
}

/** Which part of a quota a refused check ran out of: calls are checked first, as APIM reports them first. */
export function quotaExceededKind(check: FixedCheck, found: CheckResult): 'calls' | 'bandwidth' {
  return check.callsLimit !== undefined && found.used + check.callsNeed > check.callsLimit ? 'calls' : 'bandwidth';
}

/** Reads calls / bandwidth / renewal-period of a quota element; reports one that sets neither calls nor bandwidth. */
export function readQuotaLimit(e: XmlElement, cx: CompileContext, policy: string, inheritedPeriodS?: number): QuotaLimit {
  const calls = literalInt(e, cx, 'calls');
  const kb = literalInt(e, cx, 'bandwidth');
  if (calls === undefined && kb === undefined) {
    cx.diagnostics.error(
      e.source,
      e.start,
      'policy/missing-attribute',
      `<${e.name}>${e.name === policy ? '' : ` in <${policy}>`} needs "calls", "bandwidth" or both`,
      'calls: number of calls per period; bandwidth: kilobytes per period',
    );
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
        if (ctx.tracing)
          ctx.trace({ kind: 'info', policy: 'quota', path, message: 'no subscription: quota applies only to calls made with a subscription key' });
        return 'continue';
      }
      const now = ctx.clock.now();
      const anchor = sub.startDate ?? 0;
      // Every quota that applies, checked and counted in one step of the state store (shared across workers/Redis).
      const applied: Array<{ label: string; q: QuotaLimit; start: number; end: number }> = [];
      const checks: FixedCheck[] = [];
      for (const { label, value: q, applies } of limits) {
        if (!applies(ctx)) continue;
        const { start, end } = fixedPeriod(now, anchor, q.periodMs);
        applied.push({ label, q, start, end });
        checks.push(quotaCheck(`${policyKey}|${sub.id}|${label}`, q, start, end, 0, 1));
      }
      const { state } = services;
      return takeCounters(state, now, checks, 'quota', (r) => {
        if (!r.allowed) {
          const a = applied[r.failed]!;
          const found = r.results[r.failed]!;
          if (ctx.tracing)
            ctx.trace({
              kind: 'info',
              policy: 'quota',
              path,
              message: `subscription ${sub.id}${a.label ? ` ${a.label}` : ''}: quota used up (${found.used} calls, ${found.amount} bytes)`,
              data: { calls: found.used, bytes: found.amount },
            });
          throw quotaExceeded('quota', quotaExceededKind(checks[r.failed]!, found), a.end, now);
        }
        if (applied.some((a) => a.q.bytes !== undefined)) {
          ctx.completed.push((c) =>
            countTransferredBytes(c, (bytes) => {
              for (const ch of checks) inBackground(state.addFixed(ch.key, ch.periodStart, ch.expiresAt, c.clock.now(), 0, bytes, false));
            }),
          );
        }
        if (ctx.tracing)
          ctx.trace({
            kind: 'info',
            policy: 'quota',
            path,
            message: `subscription ${sub.id}: counted`,
            data: { counters: r.results.map((x) => ({ calls: x.used + 1, bytes: x.amount })) },
          });
        return 'continue';
      });
    };
  },
};

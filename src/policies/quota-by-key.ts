import type { GatewayContext, PolicyDefinition, ValueGetter } from '../engine/policy-sdk.js';
import { checkQuota, readQuotaLimit } from './quota.js';
import { claimedIncrement, claimKey, countTransferredBytes, isExpressionAttr, literal } from './support/throttle.js';
import { FixedWindow, fixedPeriod, parseIsoUtc } from './support/windows.js';

const DEFAULT_FIRST_PERIOD_START = '0001-01-01T00:00:00Z';

/**
 * `<quota-by-key counter-key calls bandwidth renewal-period increment-condition increment-count first-period-start/>`
 * (docs/apim-behaviour.md: Throttling): one fixed-window counter per key value, shared by every policy that produces the key, with
 * periods counted from first-period-start. "If multiple policies would increment the same key value, it is
 * incremented only once per request." As for rate-limit-by-key, an increment-condition / increment-count that is an
 * expression is evaluated after the pipeline (it usually reads context.Response); bandwidth (request + response
 * bytes) is always counted once the response has been sent. 403 `QuotaExceeded` + Retry-After.
 */
export const quotaByKey: PolicyDefinition = {
  name: 'quota-by-key',
  summary: 'Call and bandwidth quota per key in fixed periods from first-period-start (403 + Retry-After).',
  support: 'full',
  sections: ['inbound'],
  attributes: [
    { name: 'counter-key', required: true, expressions: true },
    { name: 'calls', expressions: false, kind: 'int', min: 0 },
    { name: 'bandwidth', expressions: false, kind: 'int', min: 0 },
    { name: 'renewal-period', required: true, expressions: false, kind: 'int', min: 0 },
    { name: 'increment-condition', expressions: true, kind: 'bool' },
    { name: 'increment-count', expressions: true, kind: 'int', min: 0, default: '1' },
    { name: 'first-period-start', expressions: false, default: DEFAULT_FIRST_PERIOD_START },
  ],
  compile(el, cx) {
    const limit = readQuotaLimit(el, cx, 'quota-by-key');
    if (limit.periodMs > 0 && limit.periodMs < 300_000) {
      cx.diagnostics.error(el.source, cx.offsetOf(el, 'renewal-period'), 'policy/bad-attribute-value', `attribute "renewal-period" of <quota-by-key> is ${limit.periodMs / 1000}, below the minimum period of 300 seconds`, 'a number of seconds >= 300, or 0 for a quota that never renews');
    }
    const startText = literal(el, cx, 'first-period-start') ?? DEFAULT_FIRST_PERIOD_START;
    let anchor = parseIsoUtc(startText);
    if (anchor === undefined) {
      cx.diagnostics.error(el.source, cx.offsetOf(el, 'first-period-start'), 'policy/bad-attribute-value', `attribute "first-period-start" of <quota-by-key> is not a date and time: "${startText}"`, 'format yyyy-MM-ddTHH:mm:ssZ (ISO 8601), e.g. 2025-01-01T00:00:00Z');
      anchor = 0;
    }
    const start0 = anchor;
    const counterKey = cx.string(el, 'counter-key') ?? (() => '');
    const condition: ValueGetter<boolean> = cx.bool(el, 'increment-condition') ?? (() => true);
    const count = cx.int(el, 'increment-count') ?? (() => 1);
    const postponed = isExpressionAttr(el, 'increment-condition') || isExpressionAttr(el, 'increment-count');
    const { services, path } = cx;

    return (ctx: GatewayContext) => {
      const key = counterKey(ctx);
      const counter = services.store(`quota-by-key:${key}`, () => new FixedWindow());
      const now = ctx.clock.now();
      const { start, end } = fixedPeriod(now, start0, limit.periodMs);
      const claimKeyName = `quota-by-key:${key}`;
      const own = claimedIncrement(ctx, claimKeyName);
      try {
        checkQuota('quota-by-key', counter, limit, start, end, now, own ?? 0);
      } catch (e) {
        if (ctx.tracing) ctx.trace({ kind: 'info', policy: 'quota-by-key', path, message: `key "${key}": quota used up (${counter.calls} calls, ${counter.amount} bytes)`, data: { key, calls: counter.calls, bytes: counter.amount } });
        throw e;
      }
      // Only the first quota-by-key of this request for this key counts (calls and bandwidth alike).
      if (own !== undefined) return 'continue';
      const countCalls = (c: GatewayContext): number => {
        counter.roll(fixedPeriod(c.clock.now(), start0, limit.periodMs).start);
        const n = Math.max(0, count(c));
        counter.calls += n;
        return n;
      };
      claimKey(ctx, claimKeyName, !postponed && condition(ctx) ? countCalls(ctx) : 0);
      if (postponed || limit.bytes !== undefined) {
        ctx.completed.push((c) => {
          if (!condition(c)) return;
          if (postponed) countCalls(c);
          if (limit.bytes !== undefined) countTransferredBytes(c, (bytes) => counter.addIn(start, bytes));
        });
      }
      if (ctx.tracing) ctx.trace({ kind: 'info', policy: 'quota-by-key', path, message: `key "${key}": ${counter.calls} calls, ${counter.amount} bytes this period${postponed ? ' (increment postponed)' : ''}`, data: { key, calls: counter.calls, bytes: counter.amount, postponed } });
      return 'continue';
    };
  },
};

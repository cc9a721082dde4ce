import type { GatewayContext, PolicyDefinition, ValueGetter } from '../engine/policy-sdk.js';
import { quotaCheck, quotaExceeded, quotaExceededKind, readQuotaLimit } from './quota.js';
import { claimedIncrement, claimKey, countTransferredBytes, inBackground, isExpressionAttr, literal, takeCounters } from './support/throttle.js';
import { fixedPeriod, parseIsoUtc } from './support/windows.js';

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
      cx.diagnostics.error(
        el.source,
        cx.offsetOf(el, 'renewal-period'),
        'policy/bad-attribute-value',
        `attribute "renewal-period" of <quota-by-key> is ${limit.periodMs / 1000}, below the minimum period of 300 seconds`,
        'a number of seconds >= 300, or 0 for a quota that never renews',
      );
    }
    const startText = literal(el, cx, 'first-period-start') ?? DEFAULT_FIRST_PERIOD_START;
    let anchor = parseIsoUtc(startText);
    if (anchor === undefined) {
      cx.diagnostics.error(
        el.source,
        cx.offsetOf(el, 'first-period-start'),
        'policy/bad-attribute-value',
        `attribute "first-period-start" of <quota-by-key> is not a date and time: "${startText}"`,
        'format yyyy-MM-ddTHH:mm:ssZ (ISO 8601), e.g. 2025-01-01T00:00:00Z',
      );
      anchor = 0;
    }
    const start0 = anchor;
    const counterKey = cx.string(el, 'counter-key') ?? (() => '');
    const condition: ValueGetter<boolean> = cx.bool(el, 'increment-condition') ?? (() => true);
    const count = cx.int(el, 'increment-count') ?? (() => 1);
    const postponed = isExpressionAttr(el, 'increment-condition') || isExpressionAttr(el, 'increment-count');
    const { services, path } = cx;

    const { state } = services;

    return (ctx: GatewayContext) => {
      const key = counterKey(ctx);
      const storeKey = `quota-by-key:${key}`;
      const now = ctx.clock.now();
      const { start, end } = fixedPeriod(now, start0, limit.periodMs);
      const expiresAt = Number.isFinite(end) ? end : 0;
      const own = claimedIncrement(ctx, storeKey);
      // Only the first quota-by-key of this request for this key counts (calls and bandwidth alike).
      const counted = own === undefined && !postponed && condition(ctx) ? Math.max(0, count(ctx)) : 0;
      const check = quotaCheck(storeKey, limit, start, end, own ?? 0, counted);
      return takeCounters(state, now, [check], 'quota-by-key', (r) => {
        const found = r.results[0]!;
        if (!r.allowed) {
          if (ctx.tracing)
            ctx.trace({
              kind: 'info',
              policy: 'quota-by-key',
              path,
              message: `key "${key}": quota used up (${found.used} calls, ${found.amount} bytes)`,
              data: { key, calls: found.used, bytes: found.amount },
            });
          throw quotaExceeded('quota-by-key', quotaExceededKind(check, found), end, now);
        }
        if (own !== undefined) return 'continue';
        claimKey(ctx, storeKey, counted);
        if (postponed || limit.bytes !== undefined) {
          ctx.completed.push((c) => {
            if (!condition(c)) return;
            // A postponed count goes into the period current when the response is done (a new one starts from zero).
            const at = c.clock.now();
            if (postponed) {
              const p = fixedPeriod(at, start0, limit.periodMs);
              inBackground(state.addFixed(storeKey, p.start, Number.isFinite(p.end) ? p.end : 0, at, Math.max(0, count(c)), 0, true));
            }
            if (limit.bytes !== undefined)
              countTransferredBytes(c, (bytes) => inBackground(state.addFixed(storeKey, start, expiresAt, c.clock.now(), 0, bytes, false)));
          });
        }
        if (ctx.tracing)
          ctx.trace({
            kind: 'info',
            policy: 'quota-by-key',
            path,
            message: `key "${key}": ${found.used + counted} calls, ${found.amount} bytes this period${postponed ? ' (increment postponed)' : ''}`,
            data: { key, calls: found.used + counted, bytes: found.amount, postponed },
          });
        return 'continue';
      });
    };
  },
};

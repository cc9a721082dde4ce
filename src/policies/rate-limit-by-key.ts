import type { Awaitable, Flow, GatewayContext, PolicyDefinition, SlidingHit, ValueGetter } from '../engine/policy-sdk.js';
import { isPromise } from '../engine/policy-sdk.js';
import { addHeadersWhenDone, isExpressionAttr, literal, RATE_LIMIT_OUTPUT_ATTRIBUTES, rateLimitExceeded, stateUnavailable } from './support/throttle.js';
import { retryAfterSeconds } from './support/windows.js';

/**
 * `<rate-limit-by-key calls renewal-period counter-key increment-condition increment-count …/>` (docs/apim-behaviour.md: Throttling):
 * one sliding window per counter-key value, shared by every policy (any scope) that produces the same key.
 *
 * - Literal (or absent) increment-condition / increment-count: the call is checked and counted at once, in inbound.
 * - When either is an expression, APIM postpones its evaluation and the increment "to end of outbound pipeline" (docs/apim-behaviour.md: Throttling):
 *   inbound only rejects when the window is already full; the condition (which may read context.Response) and the
 *   count are evaluated after the pipeline has finished (after outbound or on-error) and counted then.
 * - A call that is rejected is not counted. 429 carries `Retry-After: N`, N = seconds until enough of the oldest
 *   calls have left the window, rounded up.
 */
export const rateLimitByKey: PolicyDefinition = {
  name: 'rate-limit-by-key',
  summary: 'Sliding-window call limit per key (429 + Retry-After), increments postponed to the end when they are expressions.',
  support: 'full',
  sections: ['inbound'],
  attributes: [
    { name: 'calls', required: true, expressions: true, kind: 'int', min: 0 },
    { name: 'renewal-period', required: true, expressions: true, kind: 'int', min: 1, max: 300 },
    { name: 'counter-key', required: true, expressions: true },
    { name: 'increment-condition', expressions: true, kind: 'bool' },
    { name: 'increment-count', expressions: true, kind: 'int', min: 0, default: '1' },
    ...RATE_LIMIT_OUTPUT_ATTRIBUTES,
  ],
  compile(el, cx) {
    const calls = cx.int(el, 'calls') ?? (() => 0);
    const renewal = cx.int(el, 'renewal-period') ?? (() => 1);
    const counterKey = cx.string(el, 'counter-key') ?? (() => '');
    const condition: ValueGetter<boolean> = cx.bool(el, 'increment-condition') ?? (() => true);
    const count = cx.int(el, 'increment-count') ?? (() => 1);
    const postponed = isExpressionAttr(el, 'increment-condition') || isExpressionAttr(el, 'increment-count');
    const retryHeader = literal(el, cx, 'retry-after-header-name') ?? 'Retry-After';
    const retryVariable = literal(el, cx, 'retry-after-variable-name');
    const remainingHeader = literal(el, cx, 'remaining-calls-header-name');
    const remainingVariable = literal(el, cx, 'remaining-calls-variable-name');
    const totalHeader = literal(el, cx, 'total-calls-header-name');
    const { services } = cx;
    const path = cx.path;

    // Counters in services.state: this process by default, or shared (serve --workers, --state redis://…).
    const state = services.state;

    return (ctx: GatewayContext) => {
      const key = counterKey(ctx);
      const limit = calls(ctx);
      const periodMs = renewal(ctx) * 1000;
      const storeKey = `rate-limit-by-key:${key}`;
      const now = ctx.clock.now();
      // Postponed: the increment is unknown yet, so only a full window rejects (as if it were 1).
      const need = postponed ? 1 : condition(ctx) ? count(ctx) : 0;
      const decide = (hit: SlidingHit): Flow => {
        const used = hit.used;
        if (!hit.allowed) {
          const retryAfter = retryAfterSeconds(hit.waitMs);
          if (retryVariable) ctx.variables.set(retryVariable, retryAfter);
          if (remainingVariable) ctx.variables.set(remainingVariable, Math.max(0, limit - used));
          if (ctx.tracing)
            ctx.trace({
              kind: 'info',
              policy: 'rate-limit-by-key',
              path,
              message: `key "${key}": ${used} of ${limit} calls in ${periodMs / 1000} s, exceeded; retry after ${retryAfter} s`,
              data: { key, used, limit, retryAfter },
            });
          const headers: Record<string, string> = { [retryHeader]: String(retryAfter) };
          if (totalHeader) headers[totalHeader] = String(limit);
          throw rateLimitExceeded('rate-limit-by-key', retryAfter, headers);
        }
        let remaining = limit - used;
        if (postponed) {
          ctx.completed.push((c) => {
            if (!condition(c)) return;
            const n = count(c);
            if (n > 0) {
              const added = state.add(storeKey, c.clock.now(), periodMs, n);
              if (isPromise(added)) added.catch(() => undefined);
            }
            if (c.tracing)
              c.trace({
                kind: 'info',
                policy: 'rate-limit-by-key',
                path,
                message: `key "${key}": counted ${n} after the response (postponed increment)`,
                data: { key, count: n },
              });
          });
        } else if (need > 0) remaining -= need;
        if (remainingVariable) ctx.variables.set(remainingVariable, remaining);
        const headers: Array<[string, string]> = [];
        if (remainingHeader) headers.push([remainingHeader, String(remaining)]);
        if (totalHeader) headers.push([totalHeader, String(limit)]);
        addHeadersWhenDone(ctx, headers);
        if (ctx.tracing)
          ctx.trace({
            kind: 'info',
            policy: 'rate-limit-by-key',
            path,
            message: `key "${key}": ${limit - remaining} of ${limit} calls in ${periodMs / 1000} s${postponed ? ' (increment postponed)' : ''}`,
            data: { key, used: limit - remaining, limit, postponed },
          });
        return 'continue';
      };
      // One atomic check-and-count; the in-process store answers synchronously, shared ones with a promise.
      let hit: Awaitable<SlidingHit>;
      try {
        hit = state.hit(storeKey, now, periodMs, limit, need, !postponed);
      } catch (e) {
        throw stateUnavailable(e, 'rate-limit-by-key');
      }
      return isPromise(hit) ? hit.then(decide, (e: unknown) => Promise.reject(stateUnavailable(e, 'rate-limit-by-key'))) : decide(hit);
    };
  },
};

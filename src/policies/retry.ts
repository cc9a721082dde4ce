import type { Flow, PolicyDefinition } from '../engine/policy-sdk.js';
import { PolicyError, applyErrorResponse } from '../engine/policy-sdk.js';

/**
 * `<retry>`: runs its children once, then again while `condition` is true and retries remain (docs/apim-behaviour.md: retry).
 * Waits (on the clock), with n = 0 for the first retry:
 *   fixed        interval
 *   linear       interval + n·delta
 *   exponential  interval + (2^n − 1)·U(0.8·delta, 1.2·delta)          (when max-interval is also given)
 * each capped at max-interval; first-fast-retry makes the first retry immediate.
 * A PolicyError thrown by a child (e.g. a pool with every breaker open) is retried like a failed response while the
 * condition holds, as Microsoft's toolkit does; APIM is SILENT (docs/emulator-choices.md).
 */
export const retry: PolicyDefinition = {
  name: 'retry',
  summary: 'Re-runs its child policies while a condition holds (fixed, linear or exponential waits on the clock).',
  support: 'full',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: [
    { name: 'condition', required: true, expressions: true, kind: 'bool' },
    { name: 'count', required: true, expressions: true, kind: 'int', min: 1, max: 50 },
    { name: 'interval', required: true, expressions: true, kind: 'int', min: 0 },
    { name: 'max-interval', expressions: true, kind: 'int', min: 0 },
    { name: 'delta', expressions: true, kind: 'int', min: 0 },
    { name: 'first-fast-retry', expressions: true, kind: 'bool', default: 'false' },
  ],
  policies: true,
  compile(el, cx) {
    const condition = cx.bool(el, 'condition') ?? (() => false);
    const count = cx.int(el, 'count') ?? (() => 1);
    const interval = cx.int(el, 'interval') ?? (() => 0);
    const maxInterval = cx.int(el, 'max-interval');
    const delta = cx.int(el, 'delta');
    const firstFast = cx.bool(el, 'first-fast-retry') ?? (() => false);
    for (const c of el.children) {
      if (c.kind === 'element' && c.name === 'wait') {
        cx.diagnostics.error(
          el.source,
          c.start,
          'policy/element-not-allowed',
          '<wait> is not allowed inside <retry>',
          'APIM allows any policy in <retry> except <wait>',
        );
      }
    }
    const body = cx.policies(el);
    const random = cx.services.random;

    return async (ctx) => {
      const max = count(ctx);
      for (let attempt = 0; ; attempt++) {
        let failure: PolicyError | undefined;
        try {
          let f: Flow | Promise<Flow> = body(ctx);
          if (typeof f !== 'string') f = await f;
          if (f !== 'continue') return f;
        } catch (e) {
          if (!(e instanceof PolicyError)) throw e;
          failure = e;
          // The condition sees the failure as APIM would in on-error: LastError and the preset status.
          ctx.lastError = e.toLastError();
          if (!e.keepResponse && e.response) applyErrorResponse(ctx, e.response);
        }
        if (attempt >= max || !condition(ctx)) {
          if (failure) throw failure;
          return 'continue';
        }
        const n = attempt;
        let waitS: number;
        if (n === 0 && firstFast(ctx)) waitS = 0;
        else {
          const i = interval(ctx);
          const d = delta?.(ctx);
          const cap = maxInterval?.(ctx);
          if (d === undefined) waitS = i;
          else if (cap === undefined) waitS = i + n * d;
          else waitS = i + (2 ** n - 1) * (0.8 * d + random() * 0.4 * d);
          if (cap !== undefined) waitS = Math.min(cap, waitS);
        }
        if (ctx.tracing)
          ctx.trace({
            kind: 'retry',
            policy: 'retry',
            path: cx.path,
            attempt: n + 1,
            of: max,
            waitSeconds: waitS,
            afterError: failure?.reason ?? null,
            status: ctx.response.statusCode,
            message: `retry ${n + 1} of ${max} after ${waitS} s${failure ? ` (after ${failure.reason})` : ` (status ${ctx.response.statusCode})`}`,
          });
        if (waitS > 0) await ctx.clock.sleep(waitS * 1000, ctx.abort.signal);
      }
    };
  },
};

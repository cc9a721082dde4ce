import type { Flow, GatewayContext, PolicyDefinition } from '../engine/policy-sdk.js';
import { PolicyError, gatewayErrorResponse } from '../engine/policy-sdk.js';

/**
 * `<limit-concurrency key max-count>`: at most max-count requests run the enclosed policies at the same time per key
 * value (the key "can be shared by multiple policies"); one more "fails immediately with 429" (docs/apim-behaviour.md: Throttling).
 * APIM documents neither the body nor a reason code (SILENT): the emulator answers
 * `{"statusCode":429,"message":"Too many concurrent requests. Try again later."}` with LastError.Reason
 * `ConcurrencyLimitExceeded`, and no Retry-After (there is no window to wait for).
 */
export const limitConcurrency: PolicyDefinition = {
  name: 'limit-concurrency',
  summary: 'Runs its child policies for at most max-count concurrent requests per key; more get 429 at once.',
  support: 'full',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: [
    { name: 'key', required: true, expressions: true },
    { name: 'max-count', required: true, expressions: false, kind: 'int', min: 1 },
  ],
  policies: true,
  compile(el, cx) {
    const key = cx.string(el, 'key') ?? (() => '');
    const max = cx.int(el, 'max-count') ?? (() => 1);
    const body = cx.policies(el);
    const { services, path } = cx;

    return (ctx: GatewayContext): Flow | Promise<Flow> => {
      const k = key(ctx);
      const limit = max(ctx);
      const slot = services.store(`limit-concurrency:${k}`, () => ({ active: 0 }));
      if (slot.active >= limit) {
        if (ctx.tracing)
          ctx.trace({
            kind: 'info',
            policy: 'limit-concurrency',
            path,
            message: `key "${k}": ${slot.active} of ${limit} requests already inside, rejected`,
            data: { key: k, active: slot.active, max: limit },
          });
        const message = 'Too many concurrent requests. Try again later.';
        throw new PolicyError('limit-concurrency', 'ConcurrencyLimitExceeded', message, gatewayErrorResponse(429, message));
      }
      slot.active++;
      if (ctx.tracing)
        ctx.trace({
          kind: 'info',
          policy: 'limit-concurrency',
          path,
          message: `key "${k}": entered (${slot.active} of ${limit})`,
          data: { key: k, active: slot.active, max: limit },
        });
      let result: Flow | Promise<Flow>;
      try {
        result = body(ctx);
      } catch (e) {
        slot.active--;
        throw e;
      }
      if (typeof result === 'string') {
        slot.active--;
        return result;
      }
      return result.finally(() => {
        slot.active--;
      });
    };
  },
};

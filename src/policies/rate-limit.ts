import type { CompileContext, ElementSpec, GatewayContext, PolicyDefinition, SlidingCheck, XmlElement } from '../engine/policy-sdk.js';
import { childElements } from '../engine/policy-sdk.js';
import { addHeadersWhenDone, literal, literalInt, RATE_LIMIT_OUTPUT_ATTRIBUTES, rateLimitExceeded, takeCounters } from './support/throttle.js';
import { retryAfterSeconds } from './support/windows.js';

const LIMIT_ATTRIBUTES = [
  { name: 'name', expressions: false },
  { name: 'id', expressions: false },
  { name: 'calls', required: true, expressions: false, kind: 'int', min: 0 },
  { name: 'renewal-period', required: true, expressions: false, kind: 'int', min: 1, max: 300 },
] as const;

const OPERATION: ElementSpec = { name: 'operation', attributes: LIMIT_ATTRIBUTES };
const API: ElementSpec = { name: 'api', attributes: LIMIT_ATTRIBUTES, elements: [OPERATION] };

/** One limit of the policy: the policy's own, or a nested `<api>` / `<operation>` one that applies when it matches. */
export interface NestedLimit<T> {
  /** Part of the counter key (the policy's own limit is ''). */
  label: string;
  value: T;
  applies: (ctx: GatewayContext) => boolean;
}

interface CallLimit {
  calls: number;
  periodMs: number;
}

/**
 * `<rate-limit calls renewal-period …>` with optional `<api>` / `<operation>` limits (docs/apim-behaviour.md: Throttling): a sliding window
 * per subscription for each limit of this policy element. "Product, API, and operation call rate limits are applied
 * independently": every limit that applies is checked, the first exceeded one answers 429, and a call is counted in
 * all of them only when none is exceeded.
 *
 * Counters belong to the policy element (so a rate-limit inside a fragment shares one counter across every scope that
 * includes it, as observed in APIM (docs/apim-behaviour.md: Throttling)). The policy applies only when the request has a subscription (DOC); without
 * one it lets the call through and says so in the trace (one author observed anonymous calls throttled too (docs/apim-behaviour.md: Throttling);
 * docs/policies-llm.md).
 */
export const rateLimit: PolicyDefinition = {
  name: 'rate-limit',
  summary: 'Sliding-window call limit per subscription, with nested <api>/<operation> limits (429 + Retry-After).',
  support: 'full',
  sections: ['inbound'],
  scopes: ['product', 'api', 'operation'],
  attributes: [
    { name: 'calls', required: true, expressions: false, kind: 'int', min: 0 },
    { name: 'renewal-period', required: true, expressions: false, kind: 'int', min: 1, max: 300 },
    ...RATE_LIMIT_OUTPUT_ATTRIBUTES,
  ],
  elements: [API, OPERATION],
  compile(el, cx) {
    const limits = compileLimits(el, cx, 'rate-limit', (e): CallLimit => ({
      calls: literalInt(e, cx, 'calls') ?? 0,
      periodMs: (literalInt(e, cx, 'renewal-period') ?? 1) * 1000,
    }));
    const retryHeader = literal(el, cx, 'retry-after-header-name') ?? 'Retry-After';
    const retryVariable = literal(el, cx, 'retry-after-variable-name');
    const remainingHeader = literal(el, cx, 'remaining-calls-header-name');
    const remainingVariable = literal(el, cx, 'remaining-calls-variable-name');
    const totalHeader = literal(el, cx, 'total-calls-header-name');
    const ownCalls = limits[0]?.value.calls ?? 0;
    const { services, policyKey, path } = cx;

    return (ctx) => {
      const sub = ctx.subscription;
      if (!sub) {
        if (ctx.tracing)
          ctx.trace({ kind: 'info', policy: 'rate-limit', path, message: 'no subscription: rate-limit applies only to calls made with a subscription key' });
        return 'continue';
      }
      const now = ctx.clock.now();
      // Every limit that applies, checked and counted in one step of the state store (shared across workers/Redis).
      const applied: Array<NestedLimit<CallLimit>> = [];
      const checks: SlidingCheck[] = [];
      for (const l of limits) {
        if (!l.applies(ctx)) continue;
        applied.push(l);
        checks.push({ kind: 'sliding', key: `${policyKey}|${sub.id}|${l.label}`, windowMs: l.value.periodMs, limit: l.value.calls, need: 1, add: 1 });
      }
      return takeCounters(services.state, now, checks, 'rate-limit', (r) => {
        if (!r.allowed) {
          const { label, value: limit } = applied[r.failed]!;
          const { used, waitMs } = r.results[r.failed]!;
          const retryAfter = retryAfterSeconds(waitMs);
          if (retryVariable) ctx.variables.set(retryVariable, retryAfter);
          if (remainingVariable) ctx.variables.set(remainingVariable, 0);
          if (ctx.tracing)
            ctx.trace({
              kind: 'info',
              policy: 'rate-limit',
              path,
              message: `subscription ${sub.id}${label ? ` ${label}` : ''}: ${used} of ${limit.calls} calls in ${limit.periodMs / 1000} s, exceeded; retry after ${retryAfter} s`,
              data: { subscription: sub.id, limit: label || 'policy', used, calls: limit.calls, retryAfter },
            });
          const headers: Record<string, string> = { [retryHeader]: String(retryAfter) };
          if (totalHeader) headers[totalHeader] = String(ownCalls);
          throw rateLimitExceeded('rate-limit', retryAfter, headers);
        }
        // Remaining calls: the most restrictive of the limits that applied.
        let remaining = Number.POSITIVE_INFINITY;
        for (let i = 0; i < applied.length; i++) remaining = Math.min(remaining, applied[i]!.value.calls - r.results[i]!.used - 1);
        if (!Number.isFinite(remaining)) remaining = 0;
        if (remainingVariable) ctx.variables.set(remainingVariable, remaining);
        const headers: Array<[string, string]> = [];
        if (remainingHeader) headers.push([remainingHeader, String(remaining)]);
        if (totalHeader) headers.push([totalHeader, String(ownCalls)]);
        addHeadersWhenDone(ctx, headers);
        if (ctx.tracing)
          ctx.trace({
            kind: 'info',
            policy: 'rate-limit',
            path,
            message: `subscription ${sub.id}: counted; ${remaining} calls remaining`,
            data: { subscription: sub.id, remaining },
          });
        return 'continue';
      });
    };
  },
};

/**
 * The policy's own limit plus its nested `<api>` / `<operation>` limits (shared with quota). An element is matched by
 * `id` when given, else by `name` ("If both attributes are provided, id will be used and name will be ignored").
 */
export function compileLimits<T>(el: XmlElement, cx: CompileContext, policy: string, read: (e: XmlElement) => T): Array<NestedLimit<T>> {
  const limits: Array<NestedLimit<T>> = [{ label: '', value: read(el), applies: () => true }];
  const ref = (e: XmlElement): { by: 'id' | 'name'; value: string } | undefined => {
    const id = literal(e, cx, 'id');
    if (id) return { by: 'id', value: id };
    const name = literal(e, cx, 'name');
    if (name) return { by: 'name', value: name };
    cx.diagnostics.error(
      e.source,
      e.start,
      'policy/missing-attribute',
      `<${e.name}> in <${policy}> needs "id" or "name"`,
      `the ${e.name} the limit applies to`,
    );
    return undefined;
  };
  const matches = (r: { by: 'id' | 'name'; value: string }, entity: { id: string; name: string }) =>
    (r.by === 'id' ? entity.id : entity.name).toLowerCase() === r.value.toLowerCase();
  for (const apiEl of childElements(el, 'api')) {
    const api = ref(apiEl);
    if (!api) continue;
    const apiMatches = (ctx: GatewayContext) => matches(api, ctx.api);
    limits.push({ label: `api:${api.by}=${api.value}`, value: read(apiEl), applies: apiMatches });
    for (const opEl of childElements(apiEl, 'operation')) {
      const op = ref(opEl);
      if (!op) continue;
      limits.push({
        label: `api:${api.by}=${api.value}|operation:${op.by}=${op.value}`,
        value: read(opEl),
        applies: (ctx) => apiMatches(ctx) && matches(op, ctx.operation),
      });
    }
  }
  // <operation> directly inside the policy (API-scope usage): operations of the current API.
  for (const opEl of childElements(el, 'operation')) {
    const op = ref(opEl);
    if (!op) continue;
    limits.push({ label: `operation:${op.by}=${op.value}`, value: read(opEl), applies: (ctx) => matches(op, ctx.operation) });
  }
  return limits;
}

import type { CompileContext, GatewayContext, GatewayResponse, PolicyDefinition, XmlElement } from '../engine/policy-sdk.js';
import { reasonPhrase } from '../engine/policy-sdk.js';

/** Compiles `<set-status code reason>` into a mutation of a response (shared with return-response). */
export function compileStatusMutation(el: XmlElement, cx: CompileContext): (ctx: GatewayContext, r: GatewayResponse) => void {
  const code = cx.int(el, 'code') ?? (() => 200);
  const reason = cx.string(el, 'reason');
  return (ctx, r) => {
    r.statusCode = code(ctx);
    r.statusReason = reason ? reason(ctx) : reasonPhrase(r.statusCode);
  };
}

export const setStatus: PolicyDefinition = {
  name: 'set-status',
  summary: 'Sets the response status code and reason.',
  support: 'full',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: [
    { name: 'code', required: true, expressions: true, kind: 'int', min: 100, max: 599 },
    // The reference marks reason as required, but lab policies that deploy omit it (e.g. the MCP labs'
    // `<set-status code="200" />`), so APIM accepts it absent; the standard reason phrase is used then.
    { name: 'reason', expressions: true },
  ],
  compile(el, cx) {
    const mutate = compileStatusMutation(el, cx);
    return (ctx) => (mutate(ctx, ctx.response), 'continue');
  },
};

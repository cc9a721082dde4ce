import { compileHeaderMutation, messageOf } from './support/message.js';
import type { AttributeSpec, ElementSpec, PolicyDefinition } from '../engine/policy-sdk.js';

export const SET_HEADER_ATTRIBUTES: readonly AttributeSpec[] = [
  { name: 'name', required: true, expressions: true },
  { name: 'exists-action', expressions: true, kind: 'enum', values: ['override', 'skip', 'append', 'delete'], default: 'override' },
];
export const VALUE_ELEMENT: ElementSpec = { name: 'value', text: { expressions: true } };

/** `<set-header>` on the request (inbound, backend) or the response (outbound, on-error). */
export const setHeader: PolicyDefinition = {
  name: 'set-header',
  summary: 'Adds, replaces, appends or deletes a header (multi-value rules as APIM).',
  support: 'full',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: SET_HEADER_ATTRIBUTES,
  elements: [VALUE_ELEMENT],
  compile(el, cx) {
    const mutate = compileHeaderMutation(el, cx);
    if (messageOf(cx.section) === 'request') return (ctx) => (mutate(ctx, ctx.request.headers), 'continue');
    return (ctx) => (mutate(ctx, ctx.response.headers), 'continue');
  },
};

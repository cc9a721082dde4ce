import type { PolicyDefinition } from '../engine/policy-sdk.js';

/** `<set-method>METHOD</set-method>`: changes the backend request's HTTP method. */
export const setMethod: PolicyDefinition = {
  name: 'set-method',
  summary: 'Sets the HTTP method of the backend request.',
  support: 'full',
  sections: ['inbound', 'on-error'],
  attributes: [],
  text: { expressions: true, required: true },
  compile(el, cx) {
    const method = cx.text(el) ?? (() => 'GET');
    return (ctx) => {
      ctx.request.method = method(ctx).trim().toUpperCase();
      return 'continue';
    };
  },
};

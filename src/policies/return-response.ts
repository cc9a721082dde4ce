import type { GatewayResponse, PolicyDefinition } from '../engine/policy-sdk.js';
import { HeaderMap, PolicyError, StoredResponse, childElements } from '../engine/policy-sdk.js';
import { compileBodyWriter, compileHeaderMutation } from './support/message.js';
import { SET_HEADER_ATTRIBUTES, VALUE_ELEMENT } from './set-header.js';
import { compileStatusMutation } from './set-status.js';

/**
 * `<return-response>`: ends the pipeline and sends a response: default `200 OK` without body, or the response kept
 * in `response-variable-name`, changed by the child set-status / set-header / set-body (docs/apim-behaviour.md: return-response).
 */
export const returnResponse: PolicyDefinition = {
  name: 'return-response',
  summary: 'Stops the pipeline and returns a response built from set-status, set-header, set-body.',
  support: 'full',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: [{ name: 'response-variable-name', expressions: false }],
  ordered: true,
  elements: [
    {
      name: 'set-status',
      max: 1,
      attributes: [
        { name: 'code', required: true, expressions: true, kind: 'int', min: 100, max: 599 },
        { name: 'reason', expressions: true },
        { name: 'id', expressions: false },
      ],
    },
    { name: 'set-header', attributes: [...SET_HEADER_ATTRIBUTES, { name: 'id', expressions: false }], elements: [VALUE_ELEMENT] },
    {
      name: 'set-body',
      max: 1,
      attributes: [
        { name: 'template', expressions: false, kind: 'enum', values: ['liquid', 'none'] },
        { name: 'xsi-nil', expressions: false, kind: 'enum', values: ['blank', 'null'] },
        { name: 'parse-date', expressions: false, kind: 'bool' },
        { name: 'id', expressions: false },
      ],
      text: { expressions: true },
    },
  ],
  compile(el, cx) {
    const variable = el.attributes.find((a) => a.name === 'response-variable-name')?.value.text;
    const status = childElements(el, 'set-status').map((s) => compileStatusMutation(s, cx));
    const headers = childElements(el, 'set-header').map((h) => compileHeaderMutation(h, cx));
    // A Liquid body here sees no body: return-response removes the current ones (docs/apim-behaviour.md: return-response).
    const body = childElements(el, 'set-body').map((b) => compileBodyWriter(b, cx, { bodyless: true }));
    return (ctx) => {
      let r: GatewayResponse;
      if (variable !== undefined) {
        const v = ctx.variables.get(variable);
        if (!(v instanceof StoredResponse)) {
          throw new PolicyError('return-response', 'ExpressionValueEvaluationFailure', `Variable "${variable}" does not hold a response (IResponse).`);
        }
        r = { statusCode: v.statusCode, statusReason: v.statusReason, headers: v.headers.clone(), body: v.body };
      } else {
        r = { statusCode: 200, statusReason: 'OK', headers: new HeaderMap(), body: null };
      }
      for (const s of status) s(ctx, r);
      for (const h of headers) h(ctx, r.headers);
      for (const b of body) r.body = b(ctx);
      // return-response removes the current request and response bodies (docs/apim-behaviour.md: return-response).
      ctx.response.body?.liveStream?.resume();
      ctx.response = r;
      return 'stop';
    };
  },
};

import { compileBodyWriter, messageOf } from './support/message.js';
import type { PolicyDefinition } from '../engine/policy-sdk.js';

/** `<set-body>`: replaces the request body (inbound, backend) or the response body (outbound). */
export const setBody: PolicyDefinition = {
  name: 'set-body',
  summary: 'Replaces the request or response body with text, an expression result or a Liquid template (DotLiquid C# naming).',
  support: 'full',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: [
    { name: 'template', expressions: false, kind: 'enum', values: ['liquid', 'none'] },
    { name: 'xsi-nil', expressions: false, kind: 'enum', values: ['blank', 'null'], default: 'blank' },
    { name: 'parse-date', expressions: false, kind: 'bool' },
  ],
  text: { expressions: true },
  compile(el, cx) {
    const write = compileBodyWriter(el, cx);
    if (messageOf(cx.section) === 'request') {
      return (ctx) => {
        ctx.request.body = write(ctx);
        ctx.request.headers.delete('Content-Length');
        return 'continue';
      };
    }
    return (ctx) => {
      ctx.response.body?.liveStream?.resume();
      ctx.response.body = write(ctx);
      ctx.response.headers.delete('Content-Length');
      return 'continue';
    };
  },
};

import type { PolicyDefinition } from '../engine/policy-sdk.js';
import { MessageBody } from '../engine/policy-sdk.js';
import { messageOf } from './support/message.js';

/** `<find-and-replace from to>`: replaces every occurrence of a string in the request or response body. */
export const findAndReplace: PolicyDefinition = {
  name: 'find-and-replace',
  summary: 'Replaces text in the request (inbound, backend) or response (outbound, on-error) body.',
  support: 'full',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: [
    { name: 'from', required: true, expressions: true },
    { name: 'to', required: true, expressions: true },
  ],
  compile(el, cx) {
    const from = cx.string(el, 'from') ?? (() => '');
    const to = cx.string(el, 'to') ?? (() => '');
    const which = messageOf(cx.section);
    cx.needsBody(which);
    return (ctx) => {
      const msg = which === 'request' ? ctx.request : ctx.response;
      const buf = msg.body?.peek();
      if (!buf) return 'continue';
      const f = from(ctx);
      if (!f) return 'continue';
      msg.body = MessageBody.fromBuffer(buf.toString('utf8').split(f).join(to(ctx)));
      msg.headers.delete('Content-Length');
      return 'continue';
    };
  },
};

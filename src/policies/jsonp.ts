import { MessageBody } from '../engine/body.js';
import type { Flow, PolicyDefinition } from '../engine/policy-sdk.js';

/** A JavaScript function reference (`cb`, `My.App.cb`): anything else is not wrapped (no script injection). */
const CALLBACK = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;

/**
 * `<jsonp callback-parameter-name="cb" />`: when the request has `?cb=fn`, the response body becomes `fn(body)`.
 * Attribute table: learn.microsoft.com/azure/api-management/jsonp-policy (read 2026-12-02).
 * Content type and the callback check are the emulator's choices (docs/emulator-choices.md, "jsonp").
 */
export const jsonp: PolicyDefinition = {
  name: 'jsonp',
  summary: 'Wraps the response body as callback(body) when the request names a callback in the given query parameter.',
  support: 'full',
  sections: ['outbound'],
  attributes: [{ name: 'callback-parameter-name', required: true, expressions: true }],
  compile(el, cx) {
    const param = cx.string(el, 'callback-parameter-name') ?? (() => 'callback');
    cx.needsBody('response');
    return async (ctx): Promise<Flow> => {
      const fn = ctx.request.url.query.get(param(ctx))?.[0];
      if (!fn || !CALLBACK.test(fn)) return 'continue';
      const body = ctx.response.body ? await ctx.response.body.buffer() : Buffer.alloc(0);
      ctx.response.body = MessageBody.fromBuffer(Buffer.concat([Buffer.from(`${fn}(`), body, Buffer.from(')')]));
      ctx.response.headers.set('Content-Type', ['application/javascript; charset=utf-8']);
      ctx.response.headers.delete('Content-Length');
      return 'continue';
    };
  },
};

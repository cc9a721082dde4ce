import type { GatewayContext, GatewayRequest, GatewayResponse } from '../../engine/context.js';
import type { CompileContext } from '../../engine/policy-sdk.js';
import { messageOf } from './message.js';

/** The message a conversion policy changes in its section: the request before the backend, the response after it. */
export function conversionTarget(cx: CompileContext): (ctx: GatewayContext) => GatewayRequest | GatewayResponse {
  cx.needsBody(messageOf(cx.section));
  return messageOf(cx.section) === 'request' ? (ctx) => ctx.request : (ctx) => ctx.response;
}

/** Media type of a Content-Type header value, lower case, without parameters. */
export function mediaType(value: string | undefined): string {
  return (value ?? '').split(';')[0]!.trim().toLowerCase();
}

export function isJsonType(value: string | undefined): boolean {
  const t = mediaType(value);
  return t === 'application/json' || t === 'text/json' || t.endsWith('+json');
}

export function isXmlType(value: string | undefined): boolean {
  const t = mediaType(value);
  return t === 'application/xml' || t === 'text/xml' || t.endsWith('+xml');
}

/** Whether the caller's Accept header asks for one of the types `test` recognises (consider-accept-header). */
export function acceptWants(ctx: GatewayContext, test: (t: string) => boolean): boolean {
  const accept = ctx.request.headers.getJoined('Accept');
  if (!accept) return false;
  return accept.split(',').some((part) => test(part));
}

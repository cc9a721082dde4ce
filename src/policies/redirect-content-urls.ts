import { MessageBody } from '../engine/body.js';
import type { GatewayContext } from '../engine/context.js';
import type { Flow, PolicyDefinition } from '../engine/policy-sdk.js';
import { messageOf } from './support/message.js';

/**
 * `<redirect-content-urls />`: rewrites links in the body between the backend's base URL and the gateway's URL
 * (outbound: backend → gateway, "masks" backend URLs; inbound: gateway → backend).
 * Attribute table: learn.microsoft.com/azure/api-management/redirect-content-urls-policy (read 2026-12-02).
 * The backend base URL is the one set-backend-service chose (base-url), else the API's service URL; a backend-id is
 * resolved only when forward-request ran (then the URL it called is used).
 */
export const redirectContentUrls: PolicyDefinition = {
  name: 'redirect-content-urls',
  summary: 'Replaces the backend base URL with the gateway URL in the response body (inbound: the reverse).',
  support: 'full',
  sections: ['inbound', 'outbound'],
  attributes: [],
  compile(_el, cx) {
    const which = messageOf(cx.section);
    cx.needsBody(which);
    return async (ctx): Promise<Flow> => {
      const msg = which === 'request' ? ctx.request : ctx.response;
      if (!msg.body) return 'continue';
      const backend = backendBase(ctx);
      const gateway = gatewayBase(ctx);
      if (!backend) return 'continue';
      const [from, to] = which === 'response' ? [backend, gateway] : [gateway, backend];
      const text = (await msg.body.buffer()).toString('utf8');
      if (!text.includes(from)) return 'continue';
      msg.body = MessageBody.fromBuffer(text.split(from).join(to));
      msg.headers.delete('Content-Length');
      return 'continue';
    };
  },
};

function trimSlash(s: string): string {
  return s.replace(/\/+$/, '');
}

function backendBase(ctx: GatewayContext): string {
  const t = ctx.backendTarget;
  if (t?.kind === 'url') return trimSlash(t.baseUrl);
  if (ctx.lastBackend?.url) {
    // The URL forward-request called, minus the part that came from the request (path below the API suffix + query).
    const called = ctx.lastBackend.url.split('?')[0]!;
    const apiPrefix = ctx.api.path ? `/${ctx.api.path.replace(/^\/+|\/+$/g, '')}` : '';
    const rel = ctx.request.url.path.startsWith(apiPrefix) ? ctx.request.url.path.slice(apiPrefix.length) : ctx.request.url.path;
    return trimSlash(rel && called.endsWith(rel) ? called.slice(0, called.length - rel.length) : called);
  }
  return trimSlash(ctx.api.serviceUrl);
}

function gatewayBase(ctx: GatewayContext): string {
  const u = ctx.request.originalUrl;
  const apiPrefix = ctx.api.path ? `/${ctx.api.path.replace(/^\/+|\/+$/g, '')}` : '';
  return `${u.origin}${apiPrefix}`;
}

import { offlineWarning } from './support/offline.js';
import type { PolicyDefinition } from '../engine/policy-sdk.js';

/**
 * `<proxy url username password />`: routes forwarded requests through an HTTP proxy.
 * Attribute table: learn.microsoft.com/azure/api-management/proxy-policy (read 2026-12-02).
 * Offline the backend call goes direct (the emulator's backends are local); the proxy is validated, reported once as
 * a warning, and named in the request trace.
 */
export const proxy: PolicyDefinition = {
  name: 'proxy',
  summary: 'Validated; offline the backend call goes direct and the trace names the proxy that APIM would use.',
  support: 'approximate',
  sections: ['inbound'],
  attributes: [
    { name: 'url', required: true, expressions: true },
    { name: 'username', expressions: true },
    { name: 'password', expressions: true },
  ],
  compile(el, cx) {
    offlineWarning(el, cx, 'backend calls go direct; the proxy is not used');
    const url = cx.string(el, 'url') ?? (() => '');
    return (ctx) => {
      if (ctx.tracing) ctx.trace({ kind: 'backend', policy: 'proxy', message: `proxy ${url(ctx)} not used offline: the backend call goes direct` });
      return 'continue';
    };
  },
};

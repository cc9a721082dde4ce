import type { PolicyDefinition, PolicyScope } from '../engine/policy-sdk.js';
import { daprInvokeUrl, sidecarBase } from './support/dapr.js';
import { offlineWarning } from './support/offline.js';

/** Broader scopes rank higher. */
const SCOPE_RANK: Record<PolicyScope, number> = { operation: 0, api: 1, product: 2, global: 3 };

const SERVICE_FABRIC = ['sf-resolve-condition', 'sf-service-instance-name', 'sf-partition-key', 'sf-replica-type', 'sf-listener-name'];
const DAPR = ['dapr-app-id', 'dapr-method', 'dapr-namespace'];

/**
 * `<set-backend-service base-url | backend-id>`: where forward-request sends the request. A backend-id names a single
 * backend or a pool; the choice of pool member happens in forward-request, at each attempt (docs/apim-behaviour.md: Pools, breakers and backend URLs).
 */
export const setBackendService: PolicyDefinition = {
  name: 'set-backend-service',
  summary: 'Routes the request to a base URL or to a backend entity (single or pool).',
  support: 'full',
  sections: ['inbound', 'backend'],
  attributes: [
    { name: 'base-url', expressions: true },
    { name: 'backend-id', expressions: true },
    ...[...SERVICE_FABRIC, ...DAPR].map((name) => ({ name, expressions: true })),
  ],
  // The Dapr form names neither base-url nor backend-id (learn.microsoft.com/azure/api-management/set-backend-service-dapr-policy, read 2026-12-02).
  oneOf: [['base-url', 'backend-id', 'dapr-app-id']],
  compile(el, cx) {
    if (el.attributes.some((a) => SERVICE_FABRIC.includes(a.name))) {
      offlineWarning(el, cx, "Service Fabric resolution (sf-*) is not available; the backend's own URL is used");
    }
    const appId = cx.string(el, 'dapr-app-id');
    if (appId) {
      // Dapr service invocation through the sidecar (self-hosted gateway): forward-request calls
      // {sidecar}/v1.0/invoke/{app-id}[.{namespace}]/method/{dapr-method}; the sidecar is `dapr.sidecarUrl` or Dapr's default.
      const method = cx.string(el, 'dapr-method') ?? (() => '');
      const namespace = cx.string(el, 'dapr-namespace');
      const sidecar = sidecarBase(cx.services);
      return (ctx) => {
        const url = daprInvokeUrl(sidecar, appId(ctx), namespace?.(ctx), method(ctx));
        ctx.backendTarget = { kind: 'url', baseUrl: url };
        // The method names the whole target path: nothing of the caller's path below the API suffix is appended.
        ctx.request.url.path = ctx.api.path ? `/${ctx.api.path.replace(/^\/+|\/+$/g, '')}` : '';
        if (ctx.tracing) ctx.trace({ kind: 'info', policy: 'set-backend-service', message: `dapr ${url}` });
        return 'continue';
      };
    }
    const backendId = cx.string(el, 'backend-id');
    if (backendId) {
      const literal = cx.attributeSpan(el, 'backend-id');
      const registry = cx.services.backends;
      if (literal && registry && !literal.text.trim().startsWith('@') && !registry.has(literal.text.trim())) {
        cx.diagnostics.error(
          el.source,
          cx.offsetOf(el, 'backend-id'),
          'policy/unknown-backend',
          `backend "${literal.text.trim()}" is not defined`,
          `defined backends: ${registry.ids().join(', ') || '(none)'}`,
        );
      }
      const scope = cx.scope;
      return (ctx) => {
        const id = backendId(ctx);
        ctx.backendTarget = { kind: 'backend', backendId: id, scope };
        if (ctx.tracing) ctx.trace({ kind: 'info', policy: 'set-backend-service', message: `backend-id = ${id}` });
        return 'continue';
      };
    }
    const baseUrl = cx.string(el, 'base-url') ?? (() => '');
    const rank = SCOPE_RANK[cx.scope];
    return (ctx) => {
      const url = baseUrl(ctx);
      // APIM: a backend-id inherited from a broader scope through <base/> can only be overridden by another
      // backend-id, not by base-url (docs/apim-behaviour.md: set-backend-service). Within the same scope base-url wins as usual.
      const t = ctx.backendTarget;
      if (t?.kind === 'backend' && t.scope !== undefined && SCOPE_RANK[t.scope] > rank) {
        ctx.trace({
          kind: 'info',
          policy: 'set-backend-service',
          message: `base-url ${url} ignored: backend-id ${t.backendId} was set at ${t.scope} scope and only another backend-id can override it (APIM behaviour)`,
        });
        return 'continue';
      }
      ctx.backendTarget = { kind: 'url', baseUrl: url };
      if (ctx.tracing) ctx.trace({ kind: 'info', policy: 'set-backend-service', message: `base-url = ${url}` });
      return 'continue';
    };
  },
};

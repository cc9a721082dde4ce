import { MANAGED_IDENTITY_SETTING } from './support/identity-settings.js';
import type { CompileContext, GatewayContext, HeaderMap, PolicyDefinition, XmlElement } from '../engine/policy-sdk.js';
import { PolicyError, attributeText, gatewayErrorResponse } from '../engine/policy-sdk.js';
import { ManagedIdentityError, managedIdentityTokens } from './support/managed-identity.js';

/** LastError.Reason when no token can be obtained; APIM documents none (SILENT), see docs/policies-ai.md. */
export const MANAGED_IDENTITY_FAILURE_REASON = 'ManagedIdentityTokenNotObtained';

/**
 * `<authentication-managed-identity resource client-id output-token-variable-name ignore-error>`: a token for
 * `resource` from the emulator's local token source (support/managed-identity.ts), set as `Authorization: Bearer` on
 * the backend request, or stored as a string in output-token-variable-name instead (docs/apim-behaviour.md: LLM policies).
 */
export const authenticationManagedIdentity: PolicyDefinition = {
  name: 'authentication-managed-identity',
  summary: 'Bearer token for the backend from a locally issued managed identity token (HS256, cached until expiry).',
  support: 'approximate',
  settings: [MANAGED_IDENTITY_SETTING],
  // The docs list inbound only, but a deployed AI-Gateway lab (mcp-client-authorization) uses it in outbound with
  // output-token-variable-name, so every section is accepted.
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  scopes: ['global', 'product', 'api', 'operation'],
  attributes: [
    { name: 'resource', required: true, expressions: true },
    { name: 'client-id', expressions: false },
    { name: 'output-token-variable-name', expressions: false },
    { name: 'ignore-error', expressions: false, kind: 'bool', default: 'false' },
  ],
  compile(el, cx) {
    const tokens = managedIdentityTokens(cx.services);
    if (!tokens.ok) {
      cx.diagnostics.error(el.source, el.start, 'settings/managed-identity', tokens.message, 'see docs/policies-ai.md for settings.managedIdentity');
      return () => 'continue';
    }
    const source = tokens.value;
    const resource = cx.string(el, 'resource')!;
    const clientId = cx.attributeSpan(el, 'client-id')?.text.trim() || null;
    const variable = attributeText(el, 'output-token-variable-name');
    const ignoreError = cx.bool(el, 'ignore-error') ?? (() => false);
    return (ctx) => {
      const r = resource(ctx);
      let token: string;
      try {
        token = source.acquire(r, clientId).token;
      } catch (e) {
        if (!(e instanceof ManagedIdentityError)) throw e;
        if (ignoreError(ctx)) {
          if (ctx.tracing)
            ctx.trace({ kind: 'info', policy: 'authentication-managed-identity', message: `no token for ${r} (${e.message}); ignore-error continues` });
          return 'continue';
        }
        throw new PolicyError(
          'authentication-managed-identity',
          MANAGED_IDENTITY_FAILURE_REASON,
          e.message,
          gatewayErrorResponse(500, 'Internal server error'),
        );
      }
      if (variable !== undefined) ctx.variables.set(variable, token);
      else ctx.request.headers.set('Authorization', [`Bearer ${token}`]);
      if (ctx.tracing)
        ctx.trace({
          kind: 'info',
          policy: 'authentication-managed-identity',
          message: `token for ${r}${variable !== undefined ? ` stored in variable ${variable}` : ' set as Authorization header'}`,
        });
      return 'continue';
    };
  },
};

/**
 * send-request's `<authentication-managed-identity>` child: same token source and failure handling as the policy;
 * the token goes to the extra request's Authorization header, or to output-token-variable-name when given.
 */
export function compileManagedIdentityChild(el: XmlElement, cx: CompileContext): (ctx: GatewayContext, resource: string, headers: HeaderMap) => void {
  const tokens = managedIdentityTokens(cx.services);
  if (!tokens.ok) {
    cx.diagnostics.error(el.source, el.start, 'settings/managed-identity', tokens.message, 'see docs/policies-ai.md for settings.managedIdentity');
    return () => undefined;
  }
  const source = tokens.value;
  const clientId = cx.attributeSpan(el, 'client-id')?.text.trim() || null;
  const variable = attributeText(el, 'output-token-variable-name');
  const ignoreError = cx.bool(el, 'ignore-error') ?? (() => false);
  return (ctx, resource, headers) => {
    try {
      const { token } = source.acquire(resource, clientId);
      if (variable !== undefined) ctx.variables.set(variable, token);
      else headers.set('Authorization', [`Bearer ${token}`]);
    } catch (e) {
      if (!(e instanceof ManagedIdentityError)) throw e;
      if (ignoreError(ctx)) return;
      throw new PolicyError('send-request', MANAGED_IDENTITY_FAILURE_REASON, e.message, gatewayErrorResponse(500, 'Internal server error'));
    }
  };
}

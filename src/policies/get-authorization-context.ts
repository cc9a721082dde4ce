import type { PolicyDefinition } from '../engine/policy-sdk.js';
import { PolicyError, gatewayErrorResponse } from '../engine/policy-sdk.js';
import { AUTHORIZATION_CONNECTIONS_SETTING, MANAGED_IDENTITY_SETTING, settingsObject } from './support/identity-settings.js';
import { decodeJwt } from './support/jwt.js';
import { ManagedIdentityError, managedIdentityTokens } from './support/managed-identity.js';

/**
 * APIM's `Authorization` object (credential manager): `AccessToken` and `Claims` (the token response's members,
 * RFC 6749 §5.1). What `(Authorization)context.Variables["x"]` casts to in expressions.
 */
export class AuthorizationContext {
  /** How the expression library recognises the object (its `Authorization` type tests `kind`). */
  readonly kind = 'authorization';
  constructor(
    readonly accessToken: string,
    readonly claims: ReadonlyMap<string, unknown>,
  ) {}
}

/** LastError.Reason when the connection cannot be used; APIM documents none (SILENT), see docs/policies-ai.md. */
export const AUTHORIZATION_CONTEXT_FAILURE_REASON = 'AuthorizationContextNotFound';

interface Connection {
  accessToken: string;
  claims: Record<string, unknown>;
}

/**
 * `<get-authorization-context provider-id authorization-id context-variable-name identity-type identity ignore-error>`,
 * offline. Connections come from `settings.authorizationConnections` (`"<provider-id>/<authorization-id>"` →
 * `{ accessToken, claims? }`); an unknown connection fails (500, or null with ignore-error). Without that setting any
 * connection works: its token is issued by the emulator's managed identity source for audience `<provider-id>`.
 */
export const getAuthorizationContext: PolicyDefinition = {
  name: 'get-authorization-context',
  summary: 'Credential manager token for a connection, from settings or issued locally.',
  support: 'approximate',
  settings: [AUTHORIZATION_CONNECTIONS_SETTING, MANAGED_IDENTITY_SETTING],
  sections: ['inbound'],
  scopes: ['global', 'product', 'api', 'operation'],
  attributes: [
    { name: 'provider-id', required: true, expressions: true },
    { name: 'authorization-id', required: true, expressions: true },
    { name: 'context-variable-name', required: true, expressions: true },
    { name: 'identity-type', expressions: true, kind: 'enum', values: ['managed', 'jwt'], default: 'managed' },
    { name: 'identity', expressions: true },
    { name: 'ignore-error', expressions: true, kind: 'bool', default: 'false' },
  ],
  compile(el, cx) {
    const provider = cx.string(el, 'provider-id')!;
    const authorization = cx.string(el, 'authorization-id')!;
    const variable = cx.string(el, 'context-variable-name')!;
    const identityType = cx.string(el, 'identity-type') ?? (() => 'managed');
    const identity = cx.string(el, 'identity');
    const ignoreError = cx.bool(el, 'ignore-error') ?? (() => false);

    const configured = settingsObject(cx.services, AUTHORIZATION_CONNECTIONS_SETTING);
    const connections = new Map<string, Connection>();
    let fixedOnly = false;
    if (!configured.ok) cx.diagnostics.error(el.source, el.start, 'settings/authorization-connections', configured.message);
    else if (configured.value) {
      fixedOnly = true;
      for (const [key, v] of Object.entries(configured.value)) {
        const c = v as { accessToken?: unknown; claims?: unknown } | null;
        if (
          typeof c !== 'object' ||
          c === null ||
          typeof c.accessToken !== 'string' ||
          (c.claims !== undefined && (typeof c.claims !== 'object' || c.claims === null))
        ) {
          cx.diagnostics.error(
            el.source,
            el.start,
            'settings/authorization-connections',
            `settings.authorizationConnections["${key}"] must be { "accessToken": "<token>", "claims"?: {...} }`,
          );
          continue;
        }
        connections.set(key, { accessToken: c.accessToken, claims: (c.claims ?? {}) as Record<string, unknown> });
      }
    }
    const tokens = managedIdentityTokens(cx.services);
    if (!tokens.ok) cx.diagnostics.error(el.source, el.start, 'settings/managed-identity', tokens.message);

    return (ctx) => {
      const name = variable(ctx);
      const p = provider(ctx);
      const a = authorization(ctx);
      const failed = (message: string): 'continue' => {
        if (ignoreError(ctx)) {
          ctx.variables.set(name, null);
          if (ctx.tracing) ctx.trace({ kind: 'info', policy: 'get-authorization-context', message: `${message}; ignore-error stores null` });
          return 'continue';
        }
        throw new PolicyError('get-authorization-context', AUTHORIZATION_CONTEXT_FAILURE_REASON, message, gatewayErrorResponse(500, 'Internal server error'));
      };
      if (identityType(ctx).trim().toLowerCase() === 'jwt') {
        const id = identity?.(ctx).trim() ?? '';
        if (!id) return failed('identity-type is jwt but the identity attribute gives no token.');
        try {
          decodeJwt(id);
        } catch {
          return failed('The identity token is not a well-formed JWT.');
        }
      }
      let conn: Connection | undefined;
      if (fixedOnly) conn = connections.get(`${p}/${a}`);
      else if (tokens.ok) {
        try {
          const t = tokens.value.acquireConnection(p, a);
          conn = { accessToken: t.token, claims: { token_type: 'Bearer', expires_in: Math.max(0, Math.floor((t.expiresAt - ctx.clock.now()) / 1000)) } };
        } catch (e) {
          if (!(e instanceof ManagedIdentityError)) throw e;
          return failed(e.message);
        }
      }
      if (!conn) return failed(`Connection '${a}' of credential provider '${p}' was not found (settings.authorizationConnections).`);
      const claims = new Map<string, unknown>(Object.entries({ access_token: conn.accessToken, ...conn.claims }));
      ctx.variables.set(name, new AuthorizationContext(conn.accessToken, claims));
      return 'continue';
    };
  },
};

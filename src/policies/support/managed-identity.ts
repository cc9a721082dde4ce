import { randomUUID } from 'node:crypto';
import type { RuntimeServices } from '../../engine/policy-sdk.js';
import { MANAGED_IDENTITY_SETTING, settingsObject } from './identity-settings.js';
import type { SettingResult } from './identity-settings.js';
import { peekPayload, signHs256 } from './jwt.js';

/**
 * The emulator's managed identity: instead of asking Microsoft Entra ID, it issues HS256 tokens itself, signed with a
 * local secret, for the requested resource (audience). One source per gateway, shared by
 * `<authentication-managed-identity>`, send-request's `<authentication-managed-identity>` child and
 * `<get-authorization-context>`; tokens are cached until they expire, as APIM does (docs/apim-behaviour.md: LLM policies).
 *
 * Settings (`settings.managedIdentity`, all optional):
 *   secret                  HS256 key (UTF-8 text). Default DEFAULT_MANAGED_IDENTITY_SECRET, documented, not a secret.
 *   lifetimeSeconds         token lifetime, default 86400 (managed identity tokens live about 24 hours).
 *   tenantId, principalId   `tid` / `oid`+`sub` claims; clientId: `appid` of the system-assigned identity.
 *   userAssignedClientIds   client ids of user-assigned identities; when given, any other client-id fails.
 *   tokens                  { resource: token } fixed tokens handed out as they are (no signing).
 *   unavailableResources    resources whose token acquisition fails (to exercise ignore-error and on-error).
 */

export const DEFAULT_MANAGED_IDENTITY_SECRET = 'apim-emulator-managed-identity-secret';
export const DEFAULT_TENANT_ID = '00000000-0000-0000-0000-000000000000';
const DEFAULT_PRINCIPAL_ID = '11111111-1111-1111-1111-111111111111';
const DEFAULT_SYSTEM_CLIENT_ID = '22222222-2222-2222-2222-222222222222';
const DEFAULT_LIFETIME_S = 86_400;

/** Thrown when no token can be obtained; policies turn it into LastError (or ignore it with ignore-error). */
export class ManagedIdentityError extends Error {}

export interface IssuedToken {
  token: string;
  /** Clock time (epoch ms) when the token expires; Infinity for fixed tokens without `exp`. */
  expiresAt: number;
}

interface Options {
  secret: Buffer;
  lifetimeMs: number;
  tenantId: string;
  principalId: string;
  systemClientId: string;
  userAssigned: Set<string> | null;
  fixed: Map<string, string>;
  unavailable: Set<string>;
}

export class ManagedIdentityTokenSource {
  private readonly cache = new Map<string, IssuedToken>();
  /** How many tokens were issued (cache misses), for tests and traces. */
  issued = 0;

  constructor(
    private readonly services: RuntimeServices,
    private readonly o: Options,
  ) {}

  /** The secret the tokens are signed with, so validate-jwt can be configured to accept them. */
  get secret(): Buffer {
    return this.o.secret;
  }

  get tenantId(): string {
    return this.o.tenantId;
  }

  /** A token for `resource` (the audience) as the system-assigned identity, or the user-assigned one with `clientId`. */
  acquire(resource: string, clientId?: string | null): IssuedToken {
    if (clientId && this.o.userAssigned && !this.o.userAssigned.has(clientId)) {
      throw new ManagedIdentityError(`No user-assigned managed identity with client id '${clientId}' is assigned to the API Management instance.`);
    }
    return this.issue(resource, clientId ?? null, `${clientId ?? ''}\n${resource}`);
  }

  /** A credential-manager token for a connection (get-authorization-context): audience = provider, subject = connection. */
  acquireConnection(providerId: string, authorizationId: string): IssuedToken {
    return this.issue(providerId, null, `connection\n${providerId}\n${authorizationId}`, authorizationId);
  }

  private issue(resource: string, clientId: string | null, key: string, subject?: string): IssuedToken {
    const now = this.services.clock.now();
    const cached = this.cache.get(key);
    if (cached && now < cached.expiresAt) return cached;
    if (!resource.trim()) throw new ManagedIdentityError('Managed identity token request failed: the resource is empty.');
    if (this.o.unavailable.has(resource))
      throw new ManagedIdentityError(`Managed identity token request for resource '${resource}' failed (settings.managedIdentity.unavailableResources).`);
    let issued: IssuedToken;
    const fixed = this.o.fixed.get(resource);
    if (fixed !== undefined) {
      const exp = peekPayload(fixed)?.exp;
      issued = { token: fixed, expiresAt: typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : Number.POSITIVE_INFINITY };
    } else {
      const iat = Math.floor(now / 1000);
      const exp = Math.floor((now + this.o.lifetimeMs) / 1000);
      const token = signHs256(
        {
          aud: resource,
          iss: `https://sts.windows.net/${this.o.tenantId}/`,
          iat,
          nbf: iat,
          exp,
          appid: clientId || this.o.systemClientId,
          appidacr: '2',
          idp: `https://sts.windows.net/${this.o.tenantId}/`,
          idtyp: 'app',
          oid: this.o.principalId,
          sub: subject ?? this.o.principalId,
          tid: this.o.tenantId,
          uti: randomUUID(),
          ver: '1.0',
        },
        this.o.secret,
        { kid: 'apim-emulator' },
      );
      issued = { token, expiresAt: exp * 1000 };
    }
    this.issued++;
    this.cache.set(key, issued);
    return issued;
  }
}

/**
 * The gateway's token source (created on first use from `settings.managedIdentity`). Returns a message naming the bad
 * setting when the settings are malformed, so the calling policy can report it at load time.
 */
export function managedIdentityTokens(services: RuntimeServices): SettingResult<ManagedIdentityTokenSource> {
  const built = services.store<SettingResult<ManagedIdentityTokenSource>>('identity:managed-identity', () => {
    const o = readOptions(services);
    return o.ok ? { ok: true, value: new ManagedIdentityTokenSource(services, o.value) } : o;
  });
  return built;
}

function readOptions(services: RuntimeServices): SettingResult<Options> {
  const s = settingsObject(services, MANAGED_IDENTITY_SETTING);
  if (!s.ok) return s;
  const m = s.value ?? {};
  const known = ['secret', 'lifetimeSeconds', 'tenantId', 'principalId', 'clientId', 'userAssignedClientIds', 'tokens', 'unavailableResources'];
  for (const k of Object.keys(m))
    if (!known.includes(k)) return { ok: false, message: `settings.managedIdentity.${k} is not a known setting (known: ${known.join(', ')})` };
  const text = (k: string, d: string): SettingResult<string> => {
    const v = m[k];
    if (v === undefined) return { ok: true, value: d };
    return typeof v === 'string' && v !== '' ? { ok: true, value: v } : { ok: false, message: `settings.managedIdentity.${k} must be a non-empty string` };
  };
  const list = (k: string): SettingResult<string[] | null> => {
    const v = m[k];
    if (v === undefined) return { ok: true, value: null };
    return Array.isArray(v) && v.every((x) => typeof x === 'string')
      ? { ok: true, value: v as string[] }
      : { ok: false, message: `settings.managedIdentity.${k} must be an array of strings` };
  };
  const secret = text('secret', DEFAULT_MANAGED_IDENTITY_SECRET);
  const tenantId = text('tenantId', DEFAULT_TENANT_ID);
  const principalId = text('principalId', DEFAULT_PRINCIPAL_ID);
  const clientId = text('clientId', DEFAULT_SYSTEM_CLIENT_ID);
  const users = list('userAssignedClientIds');
  const unavailable = list('unavailableResources');
  for (const r of [secret, tenantId, principalId, clientId, users, unavailable]) if (!r.ok) return r;
  const lifetime = m.lifetimeSeconds ?? DEFAULT_LIFETIME_S;
  if (typeof lifetime !== 'number' || !Number.isFinite(lifetime) || lifetime <= 0)
    return { ok: false, message: 'settings.managedIdentity.lifetimeSeconds must be a positive number of seconds' };
  const fixed = new Map<string, string>();
  if (m.tokens !== undefined) {
    if (typeof m.tokens !== 'object' || m.tokens === null || Array.isArray(m.tokens))
      return { ok: false, message: 'settings.managedIdentity.tokens must be an object of resource → token' };
    for (const [r, t] of Object.entries(m.tokens)) {
      if (typeof t !== 'string' || !t) return { ok: false, message: `settings.managedIdentity.tokens["${r}"] must be a non-empty string` };
      fixed.set(r, t);
    }
  }
  return {
    ok: true,
    value: {
      secret: Buffer.from((secret as { value: string }).value, 'utf8'),
      lifetimeMs: lifetime * 1000,
      tenantId: (tenantId as { value: string }).value,
      principalId: (principalId as { value: string }).value,
      systemClientId: (clientId as { value: string }).value,
      userAssigned: (users as { value: string[] | null }).value ? new Set((users as { value: string[] }).value) : null,
      fixed,
      unavailable: new Set((unavailable as { value: string[] | null }).value ?? []),
    },
  };
}

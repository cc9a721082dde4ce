/**
 * APIM's string extension methods for credentials (policy expression helpers, docs/apim-behaviour.md: Helper methods and .NET types).
 *
 * Provides: `string.AsJwt()` → Jwt | null (asJwt), `string.TryParseJwt(out Jwt)` (tryParseJwt), Jwt {Id, Algorithm,
 * Issuer, Subject, Type, Audiences, Claims, ExpirationTime, NotBefore, IssuedAt}, Jwt.Claims.GetValueOrDefault(name[,
 * default]) (comma-joined), `string.AsBasic()` → BasicAuthCredentials {UserId, Password} | null (asBasic),
 * `string.TryParseBasic(out …)` (tryParseBasic). No signature validation here (validate-jwt is a policy).
 */
import { DateTime, TICKS_PER_SECOND } from './datetime.js';

/** Jwt.Claims: claim name → values, with APIM's CSV-joining GetValueOrDefault. */
export class JwtClaims implements Iterable<[string, string[]]> {
  constructor(private readonly map: ReadonlyMap<string, string[]>) {}

  get Count(): number {
    return this.map.size;
  }
  get Keys(): string[] {
    return [...this.map.keys()];
  }
  ContainsKey(name: string): boolean {
    return this.map.has(name);
  }
  /** Claims[name]; a missing claim is KeyNotFoundException in .NET, null here is for TryGetValue-style callers. */
  get(name: string): string[] | undefined {
    return this.map.get(name);
  }
  TryGetValue(name: string): { ok: boolean; value: string[] | null } {
    const v = this.map.get(name);
    return v ? { ok: true, value: v } : { ok: false, value: null };
  }
  /** The Map-like surface the expression library's string→string[] dictionary binding reads. */
  get size(): number {
    return this.map.size;
  }
  has(name: string): boolean {
    return this.map.has(name);
  }
  entries(): IterableIterator<[string, string[]]> {
    return this.map.entries();
  }
  /** GetValueOrDefault(name[, default]): the values joined with ",". */
  GetValueOrDefault(name: string, defaultValue: string | null = null): string | null {
    const v = this.map.get(name);
    return v ? v.join(',') : defaultValue;
  }
  [Symbol.iterator](): Iterator<[string, string[]]> {
    return this.map[Symbol.iterator]();
  }
}

/** APIM's Jwt: the standard claims of a decoded token (no signature validation) and all its claims. */
export class Jwt {
  readonly Id: string | null;
  readonly Algorithm: string | null;
  readonly Issuer: string | null;
  readonly Subject: string | null;
  readonly Type: string | null;
  readonly Audiences: string[];
  readonly Claims: JwtClaims;
  readonly ExpirationTime: DateTime | null;
  readonly NotBefore: DateTime | null;
  readonly IssuedAt: DateTime | null;

  /** From a token's decoded header and payload (asJwt, and validate-jwt's output-token-variable-name). */
  constructor(header: Record<string, unknown>, payload: Record<string, unknown>) {
    const claims = new Map<string, string[]>();
    for (const [k, v] of Object.entries(payload)) claims.set(k, claimValues(v));
    const str = (v: unknown) => (v === undefined || v === null ? null : claimText(v));
    this.Id = str(payload.jti);
    this.Algorithm = str(header.alg);
    this.Issuer = str(payload.iss);
    this.Subject = str(payload.sub);
    this.Type = str(header.typ);
    this.Audiences = payload.aud === undefined ? [] : claimValues(payload.aud);
    this.Claims = new JwtClaims(claims);
    this.ExpirationTime = epochToDateTime(payload.exp);
    this.NotBefore = epochToDateTime(payload.nbf);
    this.IssuedAt = epochToDateTime(payload.iat);
  }
}

function base64UrlDecode(s: string): Buffer | null {
  if (!/^[A-Za-z0-9_\-]*={0,2}$/.test(s) || s.length % 4 === 1) return null;
  return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

function parseJsonObject(segment: string): Record<string, unknown> | null {
  const bytes = base64UrlDecode(segment);
  if (!bytes) return null;
  try {
    const v: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** A claim value as text: strings as-is, other JSON values in their JSON form. */
function claimText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function claimValues(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(claimText);
  return [claimText(v)];
}

function epochToDateTime(v: unknown): DateTime | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+(\.\d+)?$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n)) return null;
  try {
    return DateTime.UnixEpoch.AddTicks(BigInt(Math.trunc(n)) * TICKS_PER_SECOND);
  } catch {
    return null;
  }
}

/** `value.AsJwt()`: a compact JWS (header.payload.signature, the signature may be empty) or null. */
export function asJwt(value: string | null): Jwt | null {
  if (value === null) return null;
  // An Authorization header value "Bearer <token>" parses as its token: Microsoft's own throttling sample keys
  // limits on Headers.GetValueOrDefault("Authorization","").AsJwt()?.Subject (docs/expressions.md).
  const token = value.trim().replace(/^bearer\s+/i, '');
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const header = parseJsonObject(parts[0]!);
  const payload = parseJsonObject(parts[1]!);
  if (!header || !payload) return null;
  if (parts[2] !== '' && !base64UrlDecode(parts[2]!)) return null;
  return new Jwt(header, payload);
}

/** `value.TryParseJwt(out jwt)`. */
export function tryParseJwt(value: string | null): { ok: boolean; value: Jwt | null } {
  const j = asJwt(value);
  return { ok: j !== null, value: j };
}

export class BasicAuthCredentials {
  constructor(
    readonly UserId: string,
    readonly Password: string,
  ) {}
}

/** `value.AsBasic()`: an Authorization header value `Basic base64(user:password)` or null. */
export function asBasic(value: string | null): BasicAuthCredentials | null {
  if (value === null) return null;
  const m = /^\s*Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(value);
  if (!m || m[1]!.length % 4 !== 0) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return new BasicAuthCredentials(decoded.slice(0, colon), decoded.slice(colon + 1));
}

export function tryParseBasic(value: string | null): { ok: boolean; value: BasicAuthCredentials | null } {
  const b = asBasic(value);
  return { ok: b !== null, value: b };
}

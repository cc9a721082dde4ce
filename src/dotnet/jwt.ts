/**
 * APIM's string extension methods for credentials (policy expression helpers, reference §5.3).
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
  /** GetValueOrDefault(name[, default]): the values joined with ",". */
  GetValueOrDefault(name: string, defaultValue: string | null = null): string | null {
    const v = this.map.get(name);
    return v ? v.join(',') : defaultValue;
  }
  [Symbol.iterator](): Iterator<[string, string[]]> {
    return this.map[Symbol.iterator]();
  }
}

export interface Jwt {
  Id: string | null;
  Algorithm: string | null;
  Issuer: string | null;
  Subject: string | null;
  Type: string | null;
  Audiences: string[];
  Claims: JwtClaims;
  ExpirationTime: DateTime | null;
  NotBefore: DateTime | null;
  IssuedAt: DateTime | null;
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
  const parts = value.trim().split('.');
  if (parts.length !== 3) return null;
  const header = parseJsonObject(parts[0]!);
  const payload = parseJsonObject(parts[1]!);
  if (!header || !payload) return null;
  if (parts[2] !== '' && !base64UrlDecode(parts[2]!)) return null;
  const claims = new Map<string, string[]>();
  for (const [k, v] of Object.entries(payload)) claims.set(k, claimValues(v));
  const str = (v: unknown) => (v === undefined || v === null ? null : claimText(v));
  return {
    Id: str(payload.jti),
    Algorithm: str(header.alg),
    Issuer: str(payload.iss),
    Subject: str(payload.sub),
    Type: str(header.typ),
    Audiences: payload.aud === undefined ? [] : claimValues(payload.aud),
    Claims: new JwtClaims(claims),
    ExpirationTime: epochToDateTime(payload.exp),
    NotBefore: epochToDateTime(payload.nbf),
    IssuedAt: epochToDateTime(payload.iat),
  };
}

/** `value.TryParseJwt(out jwt)`. */
export function tryParseJwt(value: string | null): { ok: boolean; value: Jwt | null } {
  const j = asJwt(value);
  return { ok: j !== null, value: j };
}

export interface BasicAuthCredentials {
  UserId: string;
  Password: string;
}

/** `value.AsBasic()`: an Authorization header value `Basic base64(user:password)` or null. */
export function asBasic(value: string | null): BasicAuthCredentials | null {
  if (value === null) return null;
  const m = /^\s*Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(value);
  if (!m || m[1]!.length % 4 !== 0) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { UserId: decoded.slice(0, colon), Password: decoded.slice(colon + 1) };
}

export function tryParseBasic(value: string | null): { ok: boolean; value: BasicAuthCredentials | null } {
  const b = asBasic(value);
  return { ok: b !== null, value: b };
}

import { createHash } from 'node:crypto';

/**
 * Session affinity tokens and cookies for pools with `sessionAffinity.sessionId` (docs/apim-behaviour.md: Pools, breakers and backend URLs). APIM documents only
 * that it "sets a session ID cookie" the client must echo; the value format and cookie attributes are SILENT. Ours:
 *
 * - value = 11-character tag + session number (base36). The tag is the first 64 bits of
 *   SHA-256(pool, member position, member id, session number), base64url. So a value is opaque to the client, unique per
 *   session, and maps to its member without server-side state: it keeps working across reset() and restarts, and a
 *   value issued by another pool (or edited by hand) maps to no member.
 * - `Set-Cookie: <name>=<value>; Path=/; HttpOnly` (no Expires: a browser-session cookie; no Secure: the emulator
 *   serves plain HTTP).
 */

const TAG_LENGTH = 11;
const NONCE = /^[0-9a-z]{1,13}$/;

export function sessionTag(poolId: string, index: number, memberId: string, nonce: string): string {
  return createHash('sha256').update(`${poolId}\0${index}\0${memberId}\0${nonce}`).digest().subarray(0, 8).toString('base64url');
}

export function encodeSession(poolId: string, index: number, memberId: string, seq: number): string {
  const nonce = seq.toString(36);
  return sessionTag(poolId, index, memberId, nonce) + nonce;
}

/** The member position a session value was issued for, or undefined when no member of this pool issued it. */
export function decodeSession(poolId: string, memberIds: readonly string[], value: string): number | undefined {
  if (value.length <= TAG_LENGTH) return undefined;
  const tag = value.slice(0, TAG_LENGTH);
  const nonce = value.slice(TAG_LENGTH);
  if (!NONCE.test(nonce)) return undefined;
  for (let i = 0; i < memberIds.length; i++) if (sessionTag(poolId, i, memberIds[i]!, nonce) === tag) return i;
  return undefined;
}

export function setCookieValue(name: string, value: string): string {
  return `${name}=${value}; Path=/; HttpOnly`;
}

/**
 * The value of cookie `name` in the request's Cookie header lines (RFC 6265 §5.4: `a=1; b=2`), first occurrence,
 * surrounding double quotes removed. Names are case-sensitive. Pieces without `=` (such as `HttpOnly`, when a policy
 * copied a whole Set-Cookie value into Cookie) are skipped.
 */
export function requestCookie(lines: readonly string[] | undefined, name: string): string | undefined {
  if (!lines) return undefined;
  for (const line of lines) {
    if (!line.includes(name)) continue;
    for (const piece of line.split(';')) {
      const eq = piece.indexOf('=');
      if (eq < 0 || piece.slice(0, eq).trim() !== name) continue;
      let v = piece.slice(eq + 1).trim();
      if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
      return v;
    }
  }
  return undefined;
}

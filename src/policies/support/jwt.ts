import { createHmac, createPublicKey, timingSafeEqual, verify as cryptoVerify, constants as cryptoConstants, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { Jwt } from '../../dotnet/jwt.js';

/**
 * JSON Web Tokens for the identity policies: decoding into APIM's `Jwt` object (docs/apim-behaviour.md: Helper methods and .NET types), HS256 signing of the
 * emulator's own tokens (managed identity, credential manager) and signature verification with node:crypto.
 */

/** A compact JWS split into its parts, with header and payload decoded. */
export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** `base64url(header).base64url(payload)`: the signed bytes. */
  signingInput: string;
  signature: Buffer;
  raw: string;
}

export class JwtFormatError extends Error {}

/** Decodes a compact JWS (three base64url parts). Throws JwtFormatError for anything else (JWE, garbage). */
export function decodeJwt(token: string): DecodedJwt {
  const raw = token.trim();
  const parts = raw.split('.');
  if (parts.length === 5) throw new JwtFormatError('The token is an encrypted JWT (JWE): it is read only by the policies with <decryption-keys>.');
  if (parts.length !== 3) throw new JwtFormatError("JWT is not well formed: it must have three parts separated by '.'.");
  const [h, p, s] = parts as [string, string, string];
  const header = decodeJsonPart(h, 'header');
  const payload = decodeJsonPart(p, 'payload');
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new JwtFormatError('JWT is not well formed: the signature is not base64url.');
  return { header, payload, signingInput: `${h}.${p}`, signature: Buffer.from(s, 'base64url'), raw };
}

function decodeJsonPart(part: string, what: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_-]+$/.test(part)) throw new JwtFormatError(`JWT is not well formed: the ${what} is not base64url.`);
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new JwtFormatError(`JWT is not well formed: the ${what} is not JSON.`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new JwtFormatError(`JWT is not well formed: the ${what} is not a JSON object.`);
  return v as Record<string, unknown>;
}

/** The payload of a well-formed JWS, or null (no validation): used to read `exp` of fixed tokens. */
export function peekPayload(token: string | null | undefined): Record<string, unknown> | null {
  if (!token) return null;
  try {
    return decodeJwt(token).payload;
  } catch (e) {
    if (e instanceof JwtFormatError) return null;
    throw e;
  }
}

/** APIM's `Jwt` object for a decoded token: the one `AsJwt()` returns, so `(Jwt)context.Variables[...]` works. */
export function toJwt(d: DecodedJwt): Jwt {
  return new Jwt(d.header, d.payload);
}

/** A claim value as strings, the way .NET's JwtSecurityToken exposes claims. */
export function claimStrings(v: unknown): string[] {
  if (v === null || v === undefined) return [];
  if (Array.isArray(v)) return v.flatMap((x) => (Array.isArray(x) ? [JSON.stringify(x)] : claimStrings(x)));
  if (typeof v === 'string') return [v];
  if (typeof v === 'number' || typeof v === 'boolean') return [String(v)];
  return [JSON.stringify(v)];
}

/** Signs claims as an HS256 JWS (the emulator's locally issued tokens). */
export function signHs256(payload: Record<string, unknown>, secret: Buffer | string, extraHeader: Record<string, unknown> = {}): string {
  const header = { alg: 'HS256', typ: 'JWT', ...extraHeader };
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const sig = createHmac('sha256', secret).update(input).digest('base64url');
  return `${input}.${sig}`;
}

/** A key that can verify signatures: a shared secret (HS*) or a public key (RS*, PS*, ES*). */
export type VerificationKey =
  { kind: 'symmetric'; id: string | null; secret: Buffer; origin: string } | { kind: 'public'; id: string | null; key: KeyObject; origin: string };

const HMAC: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };
const RSA: Record<string, string> = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512' };
const PSS: Record<string, string> = { PS256: 'sha256', PS384: 'sha384', PS512: 'sha512' };
const ECDSA: Record<string, string> = { ES256: 'sha256', ES384: 'sha384', ES512: 'sha512' };

export const SUPPORTED_ALGORITHMS = [...Object.keys(HMAC), ...Object.keys(RSA), ...Object.keys(PSS), ...Object.keys(ECDSA)];

/** True when `key` verifies the token's signature with the token's `alg`; false for a wrong key or key type. */
export function verifySignature(d: DecodedJwt, key: VerificationKey): boolean {
  const alg = typeof d.header.alg === 'string' ? d.header.alg : '';
  const data = Buffer.from(d.signingInput);
  const hmac = HMAC[alg];
  if (hmac) {
    if (key.kind !== 'symmetric') return false;
    const expected = createHmac(hmac, key.secret).update(data).digest();
    return expected.length === d.signature.length && timingSafeEqual(expected, d.signature);
  }
  if (key.kind !== 'public') return false;
  try {
    const rsa = RSA[alg];
    if (rsa) return key.key.asymmetricKeyType === 'rsa' && cryptoVerify(rsa, data, key.key, d.signature);
    const pss = PSS[alg];
    if (pss) {
      return (
        (key.key.asymmetricKeyType === 'rsa' || key.key.asymmetricKeyType === 'rsa-pss') &&
        cryptoVerify(
          pss,
          data,
          { key: key.key, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: cryptoConstants.RSA_PSS_SALTLEN_DIGEST },
          d.signature,
        )
      );
    }
    const ec = ECDSA[alg];
    if (ec) return key.key.asymmetricKeyType === 'ec' && cryptoVerify(ec, data, { key: key.key, dsaEncoding: 'ieee-p1363' }, d.signature);
  } catch {
    return false;
  }
  return false;
}

/** A public key from a JWK (RSA `n`/`e`, EC `crv`/`x`/`y`) or a symmetric key from `k`; null for unusable entries. */
export function keyFromJwk(jwk: Record<string, unknown>, origin: string): VerificationKey | null {
  const id = typeof jwk.kid === 'string' ? jwk.kid : null;
  if (jwk.use !== undefined && jwk.use !== 'sig') return null;
  if (jwk.kty === 'oct' && typeof jwk.k === 'string') return { kind: 'symmetric', id, secret: Buffer.from(jwk.k, 'base64url'), origin };
  if (jwk.kty === 'RSA' || jwk.kty === 'EC') {
    try {
      // Only the public members: node rejects private JWKs given to createPublicKey with extra members in some versions.
      const pub: Record<string, unknown> = jwk.kty === 'RSA' ? { kty: 'RSA', n: jwk.n, e: jwk.e } : { kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y };
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- node's JsonWebKey type is structurally what we pass
      return { kind: 'public', id, key: createPublicKey({ key: pub as any, format: 'jwk' }), origin };
    } catch {
      return null;
    }
  }
  return null;
}

/** RSA public key from base64url modulus and exponent (`<key n="..." e="..."/>`). Throws when they are not a valid key. */
export function rsaKey(n: string, e: string, id: string | null, origin: string): VerificationKey {
  return { kind: 'public', id, key: createPublicKey({ key: { kty: 'RSA', n: n.trim(), e: e.trim() }, format: 'jwk' }), origin };
}

/** A public key from PEM text (a certificate or an SPKI public key). Throws when the text is not one. */
export function pemKey(pem: string, id: string | null, origin: string): VerificationKey {
  const key = pem.includes('BEGIN CERTIFICATE') ? new X509Certificate(pem).publicKey : createPublicKey(pem);
  return { kind: 'public', id, key, origin };
}

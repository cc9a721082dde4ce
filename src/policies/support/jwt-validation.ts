import { createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { CompileContext, ElementSpec, GatewayContext, RuntimeServices, ValueGetter, XmlElement } from '../../engine/policy-sdk.js';
import { PolicyError, attributeText, childElements, gatewayErrorResponse, lazyLibrary } from '../../engine/policy-sdk.js';
import { CERTIFICATES_SETTING, jsonDocument, OPENID_CONFIGS_SETTING, settingsObject, textDocument } from './identity-settings.js';
import { claimStrings, decodeJwt, JwtFormatError, keyFromJwk, pemKey, rsaKey, SUPPORTED_ALGORITHMS, toJwt, verifySignature } from './jwt.js';
import type { DecodedJwt, VerificationKey } from './jwt.js';

/**
 * Token validation shared by validate-jwt and validate-azure-ad-token, in the order Microsoft.IdentityModel checks
 * (signature, lifetime, audience, issuer) followed by APIM's required-claims check, with APIM's LastError reasons
 * (docs/apim-behaviour.md: Errors and LastError reasons). All time comes from the context's clock.
 */

export const REQUIRED_CLAIMS_ELEMENT: ElementSpec = {
  name: 'required-claims',
  max: 1,
  elements: [
    {
      name: 'claim',
      min: 1,
      attributes: [
        { name: 'name', required: true, expressions: true },
        { name: 'match', expressions: true, kind: 'enum', values: ['all', 'any'], default: 'all' },
        { name: 'separator', expressions: true },
      ],
      elements: [{ name: 'value', text: { expressions: true, required: true } }],
    },
  ],
};

export const AUDIENCES_ELEMENT: ElementSpec = {
  name: 'audiences',
  max: 1,
  elements: [{ name: 'audience', min: 1, text: { expressions: true, required: true } }],
};

export const TOKEN_ATTRIBUTES = [
  { name: 'header-name', expressions: true },
  { name: 'query-parameter-name', expressions: true },
  { name: 'token-value', expressions: true },
  { name: 'failed-validation-httpcode', expressions: true, kind: 'int', min: 100, max: 599, default: '401' },
  { name: 'failed-validation-error-message', expressions: true },
  { name: 'output-token-variable-name', expressions: false },
] as const;

/** A failed check: LastError.Reason and LastError.Message (the client gets failed-validation-error-message or a default). */
export interface Failure {
  reason: string;
  message: string;
}

interface RequiredClaim {
  name: ValueGetter<string>;
  match: ValueGetter<string>;
  separator: ValueGetter<string> | undefined;
  values: Array<ValueGetter<string>>;
}

/** Issuers a key set vouches for; `{tenantid}` in an issuer is matched against the token's `tid` (multi-tenant Entra configs). */
export interface KeySet {
  keys: VerificationKey[];
  issuers: string[];
  /** Why there are no keys (an openid-config URL not mapped to a local file), reported at run time. */
  problem?: string;
}

export interface ValidationPlan {
  policy: string;
  extract: (ctx: GatewayContext) => string | null;
  failedCode: ValueGetter<number>;
  failedMessage: ValueGetter<string> | undefined;
  requireExpiration: ValueGetter<boolean>;
  requireSigned: ValueGetter<boolean>;
  clockSkewS: ValueGetter<number>;
  keys: KeySet;
  /** `<decryption-keys>`: an encrypted token (JWE) is decrypted with these, then its inner JWS is validated. */
  decryptionKeys?: DecryptionKey[];
  audiences: Array<ValueGetter<string>>;
  issuers: Array<ValueGetter<string>>;
  claims: RequiredClaim[];
  /** Policy-specific checks after the common ones (validate-azure-ad-token's application ids). */
  extra?: (d: DecodedJwt, ctx: GatewayContext) => Failure | null;
  outputVariable: string | undefined;
}

/** Default response messages; APIM documents only "JWT not present." (SILENT for the others: "Invalid JWT."). */
export const MESSAGE_NOT_PRESENT = 'JWT not present.';
export const MESSAGE_INVALID = 'Invalid JWT.';

/** Compiles the token source: header (with the Authorization scheme rules), query parameter, or token-value expression. */
export function compileTokenSource(
  el: XmlElement,
  cx: CompileContext,
  defaultHeader: string | undefined,
  requireScheme: ValueGetter<string> | undefined,
): (ctx: GatewayContext) => string | null {
  const present = ['header-name', 'query-parameter-name', 'token-value'].filter((n) => el.attributes.some((a) => a.name === n));
  if (present.length > 1) {
    cx.diagnostics.error(
      el.source,
      cx.offsetOf(el, present[1]),
      'policy/conflicting-attributes',
      `<${el.name}> takes only one of "header-name", "query-parameter-name", "token-value", found ${present.join(' and ')}`,
    );
  } else if (present.length === 0 && defaultHeader === undefined) {
    cx.diagnostics.error(
      el.source,
      el.start,
      'policy/missing-attribute',
      `<${el.name}> needs one of the attributes "header-name", "query-parameter-name" or "token-value"`,
      'e.g. header-name="Authorization"',
    );
  }
  const tokenValue = cx.string(el, 'token-value');
  if (tokenValue) return (ctx) => tokenValue(ctx).trim() || null;
  const query = cx.string(el, 'query-parameter-name');
  if (query) return (ctx) => ctx.request.url.query.get(query(ctx))?.[0]?.trim() || null;
  const header = cx.string(el, 'header-name') ?? (defaultHeader !== undefined ? () => defaultHeader : undefined);
  if (!header) return () => null;
  return (ctx) => {
    const name = header(ctx);
    const value = ctx.request.headers.get(name)?.[0]?.trim();
    if (!value) return null;
    // The scheme only applies to the Authorization header; a custom header carries the bare token (policy docs).
    if (name.toLowerCase() !== 'authorization') return value;
    const scheme = requireScheme?.(ctx);
    const m = /^(\S+)\s+(.+)$/.exec(value);
    if (scheme) {
      if (!m || m[1]!.toLowerCase() !== scheme.toLowerCase()) return null;
      return m[2]!.trim();
    }
    return m && m[1]!.toLowerCase() === 'bearer' ? m[2]!.trim() : value;
  };
}

export function compileAudiences(el: XmlElement, cx: CompileContext, container = 'audiences', item = 'audience'): Array<ValueGetter<string>> {
  const out: Array<ValueGetter<string>> = [];
  for (const a of childElements(el, container))
    for (const v of childElements(a, item)) {
      const t = cx.text(v);
      if (t) out.push(t);
    }
  return out;
}

export function compileRequiredClaims(el: XmlElement, cx: CompileContext): RequiredClaim[] {
  const out: RequiredClaim[] = [];
  for (const rc of childElements(el, 'required-claims'))
    for (const c of childElements(rc, 'claim')) {
      out.push({
        name: cx.string(c, 'name') ?? (() => ''),
        match: cx.string(c, 'match') ?? (() => 'all'),
        separator: cx.string(c, 'separator'),
        values: childElements(c, 'value').map((v) => cx.text(v) ?? (() => '')),
      });
    }
  return out;
}

/** The literal text of a `<key>` after named values ('' when none); undefined when it cannot be read. */
function keyText(k: XmlElement, cx: CompileContext): string | undefined {
  const raw = k.children
    .filter((c) => c.kind === 'text')
    .map((c) => (c.kind === 'text' ? c.text.text : ''))
    .join('')
    .trim();
  if (!raw) return '';
  // Key text is literal (validation rejects expressions); the getter only applies named values.
  try {
    return (
      cx
        .text(k)?.({} as GatewayContext)
        .trim() ?? ''
    );
  } catch {
    return undefined;
  }
}

/** A base64/base64url key text as bytes; null (after an error at the key) when it is not base64; undefined for a named value not given. */
function base64Key(k: XmlElement, cx: CompileContext, text: string, what: string): Buffer | null | undefined {
  // A named value that was not given stays "{{name}}": already reported as a warning; the key cannot be checked.
  if (/^\{\{[^{}]+\}\}$/.test(text)) return undefined;
  if (!/^[A-Za-z0-9+/=_-]+$/.test(text)) {
    cx.diagnostics.error(k.source, k.start, 'policy/bad-key', '<key> text is not a base64-encoded key', `${what} take the symmetric key base64-encoded`);
    return null;
  }
  return Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
}

/** The PEM text of `settings.certificates[certId]`, or undefined after an error at the key's certificate-id. */
function certificatePem(k: XmlElement, cx: CompileContext, certId: string): string | undefined {
  const certs = settingsObject(cx.services, CERTIFICATES_SETTING);
  const entry = certs.ok ? certs.value?.[certId] : undefined;
  if (!certs.ok || entry === undefined) {
    cx.diagnostics.error(
      k.source,
      cx.offsetOf(k, 'certificate-id'),
      'settings/certificate',
      certs.ok ? `certificate-id "${certId}" is not in settings.certificates` : certs.message,
      'map it to PEM text or { "file": "cert.pem" } in settings.certificates',
    );
    return undefined;
  }
  const pem = textDocument(
    cx.services,
    typeof entry === 'object' && entry !== null && 'pem' in entry ? (entry as { pem: unknown }).pem : entry,
    `settings.certificates["${certId}"]`,
  );
  if (!pem.ok) {
    cx.diagnostics.error(k.source, cx.offsetOf(k, 'certificate-id'), 'settings/certificate', pem.message);
    return undefined;
  }
  return pem.value;
}

/**
 * Keys of `<issuer-signing-keys>`: `<key>` with base64 text (symmetric), `n`/`e` (RSA), or `certificate-id` (a PEM
 * from settings.certificates). Problems are reported with positions.
 */
export function compileSigningKeys(el: XmlElement, cx: CompileContext): VerificationKey[] {
  const keys: VerificationKey[] = [];
  for (const group of childElements(el, 'issuer-signing-keys'))
    for (const k of childElements(group, 'key')) {
      const id = cx.attributeSpan(k, 'id')?.text.trim() || null;
      const n = cx.attributeSpan(k, 'n')?.text;
      const e = cx.attributeSpan(k, 'e')?.text;
      const certId = cx.attributeSpan(k, 'certificate-id')?.text.trim();
      const text = keyText(k, cx);
      if (text === undefined) continue;
      const forms = [text !== '', n !== undefined || e !== undefined, certId !== undefined].filter(Boolean).length;
      if (forms !== 1) {
        cx.diagnostics.error(
          k.source,
          k.start,
          'policy/bad-key',
          forms === 0 ? '<key> is empty' : '<key> mixes key forms',
          'give exactly one of: base64 text (symmetric key), n and e (RSA public key), certificate-id',
        );
        continue;
      }
      const origin = `${k.source.file}:${k.source.positionAt(k.start).line}`;
      if (text) {
        const secret = base64Key(k, cx, text, 'issuer-signing-keys');
        if (secret) keys.push({ kind: 'symmetric', id, secret, origin });
      } else if (certId !== undefined) {
        const pem = certificatePem(k, cx, certId);
        if (pem === undefined) continue;
        try {
          keys.push(pemKey(pem, id, `certificate ${certId}`));
        } catch (err) {
          cx.diagnostics.error(
            k.source,
            cx.offsetOf(k, 'certificate-id'),
            'settings/certificate',
            `settings.certificates["${certId}"] is not a PEM certificate or public key (${(err as Error).message})`,
          );
        }
      } else {
        if (n === undefined || e === undefined) {
          cx.diagnostics.error(
            k.source,
            k.start,
            'policy/bad-key',
            '<key> needs both n and e',
            'n is the base64url modulus, e the base64url exponent (e.g. AQAB)',
          );
          continue;
        }
        try {
          keys.push(rsaKey(n, e, id, origin));
        } catch (err) {
          cx.diagnostics.error(
            k.source,
            cx.offsetOf(k, 'n'),
            'policy/bad-key',
            `<key n e> is not a valid RSA public key (${(err as Error).message})`,
            'n and e are base64url-encoded',
          );
        }
      }
    }
  return keys;
}

/** A key that decrypts tokens: a symmetric key (dir, A*KW, A*GCMKW) or a private key (RSA-OAEP*, ECDH-ES*). */
export interface DecryptionKey {
  id: string | null;
  key: KeyObject | Uint8Array;
}

/**
 * Keys of `<decryption-keys>` (validate-jwt and validate-azure-ad-token pages): base64 text (a symmetric key) or
 * `certificate-id`, whose entry in settings.certificates must hold the private key (APIM uses the uploaded
 * certificate's private key; offline the PEM gives it). `n`/`e` name a public key, which cannot decrypt: an error.
 */
export function compileDecryptionKeys(el: XmlElement, cx: CompileContext): DecryptionKey[] {
  const keys: DecryptionKey[] = [];
  for (const group of childElements(el, 'decryption-keys'))
    for (const k of childElements(group, 'key')) {
      const id = cx.attributeSpan(k, 'id')?.text.trim() || null;
      const certId = cx.attributeSpan(k, 'certificate-id')?.text.trim();
      const publicOnly = cx.attributeSpan(k, 'n') !== undefined || cx.attributeSpan(k, 'e') !== undefined;
      const text = keyText(k, cx);
      if (text === undefined) continue;
      const forms = [text !== '', publicOnly, certId !== undefined].filter(Boolean).length;
      if (forms !== 1) {
        cx.diagnostics.error(
          k.source,
          k.start,
          'policy/bad-key',
          forms === 0 ? '<key> is empty' : '<key> mixes key forms',
          'give exactly one of: base64 text (symmetric key), certificate-id (a certificate with its private key)',
        );
        continue;
      }
      if (publicOnly) {
        cx.diagnostics.error(
          k.source,
          k.start,
          'policy/bad-key',
          '<key n e> in <decryption-keys> is an RSA public key: a public key cannot decrypt a token',
          'give the private key through certificate-id (settings.certificates, PEM with its PRIVATE KEY block) or a base64 symmetric key',
        );
        continue;
      }
      if (text) {
        const secret = base64Key(k, cx, text, 'decryption-keys');
        if (secret) keys.push({ id, key: new Uint8Array(secret) });
        continue;
      }
      const pem = certificatePem(k, cx, certId!);
      if (pem === undefined) continue;
      try {
        keys.push({ id, key: createPrivateKey(pem) });
      } catch {
        cx.diagnostics.error(
          k.source,
          cx.offsetOf(k, 'certificate-id'),
          'settings/certificate',
          `settings.certificates["${certId}"] holds no private key, so it cannot decrypt tokens`,
          'give the certificate with its private key (a PEM "PRIVATE KEY" block) in settings.certificates',
        );
      }
    }
  // Loaded now, so the first encrypted token does not pay for the import.
  if (keys.length) jose();
  return keys;
}

/**
 * Signing keys and issuer of an OpenID configuration, from `settings.openidConfigs[url]` (no network): the value is an
 * OpenID configuration (with `issuer`, and `jwks` inline/path or a `jwks_uri` that is itself mapped) or a JWKS
 * (`{ "keys": [...] }`). Returns null when the URL is not mapped (the caller warns); errors name the setting.
 */
export function openIdKeySet(services: RuntimeServices, url: string): { ok: true; value: KeySet | null } | { ok: false; message: string } {
  const configs = settingsObject(services, OPENID_CONFIGS_SETTING);
  if (!configs.ok) return configs;
  const map = configs.value ?? {};
  const entry = lookupUrl(map, url);
  if (entry === undefined) return { ok: true, value: null };
  const where = `settings.openidConfigs["${url}"]`;
  const doc = jsonDocument(services, entry, where);
  if (!doc.ok) return doc;
  let jwks: Record<string, unknown> = doc.value;
  let jwksWhere = where;
  const issuers: string[] = typeof doc.value.issuer === 'string' ? [doc.value.issuer] : [];
  if (!Array.isArray(doc.value.keys)) {
    if (doc.value.jwks !== undefined) {
      const j = jsonDocument(services, doc.value.jwks, `${where}.jwks`);
      if (!j.ok) return j;
      jwks = j.value;
      jwksWhere = `${where}.jwks`;
    } else if (typeof doc.value.jwks_uri === 'string') {
      const j = lookupUrl(map, doc.value.jwks_uri);
      if (j === undefined)
        return { ok: false, message: `${where}: its jwks_uri ${doc.value.jwks_uri} is not mapped in settings.openidConfigs (no network access)` };
      jwksWhere = `settings.openidConfigs["${doc.value.jwks_uri}"]`;
      const jd = jsonDocument(services, j, jwksWhere);
      if (!jd.ok) return jd;
      jwks = jd.value;
    } else {
      return { ok: false, message: `${where} has neither "keys" (a JWKS) nor "jwks"/"jwks_uri" (an OpenID configuration)` };
    }
  }
  if (!Array.isArray(jwks.keys)) return { ok: false, message: `${jwksWhere} has no "keys" array` };
  const keys: VerificationKey[] = [];
  for (const k of jwks.keys) {
    if (typeof k !== 'object' || k === null) continue;
    const key = keyFromJwk(k as Record<string, unknown>, url);
    if (key) keys.push(key);
  }
  return { ok: true, value: { keys, issuers } };
}

/** URLs compare without a trailing slash and case-insensitively in scheme/host. */
function lookupUrl(map: Record<string, unknown>, url: string): unknown {
  if (url in map) return map[url];
  const norm = (u: string): string => u.trim().replace(/\/+$/, '').toLowerCase();
  const want = norm(url);
  for (const [k, v] of Object.entries(map)) if (norm(k) === want) return v;
  return undefined;
}

/**
 * Runs the checks; throws PolicyError with APIM's reason on failure, stores the Jwt in the output variable on success.
 * An encrypted token (JWE, five parts) is decrypted first, asynchronously (jose); a signed one is checked synchronously.
 */
export function runValidation(plan: ValidationPlan, ctx: GatewayContext): void | Promise<void> {
  const token = plan.extract(ctx);
  if (!token) return failValidation(plan, ctx, { reason: 'TokenNotPresent', message: MESSAGE_NOT_PRESENT }, true);
  if (token.split('.').length !== 5) return validateSigned(plan, ctx, token);
  const keys = plan.decryptionKeys ?? [];
  // IdentityModel's IDX10609 / IDX10603: an encrypted token needs decryption keys, and one of them must open it.
  if (keys.length === 0)
    return failValidation(plan, ctx, {
      reason: 'JwtInvalid',
      message: 'IDX10609: Decryption failed. No keys tried: the token is encrypted (JWE) and the policy has no <decryption-keys>.',
    });
  return decryptToken(token, keys).then((r) => (typeof r === 'string' ? validateSigned(plan, ctx, r) : failValidation(plan, ctx, r)));
}

function failValidation(plan: ValidationPlan, ctx: GatewayContext, f: Failure, notPresent = false): never {
  const code = plan.failedCode(ctx);
  const message = plan.failedMessage ? plan.failedMessage(ctx) : notPresent ? MESSAGE_NOT_PRESENT : MESSAGE_INVALID;
  if (ctx.tracing) ctx.trace({ kind: 'info', policy: plan.policy, message: `${f.reason}: ${f.message}` });
  throw new PolicyError(plan.policy, f.reason, f.message, gatewayErrorResponse(code, message));
}

/** jose is loaded only when a policy has <decryption-keys> (compileDecryptionKeys), never at start-up. */
const jose = lazyLibrary<typeof import('jose')>('jose');

/** Bounds a hostile PBES2 header (jose's own default is 10,000 iterations). */
const MAX_PBES2_COUNT = 10_000;

/**
 * Decrypts a compact JWE with the keys whose id matches its `kid` (all keys when none does), each tried in turn.
 * The plaintext is the inner token, a JWS, as IdentityModel reads it; anything else fails its own format check.
 */
async function decryptToken(token: string, keys: DecryptionKey[]): Promise<string | Failure> {
  let kid: string | null = null;
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as unknown;
    if (typeof header === 'object' && header !== null && typeof (header as { kid?: unknown }).kid === 'string') kid = (header as { kid: string }).kid;
  } catch {
    return { reason: 'JwtInvalid', message: 'IDX14100: JWT is not well formed: the header of the encrypted token is not base64url JSON.' };
  }
  const byId = kid ? keys.filter((k) => k.id === kid) : [];
  const candidates = byId.length ? byId : keys;
  const errors: string[] = [];
  for (const k of candidates) {
    try {
      const { plaintext } = await jose().compactDecrypt(token, k.key, { maxPBES2Count: MAX_PBES2_COUNT });
      return Buffer.from(plaintext).toString('utf8');
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  return {
    reason: 'JwtInvalid',
    message: `IDX10603: Decryption failed. Keys tried: ${candidates.length}${kid ? `, kid: '${kid}'` : ''}. Exceptions caught: '${[...new Set(errors)].join("', '")}'.`,
  };
}

function validateSigned(plan: ValidationPlan, ctx: GatewayContext, token: string): void {
  let d: DecodedJwt;
  try {
    d = decodeJwt(token);
  } catch (e) {
    if (e instanceof JwtFormatError) return failValidation(plan, ctx, { reason: 'JwtInvalid', message: `IDX14100: ${e.message}` });
    throw e;
  }
  const f = check(plan, d, ctx);
  if (f) return failValidation(plan, ctx, f);
  if (plan.outputVariable !== undefined) ctx.variables.set(plan.outputVariable, toJwt(d));
  if (ctx.tracing)
    ctx.trace({ kind: 'info', policy: plan.policy, message: `token of ${typeof d.payload.sub === 'string' ? d.payload.sub : 'unknown subject'} validated` });
}

function check(plan: ValidationPlan, d: DecodedJwt, ctx: GatewayContext): Failure | null {
  const p = d.payload;
  // 1. Signature.
  const alg = typeof d.header.alg === 'string' ? d.header.alg : '';
  const unsigned = alg.toLowerCase() === 'none' || d.signature.length === 0;
  if (unsigned) {
    if (plan.requireSigned(ctx))
      return { reason: 'TokenSignatureInvalid', message: 'IDX10504: Unable to validate signature, token does not have a signature. Access denied.' };
  } else {
    if (!SUPPORTED_ALGORITHMS.includes(alg))
      return {
        reason: 'TokenSignatureInvalid',
        message: `IDX10511: Signature validation failed: algorithm '${alg}' is not supported (supported: ${SUPPORTED_ALGORITHMS.join(', ')}). Access denied.`,
      };
    const kid = typeof d.header.kid === 'string' ? d.header.kid : null;
    const all = plan.keys.keys;
    if (all.length === 0) {
      return {
        reason: 'TokenSignatureKeyNotFound',
        message: `IDX10500: Signature validation failed. No security keys were provided to validate the signature${plan.keys.problem ? ` (${plan.keys.problem})` : ''}. Access denied.`,
      };
    }
    const byId = kid ? all.filter((k) => k.id === kid) : [];
    const candidates = byId.length ? byId : all;
    if (!candidates.some((k) => verifySignature(d, k))) {
      if (kid && byId.length === 0 && all.every((k) => k.id !== null)) {
        return { reason: 'TokenSignatureKeyNotFound', message: `IDX10501: Signature validation failed. Unable to match key: kid: '${kid}'. Access denied.` };
      }
      return {
        reason: 'TokenSignatureInvalid',
        message: `IDX10511: Signature validation failed. Keys tried: ${candidates.length}${kid ? `, kid: '${kid}'` : ''}. Access denied.`,
      };
    }
  }
  // 2. Lifetime, with clock-skew, on the injected clock.
  const now = ctx.clock.now() / 1000;
  const skew = plan.clockSkewS(ctx);
  const exp = typeof p.exp === 'number' ? p.exp : null;
  const nbf = typeof p.nbf === 'number' ? p.nbf : null;
  if (exp === null && plan.requireExpiration(ctx))
    return { reason: 'JwtInvalid', message: 'IDX10225: Lifetime validation failed. The token is missing an Expiration Time.' };
  if (nbf !== null && now + skew < nbf) {
    return {
      reason: 'JwtInvalid',
      message: `IDX10222: Lifetime validation failed. The token is not yet valid. ValidFrom: '${iso(nbf)}', Current time: '${iso(now)}'.`,
    };
  }
  if (exp !== null && now - skew >= exp) {
    return {
      reason: 'TokenExpired',
      message: `IDX10223: Lifetime validation failed. The token is expired. ValidTo: '${iso(exp)}', Current time: '${iso(now)}'. Access denied.`,
    };
  }
  // 3. Audience (trailing slashes ignored, as IdentityModel does by default).
  if (plan.audiences.length > 0) {
    const allowed = plan.audiences.map((a) => a(ctx));
    const aud = tokenAudiences(d);
    if (!aud.some((a) => allowed.some((x) => sameAudience(a, x)))) {
      return {
        reason: 'TokenAudienceNotAllowed',
        message: `IDX10214: Audience validation failed. Audiences: '${aud.join(', ')}'. Did not match: validationParameters.ValidAudiences: '${allowed.join(', ')}'. Access denied.`,
      };
    }
  }
  // 4. Issuer: the configured issuers plus those of the OpenID configurations; not checked when there are none.
  const issuers = [...plan.issuers.map((i) => i(ctx)), ...plan.keys.issuers];
  if (issuers.length > 0) {
    const iss = typeof p.iss === 'string' ? p.iss : '';
    const tid = typeof p.tid === 'string' ? p.tid : '';
    if (!issuers.some((i) => i === iss || (i.includes('{tenantid}') && tid !== '' && i.replace('{tenantid}', tid) === iss))) {
      return {
        reason: 'TokenIssuerNotAllowed',
        message: `IDX10205: Issuer validation failed. Issuer: '${iss}'. Did not match: validationParameters.ValidIssuers: '${issuers.join(', ')}'. Access denied.`,
      };
    }
  }
  // 5. Required claims: all missing ones are listed together, then values are compared.
  const claims = plan.claims.map((c) => ({ c, name: c.name(ctx) }));
  const missing = claims.filter(({ name }) => !(name in p)).map(({ name }) => name);
  if (missing.length > 0) return { reason: 'TokenClaimNotFound', message: `JWT token is missing the following claims: ${missing.join(', ')}. Access denied.` };
  for (const { c, name } of claims) {
    if (c.values.length === 0) continue;
    const sep = c.separator?.(ctx);
    const raw = claimStrings(p[name]);
    const present = sep ? raw.flatMap((v) => v.split(sep).map((x) => x.trim())) : raw;
    const wanted = c.values.map((v) => v(ctx));
    const ok = c.match(ctx).toLowerCase() === 'any' ? wanted.some((w) => present.includes(w)) : wanted.every((w) => present.includes(w));
    if (!ok) return { reason: 'TokenClaimValueNotAllowed', message: `Claim ${name} value of ${raw.join(',')} is not allowed. Access denied.` };
  }
  return plan.extra ? plan.extra(d, ctx) : null;
}

export function tokenAudiences(d: DecodedJwt): string[] {
  const a = d.payload.aud;
  return typeof a === 'string' ? [a] : Array.isArray(a) ? a.filter((x): x is string => typeof x === 'string') : [];
}

export function sameAudience(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

function iso(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z');
}

/** `<openid-config url>` elements → one KeySet (keys + issuers); unmapped URLs give a load warning and a run-time reason. */
export function compileOpenIdConfigs(el: XmlElement, cx: CompileContext): KeySet {
  const out: KeySet = { keys: [], issuers: [] };
  const unmapped: string[] = [];
  for (const oc of childElements(el, 'openid-config')) {
    const url = cx.attributeSpan(oc, 'url')?.text.trim();
    if (!url) continue;
    const r = openIdKeySet(cx.services, url);
    if (!r.ok) {
      cx.diagnostics.error(oc.source, cx.offsetOf(oc, 'url'), 'settings/openid-config', r.message, 'see docs/policies-ai.md (settings.openidConfigs)');
      continue;
    }
    if (!r.value) {
      unmapped.push(url);
      cx.diagnostics.warning(
        oc.source,
        cx.offsetOf(oc, 'url'),
        'settings/openid-config',
        `openid-config ${url} is not mapped to a local file, so tokens cannot be validated (apim-emulator makes no network calls)`,
        `add settings.openidConfigs["${url}"]: an OpenID configuration or JWKS (object or file path)`,
      );
      continue;
    }
    out.keys.push(...r.value.keys);
    out.issuers.push(...r.value.issuers);
  }
  if (unmapped.length) out.problem = `openid-config ${unmapped.join(', ')} not mapped in settings.openidConfigs`;
  return out;
}

/** output-token-variable-name, read literally (expressions are not allowed there). */
export function outputVariable(el: XmlElement): string | undefined {
  return attributeText(el, 'output-token-variable-name')?.trim() || undefined;
}

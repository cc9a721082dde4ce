import { X509Certificate } from 'node:crypto';
import type { Flow, GatewayContext, PolicyDefinition } from '../engine/policy-sdk.js';
import { PolicyError, attributeText, childElements, gatewayErrorResponse } from '../engine/policy-sdk.js';
import { offlineWarning } from './support/offline.js';

/** Where the emulator reads the caller's certificate: the header Azure's front ends use to forward one (base64 DER or PEM). */
export const CLIENT_CERT_HEADER = 'X-ARR-ClientCert';

const IDENTITY_ATTRIBUTES = [
  'thumbprint',
  'serial-number',
  'common-name',
  'subject',
  'dns-name',
  'issuer-subject',
  'issuer-thumbprint',
  'issuer-certificate-id',
] as const;

/**
 * `<validate-client-certificate validate-revocation validate-trust validate-not-before validate-not-after
 * ignore-error><identities><identity .../></identities></validate-client-certificate>`.
 * Attribute table: learn.microsoft.com/azure/api-management/validate-client-certificate-policy (read 2026-12-02).
 * The certificate comes from the X-ARR-ClientCert header (the emulator serves plain HTTP; docs/emulator-choices.md).
 * Validity dates are checked on the gateway clock and identities are matched; trust chains and revocation lists are
 * not available offline (a warning says so when they are asked for). Failure: 401 as APIM answers.
 */
export const validateClientCertificate: PolicyDefinition = {
  name: 'validate-client-certificate',
  summary: "Checks the caller's certificate (X-ARR-ClientCert header): validity dates on the clock and identities; no chain or revocation offline.",
  support: 'approximate',
  sections: ['inbound'],
  attributes: [
    { name: 'validate-revocation', expressions: false, kind: 'bool', default: 'true' },
    { name: 'validate-trust', expressions: false, kind: 'bool', default: 'true' },
    { name: 'validate-not-before', expressions: false, kind: 'bool', default: 'true' },
    { name: 'validate-not-after', expressions: false, kind: 'bool', default: 'true' },
    { name: 'ignore-error', expressions: false, kind: 'bool', default: 'false' },
  ],
  elements: [{ name: 'identities', max: 1, elements: [{ name: 'identity', attributes: IDENTITY_ATTRIBUTES.map((name) => ({ name, expressions: false })) }] }],
  compile(el, cx) {
    const flag = (n: string): boolean => (attributeText(el, n) ?? 'true').trim().toLowerCase() === 'true';
    const unverifiable: string[] = [];
    if (flag('validate-revocation')) unverifiable.push('revocation');
    if (flag('validate-trust')) unverifiable.push('the trust chain');
    const notBefore = flag('validate-not-before');
    const notAfter = flag('validate-not-after');
    const ignoreError = (attributeText(el, 'ignore-error') ?? 'false').trim().toLowerCase() === 'true';
    const identities = childElements(el, 'identities')
      .flatMap((i) => childElements(i, 'identity'))
      .map((i) => {
        const want: Partial<Record<(typeof IDENTITY_ATTRIBUTES)[number], string>> = {};
        for (const n of IDENTITY_ATTRIBUTES) {
          const v = attributeText(i, n);
          if (v !== undefined) want[n] = v;
        }
        return want;
      });
    if (identities.some((i) => i['issuer-thumbprint'] !== undefined || i['issuer-certificate-id'] !== undefined))
      unverifiable.push('issuer-thumbprint / issuer-certificate-id (an identity naming one never matches)');
    if (unverifiable.length)
      offlineWarning(el, cx, `no trust store offline, so ${unverifiable.join(', ')} cannot be checked; validity dates and the other identity fields are`);
    return (ctx): Flow => {
      const problem = check(ctx, notBefore, notAfter, identities);
      if (!problem) return 'continue';
      if (ctx.tracing) ctx.trace({ kind: 'info', policy: 'validate-client-certificate', message: problem });
      if (ignoreError) return 'continue';
      throw new PolicyError(
        'validate-client-certificate',
        'ClientCertificateValidationFailure',
        problem,
        gatewayErrorResponse(401, 'Invalid client certificate.'),
      );
    };
  },
};

function readCertificate(raw: string): X509Certificate | undefined {
  try {
    const text = raw.includes('BEGIN CERTIFICATE') ? raw : Buffer.from(raw.replace(/\s+/g, ''), 'base64');
    return new X509Certificate(text);
  } catch {
    return undefined;
  }
}

function cn(dn: string): string | undefined {
  return /(?:^|\n|,\s*)CN=([^\n,]+)/.exec(dn)?.[1]?.trim();
}

function normalDn(dn: string): string {
  return dn
    .split(/\n|,\s*/)
    .map((p) => p.trim())
    .filter(Boolean)
    .sort()
    .join(',')
    .toLowerCase();
}

function check(
  ctx: GatewayContext,
  notBefore: boolean,
  notAfter: boolean,
  identities: Array<Partial<Record<(typeof IDENTITY_ATTRIBUTES)[number], string>>>,
): string | undefined {
  const raw = ctx.request.headers.getJoined(CLIENT_CERT_HEADER);
  if (!raw) return 'No client certificate was presented.';
  const cert = readCertificate(raw);
  if (!cert) return 'The client certificate cannot be read.';
  const now = ctx.clock.now();
  if (notBefore && now < Date.parse(cert.validFrom)) return `The client certificate is not valid before ${cert.validFrom}.`;
  if (notAfter && now > Date.parse(cert.validTo)) return `The client certificate expired on ${cert.validTo}.`;
  if (identities.length === 0) return undefined;
  const thumbprint = cert.fingerprint.replace(/:/g, '').toUpperCase();
  const serial = cert.serialNumber.toUpperCase();
  const dns = (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4).toLowerCase());
  const matches = identities.some(
    (i) =>
      (i.thumbprint === undefined || i.thumbprint.toUpperCase() === thumbprint) &&
      (i['serial-number'] === undefined || i['serial-number'].toUpperCase().replace(/^0+/, '') === serial.replace(/^0+/, '')) &&
      (i['common-name'] === undefined || i['common-name'].toLowerCase() === (cn(cert.subject) ?? '').toLowerCase()) &&
      (i.subject === undefined || normalDn(i.subject) === normalDn(cert.subject)) &&
      (i['dns-name'] === undefined || dns.includes(i['dns-name'].toLowerCase())) &&
      (i['issuer-subject'] === undefined || normalDn(i['issuer-subject']) === normalDn(cert.issuer)) &&
      i['issuer-thumbprint'] === undefined &&
      i['issuer-certificate-id'] === undefined,
  );
  return matches ? undefined : 'The client certificate does not match any of the allowed identities.';
}

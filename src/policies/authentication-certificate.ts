import { createHash } from 'node:crypto';
import type { GatewayContext, PolicyDefinition } from '../engine/policy-sdk.js';

/** Which client certificate the gateway would present to the backend (the emulator records it; TLS is not changed). */
export interface PresentedCertificate {
  thumbprint?: string;
  certificateId?: string;
  /** SHA-1 of the certificate bytes given in `body` (upper-case hex, like a thumbprint of DER bytes). */
  bodySha1?: string;
  passwordProtected: boolean;
}

const presented = new WeakMap<GatewayContext, PresentedCertificate>();

/** The certificate `<authentication-certificate>` selected for this request, or undefined. */
export function presentedCertificate(ctx: GatewayContext): PresentedCertificate | undefined {
  return presented.get(ctx);
}

/**
 * `<authentication-certificate thumbprint | certificate-id | body [password]>`: approximated. The certificate is
 * accepted and recorded (presentedCertificate(), trace) but not presented on the TLS connection to the backend.
 */
export const authenticationCertificate: PolicyDefinition = {
  name: 'authentication-certificate',
  summary: 'Client certificate for the backend: recorded, not presented on TLS (approximation).',
  support: 'approximate',
  sections: ['inbound'],
  attributes: [
    { name: 'thumbprint', expressions: true },
    { name: 'certificate-id', expressions: true },
    { name: 'body', expressions: true },
    { name: 'password', expressions: true },
  ],
  oneOf: [['thumbprint', 'certificate-id', 'body']],
  compile(el, cx) {
    const thumbprint = cx.string(el, 'thumbprint');
    const certificateId = cx.string(el, 'certificate-id');
    const body = cx.value(el, 'body');
    const password = cx.string(el, 'password');
    if (password && !body) {
      cx.diagnostics.error(
        el.source,
        cx.offsetOf(el, 'password'),
        'policy/misplaced-attribute',
        '"password" only applies to a certificate given in "body"',
        'remove password, or give the certificate bytes in body',
      );
    }
    return (ctx) => {
      const rec: PresentedCertificate = { passwordProtected: password !== undefined && password(ctx) !== '' };
      if (thumbprint) rec.thumbprint = thumbprint(ctx).trim().toUpperCase();
      if (certificateId) rec.certificateId = certificateId(ctx).trim();
      if (body) {
        const v = body(ctx);
        const bytes = v instanceof Uint8Array ? Buffer.from(v) : Array.isArray(v) ? Buffer.from(v as number[]) : Buffer.from(String(v), 'base64');
        rec.bodySha1 = createHash('sha1').update(bytes).digest('hex').toUpperCase();
      }
      presented.set(ctx, rec);
      if (ctx.tracing)
        ctx.trace({
          kind: 'info',
          policy: 'authentication-certificate',
          message: 'client certificate recorded (not presented on TLS by apim-emulator)',
          data: { ...rec },
        });
      return 'continue';
    };
  },
};

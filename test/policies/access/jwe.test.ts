import { generateKeyPairSync } from 'node:crypto';
import { CompactEncrypt, EncryptJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/clock.js';
import { buildGateway, policies, send, tryBuildGateway } from '../../helpers/gateway.js';
import { hs256, secs, unsigned } from './tokens.js';

/**
 * Encrypted tokens (JWE) with `<decryption-keys>`, validate-jwt and validate-azure-ad-token pages: the token is
 * decrypted, then its inner signed token is validated as usual. Tokens are made by jose in the test.
 */
const START = Date.UTC(2025, 0, 1);
const SIGNING = Buffer.from('a-test-secret-of-32-bytes-length!');
const AES = Buffer.alloc(32, 7); // A256KW / dir A256GCM key
const OTHER_AES = Buffer.alloc(32, 9);
const ON_ERROR =
  '<return-response><set-status code="401" reason="Unauthorized" /><set-body>@(context.LastError.Reason + "|" + context.LastError.Message)</set-body></return-response>';
const claims = (extra: Record<string, unknown> = {}) => ({
  iss: 'https://issuer.test/',
  aud: 'api://emulator',
  sub: 'alice',
  exp: secs(START) + 600,
  ...extra,
});

const encrypt = (inner: string, key: Uint8Array | import('node:crypto').KeyObject, header: { alg: string; enc: string; kid?: string }) =>
  new CompactEncrypt(new TextEncoder().encode(inner)).setProtectedHeader({ ...header, cty: 'JWT' }).encrypt(key);

function jwtGateway(keys: string, o: { settings?: Record<string, unknown>; attrs?: string } = {}) {
  return buildGateway({
    clock: new VirtualClock(START),
    settings: o.settings ?? {},
    api: policies({
      inbound: `<validate-jwt header-name="Authorization" output-token-variable-name="jwt"${o.attrs ?? ''}><issuer-signing-keys><key>${SIGNING.toString('base64')}</key></issuer-signing-keys>${keys}<audiences><audience>api://emulator</audience></audiences></validate-jwt>
        <return-response><set-status code="200" reason="OK" /><set-body>@(((Jwt)context.Variables["jwt"]).Subject)</set-body></return-response>`,
      onError: ON_ERROR,
    }),
  });
}

describe('validate-jwt <decryption-keys>', () => {
  it('decrypts a nested JWE (A256KW and dir) with a symmetric key, then validates the inner signed token', async () => {
    const { gateway } = jwtGateway(`<decryption-keys><key>${AES.toString('base64')}</key></decryption-keys>`);
    for (const header of [
      { alg: 'A256KW', enc: 'A256GCM' },
      { alg: 'dir', enc: 'A256GCM' },
    ]) {
      const jwe = await encrypt(hs256(claims(), SIGNING), AES, header);
      expect(jwe.split('.')).toHaveLength(5);
      const r = await send(gateway, '/api/x', { headers: { Authorization: `Bearer ${jwe}` } });
      expect(r.text, header.alg).toBe('alice');
      expect(r.status).toBe(200);
    }
  });

  it('still checks the inner token: a bad signature or a wrong audience inside a valid JWE fails with the usual reason', async () => {
    const { gateway } = jwtGateway(`<decryption-keys><key>${AES.toString('base64')}</key></decryption-keys>`);
    const badSig = await encrypt(hs256(claims(), Buffer.from('another-secret-of-32-bytes-long!!')), AES, { alg: 'A256KW', enc: 'A256GCM' });
    expect((await send(gateway, '/api/x', { headers: { Authorization: `Bearer ${badSig}` } })).text).toMatch(/^TokenSignatureInvalid\|/);
    const badAud = await encrypt(hs256(claims({ aud: 'api://other' }), SIGNING), AES, { alg: 'A256KW', enc: 'A256GCM' });
    expect((await send(gateway, '/api/x', { headers: { Authorization: `Bearer ${badAud}` } })).text).toMatch(/^TokenAudienceNotAllowed\|/);
  });

  it('tries every key (a kid picks its key first); no key that opens the token is JwtInvalid IDX10603', async () => {
    const { gateway } = jwtGateway(
      `<decryption-keys><key id="old">${OTHER_AES.toString('base64')}</key><key id="new">${AES.toString('base64')}</key></decryption-keys>`,
    );
    const plain = await encrypt(hs256(claims(), SIGNING), AES, { alg: 'A256KW', enc: 'A256GCM' });
    expect((await send(gateway, '/api/x', { headers: { Authorization: `Bearer ${plain}` } })).text).toBe('alice');
    const byKid = await encrypt(hs256(claims(), SIGNING), AES, { alg: 'A256KW', enc: 'A256GCM', kid: 'new' });
    expect((await send(gateway, '/api/x', { headers: { Authorization: `Bearer ${byKid}` } })).text).toBe('alice');
    const foreign = await encrypt(hs256(claims(), SIGNING), Buffer.alloc(32, 1), { alg: 'A256KW', enc: 'A256GCM' });
    const r = await send(gateway, '/api/x', { headers: { Authorization: `Bearer ${foreign}` } });
    expect(r.status).toBe(401);
    expect(r.text).toMatch(/^JwtInvalid\|IDX10603: Decryption failed\. Keys tried: 2\./);
  });

  it('decrypts RSA-OAEP-256 with the private key of settings.certificates (certificate-id)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const { gateway } = jwtGateway('<decryption-keys><key certificate-id="enc-cert" /></decryption-keys>', { settings: { certificates: { 'enc-cert': pem } } });
    const jwe = await encrypt(hs256(claims(), SIGNING), publicKey, { alg: 'RSA-OAEP-256', enc: 'A128CBC-HS256' });
    expect((await send(gateway, '/api/x', { headers: { Authorization: `Bearer ${jwe}` } })).text).toBe('alice');
    // A certificate entry without its private key cannot decrypt: said at load time, at the attribute.
    const pub = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const bad = tryBuildGateway({
      settings: { certificates: { c: pub } },
      api: policies({ inbound: '<validate-jwt header-name="Authorization"><decryption-keys><key certificate-id="c" /></decryption-keys></validate-jwt>' }),
    });
    expect(bad.gateway).toBeNull();
    expect(bad.diagnostics.find((d) => d.code === 'settings/certificate')?.message).toBe(
      'settings.certificates["c"] holds no private key, so it cannot decrypt tokens',
    );
  });

  it('an encrypted token without <decryption-keys> fails IDX10609; JSON claims encrypted without an inner JWS fail as IdentityModel does', async () => {
    const none = jwtGateway('');
    const jwe = await encrypt(hs256(claims(), SIGNING), AES, { alg: 'A256KW', enc: 'A256GCM' });
    expect((await send(none.gateway, '/api/x', { headers: { Authorization: `Bearer ${jwe}` } })).text).toMatch(/^JwtInvalid\|IDX10609: Decryption failed/);
    const { gateway } = jwtGateway(`<decryption-keys><key>${AES.toString('base64')}</key></decryption-keys>`);
    const claimsOnly = await new EncryptJWT(claims()).setProtectedHeader({ alg: 'A256KW', enc: 'A256GCM' }).encrypt(AES);
    expect((await send(gateway, '/api/x', { headers: { Authorization: `Bearer ${claimsOnly}` } })).text).toMatch(
      /^JwtInvalid\|IDX14100: JWT is not well formed/,
    );
  });

  it('with require-signed-tokens="false" an unsigned inner token is accepted', async () => {
    const { gateway } = jwtGateway(`<decryption-keys><key>${AES.toString('base64')}</key></decryption-keys>`, { attrs: ' require-signed-tokens="false"' });
    const jwe = await encrypt(unsigned(claims()), AES, { alg: 'A256KW', enc: 'A256GCM' });
    expect((await send(gateway, '/api/x', { headers: { Authorization: `Bearer ${jwe}` } })).text).toBe('alice');
  });
});

describe('validate-azure-ad-token <decryption-keys>', () => {
  const TENANT = 'contoso-tenant';
  const openid = `https://login.microsoftonline.com/${TENANT}/v2.0/.well-known/openid-configuration`;
  const settings = {
    openidConfigs: {
      [openid]: { issuer: `https://login.microsoftonline.com/${TENANT}/v2.0`, jwks: { keys: [{ kty: 'oct', k: SIGNING.toString('base64url'), kid: 'sig' }] } },
    },
  };

  it('decrypts with the base64 key, then checks tenant issuer and client application id', async () => {
    const { gateway } = buildGateway({
      clock: new VirtualClock(START),
      settings,
      api: policies({
        inbound: `<validate-azure-ad-token tenant-id="${TENANT}"><client-application-ids><application-id>app-1</application-id></client-application-ids><decryption-keys><key>${AES.toString('base64')}</key></decryption-keys></validate-azure-ad-token><return-response><set-status code="200" reason="OK" /></return-response>`,
        onError: ON_ERROR,
      }),
    });
    const good = await encrypt(hs256(claims({ iss: `https://sts.windows.net/${TENANT}/`, appid: 'app-1' }), SIGNING, { kid: 'sig' }), AES, {
      alg: 'A256KW',
      enc: 'A256GCM',
    });
    expect((await send(gateway, '/api/x', { headers: { Authorization: `Bearer ${good}` } })).status).toBe(200);
    const otherApp = await encrypt(hs256(claims({ iss: `https://sts.windows.net/${TENANT}/`, appid: 'app-2' }), SIGNING, { kid: 'sig' }), AES, {
      alg: 'A256KW',
      enc: 'A256GCM',
    });
    expect((await send(gateway, '/api/x', { headers: { Authorization: `Bearer ${otherApp}` } })).text).toMatch(/^TokenClaimValueNotAllowed\|/);
  });
});

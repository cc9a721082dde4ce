import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/clock.js';
import { Jwt } from '../../../src/dotnet/jwt.js';
import { buildGateway, policies, send, tryBuildGateway } from '../../helpers/gateway.js';
import { hs256, rs256, rsaPair, secs, unsigned } from './tokens.js';

const SECRET = Buffer.from('a-test-secret-of-32-bytes-length!');
const KEY_B64 = SECRET.toString('base64');
const START = Date.UTC(2025, 0, 1);

/** On-error exposes LastError so tests can assert APIM's reason and message (status/body are the policy's preset response). */
const ON_ERROR =
  '<set-header name="X-Reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header><set-header name="X-Message" exists-action="override"><value>@(context.LastError.Message)</value></set-header><set-header name="X-Source" exists-action="override"><value>@(context.LastError.Source)</value></set-header>';

function gatewayWith(
  inner: string,
  attrs = 'header-name="Authorization"',
  o: { settings?: Record<string, unknown>; clock?: VirtualClock; after?: string } = {},
) {
  return buildGateway({
    clock: o.clock ?? new VirtualClock(START),
    settings: o.settings ?? {},
    api: policies({
      inbound: `<validate-jwt ${attrs}>${inner}</validate-jwt><return-response><set-status code="200" reason="OK" /></return-response>${o.after ?? ''}`,
      onError: ON_ERROR,
    }),
  });
}

const HS_KEYS = `<issuer-signing-keys><key>${KEY_B64}</key></issuer-signing-keys>`;
const claims = (extra: Record<string, unknown> = {}) => ({
  iss: 'https://issuer.test/',
  aud: 'api://emulator',
  sub: 'alice',
  exp: secs(START) + 600,
  ...extra,
});

describe('validate-jwt', () => {
  it('accepts a valid HS256 token from the Authorization header and stores a Jwt in output-token-variable-name', async () => {
    const { gateway } = buildGateway({
      clock: new VirtualClock(START),
      api: policies({
        inbound: `<validate-jwt header-name="Authorization" output-token-variable-name="jwt">${HS_KEYS}<audiences><audience>api://emulator</audience></audiences><issuers><issuer>https://issuer.test/</issuer></issuers></validate-jwt>
          <return-response><set-status code="200" reason="OK" /><set-body>@(((Jwt)context.Variables["jwt"]).Subject)</set-body></return-response>`,
      }),
    });
    const token = hs256(claims({ groups: ['a', 'b'], jti: 'id-1' }), SECRET);
    const r = await send(gateway, '/api/x', { headers: { Authorization: `Bearer ${token}` } });
    expect(r.status).toBe(200);
    expect(r.text).toBe('alice');
    const jwt = r.context!.variables.get('jwt');
    expect(jwt).toBeInstanceOf(Jwt);
    const j = jwt as Jwt;
    expect(j.Subject).toBe('alice');
    expect(j.Id).toBe('id-1');
    expect(j.Algorithm).toBe('HS256');
    expect(j.Claims.get('groups')).toEqual(['a', 'b']);
  });

  it('the stored Jwt answers Claims.GetValueOrDefault and Audiences in expressions', async () => {
    const { gateway } = buildGateway({
      clock: new VirtualClock(START),
      api: policies({
        inbound: `<validate-jwt header-name="Authorization" output-token-variable-name="jwt-token">${HS_KEYS}</validate-jwt>
          <return-response><set-status code="200" reason="OK" /><set-body>@(((Jwt)context.Variables["jwt-token"]).Claims.GetValueOrDefault("email", "n/a") + "|" + string.Join(";", ((Jwt)context.Variables["jwt-token"]).Audiences))</set-body></return-response>`,
      }),
    });
    const withEmail = await send(gateway, '/api/x', { headers: { Authorization: `Bearer ${hs256(claims({ email: 'a@b.c', aud: ['x', 'y'] }), SECRET)}` } });
    expect(withEmail.text).toBe('a@b.c|x;y');
    const without = await send(gateway, '/api/x', { headers: { Authorization: `Bearer ${hs256(claims(), SECRET)}` } });
    expect(without.text).toBe('n/a|api://emulator');
  });

  it('TokenNotPresent: 401 "JWT not present." without a token, or with a different scheme when require-scheme is set', async () => {
    const { gateway } = gatewayWith(HS_KEYS, 'header-name="Authorization" require-scheme="Bearer"');
    const r = await send(gateway, '/api/x');
    expect(r.status).toBe(401);
    expect(r.json()).toEqual({ statusCode: 401, message: 'JWT not present.' });
    expect(r.header('X-Reason')).toBe('TokenNotPresent');
    expect(r.header('X-Source')).toBe('validate-jwt');
    const wrongScheme = await send(gateway, '/api/x', { headers: { Authorization: `Token ${hs256(claims(), SECRET)}` } });
    expect(wrongScheme.header('X-Reason')).toBe('TokenNotPresent');
  });

  it('uses failed-validation-httpcode and failed-validation-error-message for the response', async () => {
    const { gateway } = gatewayWith(
      HS_KEYS,
      'header-name="Authorization" failed-validation-httpcode="403" failed-validation-error-message="Unauthorized. Access token is missing or invalid."',
    );
    const r = await send(gateway, '/api/x', { headers: { Authorization: 'Bearer not-a-jwt' } });
    expect(r.status).toBe(403);
    expect(r.json()).toEqual({ statusCode: 403, message: 'Unauthorized. Access token is missing or invalid.' });
    expect(r.header('X-Reason')).toBe('JwtInvalid');
  });

  it('TokenSignatureInvalid for a token signed with another key', async () => {
    const { gateway } = gatewayWith(HS_KEYS);
    const r = await send(gateway, '/api/x', { headers: { Authorization: `Bearer ${hs256(claims(), 'other-secret')}` } });
    expect(r.status).toBe(401);
    expect(r.json()).toEqual({ statusCode: 401, message: 'Invalid JWT.' });
    expect(r.header('X-Reason')).toBe('TokenSignatureInvalid');
    expect(r.header('X-Message')).toMatch(/Signature validation failed.*Access denied\.$/);
  });

  it('TokenSignatureKeyNotFound when the kid matches no key id and no key verifies; the key with that id validates', async () => {
    const { gateway } = gatewayWith(`<issuer-signing-keys><key id="k1">${KEY_B64}</key></issuer-signing-keys>`);
    const miss = await send(gateway, '/api/x', { headers: { Authorization: `Bearer ${hs256(claims(), 'another-secret', { kid: 'k2' })}` } });
    expect(miss.header('X-Reason')).toBe('TokenSignatureKeyNotFound');
    expect(miss.header('X-Message')).toContain("kid: 'k2'");
    const hit = await send(gateway, '/api/x', { headers: { Authorization: `Bearer ${hs256(claims(), SECRET, { kid: 'k1' })}` } });
    expect(hit.status).toBe(200);
    // A known kid with a wrong signature is a signature failure, not a missing key.
    const wrong = await send(gateway, '/api/x', { headers: { Authorization: `Bearer ${hs256(claims(), 'another-secret', { kid: 'k1' })}` } });
    expect(wrong.header('X-Reason')).toBe('TokenSignatureInvalid');
  });

  it('TokenExpired on the virtual clock, with clock-skew widening the window', async () => {
    const clock = new VirtualClock(START);
    const { gateway } = gatewayWith(HS_KEYS, 'header-name="Authorization" clock-skew="30"', { clock });
    const token = hs256(claims({ exp: secs(START) + 60 }), SECRET);
    const auth = { Authorization: `Bearer ${token}` };
    expect((await send(gateway, '/api/x', { headers: auth })).status).toBe(200);
    clock.advance(80_000); // 20 s past exp, inside the 30 s skew
    expect((await send(gateway, '/api/x', { headers: auth })).status).toBe(200);
    clock.advance(20_000); // 40 s past exp
    const r = await send(gateway, '/api/x', { headers: auth });
    expect(r.status).toBe(401);
    expect(r.header('X-Reason')).toBe('TokenExpired');
    expect(r.header('X-Message')).toContain('The token is expired');
  });

  it('requires exp unless require-expiration-time="false"; a future nbf is JwtInvalid', async () => {
    const noExp = claims();
    delete (noExp as Record<string, unknown>).exp;
    const strict = gatewayWith(HS_KEYS).gateway;
    const r = await send(strict, '/api/x', { headers: { Authorization: `Bearer ${hs256(noExp, SECRET)}` } });
    expect(r.header('X-Reason')).toBe('JwtInvalid');
    expect(r.header('X-Message')).toContain('missing an Expiration Time');
    const lax = gatewayWith(HS_KEYS, 'header-name="Authorization" require-expiration-time="false"').gateway;
    expect((await send(lax, '/api/x', { headers: { Authorization: `Bearer ${hs256(noExp, SECRET)}` } })).status).toBe(200);
    const early = await send(strict, '/api/x', { headers: { Authorization: `Bearer ${hs256(claims({ nbf: secs(START) + 120 }), SECRET)}` } });
    expect(early.header('X-Reason')).toBe('JwtInvalid');
    expect(early.header('X-Message')).toContain('not yet valid');
  });

  it('TokenAudienceNotAllowed and TokenIssuerNotAllowed; audiences may be expressions and ignore a trailing slash', async () => {
    const inner = `${HS_KEYS}<audiences><audience>@("https://" + context.Request.OriginalUrl.Host)</audience><audience>api://other/</audience></audiences><issuers><issuer>https://issuer.test/</issuer></issuers>`;
    const { gateway } = gatewayWith(inner);
    const ok1 = await send(gateway, '/api/x', { headers: { Authorization: `Bearer ${hs256(claims({ aud: 'https://127.0.0.1' }), SECRET)}` } });
    expect(ok1.status).toBe(200);
    const ok2 = await send(gateway, '/api/x', { headers: { Authorization: `Bearer ${hs256(claims({ aud: ['x', 'api://other'] }), SECRET)}` } });
    expect(ok2.status).toBe(200);
    const badAud = await send(gateway, '/api/x', { headers: { Authorization: `Bearer ${hs256(claims({ aud: 'api://nope' }), SECRET)}` } });
    expect(badAud.header('X-Reason')).toBe('TokenAudienceNotAllowed');
    const badIss = await send(gateway, '/api/x', {
      headers: { Authorization: `Bearer ${hs256(claims({ aud: 'api://other', iss: 'https://evil/' }), SECRET)}` },
    });
    expect(badIss.header('X-Reason')).toBe('TokenIssuerNotAllowed');
  });

  it('required claims: missing ones are listed together (TokenClaimNotFound); values use match all/any and separator', async () => {
    const inner = `${HS_KEYS}<required-claims>
      <claim name="role" match="any"><value>admin</value><value>ops</value></claim>
      <claim name="scp" match="all" separator=" "><value>read</value><value>write</value></claim>
      <claim name="tid" />
    </required-claims>`;
    const { gateway } = gatewayWith(inner);
    const go = (c: Record<string, unknown>) => send(gateway, '/api/x', { headers: { Authorization: `Bearer ${hs256(claims(c), SECRET)}` } });
    const missing = await go({ role: 'ops' });
    expect(missing.header('X-Reason')).toBe('TokenClaimNotFound');
    expect(missing.header('X-Message')).toBe('JWT token is missing the following claims: scp, tid. Access denied.');
    expect((await go({ role: ['x', 'ops'], scp: 'read write', tid: 't' })).status).toBe(200);
    const notAll = await go({ role: 'admin', scp: 'read', tid: 't' });
    expect(notAll.header('X-Reason')).toBe('TokenClaimValueNotAllowed');
    expect(notAll.header('X-Message')).toBe('Claim scp value of read is not allowed. Access denied.');
    const noneOf = await go({ role: 'guest', scp: 'write read', tid: 't' });
    expect(noneOf.header('X-Message')).toBe('Claim role value of guest is not allowed. Access denied.');
  });

  it('reads the token from query-parameter-name, token-value, or a custom header (bare token)', async () => {
    const token = hs256(claims(), SECRET);
    const q = gatewayWith(HS_KEYS, 'query-parameter-name="access_token"').gateway;
    expect((await send(q, `/api/x?access_token=${token}`)).status).toBe(200);
    expect((await send(q, '/api/x')).header('X-Reason')).toBe('TokenNotPresent');
    const tv = gatewayWith(HS_KEYS, 'token-value="@(context.Request.Headers.GetValueOrDefault(&quot;X-Tok&quot;, &quot;&quot;))"').gateway;
    expect((await send(tv, '/api/x', { headers: { 'X-Tok': token } })).status).toBe(200);
    const custom = gatewayWith(HS_KEYS, 'header-name="X-Token"').gateway;
    expect((await send(custom, '/api/x', { headers: { 'X-Token': token } })).status).toBe(200);
    expect((await send(custom, '/api/x', { headers: { 'X-Token': `Bearer ${token}` } })).header('X-Reason')).toBe('JwtInvalid');
  });

  it('validates RS256 with <key n e> and rejects unsigned tokens unless require-signed-tokens="false"', async () => {
    const { privateKey, n, e } = rsaPair();
    const { gateway } = gatewayWith(`<issuer-signing-keys><key n="${n}" e="${e}" /></issuer-signing-keys>`);
    expect((await send(gateway, '/api/x', { headers: { Authorization: `Bearer ${rs256(claims(), privateKey)}` } })).status).toBe(200);
    const forged = rs256(claims(), privateKey).replace(/\.[^.]+\./, `.${Buffer.from(JSON.stringify(claims({ sub: 'mallory' }))).toString('base64url')}.`);
    expect((await send(gateway, '/api/x', { headers: { Authorization: `Bearer ${forged}` } })).header('X-Reason')).toBe('TokenSignatureInvalid');
    const none = await send(gateway, '/api/x', { headers: { Authorization: `Bearer ${unsigned(claims())}` } });
    expect(none.header('X-Reason')).toBe('TokenSignatureInvalid');
    const lax = gatewayWith('', 'header-name="Authorization" require-signed-tokens="false"').gateway;
    expect((await send(lax, '/api/x', { headers: { Authorization: `Bearer ${unsigned(claims())}` } })).status).toBe(200);
  });

  it('<openid-config url> maps to local files: OpenID configuration with jwks_uri, issuer from the configuration', async () => {
    const { privateKey, n, e } = rsaPair();
    const dir = mkdtempSync(path.join(tmpdir(), 'apim-openid-'));
    writeFileSync(path.join(dir, 'openid.json'), JSON.stringify({ issuer: 'https://login.test/tenant/v2.0', jwks_uri: 'https://login.test/keys' }));
    writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify({ keys: [{ kty: 'RSA', kid: 'rsa-1', use: 'sig', n, e }] }));
    const settings = {
      configDir: dir,
      openidConfigs: { 'https://login.test/.well-known/openid-configuration': 'openid.json', 'https://login.test/keys': 'jwks.json' },
    };
    const { gateway, diagnostics } = gatewayWith('<openid-config url="https://login.test/.well-known/openid-configuration" />', 'header-name="Authorization"', {
      settings,
    });
    expect(diagnostics.filter((d) => d.code === 'settings/openid-config')).toEqual([]);
    const good = rs256(claims({ iss: 'https://login.test/tenant/v2.0' }), privateKey, { kid: 'rsa-1' });
    expect((await send(gateway, '/api/x', { headers: { Authorization: `Bearer ${good}` } })).status).toBe(200);
    const wrongIss = rs256(claims({ iss: 'https://elsewhere/' }), privateKey, { kid: 'rsa-1' });
    expect((await send(gateway, '/api/x', { headers: { Authorization: `Bearer ${wrongIss}` } })).header('X-Reason')).toBe('TokenIssuerNotAllowed');
    rmSync(dir, { recursive: true, force: true });
  });

  it('an unmapped <openid-config> loads with a warning and fails validation with TokenSignatureKeyNotFound naming the URL', async () => {
    const { gateway, diagnostics } = gatewayWith('<openid-config url="https://login.microsoftonline.com/common/.well-known/openid-configuration" />');
    const w = diagnostics.find((d) => d.code === 'settings/openid-config');
    expect(w?.severity).toBe('warning');
    expect(w?.message).toContain('not mapped to a local file');
    const r = await send(gateway, '/api/x', { headers: { Authorization: `Bearer ${hs256(claims(), SECRET)}` } });
    expect(r.header('X-Reason')).toBe('TokenSignatureKeyNotFound');
    expect(r.header('X-Message')).toContain('settings.openidConfigs');
  });

  it('reports bad configuration at load time with positions', () => {
    const bad = tryBuildGateway({
      api: policies({
        inbound:
          '<validate-jwt header-name="Authorization" query-parameter-name="t"><issuer-signing-keys><key>not base64!</key><key n="abc" /></issuer-signing-keys><decryption-keys><key n="abc" e="AQAB" /></decryption-keys></validate-jwt>',
      }),
    });
    expect(bad.gateway).toBeNull();
    const codes = bad.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}@${d.line}:${d.column}`);
    expect(codes).toEqual(expect.arrayContaining([expect.stringMatching(/^policy\/conflicting-attributes@2:/), expect.stringMatching(/^policy\/bad-key@/)]));
    // Two bad signing keys, and a public key where a decryption key is needed.
    expect(bad.diagnostics.filter((d) => d.code === 'policy/bad-key').map((d) => d.message)).toEqual([
      '<key> text is not a base64-encoded key',
      '<key> needs both n and e',
      '<key n e> in <decryption-keys> is an RSA public key: a public key cannot decrypt a token',
    ]);
    const none = tryBuildGateway({ api: policies({ inbound: '<validate-jwt />' }) });
    expect(none.diagnostics.map((d) => d.message)).toContain(
      '<validate-jwt> needs one of the attributes "header-name", "query-parameter-name" or "token-value"',
    );
  });
});

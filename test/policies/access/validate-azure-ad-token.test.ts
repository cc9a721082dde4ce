import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/clock.js';
import { formatDiagnosticLine } from '../../../src/diagnostics/diagnostic.js';
import { CORPUS_PRESENT, corpusLabs, fillPlaceholders } from '../../helpers/corpus.js';
import { buildGateway, policies, send, tryBuildGateway } from '../../helpers/gateway.js';
import { rs256, rsaPair, secs } from './tokens.js';

const START = Date.UTC(2025, 0, 1);
const TENANT = '11111111-1111-1111-1111-111111111111';
const CLIENT = '22222222-2222-2222-2222-222222222222';
const ON_ERROR =
  '<set-header name="X-Reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header><set-header name="X-Source" exists-action="override"><value>@(context.LastError.Source)</value></set-header>';

/** The tenant's OpenID configuration and keys, inline in settings (as a config file would give them). */
function entraSettings(): Record<string, unknown> {
  const { n, e } = rsaPair();
  return {
    openidConfigs: {
      [`https://login.microsoftonline.com/${TENANT}/v2.0/.well-known/openid-configuration`]: {
        issuer: `https://login.microsoftonline.com/${TENANT}/v2.0`,
        jwks: { keys: [{ kty: 'RSA', use: 'sig', kid: 'entra-1', n, e }] },
      },
    },
  };
}

const v1 = (extra: Record<string, unknown> = {}) => ({
  iss: `https://sts.windows.net/${TENANT}/`,
  aud: 'https://cognitiveservices.azure.com',
  appid: CLIENT,
  tid: TENANT,
  exp: secs(START) + 3600,
  ...extra,
});
const sign = (claims: Record<string, unknown>) => `Bearer ${rs256(claims, rsaPair().privateKey, { kid: 'entra-1' })}`;

describe('validate-azure-ad-token', () => {
  const gw = (inner: string, attrs = '') =>
    buildGateway({
      clock: new VirtualClock(START),
      settings: entraSettings(),
      api: policies({
        inbound: `<validate-azure-ad-token tenant-id="${TENANT}" ${attrs}>${inner}</validate-azure-ad-token><return-response />`,
        onError: ON_ERROR,
      }),
    }).gateway;

  it('accepts v1 and v2 tokens of the tenant from the Authorization header (Bearer), checking client application ids', async () => {
    const g = gw(`<client-application-ids><application-id>${CLIENT}</application-id></client-application-ids>`, 'output-token-variable-name="jwt"');
    expect((await send(g, '/api/x', { headers: { Authorization: sign(v1()) } })).status).toBe(200);
    const v2 = { ...v1(), iss: `https://login.microsoftonline.com/${TENANT}/v2.0`, azp: CLIENT };
    delete (v2 as Record<string, unknown>).appid;
    const r = await send(g, '/api/x', { headers: { Authorization: sign(v2) } });
    expect(r.status).toBe(200);
    expect(r.context!.variables.has('jwt')).toBe(true);
    const otherApp = await send(g, '/api/x', { headers: { Authorization: sign(v1({ appid: 'someone-else' })) } });
    expect(otherApp.status).toBe(401);
    expect(otherApp.header('X-Reason')).toBe('TokenClaimValueNotAllowed');
    expect(otherApp.header('X-Source')).toBe('validate-azure-ad-token');
  });

  it("rejects another tenant's issuer, a missing token, an unsigned scheme, and an expired token", async () => {
    const g = gw(
      '<audiences><audience>https://cognitiveservices.azure.com</audience></audiences>',
      'failed-validation-error-message="Unauthorized. A valid Entra token is required."',
    );
    const iss = await send(g, '/api/x', { headers: { Authorization: sign(v1({ iss: 'https://sts.windows.net/33333333-3333-3333-3333-333333333333/' })) } });
    expect(iss.header('X-Reason')).toBe('TokenIssuerNotAllowed');
    expect(iss.json()).toEqual({ statusCode: 401, message: 'Unauthorized. A valid Entra token is required.' });
    expect((await send(g, '/api/x')).header('X-Reason')).toBe('TokenNotPresent');
    expect((await send(g, '/api/x', { headers: { Authorization: sign(v1()).replace('Bearer', 'Basic') } })).header('X-Reason')).toBe('TokenNotPresent');
    expect((await send(g, '/api/x', { headers: { Authorization: sign(v1({ exp: secs(START) - 1 })) } })).header('X-Reason')).toBe('TokenExpired');
    expect((await send(g, '/api/x', { headers: { Authorization: sign(v1({ aud: 'https://management.azure.com/' })) } })).header('X-Reason')).toBe(
      'TokenAudienceNotAllowed',
    );
  });

  it('backend-application-ids match aud (bare id or api://id)', async () => {
    const g = gw('<backend-application-ids><application-id>44444444-4444-4444-4444-444444444444</application-id></backend-application-ids>');
    expect((await send(g, '/api/x', { headers: { Authorization: sign(v1({ aud: 'api://44444444-4444-4444-4444-444444444444' })) } })).status).toBe(200);
    expect((await send(g, '/api/x', { headers: { Authorization: sign(v1()) } })).header('X-Reason')).toBe('TokenAudienceNotAllowed');
  });

  it('an unmapped tenant loads with a warning and fails at run time with TokenSignatureKeyNotFound', async () => {
    const { gateway, diagnostics } = buildGateway({
      clock: new VirtualClock(START),
      api: policies({ inbound: `<validate-azure-ad-token tenant-id="${TENANT}" /><return-response />`, onError: ON_ERROR }),
    });
    expect(diagnostics.find((d) => d.code === 'settings/openid-config')?.severity).toBe('warning');
    expect((await send(gateway, '/api/x', { headers: { Authorization: sign(v1()) } })).header('X-Reason')).toBe('TokenSignatureKeyNotFound');
  });

  it('tenant-id may be an expression (keys resolved per tenant)', async () => {
    const { gateway } = buildGateway({
      clock: new VirtualClock(START),
      settings: entraSettings(),
      api: policies({
        inbound:
          '<validate-azure-ad-token tenant-id="@(context.Request.Headers.GetValueOrDefault(&quot;X-Tenant&quot;, &quot;none&quot;))" /><return-response />',
        onError: ON_ERROR,
      }),
    });
    expect((await send(gateway, '/api/x', { headers: { Authorization: sign(v1()), 'X-Tenant': TENANT } })).status).toBe(200);
    expect((await send(gateway, '/api/x', { headers: { Authorization: sign(v1()) } })).header('X-Reason')).toBe('TokenSignatureKeyNotFound');
  });
});

/** The labs' identity and access policies load without errors of their own (other policies' errors are other issues'). */
describe.skipIf(!CORPUS_PRESENT)('corpus: identity and access policies', () => {
  const MINE = [
    'authentication-managed-identity',
    'get-authorization-context',
    'validate-jwt',
    'validate-azure-ad-token',
    'check-header',
    'ip-filter',
    'cors',
    'authentication-basic',
    'authentication-certificate',
  ];

  it('every lab file using them compiles them without errors', () => {
    const labs = corpusLabs().filter((l) => MINE.some((p) => l.text.includes(`<${p}`)));
    expect(labs.length).toBeGreaterThanOrEqual(55);
    const problems: string[] = [];
    for (const lab of labs) {
      const text = fillPlaceholders(lab.text, lab.placeholders);
      const namedValues: Record<string, string> = {};
      for (const m of text.matchAll(/\{\{([^{}]+)\}\}/g)) namedValues[m[1]!.trim()] = `nv-${m[1]!.trim()}`;
      const { diagnostics } = tryBuildGateway({ api: text, backends: lab.backends.map((b) => b.text), namedValues });
      for (const d of diagnostics) {
        if (d.severity !== 'error') continue;
        if (d.code.startsWith('settings/') || MINE.some((p) => d.message.includes(`<${p}>`)) || /bad-(key|origin|address)/.test(d.code))
          problems.push(`${lab.file}: ${formatDiagnosticLine(d)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('access-controlling lab: a token of the lab tenant and client app passes, another app is rejected', async () => {
    const lab = corpusLabs().find((l) => l.file === 'access-controlling__policy.xml');
    expect(lab).toBeDefined();
    const text = fillPlaceholders(lab!.text, lab!.placeholders).replace(
      '<set-backend-service backend-id="foundry1" />',
      '<return-response><set-body>passed</set-body></return-response>',
    );
    const { gateway } = buildGateway({ clock: new VirtualClock(START), settings: entraSettings(), api: text });
    expect(lab!.placeholders['{tenant-id}']).toBe(TENANT);
    const ok = await send(gateway, '/api/x', { headers: { Authorization: sign(v1({ appid: lab!.placeholders['{client-application-id}'] })) } });
    expect(ok.text).toBe('passed');
    const denied = await send(gateway, '/api/x', { headers: { Authorization: sign(v1({ appid: 'intruder' })) } });
    expect(denied.status).toBe(401);
    expect(denied.json()).toEqual({ statusCode: 401, message: 'Invalid JWT.' });
  });
});

import { OPENID_CONFIGS_SETTING } from './support/identity-settings.js';
import type { GatewayContext, PolicyDefinition, ValueGetter } from '../engine/policy-sdk.js';
import { childElements } from '../engine/policy-sdk.js';
import {
  AUDIENCES_ELEMENT,
  compileAudiences,
  compileDecryptionKeys,
  compileRequiredClaims,
  compileTokenSource,
  openIdKeySet,
  outputVariable,
  REQUIRED_CLAIMS_ELEMENT,
  runValidation,
  sameAudience,
  TOKEN_ATTRIBUTES,
  tokenAudiences,
} from './support/jwt-validation.js';
import type { KeySet, ValidationPlan } from './support/jwt-validation.js';

const DEFAULT_ENDPOINT = 'https://login.microsoftonline.com/';

/**
 * `<validate-azure-ad-token tenant-id>`: validate-jwt specialised for Microsoft Entra ID. Keys and issuer come from the
 * tenant's OpenID configuration (`{authentication-endpoint}/{tenant}/v2.0/.well-known/openid-configuration`, or the v1
 * URL), mapped to a local file in `settings.openidConfigs`. Issuers accepted: the configuration's, plus the v1
 * `https://sts.windows.net/{tenant}/` and v2 `{endpoint}/{tenant}/v2.0` forms. Client application ids are matched
 * against `appid` (v1) or `azp` (v2), backend application ids against `aud`. `<decryption-keys>` (base64 key or
 * certificate-id) decrypts encrypted tokens first, as in validate-jwt.
 * Attribute and element tables: learn.microsoft.com/azure/api-management/validate-azure-ad-token-policy (read
 * 2026-12-02: client-application-ids optional, "one or more audience claims should be specified" without it;
 * decryption-keys added 06/2024; authentication-endpoint).
 */
export const validateAzureAdToken: PolicyDefinition = {
  name: 'validate-azure-ad-token',
  summary: 'Validates a Microsoft Entra token against the tenant (OpenID configuration from a local file), app ids, audiences, claims.',
  support: 'approximate',
  settings: [OPENID_CONFIGS_SETTING],
  sections: ['inbound'],
  attributes: [
    { name: 'tenant-id', required: true, expressions: true },
    ...TOKEN_ATTRIBUTES.map((a) => (a.name === 'header-name' ? { ...a, default: 'Authorization' } : a)),
    { name: 'authentication-endpoint', expressions: false, default: DEFAULT_ENDPOINT },
  ],
  // Not ordered: doc revisions list the child elements in different orders.
  elements: [
    // The docs mark client-application-ids "required", but AI-Gateway labs deploy the policy with audiences only.
    { name: 'client-application-ids', max: 1, elements: [{ name: 'application-id', min: 1, text: { expressions: false, required: true } }] },
    { name: 'backend-application-ids', max: 1, elements: [{ name: 'application-id', min: 1, text: { expressions: false, required: true } }] },
    AUDIENCES_ELEMENT,
    REQUIRED_CLAIMS_ELEMENT,
    {
      name: 'decryption-keys',
      max: 1,
      elements: [{ name: 'key', min: 1, attributes: [{ name: 'certificate-id', expressions: false }], text: { expressions: false } }],
    },
  ],
  compile(el, cx) {
    const tenant = cx.string(el, 'tenant-id')!;
    const endpoint = (cx.attributeSpan(el, 'authentication-endpoint')?.text.trim() || DEFAULT_ENDPOINT).replace(/\/+$/, '');
    const tenantSpan = cx.attributeSpan(el, 'tenant-id');
    const literalTenant = tenantSpan && !tenantSpan.text.trim().startsWith('@') ? tenantSpan.text.trim() : undefined;

    // Key sets per tenant: resolved at load time for a literal tenant, on first use for an expression.
    const keySets = new Map<string, KeySet>();
    const keysFor = (t: string, report: boolean): KeySet => {
      let ks = keySets.get(t);
      if (ks) return ks;
      const urls = [`${endpoint}/${t}/v2.0/.well-known/openid-configuration`, `${endpoint}/${t}/.well-known/openid-configuration`];
      ks = { keys: [], issuers: [] };
      let mapped = false;
      for (const url of urls) {
        const r = openIdKeySet(cx.services, url);
        if (!r.ok) {
          if (report)
            cx.diagnostics.error(
              el.source,
              cx.offsetOf(el, 'tenant-id'),
              'settings/openid-config',
              r.message,
              'see docs/policies-ai.md (settings.openidConfigs)',
            );
          continue;
        }
        if (!r.value) continue;
        mapped = true;
        ks.keys.push(...r.value.keys);
        ks.issuers.push(...r.value.issuers);
      }
      if (!mapped) {
        ks.problem = `no OpenID configuration for tenant ${t}: map ${urls[0]} in settings.openidConfigs`;
        if (report)
          cx.diagnostics.warning(
            el.source,
            cx.offsetOf(el, 'tenant-id'),
            'settings/openid-config',
            `the OpenID configuration of tenant "${t}" is not mapped to a local file, so tokens cannot be validated (apim-emulator makes no network calls)`,
            `add settings.openidConfigs["${urls[0]}"]: an OpenID configuration or JWKS (object or file path)`,
          );
      } else {
        // The tenant's own issuer forms (v1 and v2) are accepted besides the configuration's.
        ks.issuers.push(`https://sts.windows.net/${t}/`, `${endpoint}/${t}/v2.0`);
      }
      keySets.set(t, ks);
      return ks;
    };
    if (literalTenant) keysFor(literalTenant, true);

    const clientIds = childElements(el, 'client-application-ids')
      .flatMap((c) => childElements(c, 'application-id'))
      .map((a) => cx.text(a))
      .filter((g): g is ValueGetter<string> => g !== undefined);
    const backendIds = childElements(el, 'backend-application-ids')
      .flatMap((c) => childElements(c, 'application-id'))
      .map((a) => cx.text(a))
      .filter((g): g is ValueGetter<string> => g !== undefined);

    const base: Omit<ValidationPlan, 'keys'> = {
      policy: 'validate-azure-ad-token',
      // A custom header carries the bare token; Authorization carries "Bearer <token>" (policy docs).
      extract: compileTokenSource(el, cx, 'Authorization', () => 'Bearer'),
      failedCode: cx.int(el, 'failed-validation-httpcode') ?? (() => 401),
      failedMessage: cx.string(el, 'failed-validation-error-message'),
      requireExpiration: () => true,
      requireSigned: () => true,
      clockSkewS: () => 0,
      decryptionKeys: compileDecryptionKeys(el, cx),
      audiences: compileAudiences(el, cx),
      issuers: [],
      claims: compileRequiredClaims(el, cx),
      outputVariable: outputVariable(el),
      extra: (d, ctx: GatewayContext) => {
        if (clientIds.length > 0) {
          const app = typeof d.payload.appid === 'string' ? d.payload.appid : typeof d.payload.azp === 'string' ? d.payload.azp : '';
          const allowed = clientIds.map((g) => g(ctx).trim());
          if (!allowed.includes(app))
            return {
              reason: 'TokenClaimValueNotAllowed',
              message: `Claim ${'appid' in d.payload ? 'appid' : 'azp'} value of ${app} is not allowed. Access denied.`,
            };
        }
        if (backendIds.length > 0) {
          const allowed = backendIds.map((g) => g(ctx).trim()).flatMap((id) => [id, `api://${id}`]);
          const aud = tokenAudiences(d);
          if (!aud.some((a) => allowed.some((x) => sameAudience(a, x)))) {
            return {
              reason: 'TokenAudienceNotAllowed',
              message: `IDX10214: Audience validation failed. Audiences: '${aud.join(', ')}'. Did not match the backend application ids: '${allowed.join(', ')}'. Access denied.`,
            };
          }
        }
        return null;
      },
    };
    const fixed = literalTenant ? { ...base, keys: keysFor(literalTenant, false) } : undefined;
    return (ctx) => {
      const r = runValidation(fixed ?? { ...base, keys: keysFor(tenant(ctx).trim(), false) }, ctx);
      return r ? r.then(() => 'continue' as const) : 'continue';
    };
  },
};

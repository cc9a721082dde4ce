import { CERTIFICATES_SETTING, OPENID_CONFIGS_SETTING } from './support/identity-settings.js';
import type { PolicyDefinition } from '../engine/policy-sdk.js';
import {
  AUDIENCES_ELEMENT,
  compileAudiences,
  compileDecryptionKeys,
  compileOpenIdConfigs,
  compileRequiredClaims,
  compileSigningKeys,
  compileTokenSource,
  outputVariable,
  REQUIRED_CLAIMS_ELEMENT,
  runValidation,
  TOKEN_ATTRIBUTES,
} from './support/jwt-validation.js';
import type { ValidationPlan } from './support/jwt-validation.js';

const KEY_ELEMENT = {
  name: 'key',
  min: 1,
  attributes: [
    { name: 'id', expressions: false },
    { name: 'certificate-id', expressions: false },
    { name: 'n', expressions: false },
    { name: 'e', expressions: false },
  ],
  text: { expressions: false },
} as const;

/**
 * `<validate-jwt>`: real JWS validation (HS*, RS*, PS*, ES*) with inline keys, certificates from settings, or OpenID
 * configurations mapped to local files (`settings.openidConfigs`); encrypted tokens (JWE) decrypted with
 * `<decryption-keys>` (jose), then validated as their inner JWS; lifetime with clock-skew on the injected clock,
 * audiences, issuers, required claims; APIM's LastError reasons (docs/apim-behaviour.md: Errors and LastError reasons; docs/emulator-choices.md).
 * Attribute and element tables: learn.microsoft.com/azure/api-management/validate-jwt-policy (read 2026-12-02).
 */
export const validateJwt: PolicyDefinition = {
  name: 'validate-jwt',
  summary: 'Validates a JWT (signature, lifetime, audience, issuer, claims); OpenID configurations come from local files.',
  support: 'approximate',
  settings: [CERTIFICATES_SETTING, OPENID_CONFIGS_SETTING],
  sections: ['inbound'],
  attributes: [
    ...TOKEN_ATTRIBUTES,
    { name: 'require-expiration-time', expressions: true, kind: 'bool', default: 'true' },
    { name: 'require-scheme', expressions: true },
    { name: 'require-signed-tokens', expressions: true, kind: 'bool', default: 'true' },
    { name: 'clock-skew', expressions: true, kind: 'int', min: 0, default: '0' },
  ],
  ordered: true,
  elements: [
    {
      name: 'openid-config',
      attributes: [
        { name: 'url', required: true, expressions: false },
        { name: 'validate-connectivity', expressions: false, kind: 'bool' },
      ],
    },
    { name: 'issuer-signing-keys', max: 1, elements: [KEY_ELEMENT] },
    { name: 'decryption-keys', max: 1, elements: [KEY_ELEMENT] },
    AUDIENCES_ELEMENT,
    { name: 'issuers', max: 1, elements: [{ name: 'issuer', min: 1, text: { expressions: true, required: true } }] },
    REQUIRED_CLAIMS_ELEMENT,
  ],
  compile(el, cx) {
    const requireScheme = cx.string(el, 'require-scheme');
    const openId = compileOpenIdConfigs(el, cx);
    const plan: ValidationPlan = {
      policy: 'validate-jwt',
      extract: compileTokenSource(el, cx, undefined, requireScheme),
      failedCode: cx.int(el, 'failed-validation-httpcode') ?? (() => 401),
      failedMessage: cx.string(el, 'failed-validation-error-message'),
      requireExpiration: cx.bool(el, 'require-expiration-time') ?? (() => true),
      requireSigned: cx.bool(el, 'require-signed-tokens') ?? (() => true),
      clockSkewS: cx.int(el, 'clock-skew') ?? (() => 0),
      keys: { keys: [...compileSigningKeys(el, cx), ...openId.keys], issuers: openId.issuers, ...(openId.problem ? { problem: openId.problem } : {}) },
      decryptionKeys: compileDecryptionKeys(el, cx),
      audiences: compileAudiences(el, cx),
      issuers: compileAudiences(el, cx, 'issuers', 'issuer'),
      claims: compileRequiredClaims(el, cx),
      outputVariable: outputVariable(el),
    };
    return (ctx) => {
      const r = runValidation(plan, ctx);
      return r ? r.then(() => 'continue' as const) : 'continue';
    };
  },
};

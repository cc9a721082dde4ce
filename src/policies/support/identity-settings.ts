import type { RuntimeServices, SettingResult, SettingSpec } from '../../engine/policy-sdk.js';
import { defineSetting } from '../../engine/policy-sdk.js';

/**
 * The settings the identity policies read (config file `settings.<name>`): objects whose entries the policies check
 * in detail at compile time, with messages naming the JSON path of a bad value. Files named in them are read through
 * RuntimeServices.files, which the shell provides (relative to the config file's folder): the engine reads no files.
 */

export type { SettingResult } from '../../engine/policy-sdk.js';

function objectSetting(key: string, describe: string): SettingSpec<Record<string, unknown>> {
  return defineSetting(key, describe, (v) =>
    typeof v !== 'object' || v === null || Array.isArray(v)
      ? { ok: false, message: `settings.${key} must be an object` }
      : { ok: true, value: v as Record<string, unknown> },
  );
}

export const MANAGED_IDENTITY_SETTING = objectSetting(
  'managedIdentity',
  'managed identity tokens: secret, lifetimeSeconds, ids, fixed tokens, unavailable resources',
);
export const AUTHORIZATION_CONNECTIONS_SETTING = objectSetting(
  'authorizationConnections',
  'credential manager connections: "<provider>/<authorization>" → { accessToken, claims }',
);
export const CERTIFICATES_SETTING = objectSetting('certificates', 'certificates by id: PEM text or { "file": "cert.pem" }');
export const OPENID_CONFIGS_SETTING = objectSetting('openidConfigs', 'OpenID configurations / JWKS by URL: an object or the path of a JSON file');

/** A top-level settings object, or undefined when absent. */
export function settingsObject(services: RuntimeServices, spec: SettingSpec<Record<string, unknown>>): SettingResult<Record<string, unknown> | undefined> {
  return services.setting(spec);
}

/** A JSON document given inline (an object) or as a file path (string). Read once at load time; the message names the settings path and the file. */
export function jsonDocument(services: RuntimeServices, value: unknown, where: string): SettingResult<Record<string, unknown>> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { ok: true, value: value as Record<string, unknown> };
  if (typeof value !== 'string') return { ok: false, message: `${where} must be a JSON object or the path of a JSON file` };
  const read = services.files.readText(value);
  if (!read.ok) return { ok: false, message: `${where}: ${read.message}` };
  try {
    const v: unknown = JSON.parse(read.value);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, message: `${where}: ${value} does not hold a JSON object` };
    return { ok: true, value: v as Record<string, unknown> };
  } catch (e) {
    return { ok: false, message: `${where}: ${value} is not valid JSON (${(e as Error).message})` };
  }
}

/** Text given inline or from a file (`{ "file": "x.pem" }`), e.g. a PEM certificate. */
export function textDocument(services: RuntimeServices, value: unknown, where: string): SettingResult<string> {
  if (typeof value === 'string') return { ok: true, value };
  if (typeof value === 'object' && value !== null && typeof (value as { file?: unknown }).file === 'string') {
    const read = services.files.readText((value as { file: string }).file);
    return read.ok ? read : { ok: false, message: `${where}: ${read.message}` };
  }
  return { ok: false, message: `${where} must be a string or { "file": "<path>" }` };
}

import type { ErrorObject, ValidateFunction } from 'ajv';
import * as generated from '../generated/backends-schema.js';

/**
 * The api-version aware JSON Schema of backend `properties` (schemas/backends.schema.json), one validator per level,
 * precompiled by ajv into src/generated/backends-schema.ts (src/cli/generate-validators.ts; compiling the schema at
 * every start cost ~150 ms, docs/performance.md). A resource's apiVersion maps to the newest level not later than it
 * (by date), so `acceptRetryAfter` on 2023-05-01-preview fails as an additional property; `featureSince` turns that
 * into "available from …".
 */

const validators = generated as unknown as Record<string, ValidateFunction | undefined>;

export const API_VERSION_LEVELS: readonly string[] = [
  '2021-08-01',
  '2023-03-01-preview',
  '2023-05-01-preview',
  '2023-09-01-preview',
  '2024-10-01-preview',
  '2025-03-01-preview',
];

/** Newest schema level; used when the input carries no apiVersion (plain lists, REST responses). */
export const NEWEST_LEVEL = API_VERSION_LEVELS[API_VERSION_LEVELS.length - 1]!;

export const API_VERSION_PATTERN = /^(\d{4}-\d{2}-\d{2})(-preview)?$/;

/** The schema level an apiVersion is validated against, or undefined when it is not `yyyy-mm-dd[-preview]`. */
export function levelFor(apiVersion: string): string | undefined {
  const m = API_VERSION_PATTERN.exec(apiVersion);
  if (!m) return undefined;
  let level = API_VERSION_LEVELS[0]!;
  for (const l of API_VERSION_LEVELS) if (l.slice(0, 10) <= m[1]!) level = l;
  return level;
}

/** True when the level (from levelFor) includes a feature introduced at `since`. */
export function levelHas(level: string, since: string): boolean {
  return API_VERSION_LEVELS.indexOf(level) >= API_VERSION_LEVELS.indexOf(since);
}

export function validateProperties(level: string, properties: unknown): ErrorObject[] {
  const fn = validators[`level_${level.replace(/-/g, '_')}`];
  if (!fn) throw new Error(`schemas/backends.schema.json has no level ${level}`);
  return fn(properties) ? [] : [...(fn.errors ?? [])];
}

/**
 * Properties that only exist from some api-version on, keyed by the parent's JSON pointer with indices as `*` and the
 * property name. Used to explain ajv's additionalProperties errors.
 */
const FEATURES: Array<{ parent: RegExp; key: string; since: string }> = [
  { parent: /^$/, key: 'circuitBreaker', since: '2023-03-01-preview' },
  { parent: /^$/, key: 'type', since: '2023-05-01-preview' },
  { parent: /^$/, key: 'pool', since: '2023-05-01-preview' },
  { parent: /^$/, key: 'azureRegion', since: '2025-03-01-preview' },
  { parent: /^\/circuitBreaker\/rules\/\*$/, key: 'acceptRetryAfter', since: '2023-09-01-preview' },
  { parent: /^\/circuitBreaker\/rules\/\*$/, key: 'failureResponse', since: '2024-10-01-preview' },
  { parent: /^\/pool\/services\/\*$/, key: 'priority', since: '2023-09-01-preview' },
  { parent: /^\/pool\/services\/\*$/, key: 'weight', since: '2023-09-01-preview' },
  { parent: /^\/pool\/services\/\*$/, key: 'preferredCarbonEmission', since: '2025-03-01-preview' },
  { parent: /^\/pool$/, key: 'sessionAffinity', since: '2024-10-01-preview' },
  { parent: /^\/pool$/, key: 'failureResponse', since: '2024-10-01-preview' },
  { parent: /^\/tls$/, key: 'serverCertificateThumbprints', since: '2025-03-01-preview' },
  { parent: /^\/tls$/, key: 'serverX509Names', since: '2025-03-01-preview' },
];

/** The api-version that introduced `key` under `parentPointer`, when it is a version-gated property. */
export function featureSince(parentPointer: string, key: string): string | undefined {
  const p = parentPointer.replace(/\/\d+(?=\/|$)/g, '/*');
  return FEATURES.find((f) => f.key === key && f.parent.test(p))?.since;
}

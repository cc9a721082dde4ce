import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_VERSION_LEVELS, levelFor } from '../../src/backends/index.js';

type S = { properties?: Record<string, S>; items?: S; $ref?: string; $defs?: Record<string, S>; 'x-apiVersionLevels'?: string[] };
const schema = JSON.parse(readFileSync(new URL('../../schemas/backends.schema.json', import.meta.url), 'utf8')) as S;
const deref = (s: S): S => (s.$ref ? schema.$defs![s.$ref.replace('#/$defs/', '')]! : s);
const at = (level: string, path: string[]): S | undefined => {
  let cur: S | undefined = schema.$defs![`BackendContractProperties-${level}`];
  for (const seg of path) {
    if (!cur) return undefined;
    cur = deref(cur);
    cur = seg === '*' ? cur.items : cur.properties?.[seg];
  }
  return cur;
};

describe('schemas/backends.schema.json', () => {
  it('declares the same api-version levels as the loader', () => {
    expect(schema['x-apiVersionLevels']).toEqual([...API_VERSION_LEVELS]);
  });

  it('maps api-versions to levels by date', () => {
    expect(levelFor('2023-05-01-preview')).toBe('2023-05-01-preview');
    expect(levelFor('2024-05-01')).toBe('2023-09-01-preview');
    expect(levelFor('2024-06-01-preview')).toBe('2023-09-01-preview');
    expect(levelFor('2025-09-01-preview')).toBe('2025-03-01-preview');
    expect(levelFor('2019-12-01')).toBe('2021-08-01');
    expect(levelFor('v2')).toBeUndefined();
  });

  // Each version-gated property appears exactly from the level that introduced it (docs/backends.md).
  const gated: Array<[string[], string]> = [
    [['circuitBreaker'], '2023-03-01-preview'],
    [['pool'], '2023-05-01-preview'],
    [['type'], '2023-05-01-preview'],
    [['circuitBreaker', 'rules', '*', 'acceptRetryAfter'], '2023-09-01-preview'],
    [['pool', 'services', '*', 'priority'], '2023-09-01-preview'],
    [['pool', 'services', '*', 'weight'], '2023-09-01-preview'],
    [['pool', 'sessionAffinity'], '2024-10-01-preview'],
    [['pool', 'failureResponse'], '2024-10-01-preview'],
    [['circuitBreaker', 'rules', '*', 'failureResponse'], '2024-10-01-preview'],
    [['azureRegion'], '2025-03-01-preview'],
    [['pool', 'services', '*', 'preferredCarbonEmission'], '2025-03-01-preview'],
    [['tls', 'serverX509Names'], '2025-03-01-preview'],
  ];
  for (const [path, since] of gated) {
    it(`${path.join('.')} exists from ${since}`, () => {
      const presence = API_VERSION_LEVELS.map((l) => at(l, path) !== undefined);
      const from = API_VERSION_LEVELS.indexOf(since);
      expect(presence).toEqual(API_VERSION_LEVELS.map((_, i) => i >= from));
    });
  }
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generatedFile, generateValidatorSource, SCHEMA_SPECS } from '../../src/cli/generate-validators.js';
import { API_VERSION_LEVELS, validateProperties } from '../../src/backends/schema.js';

// The precompiled JSON Schema validators (src/generated/) must be what ajv generates from today's schemas/: a schema
// edited without `npm run generate:validators` fails here, naming the command.
describe('precompiled schema validators', () => {
  for (const spec of SCHEMA_SPECS) {
    it(`src/generated/${spec.module}.ts matches schemas/${spec.schema}`, () => {
      const onDisk = readFileSync(generatedFile(spec), 'utf8');
      const fresh = generateValidatorSource(spec);
      expect(onDisk === fresh, `src/generated/${spec.module}.ts is stale: run npm run generate:validators`).toBe(true);
    });
  }

  it('has a validator for every api-version level the backends code knows, with verbose errors', () => {
    for (const level of API_VERSION_LEVELS) {
      const errors = validateProperties(level, { url: 'https://x', protocol: 'http', bogus: 1 });
      expect(errors.map((e) => [e.keyword, e.params])).toEqual([['additionalProperties', { additionalProperty: 'bogus' }]]);
      // The diagnostics' hints read parentSchema (ajv's verbose option): it must survive precompilation.
      expect(Object.keys((errors[0]!.parentSchema as { properties: object }).properties)).toContain('url');
    }
    // The custom ISO-8601 duration format (PT0.5S is valid .NET) runs inside the generated code.
    const rule = (tripDuration: string) => ({
      url: 'https://x',
      protocol: 'http',
      circuitBreaker: { rules: [{ name: 'r', failureCondition: { count: 1, interval: 'PT1M', statusCodeRanges: [{ min: 429, max: 429 }] }, tripDuration }] },
    });
    expect(validateProperties('2024-10-01-preview', rule('PT0.5S'))).toEqual([]);
    expect(validateProperties('2024-10-01-preview', rule('half a second')).map((e) => e.keyword)).toEqual(['format']);
  });
});

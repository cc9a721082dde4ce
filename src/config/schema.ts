import type { ValidateFunction } from 'ajv';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { SourceText } from '../diagnostics/source.js';
import { schemaDiagnostics } from '../diagnostics/ajv.js';
import type { JsonNode } from '../source/json.js';
import * as generated from '../generated/config-schema.js';

/** schemas/config.schema.json, read next to the package (same depth from src/ and dist/). */
export const CONFIG_SCHEMA_URL = new URL('../../schemas/config.schema.json', import.meta.url);

/**
 * Validators of the whole file ('') and of its definitions (e.g. 'namedValueMap'), precompiled by ajv into
 * src/generated/config-schema.ts (src/cli/generate-validators.ts): no schema compilation at start-up.
 */
const validators: Record<string, ValidateFunction> = {
  '': generated.config as unknown as ValidateFunction,
  namedValueMap: generated.namedValueMap as unknown as ValidateFunction,
};

function getValidator(definition = ''): ValidateFunction {
  const v = validators[definition];
  if (!v) throw new Error(`schemas/config.schema.json has no precompiled definition ${definition}`);
  return v;
}

/**
 * Validates a parsed configuration against the JSON Schema. Each ajv error becomes one diagnostic naming the JSON path,
 * the line/column of the offending value (or key) in the file, what is wrong and what is allowed.
 */
export function validateConfigSchema(value: unknown, root: JsonNode, source: SourceText, definition = ''): Diagnostic[] {
  const v = getValidator(definition);
  if (v(value)) return [];
  // $refs hide the schema path of oneOf branches: recognise them by location.
  return schemaDiagnostics(v.errors ?? [], root, source, { code: 'config/schema', oneOfBranches: 'location', requiredHint: 'properties' });
}

import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import type { JsonNode } from '../source/json.js';
import { schemaDiagnostics } from '../diagnostics/ajv.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { SourceText } from '../diagnostics/source.js';

/** schemas/scenario.schema.json, next to the package (same depth from src/ and dist/). */
export const SCENARIO_SCHEMA_URL = new URL('../../schemas/scenario.schema.json', import.meta.url);

let validator: ValidateFunction | undefined;

function getValidator(): ValidateFunction {
  if (validator) return validator;
  const schema = JSON.parse(readFileSync(SCENARIO_SCHEMA_URL, 'utf8')) as Record<string, unknown>;
  // The schema is ours and checked by the tests; skipping meta-schema validation saves its compilation on every CLI run.
  const ajv = new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true, strict: false, validateSchema: false });
  validator = ajv.compile(schema);
  return validator;
}

/** Validates a parsed scenario; each problem names the JSON path, line and column, what is wrong and what is allowed. */
export function validateScenarioSchema(value: unknown, root: JsonNode, source: SourceText): Diagnostic[] {
  const v = getValidator();
  if (v(value)) return [];
  return schemaDiagnostics(v.errors ?? [], root, source, { code: 'scenario/schema', oneOfBranches: 'schemaPath', requiredHint: 'description' });
}

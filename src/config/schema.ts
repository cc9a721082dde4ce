import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { SourceText } from '../diagnostics/source.js';
import { schemaDiagnostics } from '../diagnostics/ajv.js';
import type { JsonNode } from '../source/json.js';

/** schemas/config.schema.json, read next to the package (same depth from src/ and dist/). */
export const CONFIG_SCHEMA_URL = new URL('../../schemas/config.schema.json', import.meta.url);

let ajv: Ajv | undefined;
let schemaId = '';
const validators = new Map<string, ValidateFunction>();

/** The validator for the whole file ('') or one of its definitions (e.g. 'namedValueMap'). */
function getValidator(definition = ''): ValidateFunction {
  let v = validators.get(definition);
  if (v) return v;
  if (!ajv) {
    const schema = JSON.parse(readFileSync(CONFIG_SCHEMA_URL, 'utf8')) as Record<string, unknown>;
    ajv = new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true, strict: false });
    ajv.addSchema(schema);
    schemaId = String(schema.$id);
  }
  v = ajv.getSchema(definition ? `${schemaId}#/definitions/${definition}` : schemaId);
  if (!v) throw new Error(`schemas/config.schema.json has no definition ${definition}`);
  validators.set(definition, v);
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

import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { SourceText } from '../diagnostics/source.js';
import { pathJoin, resolvePointer, type JsonNode } from '../backends/json.js';

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
  return explain(v.errors ?? [], root, source);
}

function explain(errors: ErrorObject[], root: JsonNode, source: SourceText): Diagnostic[] {
  // A failed oneOf reports every branch's complaint; one message at the innermost failed oneOf is clearer. Branch
  // errors are recognised by location (they sit at or under the oneOf's value), since $refs hide the schema path.
  const oneOfs = errors.filter((e) => e.keyword === 'oneOf');
  const within = (e: ErrorObject, o: ErrorObject) => e.instancePath === o.instancePath || e.instancePath.startsWith(`${o.instancePath}/`);
  const kept = errors.filter((e) =>
    e.keyword === 'oneOf'
      ? !oneOfs.some((inner) => inner.instancePath !== e.instancePath && within(inner, e))
      : !oneOfs.some((o) => within(e, o)),
  );
  // propertyNames reports the inner failure (pattern) and then itself; keep the inner one.
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const e of kept) {
    if (e.keyword === 'propertyNames') continue;
    const d = toDiagnostic(e, root, source);
    const key = `${d.jsonPath}|${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}

function toDiagnostic(e: ErrorObject, root: JsonNode, source: SourceText): Diagnostic {
  const at = resolvePointer(root, e.instancePath);
  let jsonPath = `$${at.path}`;
  let offset = at.node.offset;
  let message: string;
  let hint: string | undefined;
  const parent = e.parentSchema as { properties?: Record<string, unknown>; description?: string; pattern?: string } | undefined;
  const propertyName = (e as ErrorObject & { propertyName?: string }).propertyName;

  if (propertyName !== undefined) {
    // Error about an object key (propertyNames): point at the key.
    const k = resolvePointer(root, `${e.instancePath}/${escapePointer(propertyName)}`);
    if (k.keyOffset !== undefined) offset = k.keyOffset;
    jsonPath = `$${pathJoin(at.path, propertyName)}`;
    message = `"${propertyName}" is not a valid name here`;
    hint = e.keyword === 'pattern' ? `names match ${String(e.params.pattern)}` : e.message;
    return diag(source, offset, jsonPath, 'config/schema', message, hint);
  }

  switch (e.keyword) {
    case 'additionalProperties': {
      const extra = String(e.params.additionalProperty);
      const k = resolvePointer(root, `${e.instancePath}/${escapePointer(extra)}`);
      if (k.keyOffset !== undefined) offset = k.keyOffset;
      jsonPath = `$${pathJoin(at.path, extra)}`;
      message = `unknown property "${extra}"`;
      const allowed = Object.keys(parent?.properties ?? {});
      hint = allowed.length ? `allowed: ${allowed.join(', ')}` : undefined;
      break;
    }
    case 'required':
      message = `missing required property "${String(e.params.missingProperty)}"`;
      hint = parent?.properties ? `properties: ${Object.keys(parent.properties).join(', ')}` : undefined;
      break;
    case 'type':
      message = `must be ${article(String(e.params.type).split(',').join(' or '))}, not ${describe(e.data)}`;
      hint = parent?.description;
      break;
    case 'enum':
      message = `${JSON.stringify(e.data)} is not allowed`;
      hint = `allowed: ${(e.params.allowedValues as unknown[]).map((x) => String(x)).join(', ')}`;
      break;
    case 'pattern':
      message = `${JSON.stringify(e.data)} has the wrong form`;
      hint = parent?.description ?? `expected to match ${String(e.params.pattern)}`;
      break;
    case 'oneOf':
      message = `${describe(e.data)} is not a valid value here`;
      hint = parent?.description;
      break;
    default:
      message = `${e.message ?? 'is invalid'}`;
      hint = parent?.description;
  }
  return diag(source, offset, jsonPath, 'config/schema', message, hint);
}

function diag(source: SourceText, offset: number, jsonPath: string, code: string, message: string, hint: string | undefined): Diagnostic {
  const { line, column } = source.positionAt(offset);
  return { severity: 'error', code, message, ...(hint ? { hint } : {}), file: source.file, line, column, jsonPath };
}

function escapePointer(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

function article(t: string): string {
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

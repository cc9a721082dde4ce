import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { pathJoin, resolvePointer, type JsonNode } from '../backends/json.js';
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
  const errors = v.errors ?? [];
  // A failed oneOf reports every branch's complaint; one message at the oneOf itself is clearer.
  const oneOfs = errors.filter((e) => e.keyword === 'oneOf');
  const kept = errors.filter((e) => e.keyword === 'oneOf' || !oneOfs.some((o) => e.schemaPath.startsWith(`${o.schemaPath}/`)));
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const e of kept) {
    if (e.keyword === 'if') continue;
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
  const parent = e.parentSchema as { properties?: Record<string, unknown>; description?: string } | undefined;
  switch (e.keyword) {
    case 'additionalProperties': {
      const extra = String(e.params.additionalProperty);
      const k = resolvePointer(root, `${e.instancePath}/${extra.replace(/~/g, '~0').replace(/\//g, '~1')}`);
      if (k.keyOffset !== undefined) offset = k.keyOffset;
      jsonPath = `$${pathJoin(at.path, extra)}`;
      message = `unknown property "${extra}"`;
      const allowed = Object.keys(parent?.properties ?? {});
      hint = allowed.length ? `allowed: ${allowed.join(', ')}` : undefined;
      break;
    }
    case 'required':
      message = `missing required property "${String(e.params.missingProperty)}"`;
      hint = parent?.description;
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
    case 'format':
      message = `${JSON.stringify(e.data)} is not a valid ${String(e.params.format)}`;
      hint = parent?.description;
      break;
    case 'minItems':
      message = `needs at least ${String(e.params.limit)} item${e.params.limit === 1 ? '' : 's'}`;
      hint = parent?.description;
      break;
    case 'minProperties':
      message = `needs at least ${String(e.params.limit)} entr${e.params.limit === 1 ? 'y' : 'ies'}`;
      hint = parent?.description;
      break;
    case 'minimum':
    case 'maximum':
      message = `${JSON.stringify(e.data)} is ${e.keyword === 'minimum' ? 'below the minimum' : 'above the maximum'} ${String(e.params.limit)}`;
      hint = parent?.description;
      break;
    case 'oneOf':
      message = `${describe(e.data)} is not a valid value here`;
      hint = parent?.description;
      break;
    default:
      message = e.message ?? 'is invalid';
      hint = parent?.description;
  }
  const { line, column } = source.positionAt(offset);
  return { severity: 'error', code: 'scenario/schema', message, ...(hint ? { hint } : {}), file: source.file, line, column, jsonPath };
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

import type { ErrorObject } from 'ajv';
import { pathJoin, resolvePointer, type JsonNode } from '../source/json.js';
import type { Diagnostic } from './diagnostic.js';
import type { SourceText } from './source.js';
import type { DiagnosticCode } from './codes.js';

/** How one JSON document's schema errors are turned into diagnostics. */
export interface SchemaErrorOptions {
  /** Diagnostic code, e.g. `config/schema`. */
  code: DiagnosticCode;
  /**
   * A failed oneOf reports every branch's complaint; one message at the oneOf is clearer. `schemaPath`: branch errors
   * are those under the oneOf's schema path. `location`: those at or under the oneOf's value (for schemas whose $refs
   * hide the schema path), and only the innermost failed oneOf is kept.
   */
  oneOfBranches: 'schemaPath' | 'location';
  /** The hint of a missing required property: the object's property names, or the schema's description. */
  requiredHint: 'properties' | 'description';
}

/**
 * ajv errors (allErrors + verbose) as diagnostics, one per JSON path and message: each names the JSON path, the
 * line/column of the offending value (or key) in the file, what is wrong and what is allowed.
 */
export function schemaDiagnostics(errors: readonly ErrorObject[], root: JsonNode, source: SourceText, o: SchemaErrorOptions): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const e of withoutOneOfBranches(errors, o.oneOfBranches)) {
    // propertyNames reports the inner failure (pattern) and then itself; an `if` is explained by its branch's error.
    if (e.keyword === 'propertyNames' || e.keyword === 'if') continue;
    const d = toDiagnostic(e, root, source, o);
    const key = `${d.jsonPath}|${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}

function withoutOneOfBranches(errors: readonly ErrorObject[], how: SchemaErrorOptions['oneOfBranches']): ErrorObject[] {
  const oneOfs = errors.filter((e) => e.keyword === 'oneOf');
  if (how === 'schemaPath') return errors.filter((e) => e.keyword === 'oneOf' || !oneOfs.some((o) => e.schemaPath.startsWith(`${o.schemaPath}/`)));
  const within = (e: ErrorObject, o: ErrorObject) => e.instancePath === o.instancePath || e.instancePath.startsWith(`${o.instancePath}/`);
  return errors.filter((e) =>
    e.keyword === 'oneOf' ? !oneOfs.some((inner) => inner.instancePath !== e.instancePath && within(inner, e)) : !oneOfs.some((o) => within(e, o)),
  );
}

function toDiagnostic(e: ErrorObject, root: JsonNode, source: SourceText, o: SchemaErrorOptions): Diagnostic {
  const at = resolvePointer(root, e.instancePath);
  let jsonPath = `$${at.path}`;
  let offset = at.node.offset;
  let message: string;
  let hint: string | undefined;
  const parent = e.parentSchema as { properties?: Record<string, unknown>; description?: string } | undefined;
  const propertyName = (e as ErrorObject & { propertyName?: string }).propertyName;

  if (propertyName !== undefined) {
    // Error about an object key (propertyNames): point at the key.
    const k = resolvePointer(root, `${e.instancePath}/${escapePointer(propertyName)}`);
    if (k.keyOffset !== undefined) offset = k.keyOffset;
    jsonPath = `$${pathJoin(at.path, propertyName)}`;
    message = `"${propertyName}" is not a valid name here`;
    hint = e.keyword === 'pattern' ? `names match ${String(e.params.pattern)}` : e.message;
    return diagnostic(source, offset, jsonPath, o.code, message, hint);
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
      if (o.requiredHint === 'description') hint = parent?.description;
      else hint = parent?.properties ? `properties: ${Object.keys(parent.properties).join(', ')}` : undefined;
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
  return diagnostic(source, offset, jsonPath, o.code, message, hint);
}

function diagnostic(source: SourceText, offset: number, jsonPath: string, code: DiagnosticCode, message: string, hint: string | undefined): Diagnostic {
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

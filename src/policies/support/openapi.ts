import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { lazyLibrary } from '../../engine/policy-sdk.js';

// ajv and yaml load when an API specification is first read (at compile time), not at start-up (src/lazy-library.ts).
const ajvLibrary = lazyLibrary<typeof import('ajv')>('ajv');
const yaml = lazyLibrary<typeof import('yaml')>('yaml');

/**
 * The API's own OpenAPI 2 (Swagger) or 3.x document, read once at load time for validate-content,
 * validate-parameters, validate-headers and validate-status-code. Every JSON schema it holds is compiled once with
 * ajv (the whole document is registered so `$ref`s to `#/components/schemas/...` or `#/definitions/...` resolve);
 * the request path only runs the compiled validators.
 */

/**
 * validate-content's runtime overrides of a JSON schema (validate-content-policy page): `additionalProperties`
 * forced to true or false in every object schema, and property names compared case-insensitively.
 */
export interface SchemaOptions {
  readonly additionalProperties?: boolean | undefined;
  readonly caseInsensitive?: boolean | undefined;
}

export type SchemaCheck = (value: unknown, options?: SchemaOptions) => string[];

export interface SpecParameter {
  readonly name: string;
  readonly in: 'query' | 'header' | 'path' | 'cookie';
  readonly required: boolean;
  /** JSON type the raw string value is converted to before checking (`integer`, `number`, `boolean`, `array`...). */
  readonly type: string | undefined;
  readonly check: SchemaCheck | undefined;
}

export interface SpecResponse {
  /** Media type (lower case) → body check (undefined: no schema). */
  readonly content: ReadonlyMap<string, SchemaCheck | undefined>;
  readonly headers: readonly SpecParameter[];
}

export interface SpecOperation {
  readonly method: string;
  readonly pathTemplate: string;
  readonly parameters: readonly SpecParameter[];
  /** Media type (lower case) → body check; empty when the operation declares no request body. */
  readonly requestContent: ReadonlyMap<string, SchemaCheck | undefined>;
  /** Status code ("200", "2XX") or "default" → response. */
  readonly responses: ReadonlyMap<string, SpecResponse>;
}

export class SpecificationError extends Error {}

type Json = Record<string, unknown>;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const DOC_ID = 'apim-emulator:openapi';

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function escapePointer(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * One JSON document holding schemas, compiled with ajv on first use of each pointer. Variants with SchemaOptions are
 * separate ajv instances over a rewritten copy of the document, built once per option set.
 */
export class SchemaDocument {
  private readonly variants = new Map<string, { ajv: Ajv; compiled: Map<string, ValidateFunction> }>();

  constructor(private readonly doc: Json) {}

  /** The schema check at a JSON pointer (`/components/schemas/x`, '' for the root). */
  check(pointer: string): SchemaCheck {
    return (value, options) => {
      const v = this.variant(options);
      let validate = v.compiled.get(pointer);
      if (!validate) {
        validate = v.ajv.compile({ $ref: `${DOC_ID}#${pointer}` });
        v.compiled.set(pointer, validate);
      }
      if (validate(options?.caseInsensitive ? lowerKeys(value) : value)) return [];
      return (validate.errors ?? []).map(describeError);
    };
  }

  /** The node at a JSON pointer, or undefined. */
  at(pointer: string): unknown {
    let node: unknown = this.doc;
    for (const p of pointer
      .split('/')
      .slice(1)
      .map((x) => x.replace(/~1/g, '/').replace(/~0/g, '~')))
      node = isObject(node) ? node[p] : undefined;
    return node;
  }

  private variant(options: SchemaOptions | undefined): { ajv: Ajv; compiled: Map<string, ValidateFunction> } {
    const key = `${String(options?.additionalProperties)}|${options?.caseInsensitive === true}`;
    let v = this.variants.get(key);
    if (!v) {
      // OpenAPI keywords (nullable, discriminator, example, x-*) are not JSON Schema: strict mode off, formats ignored.
      // OpenAPI keywords (nullable, discriminator, example, x-*) are not JSON Schema: strict mode off, formats ignored.
      const ajv = new (ajvLibrary().Ajv)({ strict: false, allErrors: true, validateFormats: false, validateSchema: false });
      ajv.addSchema(options && (options.additionalProperties !== undefined || options.caseInsensitive) ? rewriteSchemas(this.doc, options) : this.doc, DOC_ID);
      v = { ajv, compiled: new Map() };
      this.variants.set(key, v);
    }
    return v;
  }
}

const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'definitions', '$defs', 'schemas', 'dependentSchemas']);

/**
 * A copy of a document in which every object schema (one with `properties` or `type: object`) gets the forced
 * `additionalProperties`, and, for case-insensitive names, `properties` and `required` are lower-cased (the value is
 * lower-cased the same way before checking).
 */
function rewriteSchemas(doc: unknown, o: SchemaOptions, depth = 0): Json {
  // `map` is the keyword whose value is a name → schema map (its keys are names, not keywords); only property names
  // are lower-cased, never the names `$ref`s point at (definitions, components/schemas).
  const walk = (node: unknown, d: number, map: string | null): unknown => {
    if (d > 256) return node;
    if (Array.isArray(node)) return node.map((x) => walk(x, d + 1, null));
    if (!isObject(node)) return node;
    const out: Json = {};
    for (const [k, v] of Object.entries(node)) {
      if (map !== null) {
        out[o.caseInsensitive && map === 'properties' ? k.toLowerCase() : k] = walk(v, d + 1, null);
        continue;
      }
      out[k] = walk(v, d + 1, SCHEMA_MAPS.has(k) && isObject(v) ? k : null);
    }
    if (map !== null) return out;
    if (o.caseInsensitive && Array.isArray(out.required)) out.required = out.required.map((r) => (typeof r === 'string' ? r.toLowerCase() : r));
    const objectSchema = isObject(out.properties) || out.type === 'object';
    if (o.additionalProperties !== undefined && objectSchema) out.additionalProperties = o.additionalProperties;
    return out;
  };
  return walk(doc, depth, null) as Json;
}

/** A JSON value with every object key lower-cased (case-insensitive-property-names). */
function lowerKeys(v: unknown, depth = 0): unknown {
  if (depth > 512) return v;
  if (Array.isArray(v)) return v.map((x) => lowerKeys(x, depth + 1));
  if (!isObject(v)) return v;
  const out: Json = {};
  for (const [k, x] of Object.entries(v)) out[k.toLowerCase()] = lowerKeys(x, depth + 1);
  return out;
}

export class ApiSpecification {
  readonly version: 2 | 3;
  private readonly operations: Array<{ op: SpecOperation; pattern: RegExp; literalChars: number }> = [];
  /** The whole document, so `$ref`s to `#/components/schemas/...` or `#/definitions/...` resolve. */
  readonly schemas: SchemaDocument;

  private constructor(private readonly doc: Json) {
    if (typeof doc.swagger === 'string' && doc.swagger.startsWith('2')) this.version = 2;
    else if (typeof doc.openapi === 'string' && doc.openapi.startsWith('3')) this.version = 3;
    else throw new SpecificationError('not an OpenAPI document: expected "openapi": "3.x" or "swagger": "2.0" at the top');
    this.schemas = new SchemaDocument(doc);
    const paths = isObject(doc.paths) ? doc.paths : {};
    for (const [template, item] of Object.entries(paths)) {
      if (!isObject(item)) continue;
      const shared = Array.isArray(item.parameters) ? item.parameters : [];
      for (const m of METHODS) {
        const o = item[m];
        if (!isObject(o)) continue;
        const base = `#/paths/${escapePointer(template)}/${m}`;
        const op = this.operation(m.toUpperCase(), template, o, shared, base, `#/paths/${escapePointer(template)}`);
        const pattern = new RegExp(
          `^${template
            .split(/(\{[^}]+\})/)
            .map((p) => (p.startsWith('{') ? '([^/]+)' : p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
            .join('')}/?$`,
          'i',
        );
        this.operations.push({ op, pattern, literalChars: template.replace(/\{[^}]+\}/g, '').length });
      }
    }
    // Most specific template first: more literal characters win (`/pets/mine` before `/pets/{id}`).
    this.operations.sort((a, b) => b.literalChars - a.literalChars);
  }

  /** Reads JSON or YAML text; throws SpecificationError with what is wrong. */
  static parse(text: string): ApiSpecification {
    let doc: unknown;
    try {
      doc = text.trimStart().startsWith('{') ? JSON.parse(text) : yaml().parse(text);
    } catch (e) {
      throw new SpecificationError(`the specification is neither valid JSON nor YAML: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!isObject(doc)) throw new SpecificationError('the specification must be a JSON or YAML object');
    return new ApiSpecification(doc);
  }

  /** The operation for a method and a path relative to the API suffix, or undefined. */
  find(method: string, path: string): { op: SpecOperation; pathValues: Record<string, string> } | undefined {
    const m = method.toUpperCase();
    for (const { op, pattern } of this.operations) {
      if (op.method !== m) continue;
      const match = pattern.exec(path);
      if (!match) continue;
      const names = [...op.pathTemplate.matchAll(/\{([^}]+)\}/g)].map((x) => x[1]!);
      const pathValues: Record<string, string> = {};
      names.forEach((n, i) => (pathValues[n] = decodeURIComponent(match[i + 1] ?? '')));
      return { op, pathValues };
    }
    return undefined;
  }

  /** A schema check for the schema at a JSON pointer of the document (compiled on first use, per option set). */
  private check(pointer: string): SchemaCheck {
    return this.schemas.check(pointer);
  }

  private resolve(v: unknown): { node: unknown; pointer: string | undefined } {
    if (isObject(v) && typeof v.$ref === 'string' && v.$ref.startsWith('#/')) {
      const parts = v.$ref
        .slice(2)
        .split('/')
        .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
      let node: unknown = this.doc;
      for (const p of parts) node = isObject(node) ? node[p] : undefined;
      return { node, pointer: v.$ref.slice(1) };
    }
    return { node: v, pointer: undefined };
  }

  private parameter(raw: unknown, pointer: string): SpecParameter | undefined {
    const { node, pointer: refPointer } = this.resolve(raw);
    if (!isObject(node) || typeof node.name !== 'string' || typeof node.in !== 'string') return undefined;
    const at = (refPointer ?? pointer).replace(/^#/, '');
    if (node.in === 'body' || node.in === 'formData') return undefined;
    let schemaPointer: string | undefined;
    let type: string | undefined;
    if (this.version === 3 && isObject(node.schema)) {
      schemaPointer = `#${at}/schema`;
      const s = this.resolve(node.schema).node;
      type = isObject(s) && typeof s.type === 'string' ? s.type : undefined;
    } else if (this.version === 2 && typeof node.type === 'string') {
      schemaPointer = `#${at}`; // Swagger 2 puts type/format/enum/minimum on the parameter itself
      type = node.type;
    }
    return {
      name: node.name,
      in: node.in as SpecParameter['in'],
      required: node.required === true || node.in === 'path',
      type,
      check: schemaPointer ? this.check(schemaPointer.slice(1)) : undefined,
    };
  }

  private operation(method: string, template: string, o: Json, shared: unknown[], base: string, itemPointer: string): SpecOperation {
    const params = new Map<string, SpecParameter>();
    shared.forEach((p, i) => {
      const sp = this.parameter(p, `${itemPointer}/parameters/${i}`);
      if (sp) params.set(`${sp.in}:${sp.name.toLowerCase()}`, sp);
    });
    (Array.isArray(o.parameters) ? o.parameters : []).forEach((p: unknown, i: number) => {
      const sp = this.parameter(p, `${base}/parameters/${i}`);
      if (sp) params.set(`${sp.in}:${sp.name.toLowerCase()}`, sp);
    });
    const requestContent = new Map<string, SchemaCheck | undefined>();
    if (this.version === 3) {
      const { node: rb, pointer } = this.resolve(o.requestBody);
      const at = pointer ?? `${base.slice(1)}/requestBody`;
      if (isObject(rb) && isObject(rb.content)) {
        for (const [type, media] of Object.entries(rb.content)) {
          requestContent.set(
            type.toLowerCase(),
            isObject(media) && media.schema !== undefined ? this.check(`${at}/content/${escapePointer(type)}/schema`) : undefined,
          );
        }
      }
    } else {
      const consumes = (Array.isArray(o.consumes) ? o.consumes : Array.isArray(this.doc.consumes) ? this.doc.consumes : ['application/json']) as string[];
      (Array.isArray(o.parameters) ? o.parameters : []).forEach((p: unknown, i: number) => {
        const { node } = this.resolve(p);
        if (isObject(node) && node.in === 'body')
          for (const t of consumes) requestContent.set(t.toLowerCase(), this.check(`${base.slice(1)}/parameters/${i}/schema`));
      });
    }
    const responses = new Map<string, SpecResponse>();
    if (isObject(o.responses)) {
      const produces = (Array.isArray(o.produces) ? o.produces : Array.isArray(this.doc.produces) ? this.doc.produces : ['application/json']) as string[];
      for (const [code, r] of Object.entries(o.responses)) {
        const { node, pointer } = this.resolve(r);
        const at = pointer ?? `${base.slice(1)}/responses/${escapePointer(code)}`;
        const content = new Map<string, SchemaCheck | undefined>();
        const headers: SpecParameter[] = [];
        if (isObject(node)) {
          if (this.version === 3 && isObject(node.content)) {
            for (const [type, media] of Object.entries(node.content))
              content.set(
                type.toLowerCase(),
                isObject(media) && media.schema !== undefined ? this.check(`${at}/content/${escapePointer(type)}/schema`) : undefined,
              );
          } else if (this.version === 2 && node.schema !== undefined) {
            for (const t of produces) content.set(t.toLowerCase(), this.check(`${at}/schema`));
          }
          if (isObject(node.headers)) {
            for (const [name, h] of Object.entries(node.headers)) {
              const { node: hn, pointer: hp } = this.resolve(h);
              const hAt = hp ?? `${at}/headers/${escapePointer(name)}`;
              const schema = this.version === 3 ? (isObject(hn) ? hn.schema : undefined) : hn;
              const type = isObject(schema) && typeof schema.type === 'string' ? schema.type : undefined;
              headers.push({
                name,
                in: 'header',
                required: isObject(hn) && hn.required === true,
                type,
                check: schema !== undefined ? this.check(this.version === 3 ? `${hAt}/schema` : hAt) : undefined,
              });
            }
          }
        }
        responses.set(code.toUpperCase(), { content, headers });
      }
    }
    return { method, pathTemplate: template, parameters: [...params.values()], requestContent, responses };
  }
}

function describeError(e: ErrorObject): string {
  const where = e.instancePath ? `${e.instancePath}: ` : '';
  if (e.keyword === 'additionalProperties')
    return `${where}property "${String((e.params as { additionalProperty?: string }).additionalProperty)}" is not allowed`;
  if (e.keyword === 'required') return `${where}required property "${String((e.params as { missingProperty?: string }).missingProperty)}" is missing`;
  if (e.keyword === 'enum')
    return `${where}${e.message ?? 'is not one of the allowed values'}: ${JSON.stringify((e.params as { allowedValues?: unknown[] }).allowedValues)}`;
  return `${where}${e.message ?? e.keyword}`;
}

/** A raw parameter string converted to the JSON type its schema expects (query and header values are text). */
export function coerceParameter(raw: string, type: string | undefined): unknown {
  switch (type) {
    case 'integer':
    case 'number': {
      const n = Number(raw);
      return raw.trim() !== '' && Number.isFinite(n) ? n : raw;
    }
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    case 'array':
      return raw.split(',');
    default:
      return raw;
  }
}

/** The response entry for a status: exact code, then `2XX`-style range, then `default`. */
export function responseFor(op: SpecOperation, status: number): SpecResponse | undefined {
  return op.responses.get(String(status)) ?? op.responses.get(`${String(status)[0]}XX`) ?? op.responses.get('DEFAULT');
}

/** The body check for a media type: exact, then `type/*`, then `*\/*`. `found` false when the type is not declared. */
export function contentFor(map: ReadonlyMap<string, SchemaCheck | undefined>, mediaType: string): { found: boolean; check: SchemaCheck | undefined } {
  const t = mediaType.toLowerCase();
  for (const key of [t, `${t.split('/')[0]}/*`, '*/*']) if (map.has(key)) return { found: true, check: map.get(key) };
  return { found: false, check: undefined };
}

import { lazyLibrary } from '../lazy-library.js';

// Loaded only for YAML and WADL specifications (src/lazy-library.ts; docs/performance.md, start-up).
const yaml = lazyLibrary<typeof import('yaml')>('yaml');
const fastXmlParser = lazyLibrary<typeof import('fast-xml-parser')>('fast-xml-parser');
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { SourceText } from '../diagnostics/source.js';

/** One operation read from an API specification: what APIM's import creates (method, URL template, operationId). */
export interface SpecOperation {
  id: string;
  name?: string;
  method: string;
  urlTemplate: string;
  /** First 2xx (else first) response with its example, as APIM's mock-response picks it. */
  example?: SpecExample;
}

export interface SpecExample {
  status: number;
  contentType?: string;
  /** Example value (JSON-able) or text; undefined = no body. */
  body?: unknown;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
/** Bound on what a specification may declare (hostile input must not blow up compile time). */
const MAX_OPERATIONS = 5000;

/**
 * Operations of an OpenAPI 2/3 document (JSON or YAML). The folder `operations/<operationId>/` goes with the operation
 * whose operationId it names (docs/apiops.md, Naming rules); an operation without an operationId gets APIM's generated
 * `<method>-<path>` style name.
 */
export function openApiOperations(source: SourceText, diagnostics: Diagnostic[]): SpecOperation[] | null {
  let doc: unknown;
  try {
    doc = /\.json$/i.test(source.file) ? JSON.parse(source.text.replace(/^\uFEFF/, '')) : yaml().parse(source.text, { maxAliasCount: 100 });
  } catch (e) {
    const pos = (e as { linePos?: Array<{ line: number; col: number }> }).linePos?.[0];
    diagnostics.push({
      severity: 'error',
      code: 'apiops/spec-syntax',
      message: `the API specification does not parse: ${(e as Error).message.split('\n')[0]}`,
      file: source.file,
      line: pos?.line ?? 1,
      column: pos?.col ?? 1,
      hint: 'specification.yaml|json is an OpenAPI 2 or 3 document',
    });
    return null;
  }
  if (!doc || typeof doc !== 'object' || !('paths' in doc)) {
    diagnostics.push({
      severity: 'error',
      code: 'apiops/spec-shape',
      message: 'the API specification has no "paths": not an OpenAPI document',
      file: source.file,
      line: 1,
      column: 1,
      hint: 'an OpenAPI document has openapi: 3.x (or swagger: "2.0") and paths',
    });
    return null;
  }
  const d = doc as { paths?: Record<string, Record<string, unknown>>; swagger?: string };
  const ops: SpecOperation[] = [];
  for (const [p, item] of Object.entries(d.paths ?? {})) {
    if (!item || typeof item !== 'object') continue;
    for (const m of METHODS) {
      const op = item[m] as { operationId?: unknown; summary?: unknown; responses?: Record<string, unknown> } | undefined;
      if (!op || typeof op !== 'object') continue;
      if (ops.length >= MAX_OPERATIONS) {
        diagnostics.push({
          severity: 'error',
          code: 'apiops/spec-too-large',
          message: `the API specification declares more than ${MAX_OPERATIONS} operations`,
          file: source.file,
          line: 1,
          column: 1,
          hint: `at most ${MAX_OPERATIONS} operations per API`,
        });
        return ops;
      }
      const id = typeof op.operationId === 'string' && op.operationId ? op.operationId : `${m}${p.replace(/[^A-Za-z0-9]+/g, '-')}`.replace(/-+$/, '');
      const example = pickExample(op.responses, d.swagger !== undefined);
      ops.push({
        id,
        ...(typeof op.summary === 'string' ? { name: op.summary } : {}),
        method: m.toUpperCase(),
        urlTemplate: p.startsWith('/') ? p : `/${p}`,
        ...(example ? { example } : {}),
      });
    }
  }
  return ops;
}

/** Operations of a WADL document: each `<resource path>` × `<method name id>` (nested resources join their paths). */
export function wadlOperations(source: SourceText, diagnostics: Diagnostic[]): SpecOperation[] | null {
  let doc: Record<string, unknown>;
  try {
    doc = new (fastXmlParser().XMLParser)({
      ignoreAttributes: false,
      attributeNamePrefix: '@',
      removeNSPrefix: true,
      isArray: (name) => name === 'resource' || name === 'method' || name === 'resources',
      processEntities: false,
    }).parse(source.text) as Record<string, unknown>;
  } catch (e) {
    diagnostics.push({
      severity: 'error',
      code: 'apiops/spec-syntax',
      message: `the WADL specification does not parse: ${(e as Error).message.split('\n')[0]}`,
      file: source.file,
      line: 1,
      column: 1,
      hint: 'specification.wadl is a WADL XML document',
    });
    return null;
  }
  const ops: SpecOperation[] = [];
  type Res = { '@path'?: string; resource?: Res[]; method?: Array<{ '@name'?: string; '@id'?: string }> };
  const walk = (list: Res[] | undefined, prefix: string): void => {
    for (const r of list ?? []) {
      const p = `${prefix}/${String(r['@path'] ?? '').replace(/^\/+|\/+$/g, '')}`.replace(/\/+$/, '') || '/';
      for (const m of r.method ?? []) {
        if (ops.length >= MAX_OPERATIONS) return;
        const method = String(m['@name'] ?? 'GET').toUpperCase();
        ops.push({ id: m['@id'] ?? `${method.toLowerCase()}${p.replace(/[^A-Za-z0-9]+/g, '-')}`, method, urlTemplate: p });
      }
      walk(r.resource, p === '/' ? '' : p);
    }
  };
  const app = doc.application as { resources?: Array<{ resource?: Res[] }> } | undefined;
  for (const rs of app?.resources ?? []) walk(rs.resource, '');
  return ops;
}

function pickExample(responses: Record<string, unknown> | undefined, v2: boolean): SpecExample | undefined {
  if (!responses || typeof responses !== 'object') return undefined;
  const codes = Object.keys(responses).filter((c) => /^\d{3}$/.test(c));
  const code = codes.find((c) => c.startsWith('2')) ?? codes[0];
  if (!code) return undefined;
  const r = responses[code] as Record<string, unknown> | undefined;
  const status = Number(code);
  if (!r || typeof r !== 'object') return { status };
  if (v2) {
    const examples = r.examples as Record<string, unknown> | undefined;
    const ct = examples ? Object.keys(examples)[0] : undefined;
    if (ct) return { status, contentType: ct, body: examples![ct] };
    const schema = r.schema as Schema | undefined;
    return schema ? { status, contentType: 'application/json', body: sample(schema, 0) } : { status };
  }
  const content = r.content as Record<string, { example?: unknown; examples?: Record<string, { value?: unknown }>; schema?: Schema }> | undefined;
  const ct = content ? Object.keys(content)[0] : undefined;
  if (!ct) return { status };
  const media = content![ct]!;
  if (media.example !== undefined) return { status, contentType: ct, body: media.example };
  const first = media.examples ? Object.values(media.examples)[0] : undefined;
  if (first && first.value !== undefined) return { status, contentType: ct, body: first.value };
  return media.schema ? { status, contentType: ct, body: sample(media.schema, 0) } : { status, contentType: ct };
}

interface Schema {
  type?: string;
  example?: unknown;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  items?: Schema;
  format?: string;
}

/** A value shaped like the schema, as APIM's mock-response generates one when the response has no example. */
function sample(s: Schema, depth: number): unknown {
  if (!s || typeof s !== 'object' || depth > 8) return null;
  if (s.example !== undefined) return s.example;
  if (s.default !== undefined) return s.default;
  if (Array.isArray(s.enum) && s.enum.length) return s.enum[0];
  switch (s.type ?? (s.properties ? 'object' : undefined)) {
    case 'object': {
      const o: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(s.properties ?? {}).slice(0, 100)) o[k] = sample(v, depth + 1);
      return o;
    }
    case 'array':
      return s.items ? [sample(s.items, depth + 1)] : [];
    case 'integer':
    case 'number':
      return 0;
    case 'boolean':
      return true;
    case 'string':
      return s.format === 'date-time' ? '2024-01-01T00:00:00Z' : 'string';
    default:
      return null;
  }
}

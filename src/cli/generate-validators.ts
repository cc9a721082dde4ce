import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { _, Ajv, type Options } from 'ajv';
import standalone from 'ajv/dist/standalone/index.js';
import { SCHEMA_FORMATS } from '../backends/schema-formats.js';

/**
 * The JSON Schema validators `validate` and `serve` run at every start, precompiled with ajv's standalone code
 * generation into src/generated/ (committed; `npm run generate:validators` rewrites them, a test fails while they
 * are stale). Compiling a schema with ajv at start-up cost ~150 ms for the backends schema alone and loading ajv
 * another ~80-140 ms (docs/performance.md, start-up); the generated modules need only ajv's few runtime helpers.
 */

export interface SchemaSpec {
  /** src/generated/<module>.ts */
  module: string;
  /** The schema file under schemas/. */
  schema: string;
  /** ajv options: the same ones the hand-compiled validators used (verbose errors carry parentSchema for hints). */
  options: Options;
  /** Export name → schema reference (relative to the schema's $id: '' for the whole document, or '#/...'). */
  exports: Record<string, string>;
  /** Keywords ajv must accept as annotations. */
  vocabulary?: string[];
}

const ROOT = new URL('../../', import.meta.url);

function readSchema(file: string): { $id: string; 'x-apiVersionLevels'?: string[] } {
  return JSON.parse(readFileSync(new URL(`schemas/${file}`, ROOT), 'utf8')) as { $id: string; 'x-apiVersionLevels'?: string[] };
}

/** One export per api-version level the schema lists, named as src/backends/schema.ts looks it up: `level_2023_09_01_preview`. */
function backendLevels(): Record<string, string> {
  const levels = readSchema('backends.schema.json')['x-apiVersionLevels'] ?? [];
  return Object.fromEntries(levels.map((l) => [`level_${l.replace(/-/g, '_')}`, `#/$defs/BackendContractProperties-${l}`]));
}

export const SCHEMA_SPECS: readonly SchemaSpec[] = [
  {
    module: 'backends-schema',
    schema: 'backends.schema.json',
    options: { allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, verbose: true },
    vocabulary: ['x-apiVersionLevels'],
    exports: backendLevels(),
  },
  {
    module: 'config-schema',
    schema: 'config.schema.json',
    options: { allErrors: true, verbose: true, allowUnionTypes: true, strict: false },
    exports: { config: '', namedValueMap: '#/definitions/namedValueMap' },
  },
  {
    module: 'mock-script-schema',
    schema: 'mock-script.schema.json',
    options: { allErrors: true, verbose: true, allowUnionTypes: true },
    exports: { script: '#/definitions/script', steps: '#/definitions/steps' },
  },
];

/** The TypeScript source of one generated module. */
export function generateValidatorSource(spec: SchemaSpec): string {
  const schema = readSchema(spec.schema);
  // Formats with a validate function are referenced from the generated code as `formats.<name>` (ajv code.formats).
  const ajv = new Ajv({ ...spec.options, code: { source: true, esm: true, formats: _`formats` } });
  if (spec.vocabulary) ajv.addVocabulary(spec.vocabulary);
  for (const [name, format] of Object.entries(SCHEMA_FORMATS)) ajv.addFormat(name, format);
  ajv.addSchema(schema as object);
  const refs = Object.fromEntries(Object.entries(spec.exports).map(([name, ref]) => [name, `${schema.$id}${ref}`]));
  // The CommonJS module is the function and carries it as .default too (how TypeScript types it).
  const code = standalone.default(ajv, refs);
  // ajv's standalone code requires its runtime helpers (CommonJS) even in ESM mode: give it a require.
  const helpers = /\brequire\("ajv\/dist\/runtime\/\w+"\)/.test(code);
  const unexpected = /\brequire\("(?!ajv\/dist\/runtime\/)[^"]*"\)/.exec(code);
  if (unexpected) throw new Error(`${spec.schema}: the generated code requires ${unexpected[0]}`);
  return [
    `// Generated from schemas/${spec.schema} by \`npm run generate:validators\` (src/cli/generate-validators.ts): do not edit.`,
    '/* eslint-disable */',
    '// @ts-nocheck',
    ...(helpers ? ["import { createRequire } from 'node:module';", 'const require = createRequire(import.meta.url);'] : []),
    ...(code.includes('formats.') ? ["import { SCHEMA_FORMATS as formats } from '../backends/schema-formats.js';"] : []),
    code.replace(/^"use strict";/, ''),
    '',
  ].join('\n');
}

/** src/generated/<module>.ts for a spec. */
export function generatedFile(spec: SchemaSpec): URL {
  return new URL(`src/generated/${spec.module}.ts`, ROOT);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const spec of SCHEMA_SPECS) {
    writeFileSync(generatedFile(spec), generateValidatorSource(spec));
    console.log(`wrote src/generated/${spec.module}.ts`);
  }
}

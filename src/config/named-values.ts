import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { SourceText } from '../diagnostics/source.js';
import type { NamedValue } from '../engine/services.js';
import { pathJoin, resolvePointer, toPlain, type JsonNode } from '../source/json.js';
import { readSource } from './files.js';
import { parseJsonSource } from './json.js';
import { validateConfigSchema } from './schema.js';

type NamedValueEntry = string | { value: string; secret?: boolean } | { env: string; secret?: boolean };

/**
 * Turns a schema-checked `{ name: value | {value, secret} | {env, secret} }` object into named values. `env` reads the
 * environment at load time (handy for secrets in CI); a variable that is not set is an error.
 */
export function namedValuesFromMap(
  map: Record<string, NamedValueEntry>,
  node: JsonNode,
  source: SourceText,
  basePath: string,
  diagnostics: Diagnostic[],
  env: NodeJS.ProcessEnv = process.env,
): NamedValue[] {
  const out: NamedValue[] = [];
  for (const [name, entry] of Object.entries(map)) {
    if (typeof entry === 'string') {
      out.push({ name, value: entry, secret: false });
    } else if ('value' in entry) {
      out.push({ name, value: entry.value, secret: entry.secret ?? false });
    } else {
      const value = env[entry.env];
      if (value === undefined) {
        const at = resolvePointer(node, `/${name.replace(/~/g, '~0').replace(/\//g, '~1')}/env`);
        diagnostics.push({
          severity: 'error',
          code: 'config/env-missing',
          message: `named value "${name}" reads environment variable ${entry.env}, which is not set`,
          hint: `set ${entry.env}, or give the value with "value"`,
          file: source.file,
          ...source.positionAt(at.node.offset),
          jsonPath: pathJoin(pathJoin(basePath, name), 'env'),
        });
        continue;
      }
      out.push({ name, value, secret: entry.secret ?? false });
    }
  }
  return out;
}

/** Reads a named-values JSON file: an object name → value | {value, secret} | {env, secret}. */
export function loadNamedValuesFile(
  file: string,
  diagnostics: Diagnostic[],
  referencedFrom?: Pick<Diagnostic, 'file' | 'line' | 'column' | 'jsonPath'>,
): NamedValue[] {
  const source = readSource(file, diagnostics, referencedFrom);
  if (!source) return [];
  const parsed = parseJsonSource(source, diagnostics);
  if (!parsed) return [];
  const errors = validateConfigSchema(parsed.value, parsed.root, source, 'namedValueMap');
  if (errors.length) {
    diagnostics.push(
      ...errors.map((d) => ({ ...d, hint: d.hint ?? 'a named values file is an object: name → "value", {"value": "...", "secret": true} or {"env": "VAR"}' })),
    );
    return [];
  }
  return namedValuesFromMap(toPlain(parsed.root) as Record<string, NamedValueEntry>, parsed.root, source, '$', diagnostics);
}

/**
 * Splits `name=value` from a repeatable command-line option. Returns an error message when there is no `=` or no name.
 */
export function splitAssignment(arg: string): { name: string; value: string } | { error: string } {
  const i = arg.indexOf('=');
  if (i <= 0) return { error: `expected NAME=VALUE, got "${arg}"` };
  return { name: arg.slice(0, i).trim(), value: arg.slice(i + 1) };
}

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { lazyLibrary } from '../lazy-library.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { SourceText } from '../diagnostics/source.js';
import { mockScriptFromJson } from './json-form.js';
import type { MockScript } from './script.js';
import { parseMockScript } from './text-form.js';

// yaml loads only for a YAML mock script file (src/lazy-library.ts; docs/performance.md, start-up).
const yaml = lazyLibrary<typeof import('yaml')>('yaml');

/** Backend ids as APIM allows them in `backend-id` (letters, digits, `-`, `_`, `.`), which is what --mock names. */
const BACKEND_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * One `--mock BACKEND_ID=SCRIPT` argument. SCRIPT is the text form, or `@file` for a script file: `.json`, `.yaml`/`.yml`
 * (validated by schemas/mock-script.schema.json) or any other extension read as the text form. Relative files resolve
 * against `cwd`.
 */
export function parseMockOption(arg: string, cwd = process.cwd()): { backendId?: string; script?: MockScript; diagnostics: Diagnostic[] } {
  const eq = arg.indexOf('=');
  const fail = (message: string, hint: string): { diagnostics: Diagnostic[] } => ({
    diagnostics: [{ severity: 'error', code: 'mock/option', message, hint, file: '--mock', line: 1, column: Math.max(1, eq + 1) }],
  });
  if (eq < 0) return fail(`"${arg}" has no "="`, 'write --mock BACKEND_ID=SCRIPT, e.g. --mock aoai-1="429x3 retry-after=7; 200"');
  const backendId = arg.slice(0, eq).trim();
  if (!BACKEND_ID.test(backendId)) {
    return fail(`invalid backend id "${backendId}"`, 'a backend id as in set-backend-service backend-id: letters, digits, ".", "_", "-"');
  }
  const value = arg.slice(eq + 1);
  if (!value.startsWith('@')) {
    const r = parseMockScript(value, `--mock ${backendId}`);
    return { backendId, ...r };
  }
  const file = path.resolve(cwd, value.slice(1));
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return fail(
      `cannot read mock script file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      'give an existing .json, .yaml or text file after @',
    );
  }
  return { backendId, ...loadMockScriptText(text, file) };
}

/** A mock script file's content, by extension: JSON, YAML, or the text form. */
export function loadMockScriptText(text: string, file: string): { script?: MockScript; diagnostics: Diagnostic[] } {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.json') {
    try {
      return mockScriptFromJson(JSON.parse(text) as unknown, file);
    } catch (e) {
      const msg = (e as Error).message;
      // V8 reports "at position N" (sometimes with line/column); turn the offset into line:column.
      const pos = /position (\d+)/.exec(msg);
      const at = pos ? new SourceText(file, text).positionAt(Number(pos[1])) : { line: 1, column: 1 };
      return {
        diagnostics: [{ severity: 'error', code: 'mock/json', message: `not valid JSON: ${msg.replace(/ in JSON at position \d+.*$/, '')}`, file, ...at }],
      };
    }
  }
  if (ext === '.yaml' || ext === '.yml') {
    try {
      return mockScriptFromJson(yaml().parse(text) as unknown, file);
    } catch (e) {
      if (e instanceof yaml().YAMLParseError) {
        const p = e.linePos?.[0];
        return {
          diagnostics: [
            { severity: 'error', code: 'mock/yaml', message: `not valid YAML: ${e.message.split('\n')[0]}`, file, line: p?.line ?? 1, column: p?.col ?? 1 },
          ],
        };
      }
      throw e;
    }
  }
  return parseMockScript(text, file);
}

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIAGNOSTICS_DOC_URL, renderDiagnosticsDoc } from '../../src/cli/docs-diagnostics.js';
import { DIAGNOSTIC_CODES, codeArea, isDiagnosticCode, type DiagnosticCode } from '../../src/diagnostics/codes.js';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';
import { diagnosticAnchor, formatDiagnostics } from '../../src/diagnostics/format.js';

const SRC = path.resolve(import.meta.dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

const AREAS = new Set((Object.keys(DIAGNOSTIC_CODES) as DiagnosticCode[]).map(codeArea));
/** Every quoted `area/name` string in src/ whose area is a diagnostic area (MIME types and package paths are not). */
function codesInSource(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of sourceFiles(SRC)) {
    if (file.endsWith(path.join('diagnostics', 'codes.ts'))) continue;
    for (const m of readFileSync(file, 'utf8').matchAll(/'([a-z]+)\/([a-z0-9-]+)'/g)) {
      if (AREAS.has(m[1]!) && !found.has(`${m[1]}/${m[2]}`)) found.set(`${m[1]}/${m[2]}`, path.relative(SRC, file));
    }
  }
  return found;
}

describe('diagnostic code catalogue', () => {
  it('has an entry for every code used in src/, and every entry is used', () => {
    const used = codesInSource();
    const missing = [...used].filter(([code]) => !isDiagnosticCode(code)).map(([code, file]) => `${code} (${file})`);
    expect(missing, 'codes used without a catalogue entry in src/diagnostics/codes.ts').toEqual([]);
    const unused = Object.keys(DIAGNOSTIC_CODES).filter((code) => !used.has(code));
    expect(unused, 'catalogue entries no source file uses').toEqual([]);
    expect(used.size).toBeGreaterThan(150);
  });

  it('gives every code a one-line meaning that ends with a full stop', () => {
    for (const [code, meaning] of Object.entries(DIAGNOSTIC_CODES)) {
      expect(code).toMatch(/^[a-z]+\/[a-z0-9-]+$/);
      expect(meaning, code).toMatch(/^[A-Z<{@\-`(#&].*\.$/);
      expect(meaning, code).not.toContain('\n');
    }
  });

  it('docs/diagnostics.md matches the catalogue (run npm run docs:diagnostics when this fails)', () => {
    expect(readFileSync(DIAGNOSTICS_DOC_URL, 'utf8')).toBe(renderDiagnosticsDoc());
  });

  it('SARIF rules carry the meaning, help and a helpUri whose anchor is a heading of docs/diagnostics.md', () => {
    const diags: Diagnostic[] = [
      { severity: 'error', code: 'backend/pool-nested', message: 'pools cannot contain pools', file: 'b.json', jsonPath: '$.backends[1]' },
      { severity: 'warning', code: 'policy/protected-header', message: 'ignored', file: 'p.xml', line: 2, column: 3 },
    ];
    const home = 'https://github.com/apim-emulator/apim-emulator';
    const sarif = JSON.parse(formatDiagnostics(diags, 'sarif', { toolVersion: '1.2.3', cwd: '/tmp', informationUri: home })) as {
      runs: Array<{
        tool: {
          driver: {
            informationUri: string;
            rules: Array<{ id: DiagnosticCode; fullDescription: { text: string }; help: { text: string; markdown: string }; helpUri: string }>;
          };
        };
      }>;
    };
    const driver = sarif.runs[0]!.tool.driver;
    expect(driver.informationUri).toBe(home);
    expect(driver.rules.map((r) => r.id)).toEqual(['backend/pool-nested', 'policy/protected-header']);
    const headings = new Set(
      readFileSync(DIAGNOSTICS_DOC_URL, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('### '))
        .map((l) =>
          l
            .slice(4)
            .toLowerCase()
            .replace(/[^a-z0-9 _-]/g, '')
            .replace(/ /g, '-'),
        ),
    );
    for (const r of driver.rules) {
      expect(r.fullDescription.text).toBe(DIAGNOSTIC_CODES[r.id]);
      expect(r.help.text).toContain(DIAGNOSTIC_CODES[r.id]);
      expect(r.helpUri).toBe(`${home}/blob/main/docs/diagnostics.md#${diagnosticAnchor(r.id)}`);
      expect(headings.has(diagnosticAnchor(r.id))).toBe(true);
    }
    expect(diagnosticAnchor('backend/pool-nested')).toBe('backendpool-nested');
  });
});

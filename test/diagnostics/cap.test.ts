import { describe, expect, it } from 'vitest';
import { capPerFile, MAX_DIAGNOSTICS_PER_FILE } from '../../src/diagnostics/cap.js';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';
import { LoadError } from '../../src/diagnostics/diagnostic.js';
import { formatDiagnostics } from '../../src/diagnostics/format.js';
import { tryBuildGateway } from '../helpers/gateway.js';

const warn = (file: string, line: number): Diagnostic => ({
  severity: 'warning',
  code: 'policy/unknown-named-value',
  message: `w${line}`,
  file,
  line,
  column: 1,
});
const error = (file: string, line: number): Diagnostic => ({ severity: 'error', code: 'xml/bare-ampersand', message: `e${line}`, file, line, column: 1 });

describe('diagnostics per file', () => {
  it('lists at most the cap per file, errors first, and says how many more there are', () => {
    const diags = [...Array.from({ length: 300 }, (_, i) => warn('a.xml', i + 1)), error('a.xml', 999), warn('b.xml', 1)];
    const capped = capPerFile(diags, 100);
    const a = capped.filter((d) => d.file === 'a.xml');
    expect(a).toHaveLength(101);
    expect(a.filter((d) => d.severity === 'error')).toHaveLength(1);
    const note = a.find((d) => d.code === 'diagnostics/truncated')!;
    expect(note.message).toBe('201 more diagnostics in this file are not listed (0 errors, 201 warnings); at most 100 are listed per file');
    expect(note.line).toBe(100);
    expect(capped.filter((d) => d.file === 'b.xml')).toHaveLength(1);
    expect(capPerFile(diags.slice(0, 5), 100)).toEqual(diags.slice(0, 5));
  });

  it('the text report keeps full counts in its summary', () => {
    const diags = Array.from({ length: 1000 }, (_, i) => warn('a.xml', i + 1));
    const text = formatDiagnostics(diags, 'text', { toolVersion: '0', cwd: '/' });
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(MAX_DIAGNOSTICS_PER_FILE + 2);
    expect(lines.at(-2)).toContain('info diagnostics/truncated: 800 more diagnostics');
    expect(lines.at(-1)).toBe('0 errors, 1000 warnings in 1 file');
    const sarif = JSON.parse(formatDiagnostics(diags, 'sarif', { toolVersion: '0', cwd: '/' })) as { runs: Array<{ results: unknown[] }> };
    expect(sarif.runs[0]!.results).toHaveLength(MAX_DIAGNOSTICS_PER_FILE + 1);
  });

  it('thousands of undefined {{a}} references in one policy: built, capped in a load error message', () => {
    const api = `<policies><inbound><set-header name="a" exists-action="override"><value>${'{{a}}'.repeat(5_000)}</value></set-header></inbound><backend><forward-request /></backend><outbound /><on-error /></policies>`;
    const r = tryBuildGateway({ api });
    expect(r.diagnostics.length).toBeGreaterThanOrEqual(5_000);
    const errors = r.diagnostics.map((d) => ({ ...d, severity: 'error' as const }));
    const message = new LoadError(errors).message;
    expect(message.split('\n')).toHaveLength(MAX_DIAGNOSTICS_PER_FILE + 1);
    expect(message).toContain('more diagnostics in this file are not listed');
  });
});

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isConfigDocument, labBackends, runValidate } from '../../src/cli/validate.js';
import { formatDiagnosticLine } from '../../src/diagnostics/diagnostic.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const CORPUS = path.resolve(HERE, '../../../shared/corpus/ai-gateway');
const CORPUS_PRESENT = existsSync(CORPUS);
if (!CORPUS_PRESENT) console.warn(`[corpus] ${CORPUS} is absent: the corpus validate test is skipped.`);

const defaults = { backends: [], namedValues: [], scope: 'api' as const, backendParameters: {} };

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'apim-validate-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('content detection', () => {
  it('tells configuration files from backend documents', () => {
    expect(isConfigDocument({ apis: [], backends: ['b.json'] })).toBe(true);
    expect(isConfigDocument({ $schema: '../schemas/config.schema.json' })).toBe(true);
    expect(isConfigDocument({ backends: [{ name: 'a', properties: { url: 'https://a' } }] })).toBe(false);
    expect(isConfigDocument({ backends: [{ name: 'a' }], apis: [] })).toBe(false);
    expect(isConfigDocument([{ apis: [] }])).toBe(false);
  });

  it('picks the lab backends file of a corpus-style policy name', () => {
    const c = (n: string) => ({ abs: `/c/${n}` });
    const all = [
      'lab-a__backends.json',
      'lab-a__sub__backends.json',
      'svc__main-v1__backends.json',
      'svc__main-v2__backends.json',
      '_deprecated__x__backends.json',
    ].map(c);
    const pick = (p: string) => labBackends(`/c/${p}`, all).map((x) => path.basename(x.abs));
    expect(pick('lab-a__policy.xml')).toEqual(['lab-a__backends.json']);
    expect(pick('lab-a__sub__policy.xml')).toEqual(['lab-a__sub__backends.json']);
    expect(pick('svc__v2__openai-policy.xml')).toEqual(['svc__main-v2__backends.json']);
    expect(pick('svc__policy.xml')).toEqual(['svc__main-v1__backends.json']);
    expect(pick('_deprecated__x__other-policy.xml')).toEqual(['_deprecated__x__backends.json']);
    expect(pick('unrelated__policy.xml')).toEqual([]);
    expect(labBackends('/elsewhere/lab-a__policy.xml', all)).toEqual([]);
  });
});

describe('runValidate', () => {
  it('checks policies against --backends: an unknown backend-id is an error at its attribute', () => {
    writeFileSync(path.join(dir, 'b.json'), JSON.stringify({ backends: [{ name: 'known', properties: { url: 'https://k.example.com' } }] }));
    writeFileSync(
      path.join(dir, 'p.xml'),
      '<policies>\n  <inbound>\n    <set-backend-service backend-id="nope" />\n  </inbound>\n  <backend><forward-request /></backend>\n</policies>',
    );
    const r = runValidate({ ...defaults, inputs: [path.join(dir, 'p.xml')], backends: [path.join(dir, 'b.json')] });
    expect(r.exitCode).toBe(1);
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ line: 3 });
    expect(errors[0]!.file).toMatch(/p\.xml$/);
    expect(errors[0]!.message).toContain('nope');
    expect(r.files).toHaveLength(2);
  });

  it('fragments found among the inputs are known to include-fragment; named values are checked', () => {
    writeFileSync(
      path.join(dir, 'frag-a.xml'),
      '<fragment>\n  <set-header name="x-env" exists-action="override"><value>{{env}}</value></set-header>\n</fragment>',
    );
    writeFileSync(
      path.join(dir, 'uses.xml'),
      '<policies>\n  <inbound><include-fragment fragment-id="frag-a" /></inbound>\n  <outbound><include-fragment fragment-id="frag-b" /></outbound>\n</policies>',
    );
    const r = runValidate({
      ...defaults,
      inputs: [path.join(dir, 'frag-a.xml'), path.join(dir, 'uses.xml')],
      namedValues: [{ name: 'other', value: '1', secret: false }],
    });
    const lines = r.diagnostics.map(formatDiagnosticLine);
    expect(r.exitCode).toBe(1);
    expect(lines.some((l) => /uses\.xml:3:\d+: error .*frag-b/.test(l))).toBe(true);
    expect(lines.some((l) => /frag-a\.xml:2:\d+: error policy\/unknown-named-value: .*env/.test(l))).toBe(true);
    expect(lines.some((l) => /frag-a"/.test(l) && l.includes('uses.xml'))).toBe(false);
  });

  it('--scope places the document: quota is allowed at product scope only', () => {
    writeFileSync(
      path.join(dir, 'quota.xml'),
      '<policies>\n  <inbound>\n    <base />\n    <quota calls="10" renewal-period="60" />\n  </inbound>\n  <backend><base /></backend>\n  <outbound><base /></outbound>\n  <on-error><base /></on-error>\n</policies>',
    );
    const at = (scope: 'api' | 'product') => runValidate({ ...defaults, scope, inputs: [path.join(dir, 'quota.xml')] });
    const api = at('api');
    expect(api.exitCode).toBe(1);
    expect(api.diagnostics.filter((d) => d.severity === 'error')).toEqual([expect.objectContaining({ line: 4, column: 5 })]);
    expect(at('product').diagnostics.map(formatDiagnosticLine)).toEqual([]);
  });

  it('the bundled policies/ folder is clean (config validated once, its files not again on their own)', () => {
    const r = runValidate({ ...defaults, inputs: [path.join(ROOT, 'policies')] });
    expect(r.diagnostics.map(formatDiagnosticLine)).toEqual([]);
    expect(r.exitCode).toBe(0);
    expect(r.files.length).toBeGreaterThanOrEqual(5);
  });
});

describe.skipIf(!CORPUS_PRESENT)('validate ../shared/corpus/ai-gateway', () => {
  it('checks every lab file with its backends and placeholders; every diagnostic is located', () => {
    const r = runValidate({ ...defaults, inputs: [CORPUS] });
    expect(r.exitCode).not.toBe(2);
    const xml = r.files.filter((f) => f.endsWith('.xml'));
    const json = r.files.filter((f) => f.endsWith('.json'));
    expect(xml).toHaveLength(114);
    expect(json).toHaveLength(51);
    for (const d of r.diagnostics) {
      expect(d.file, formatDiagnosticLine(d)).toMatch(/\.(xml|json)$/);
      expect(d.line !== undefined || d.jsonPath !== undefined, formatDiagnosticLine(d)).toBe(true);
    }
    // Placeholders were substituted: a literal {backend-id} is only reported where the lab's backends file does not
    // define that placeholder (a few MCP labs).
    const names = readdirSync(CORPUS);
    const backendsFiles = names.filter((n) => n.endsWith('__backends.json')).map((n) => ({ abs: path.join(CORPUS, n) }));
    const defines = (policy: string) =>
      labBackends(path.join(CORPUS, policy), backendsFiles).some(
        (b) => '{backend-id}' in ((JSON.parse(readFileSync(b.abs, 'utf8')) as { policyPlaceholders?: object }).policyPlaceholders ?? {}),
      );
    const literal = r.diagnostics.filter((d) => d.message.includes('{backend-id}'));
    for (const d of literal) expect(defines(path.basename(d.file!)), formatDiagnosticLine(d)).toBe(false);
    const lb = r.diagnostics.filter((d) => d.file?.endsWith('/backend-pool-load-balancing__policy.xml') && d.severity === 'error');
    expect(lb.map(formatDiagnosticLine)).toEqual([]);
    // Backends files are valid on their own (the backends module's corpus test pins this too).
    expect(r.diagnostics.filter((d) => d.severity === 'error' && d.file?.endsWith('.json')).map(formatDiagnosticLine)).toEqual([]);
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    const filesWithErrors = new Set(errors.map((d) => d.file));
    console.log(
      `corpus validate: ${r.files.length} files, ${errors.length} errors in ${filesWithErrors.size} files, ${r.diagnostics.length - errors.length} warnings/notes`,
    );
  });
});

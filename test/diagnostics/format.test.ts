import path from 'node:path';
import { Ajv } from 'ajv';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';
import { formatDiagnostics } from '../../src/diagnostics/format.js';

const cwd = path.resolve('/tmp/repo');
const DIAGS: Diagnostic[] = [
  { severity: 'warning', code: 'policy/protected-header', message: 'ocp-apim-trace is no longer supported', file: 'policies/b.xml', line: 7, column: 3 },
  {
    severity: 'error',
    code: 'backend/pool-nested',
    message: 'a pool member must be a single backend',
    hint: 'allowed: backends of type Single',
    file: 'infra/backends.json',
    jsonPath: '$.backends[2].properties.pool.services[0]',
  },
  {
    severity: 'error',
    code: 'policy/unknown-element',
    message: 'unknown policy <set-headr>',
    hint: 'did you mean <set-header>?',
    file: path.join(cwd, 'policies/api-a.xml'),
    line: 3,
    column: 5,
  },
  { severity: 'error', code: 'expr/syntax', message: 'expected ")"', file: 'policies/api-a.xml', line: 1, column: 20 },
  { severity: 'info', code: 'policy/missing-section', message: 'inherits <base/>', file: 'my policies/c d.xml', line: 2, column: 1 },
];
const FILES = ['policies/api-a.xml', 'policies/b.xml', 'policies/clean.xml', 'infra/backends.json', 'my policies/c d.xml'];
const opts = { toolVersion: '0.1.0', files: FILES, cwd };

describe('text', () => {
  it('prints one sorted line per diagnostic and a summary', () => {
    const out = formatDiagnostics(DIAGS, 'text', opts);
    expect(out.split('\n')).toEqual([
      'infra/backends.json $.backends[2].properties.pool.services[0]: error backend/pool-nested: a pool member must be a single backend (allowed: backends of type Single)',
      'my policies/c d.xml:2:1: info policy/missing-section: inherits <base/>',
      'policies/api-a.xml:1:20: error expr/syntax: expected ")"',
      'policies/api-a.xml:3:5: error policy/unknown-element: unknown policy <set-headr> (did you mean <set-header>?)',
      'policies/b.xml:7:3: warning policy/protected-header: ocp-apim-trace is no longer supported',
      '3 errors, 1 warning, 1 note in 5 files',
      '',
    ]);
    expect(formatDiagnostics([], 'text', { toolVersion: '1', files: ['a.xml'], cwd })).toBe('0 errors, 0 warnings in 1 file\n');
  });
});

describe('json', () => {
  it('gives diagnostics and a summary', () => {
    const out = JSON.parse(formatDiagnostics(DIAGS, 'json', opts)) as { diagnostics: Diagnostic[]; summary: Record<string, number> };
    expect(out.summary).toEqual({ errors: 3, warnings: 1, infos: 1, files: 5 });
    expect(out.diagnostics).toHaveLength(5);
    expect(out.diagnostics.find((d) => d.code === 'policy/unknown-element')!.file).toBe('policies/api-a.xml');
  });
});

// The parts of SARIF 2.1.0 GitHub code scanning requires of uploaded files (docs "SARIF support for code scanning").
const GITHUB_SARIF_SUBSET = {
  type: 'object',
  required: ['$schema', 'version', 'runs'],
  properties: {
    $schema: { type: 'string', pattern: '^https://' },
    version: { const: '2.1.0' },
    runs: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['tool', 'results'],
        properties: {
          tool: {
            type: 'object',
            required: ['driver'],
            properties: {
              driver: {
                type: 'object',
                required: ['name'],
                properties: {
                  name: { type: 'string', minLength: 1 },
                  rules: {
                    type: 'array',
                    items: {
                      type: 'object',
                      required: ['id', 'shortDescription'],
                      properties: {
                        id: { type: 'string' },
                        shortDescription: { type: 'object', required: ['text'], properties: { text: { type: 'string', minLength: 1 } } },
                      },
                    },
                  },
                },
              },
            },
          },
          results: {
            type: 'array',
            items: {
              type: 'object',
              required: ['ruleId', 'message', 'locations'],
              properties: {
                ruleId: { type: 'string' },
                level: { enum: ['none', 'note', 'warning', 'error'] },
                message: { type: 'object', required: ['text'], properties: { text: { type: 'string', minLength: 1 } } },
                locations: {
                  type: 'array',
                  minItems: 1,
                  maxItems: 10,
                  items: {
                    type: 'object',
                    required: ['physicalLocation'],
                    properties: {
                      physicalLocation: {
                        type: 'object',
                        required: ['artifactLocation', 'region'],
                        properties: {
                          artifactLocation: { type: 'object', required: ['uri'], properties: { uri: { type: 'string', minLength: 1 } } },
                          region: {
                            type: 'object',
                            required: ['startLine'],
                            properties: { startLine: { type: 'integer', minimum: 1 }, startColumn: { type: 'integer', minimum: 1 } },
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

interface SarifLog {
  runs: Array<{
    tool: {
      driver: { name: string; version: string; rules: Array<{ id: string; shortDescription: { text: string }; defaultConfiguration: { level: string } }> };
    };
    artifacts: Array<{ location: { uri: string; uriBaseId?: string } }>;
    results: Array<{
      ruleId: string;
      ruleIndex: number;
      level: string;
      message: { text: string };
      locations: Array<{ physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string }; region: { startLine: number; startColumn?: number } } }>;
    }>;
  }>;
}

describe('sarif', () => {
  const log = JSON.parse(formatDiagnostics(DIAGS, 'sarif', opts)) as SarifLog;
  const run = log.runs[0]!;

  it('has the structure GitHub code scanning accepts', () => {
    const validate = new Ajv({ allErrors: true }).compile(GITHUB_SARIF_SUBSET);
    expect(validate(log), JSON.stringify(validate.errors)).toBe(true);
    expect(run.tool.driver).toMatchObject({ name: 'apim-emulator', version: '0.1.0' });
  });

  it('has one rule per distinct code and results that point at them', () => {
    expect(run.tool.driver.rules.map((r) => r.id)).toEqual([
      'backend/pool-nested',
      'expr/syntax',
      'policy/missing-section',
      'policy/protected-header',
      'policy/unknown-element',
    ]);
    expect(run.tool.driver.rules[0]).toMatchObject({ shortDescription: { text: 'Backend: pool nested' }, defaultConfiguration: { level: 'error' } });
    for (const r of run.results) expect(run.tool.driver.rules[r.ruleIndex]!.id).toBe(r.ruleId);
    expect(run.results.map((r) => r.level)).toEqual(['error', 'note', 'error', 'error', 'warning']);
  });

  it('uses relative forward-slash URIs, line/column regions, and line 1 plus the path in the message for JSON paths', () => {
    const [jsonOnly, note, , unknown] = run.results;
    expect(jsonOnly!.locations[0]!.physicalLocation).toEqual({
      artifactLocation: { uri: 'infra/backends.json', uriBaseId: '%SRCROOT%' },
      region: { startLine: 1 },
    });
    expect(jsonOnly!.message.text).toBe(
      'a pool member must be a single backend (allowed: backends of type Single) [at $.backends[2].properties.pool.services[0]]',
    );
    expect(note!.locations[0]!.physicalLocation.artifactLocation.uri).toBe('my%20policies/c%20d.xml');
    expect(unknown!.locations[0]!.physicalLocation).toEqual({
      artifactLocation: { uri: 'policies/api-a.xml', uriBaseId: '%SRCROOT%' },
      region: { startLine: 3, startColumn: 5 },
    });
    expect(unknown!.message.text).toBe('unknown policy <set-headr> (did you mean <set-header>?)');
    // Clean files are listed as artifacts too.
    expect(run.artifacts.map((a) => a.location.uri)).toContain('policies/clean.xml');
    expect(run.artifacts).toHaveLength(5);
  });
});

describe('junit', () => {
  const nasty: Diagnostic[] = [
    { severity: 'error', code: 'xml/malformed', message: 'bad <tag> & "quotes" \'apos\' ]]> \u0001ctl', file: 'p&q.xml', line: 1, column: 1 },
    { severity: 'error', code: 'xml/truncated', message: 'second', file: 'p&q.xml', line: 2, column: 1 },
    { severity: 'warning', code: 'mock/unused', message: 'only a warning <ok>', file: 'warn.xml', line: 1, column: 1 },
  ];
  const xml = formatDiagnostics(nasty, 'junit', { toolVersion: '0.1.0', files: ['clean.xml', 'p&q.xml', 'warn.xml'], cwd });

  it('is well-formed XML that parses back to one suite with one testcase per file', () => {
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'testcase' || name === 'failure' }).parse(
      xml,
    ) as {
      testsuites: {
        testsuite: {
          name: string;
          tests: string;
          failures: string;
          testcase: Array<{ name: string; classname: string; failure?: Array<{ message: string; '#text': string }>; 'system-out'?: string }>;
        };
      };
    };
    const suite = doc.testsuites.testsuite;
    expect(suite).toMatchObject({ name: 'apim-emulator validate', tests: '3', failures: '1' });
    expect(suite.testcase.map((t) => [t.name, t.classname])).toEqual([
      ['clean.xml', 'clean.xml'],
      ['p&q.xml', 'p&q.xml'],
      ['warn.xml', 'warn.xml'],
    ]);
    const [clean, bad, warn] = suite.testcase;
    expect(clean!.failure).toBeUndefined();
    expect(bad!.failure).toHaveLength(1);
    expect(bad!.failure![0]!.message).toBe('2 errors: xml/malformed: bad <tag> & "quotes" \'apos\' ]]> \uFFFDctl …');
    expect(bad!.failure![0]!['#text']).toBe(
      'p&q.xml:1:1: error xml/malformed: bad <tag> & "quotes" \'apos\' ]]> \uFFFDctl\np&q.xml:2:1: error xml/truncated: second',
    );
    expect(warn!.failure).toBeUndefined();
    expect(warn!['system-out']).toBe('warn.xml:1:1: warning mock/unused: only a warning <ok>');
  });

  it('groups diagnostics without a file under their own testcase', () => {
    const out = formatDiagnostics([{ severity: 'error', code: 'io/unreadable', message: 'no input', jsonPath: '$' }], 'junit', { toolVersion: '1', cwd });
    expect(XMLValidator.validate(out)).toBe(true);
    expect(out).toContain('<testcase name="(no file)" classname="(no file)">');
    expect(out).toContain('<failure message="1 error: io/unreadable: no input" type="validation">$: error io/unreadable: no input</failure>');
  });
});

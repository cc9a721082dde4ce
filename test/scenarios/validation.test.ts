import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { formatDiagnosticLine } from '../../src/diagnostics/diagnostic.js';
import { formatRunReport, loadScenario, parseDuration, runScenarioFile, runScenarios } from '../../src/scenarios/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const config = path.join(root, 'policies/example/apim-emulator.json');
const dir = mkdtempSync(path.join(tmpdir(), 'apim-scenario-validation-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

/** Diagnostics as `line:column jsonPath: message (hint)` without the (temporary) folder. */
function lines(file: string): string[] {
  return loadScenario(file).diagnostics.map((d) =>
    formatDiagnosticLine(d)
      .replace(`${path.basename(file)}:`, '')
      .replace(/^.*?(\d+:\d+)/, '$1'),
  );
}

describe('scenario file validation (exit 2, with file, line, column and JSON path)', () => {
  it('reports schema problems at the offending key or value in YAML', () => {
    const f = write(
      'schema.scenario.yaml',
      `config: ${config}
steps:
  - send: { path: /openai/x }
    expect:
      stauts: 200
  - advance: soon
`,
    );
    expect(lines(f)).toEqual([
      '5:7 $.steps[0].expect.stauts: error scenario/schema: unknown property "stauts" (allowed: status, headers, body, bodyContains, backend, attempts, attemptCount, distribution, tolerance, statuses, servedBy, sent, breakers, mockRequests, trace)',
      '6:14 $.steps[1].advance: error scenario/schema: "soon" has the wrong form (A duration: 500ms, 30s, 1m30s, 2h, or ISO 8601 (PT1M30S).)',
    ]);
  });

  it('reports positions in JSON files too', () => {
    const f = write('schema.scenario.json', `{\n  "policy": "p.xml",\n  "steps": [\n    { "send": { "path": "no-slash" } }\n  ]\n}\n`);
    expect(lines(f)).toEqual([
      '4:25 $.steps[0].send.path: error scenario/schema: "no-slash" has the wrong form (Path and query, e.g. /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21.)',
    ]);
  });

  it('reports YAML syntax errors with their position', () => {
    const f = write('syntax.scenario.yaml', 'name: a\nsteps:\n  - advance: 1s\nname: b\n');
    const ds = loadScenario(f).diagnostics;
    expect(ds.map((d) => `${d.line}:${d.column} ${d.code}: ${d.message}`)).toEqual(['4:1 scenario/syntax: invalid YAML: Map keys must be unique']);
  });

  it('rejects contradictions inside a step', () => {
    const f = write(
      'steps.scenario.yaml',
      `config: ${config}
steps:
  - send: { path: /openai/x }
    advance: 1s
  - advance: 10s
    expect: { status: 200 }
  - send: { path: /openai/x }
    expect: { distribution: { foundry2: 60, foundry3: 50 } }
`,
    );
    expect(lines(f)).toEqual([
      '4:5 $.steps[0].advance: error scenario/step: step 1 has both "send" and "advance" (one action per step: send, concurrent, advance or script (or only expect))',
      '6:15 $.steps[1].expect.status: error scenario/expect: "status" is about a response, but step 2 sends no request (in steps without "send" or "concurrent" expect only breakers and mockRequests)',
      '8:29 $.steps[2].expect.distribution: error scenario/expect: the shares of "distribution" add up to 110, not 100 (give each backend\'s percentage of the repeated requests)',
      '8:15 $.steps[2].expect.distribution: error scenario/expect: "distribution" needs "repeat" (a share of one request says little) (add e.g. repeat: 100)',
    ]);
  });

  it('rejects backend ids and trace paths that the loaded gateway does not have', async () => {
    const f = write(
      'refs.scenario.yaml',
      `config: ${config}
snapshot: false
steps:
  - send: { path: /openai/x, headers: { api-key: example-key } }
    expect:
      backend: foundry9
      attempts: [openai-backend-pool]
      breakers: { foundry1: open }
      trace:
        ran:
          - inbound set-backend-servic[1]
`,
    );
    const r = await runScenarioFile(f);
    expect(r.status).toBe('invalid');
    expect(r.diagnostics.map((d) => `${d.line}:${d.column} ${d.jsonPath}: ${d.message}`)).toEqual([
      '6:16 $.steps[0].expect.backend: "backend" names backend "foundry9", which is not defined',
      '7:18 $.steps[0].expect.attempts[0]: "attempts" names "openai-backend-pool", which is a pool',
      '11:13 $.steps[0].expect.trace.ran[0]: "inbound set-backend-servic[1]" names no policy in the documents under test',
    ]);
    expect(r.diagnostics[0]!.hint).toBe('backends: foundry1, foundry2, foundry3, foundry4');
    expect(r.requests).toBe(0);
  });

  it('makes an unreadable file named by the scenario invalid, and unmocked backends too when asked', async () => {
    const missing = write('missing.scenario.yaml', 'config: nowhere.json\nsteps:\n  - advance: 1s\n');
    const r1 = await runScenarioFile(missing);
    expect(r1.status).toBe('invalid');
    expect(r1.diagnostics[0]).toMatchObject({ code: 'io/unreadable', line: 1, column: 9, jsonPath: '$.config' });

    const strict = write('strict.scenario.yaml', `config: ${config}\nunmockedBackends: error\nmocks: { foundry1: "200" }\nsteps:\n  - advance: 1s\n`);
    const r2 = await runScenarioFile(strict);
    expect(r2.status).toBe('invalid');
    expect(r2.diagnostics[0]).toMatchObject({
      message: 'backends foundry2, foundry3, foundry4 have no mock script',
      line: 2,
      column: 19,
      jsonPath: '$.unmockedBackends',
    });
  });

  it('checks the start time and the backends that mocks and script steps name', async () => {
    const start = write('start.scenario.yaml', `config: ${config}\nstart: 2025-13-45T00:00:00Z\nsteps:\n  - advance: 1s\n`);
    expect(lines(start)).toEqual([
      '2:8 $.start: error scenario/start: "2025-13-45T00:00:00Z" is not a valid time (an ISO 8601 time such as 2025-01-01T00:00:00Z)',
    ]);

    const f = write('script.scenario.yaml', `config: ${config}\nmocks:\n  openai-backend-pool: "200"\nsteps:\n  - script: { foundry7: "500" }\n`);
    const r = await runScenarioFile(f);
    expect(r.status).toBe('invalid');
    expect(r.diagnostics.map((d) => `${d.line}:${d.column} ${d.code}: ${d.message}`)).toEqual([
      '3:3 config/mock-pool: "openai-backend-pool" is a pool; mock its member backends instead',
      '5:15 config/unknown-backend: mock for backend "foundry7", which is not defined',
    ]);
  });

  it('gives exit code 2 for any invalid scenario, and for a folder without scenarios', async () => {
    const bad = write('exit.scenario.yaml', 'steps: []\n');
    const invalid = await runScenarios([bad], { snapshots: 'off' });
    expect(invalid.exitCode).toBe(2);
    const junit = formatRunReport(invalid, 'junit');
    expect(junit).toContain('<testsuites name="apim-emulator test" tests="1" failures="0" errors="1"');
    expect(junit).toContain('<error message="invalid scenario: needs at least 1 item" type="invalid-scenario">');
    expect(formatRunReport(invalid, 'text')).toMatch(
      /^INVALID .*exit\.scenario\.yaml — exit\n  .*exit\.scenario\.yaml:1:8 \$\.steps: error scenario\/schema: needs at least 1 item/m,
    );
    const empty = mkdtempSync(path.join(dir, 'empty-'));
    const s = await runScenarios([empty]);
    expect(s.exitCode).toBe(2);
    expect(s.diagnostics[0]!.message).toMatch(/^no scenario files in /);
  });

  it('fails (exit 1, not 2) when the policies under test do not compile', async () => {
    const policy = write(
      'broken.xml',
      '<policies><inbound><set-heade name="x" /></inbound><backend><forward-request /></backend><outbound /><on-error /></policies>',
    );
    const f = write('broken.scenario.yaml', `policy: ${path.basename(policy)}\nsnapshot: false\nsteps:\n  - send: { path: /x }\n`);
    const s = await runScenarios([f]);
    expect(s.exitCode).toBe(1);
    expect(s.results[0]!.failures[0]!.message).toBe('the policies and backends under test do not load (1 error)');
    expect(s.results[0]!.failures[0]!.details[0]).toMatch(
      /broken\.xml:1:20: error policy\/unknown-element: <set-heade> is not an APIM policy \(did you mean <set-header>\?\)/,
    );
  });
});

describe('schemas/scenario.schema.json', () => {
  it('is a valid draft-07 schema (the runner compiles it without meta-schema validation)', () => {
    const schema = JSON.parse(readFileSync(path.join(root, 'schemas/scenario.schema.json'), 'utf8')) as Record<string, unknown>;
    const ajv = new Ajv({ strict: false });
    expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).toBe(true);
  });
});

describe('durations', () => {
  it('accepts compact and ISO 8601 forms', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('PT1M30S')).toBe(90_000);
    expect(parseDuration('soon')).toBeNull();
    expect(parseDuration('10 s x')).toBeNull();
  });
});

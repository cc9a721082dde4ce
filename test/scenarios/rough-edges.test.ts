import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { formatDiagnosticLine } from '../../src/diagnostics/diagnostic.js';
import { formatRunReport, runScenarioFile, summarize } from '../../src/scenarios/index.js';

/** What a newcomer tripped over (issue 14, "Rough edges"): snapshots of failing runs, repeated traces, YAML flow lists, errors in passes. */

const root = fileURLToPath(new URL('../../', import.meta.url));
const config = path.join(root, 'policies/example/apim-emulator.json');
const dir = mkdtempSync(path.join(tmpdir(), 'apim-scenario-edges-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

/** Diagnostics of a result as `line:column jsonPath: code: message` without the temporary folder. */
function lines(r: { diagnostics: Parameters<typeof formatDiagnosticLine>[0][] }): string[] {
  return r.diagnostics.map((d) => formatDiagnosticLine(d).replace(/^.*?\.scenario\.yaml:/, ''));
}

const CHAT = `{ path: "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", headers: { api-key: example-key }, body: { messages: [] } }`;

describe('snapshots and failing runs', () => {
  it('a failing first run writes no snapshot; the fixed scenario then passes and writes it', async () => {
    const scenario = (want: string) => `config: ${config}\nsteps:\n  - send: ${CHAT}\n    expect: { backend: ${want} }\n`;
    const f = write('first.scenario.yaml', scenario('foundry2'));
    const snap = path.join(dir, 'first.snap.txt');
    const failed = await runScenarioFile(f);
    expect(failed.status).toBe('failed');
    expect(failed.snapshot?.status).toBe('not-written');
    expect(existsSync(snap)).toBe(false);
    expect(formatRunReport(summarize([failed]), 'text')).toContain('snapshot not written: ');
    writeFileSync(f, scenario('foundry1'));
    const fixed = await runScenarioFile(f);
    expect(fixed.failures.map((x) => x.message)).toEqual([]);
    expect(fixed.snapshot?.status).toBe('written');
    expect(existsSync(snap)).toBe(true);
  });
});

describe('a request that breaks several expectations', () => {
  it('shows its attempts and trace once, under the first failure', async () => {
    const f = write(
      'several.scenario.yaml',
      `config: ${config}
snapshot: false
steps:
  - send: ${CHAT}
    expect: { status: 201, backend: foundry2, attemptCount: 2 }
`,
    );
    const r = await runScenarioFile(f);
    expect(r.failures.map((x) => x.message)).toEqual([
      'expected status 201 but got 200 (request 1 of 1 in step 1: send)',
      'expected backend foundry2 to serve the request but foundry1 did (request 1 of 1 in step 1: send)',
      'expected 2 attempts but got 1 (request 1 of 1 in step 1: send)',
    ]);
    expect(r.failures[0]!.details).toContain('trace:');
    expect(r.failures[1]!.details).toEqual(['request 1: its attempts and trace are shown above']);
    expect(r.failures[2]!.details).toEqual(['request 1: its attempts and trace are shown above']);
    const text = formatRunReport(summarize([r]), 'text');
    expect(text.match(/trace:/g)).toHaveLength(1);
  });
});

describe('YAML flow lists holding trace paths', () => {
  it('are explained once per line, at the item, with the fix', async () => {
    const f = write(
      'flow.scenario.yaml',
      `config: ${config}
steps:
  - send: ${CHAT}
    expect:
      trace: { ran: [retry, choose[1]/when[1]] }
`,
    );
    const r = await runScenarioFile(f);
    expect(r.status).toBe('invalid');
    expect(lines(r)).toEqual([
      '5:29: error scenario/syntax: "choose[1]/when[1]" inside [ ] is read as nested YAML lists, not as text: in a flow list [ and ] are brackets (quote each path, e.g. ["choose[1]/when[1]"], or write the list one item per line: - choose[1]/when[1])',
    ]);
  });

  it('quoted, the same list is read as text', async () => {
    const f = write(
      'quoted.scenario.yaml',
      `config: ${config}
snapshot: false
steps:
  - send: ${CHAT}
    expect:
      trace: { ran: [retry, "backend retry[1]/forward-request[1]"], notRan: ["on-error choose[1]/when[1]"] }
`,
    );
    const r = await runScenarioFile(f);
    expect(r.failures.map((x) => x.message)).toEqual([]);
    expect(r.status).toBe('passed');
  });
});

describe('scenario errors', () => {
  it('come in one report: schema, mocks, unknown backends and trace paths together', async () => {
    const f = write(
      'many.scenario.yaml',
      `config: ${config}
mocks:
  foundry9: "200"
steps:
  - send: ${CHAT}
    expect: { stauts: 200 }
  - send: ${CHAT}
    expect: { backend: foundry7, trace: { ran: ["choose[9]/when[1]"] } }
  - advance: soon
`,
    );
    const r = await runScenarioFile(f);
    expect(r.status).toBe('invalid');
    expect(lines(r).map((l) => l.replace(/ \(.*\)$/, ''))).toEqual([
      '6:15 $.steps[0].expect.stauts: error scenario/schema: unknown property "stauts"',
      '9:14 $.steps[2].advance: error scenario/schema: "soon" has the wrong form',
      '3:3 $.mocks.foundry9: error config/unknown-backend: mock for backend "foundry9", which is not defined',
      '8:24 $.steps[1].expect.backend: error scenario/unknown-reference: "backend" names backend "foundry7", which is not defined',
      '8:49 $.steps[1].expect.trace.ran[0]: error scenario/trace: "choose[9]/when[1]" names no policy in the documents under test',
    ]);
  });

  it('come in one report: schema and files that cannot be read together', async () => {
    const f = write(
      'paths.scenario.yaml',
      `policy: missing-policy.xml
backends: [missing-backends.json]
steps:
  - send: { path: /x }
    expect: { status: "200" }
`,
    );
    const r = await runScenarioFile(f);
    expect(r.status).toBe('invalid');
    expect(r.diagnostics.map((d) => `${d.code} ${d.jsonPath}`)).toEqual([
      'scenario/schema $.steps[0].expect.status',
      'io/unreadable $.policy',
      'io/unreadable $.backends[0]',
    ]);
  });
});

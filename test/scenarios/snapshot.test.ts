import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SourceText } from '../../src/diagnostics/source.js';
import { parsePolicyDocument } from '../../src/pipeline/document.js';
import { diffLines, enumerateItems, formatOffset, runScenarioFile } from '../../src/scenarios/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const config = path.join(root, 'policies/example/apim-emulator.json');
const dir = mkdtempSync(path.join(tmpdir(), 'apim-scenario-snapshot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function scenario(foundry1: string): string {
  return `name: snapshot demo
config: ${config}
mocks:
  foundry1: "${foundry1}"
steps:
  - send:
      path: /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21
      headers: { api-key: example-key }
      body: { messages: [] }
    repeat: 2
  - advance: 90s
`;
}

describe('timeline snapshots', () => {
  it('are written the first time, match when nothing changed, and fail with a diff when the timeline changes', async () => {
    const file = path.join(dir, 'demo.scenario.yaml');
    const snap = path.join(dir, 'demo.snap.txt');
    writeFileSync(file, scenario('429 retry-after=60; aoai'));

    const first = await runScenarioFile(file);
    expect(first.status).toBe('passed');
    expect(first.snapshot).toMatchObject({ status: 'written', path: snap });
    const written = readFileSync(snap, 'utf8');
    expect(written).toBe(
      [
        '# apim-emulator timeline: snapshot demo',
        '# virtual time since the scenario started; refresh with: apim-emulator test <scenario> --update-snapshots',
        'step 1: send 2× POST /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21',
        '  +00:00:00.000 #1 foundry1 429, foundry2 200 → 200',
        '  +00:00:00.000 breaker foundry1 opened for 00:01:00 (Retry-After 00:01:00), until +00:01:00.000',
        '  +00:00:00.000 #2 foundry3 200 → 200',
        'step 2: advance 90s → +00:01:30.000',
        '  +00:01:00.000 breaker foundry1 closed',
        '',
      ].join('\n'),
    );

    const again = await runScenarioFile(file);
    expect(again.status).toBe('passed');
    expect(again.snapshot?.status).toBe('matched');

    // The policy change a PR would make, simulated: foundry1 now throttles twice, so the failover path changes.
    writeFileSync(file, scenario('429 retry-after=30; aoai'));
    const changed = await runScenarioFile(file);
    expect(changed.status).toBe('failed');
    expect(changed.snapshot?.status).toBe('changed');
    const failure = changed.failures.find((f) => f.stepLabel === 'snapshot')!;
    expect(failure.message).toMatch(
      /^the timeline differs from the snapshot .*demo\.snap\.txt \(- snapshot, \+ this run; run with --update-snapshots if the change is intended\)$/,
    );
    expect(failure.details).toEqual([
      '@@ line 3 @@',
      '  step 1: send 2× POST /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21',
      '    +00:00:00.000 #1 foundry1 429, foundry2 200 → 200',
      '-   +00:00:00.000 breaker foundry1 opened for 00:01:00 (Retry-After 00:01:00), until +00:01:00.000',
      '+   +00:00:00.000 breaker foundry1 opened for 00:00:30 (Retry-After 00:00:30), until +00:00:30.000',
      '    +00:00:00.000 #2 foundry3 200 → 200',
      '  step 2: advance 90s → +00:01:30.000',
      '-   +00:01:00.000 breaker foundry1 closed',
      '+   +00:00:30.000 breaker foundry1 closed',
    ]);
    // A failing comparison never rewrites the stored snapshot.
    expect(readFileSync(snap, 'utf8')).toBe(written);

    const updated = await runScenarioFile(file, { snapshots: 'update' });
    expect(updated.status).toBe('passed');
    expect(updated.snapshot?.status).toBe('updated');
    expect(readFileSync(snap, 'utf8')).toContain('opened for 00:00:30');
  });

  it('in CI mode a missing snapshot is a failure and nothing is written; snapshot: false opts out', async () => {
    const file = path.join(dir, 'ci.scenario.yaml');
    writeFileSync(file, scenario('aoai'));
    const r = await runScenarioFile(file, { snapshots: 'ci' });
    expect(r.status).toBe('failed');
    expect(r.snapshot?.status).toBe('missing');
    expect(existsSync(path.join(dir, 'ci.snap.txt'))).toBe(false);

    writeFileSync(file, `snapshot: false\n${scenario('aoai')}`);
    const off = await runScenarioFile(file, { snapshots: 'ci' });
    expect(off.status).toBe('passed');
    expect(off.snapshot).toBeNull();
  });
});

describe('line diff', () => {
  it('shows changed lines with context and line headers', () => {
    expect(diffLines('a\nb\nc\nd\ne\nf\ng\n', 'a\nb\nc\nD\ne\nf\ng\nh\n', 1).split('\n')).toEqual([
      '@@ line 3 @@',
      '  c',
      '- d',
      '+ D',
      '  e',
      '@@ line 7 @@',
      '  g',
      '+ h',
    ]);
    expect(diffLines('same\n', 'same\n')).toBe('');
  });

  it('formats virtual offsets', () => {
    expect(formatOffset(0)).toBe('+00:00:00.000');
    expect(formatOffset(3_723_004)).toBe('+01:02:03.004');
  });
});

describe('coverage items', () => {
  it('follow the compiler: n-th same-named sibling, branches, implicit otherwise, retry children, fragments', () => {
    const doc = parsePolicyDocument(
      new SourceText(
        'p.xml',
        `<policies>
  <inbound>
    <base />
    <set-header name="a" exists-action="override"><value>1</value></set-header>
    <set-header name="b" exists-action="override"><value>2</value></set-header>
    <choose>
      <when condition="@(true)"><set-variable name="x" value="1" /></when>
      <when condition="@(false)"><set-variable name="x" value="2" /><set-variable name="y" value="2" /></when>
    </choose>
    <include-fragment fragment-id="frag" />
  </inbound>
  <backend>
    <retry condition="@(false)" count="1" interval="0"><forward-request /></retry>
  </backend>
  <outbound />
  <on-error><set-status code="500" reason="x" /></on-error>
</policies>`,
      ),
    ).document!;
    const frag = parsePolicyDocument(new SourceText('frag.xml', '<fragment><set-variable name="f" value="1" /></fragment>')).document!;
    const items = enumerateItems(doc, new Map([['frag', frag]]));
    expect(items.map((i) => `${i.kind} ${i.section} ${i.path}${i.implicit ? ' (implicit)' : ''} @${i.line}`)).toEqual([
      'statement inbound set-header[1] @4',
      'statement inbound set-header[2] @5',
      'statement inbound choose[1] @6',
      'branch inbound choose[1]/when[1] @7',
      'statement inbound choose[1]/when[1]/set-variable[1] @7',
      'branch inbound choose[1]/when[2] @8',
      'statement inbound choose[1]/when[2]/set-variable[1] @8',
      'statement inbound choose[1]/when[2]/set-variable[2] @8',
      'branch inbound choose[1]/otherwise[1] (implicit) @6',
      'statement inbound include-fragment[1] @10',
      'statement inbound include-fragment[1]/set-variable[1] @1',
      'statement backend retry[1] @13',
      'statement backend retry[1]/forward-request[1] @13',
      'statement on-error set-status[1] @16',
    ]);
  });
});

describe('apim-emulator test (child process)', () => {
  it('exits 1 on a failed expectation and prints JUnit XML with --reporter junit', () => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'test', 'test/scenarios/fixtures/wrong-expectation.scenario.yaml', '--reporter', 'junit'],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(r.stderr).toBe('');
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="apim-emulator test" tests="2" failures="1" errors="0"')).toBe(true);
    expect(r.stdout).toContain('<failure message="expected backend foundry1 to serve the request but foundry3 did');
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { formatRunReport, runScenarioFile, runScenarios, summarize } from '../../src/scenarios/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const examples = `${root}examples/scenarios`;
const fixtures = `${root}test/scenarios/fixtures`;

describe('example scenarios (the failover story of policies/example)', () => {
  it('all pass, their timelines match the committed snapshots, and coverage is reported per policy file', async () => {
    const summary = await runScenarios([examples], { snapshots: 'ci' });
    const failed = summary.results.filter((r) => r.status !== 'passed');
    expect(failed.map((r) => `${r.file}: ${formatRunReport(summarize([r]), 'text')}`)).toEqual([]);
    expect(summary.results.map((r) => r.name).sort()).toEqual([
      '50/50 split across priority 2',
      'all members tripped gives 503',
      'priority fallback',
      'quota spillover to priority 2',
      'reopen after Retry-After',
      'retry re-selects a pool member on every attempt',
      'ten concurrent requests trip a 1-failure breaker',
      'trip on 429 without Retry-After',
    ]);
    expect(summary.exitCode).toBe(0);
    expect(summary.results.every((r) => r.snapshot?.status === 'matched')).toBe(true);
    // Minutes of breaker time were covered on the virtual clock.
    expect(summary.results.reduce((n, r) => n + r.virtualMs, 0)).toBe(270_000 + 60_350);

    const api = summary.coverage.find((c) => c.file.endsWith('policies/example/openai-api.xml'));
    expect(api).toBeDefined();
    expect(api!.statements).toEqual({ covered: 10, total: 10 });
    // The <choose> in on-error has no <otherwise>: "no condition true" is a branch no example takes.
    expect(api!.branches).toEqual({ covered: 1, total: 2 });
    expect(api!.missed).toEqual(['on-error choose[1]/otherwise[1] (no condition true) (line 28)']);
    const global = summary.coverage.find((c) => c.file.endsWith('policies/example/global.xml'));
    // The API's own <backend> section has no <base/>, so the global forward-request never runs.
    expect(global!.missed).toEqual(['backend forward-request[1] (line 9)']);
  });
});

describe('a deliberately wrong expectation', () => {
  it('fails with an explanation of what happened instead: attempts, open breakers and the trace', async () => {
    const r = await runScenarioFile(`${fixtures}/wrong-expectation.scenario.yaml`, { snapshots: 'off' });
    expect(r.status).toBe('failed');
    expect(r.failures).toHaveLength(2);
    const [backend, breaker] = r.failures;
    expect(backend!.message).toBe("expected backend foundry1 to serve the request but foundry3 did (request 1 of 1 in step 2 'send after trip')");
    expect(backend!.details.slice(0, 3)).toEqual([
      'POST /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21 at +00:00:00.000 → 200',
      'breakers open before it: foundry1 until +00:01:07.000',
      'attempts: foundry3 200',
    ]);
    expect(backend!.details).toContain('trace:');
    expect(backend!.details).toContain('  api backend retry[1]/forward-request[1]');
    expect(backend!.details.some((l) => l.includes('priority 2 (priority 1 all open), weighted 50/50 → foundry3'))).toBe(true);
    expect(breaker!.message).toBe('expected breaker foundry1 closed but it is open');
    expect(breaker!.details).toEqual([
      'at +00:00:00.000: open until +00:01:07.000; 1 failure(s) of 1 in the window; 1 trip(s)',
      'last trip: status 429 in 429-429; 1 failures >= count 1 within PT1M; open for Retry-After 00:01:07',
      '+00:00:00.000 breaker foundry1 opened for 00:01:07 (Retry-After 00:01:07), until +00:01:07.000',
    ]);
    const text = formatRunReport(summarize([r]), 'text');
    expect(text).toContain('FAIL test/scenarios/fixtures/wrong-expectation.scenario.yaml — wrong expectation');
    expect(text).toContain("  ✗ expected backend foundry1 to serve the request but foundry3 did (request 1 of 1 in step 2 'send after trip')");
    expect(summarize([r]).exitCode).toBe(1);
  });
});

describe('scenarios without a config file', () => {
  it('run a policy and backends file with scripted mocks: choose branches, a single backend tripping on 5xx, on-error', async () => {
    const r = await runScenarioFile(`${fixtures}/simple.scenario.json`, { snapshots: 'off' });
    expect(r.failures.map((f) => f.message)).toEqual([]);
    expect(r.status).toBe('passed');
    expect(r.requests).toBe(5);
    expect(r.virtualMs).toBe(5000);
    expect(r.timeline).toBe(
      [
        '# apim-emulator timeline: choose routes to single backends; 5xx trips backend-a',
        '# virtual time since the scenario started; refresh with: apim-emulator test <scenario> --update-snapshots',
        "step 1 'two 500s trip backend-a': send 2× GET /api/items",
        '  +00:00:00.000 #1 backend-a 500 → 500',
        '  +00:00:00.000 #2 backend-a 500 → 500',
        '  +00:00:00.000 breaker backend-a opened for 00:00:05 (tripDuration PT5S), until +00:00:05.000',
        "step 2 'open breaker: 503 from on-error': send GET /api/items",
        '  +00:00:00.000 backend-a unavailable → 503',
        'step 3: advance 5s → +00:00:05.000',
        '  +00:00:05.000 breaker backend-a closed',
        "step 4 'recovered': send GET /api/items",
        '  +00:00:05.000 backend-a 200 → 200',
        "step 5 'route b': send GET /api/items",
        '  +00:00:05.000 backend-b 200 → 200',
        '',
      ].join('\n'),
    );
    const cov = r.coverage.find((c) => c.file.endsWith('simple-policy.xml'))!;
    expect(cov.items.map((i) => `${i.section} ${i.path}`)).toEqual([
      'inbound choose[1]',
      'inbound choose[1]/when[1]',
      'inbound choose[1]/when[1]/set-backend-service[1]',
      'inbound choose[1]/otherwise[1]',
      'inbound choose[1]/otherwise[1]/set-backend-service[1]',
      'backend forward-request[1]',
      'outbound set-header[1]',
      'on-error set-header[1]',
    ]);
    expect(cov.hit.size).toBe(cov.items.length);
  });
});

describe('repeated requests', () => {
  it('report each broken expectation once, for the first request, and explain a distribution that is off', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'apim-scenario-repeat-'));
    try {
      const file = path.join(dir, 'repeat.scenario.yaml');
      writeFileSync(
        file,
        `config: ${JSON.stringify(`${root}policies/example/apim-emulator.json`)}
snapshot: false
steps:
  - send:
      path: /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21
      headers: { api-key: example-key }
      body: { messages: [] }
    repeat: 10
    expect:
      status: 429
      distribution: { foundry2: 50, foundry3: 50 }
`,
      );
      const r = await runScenarioFile(file);
      expect(r.failures.map((f) => f.message)).toEqual([
        'expected status 429 but got 200 (request 1 of 10 in step 1: send; 9 more of the 10 failed this too)',
        'step 1: send: the distribution of 10 requests is off: foundry2 0% (expected 50% ± 5); foundry3 0% (expected 50% ± 5); foundry1 100% (expected none)',
      ]);
      expect(r.failures[1]!.details.slice(0, 2)).toEqual(['served by: foundry1 10', '+00:00:00.000 #1 foundry1 200 → 200']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a backend that hangs', () => {
  it('times out on the virtual clock: the runner moves time to the forward-request deadline instead of stalling', async () => {
    const r = await runScenarioFile(`${fixtures}/timeout.scenario.yaml`, { snapshots: 'off' });
    expect(r.failures.map((f) => f.message)).toEqual([]);
    expect(r.virtualMs).toBe(300_000);
    expect(r.timeline).toContain(
      "step 1 'foundry1 hangs until the timeout': send POST /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21\n  +00:00:00.000 foundry1 Timeout → 500\n",
    );
    expect(r.timeline).toContain('  +00:05:00.000 foundry1 200 → 200\n');
  });
});

describe('JUnit output', () => {
  it('is XML with one testsuite per scenario, one testcase per step and the explanation in <failure>', async () => {
    const summary = await runScenarios([`${fixtures}/wrong-expectation.scenario.yaml`, `${fixtures}/simple.scenario.json`], { snapshots: 'off' });
    const xml = formatRunReport(summary, 'junit');
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml) as {
      testsuites: {
        tests: string;
        failures: string;
        errors: string;
        testsuite: Array<{ name: string; tests: string; failures: string; testcase: Array<{ name: string; failure?: { message: string; '#text': string } }> }>;
      };
    };
    const suites = parsed.testsuites;
    expect(suites.tests).toBe('7');
    expect(suites.failures).toBe('1');
    expect(suites.errors).toBe('0');
    const wrong = suites.testsuite.find((s) => s.name.includes('wrong expectation'))!;
    expect(wrong.testcase.map((c) => c.name)).toEqual(["step 1 'trip foundry1'", "step 2 'send after trip'"]);
    const failure = wrong.testcase[1]!.failure!;
    expect(failure.message).toBe("expected backend foundry1 to serve the request but foundry3 did (request 1 of 1 in step 2 'send after trip')");
    expect(failure['#text']).toContain('expected breaker foundry1 closed but it is open');
    expect(failure['#text']).toContain('attempts: foundry3 200');
    const simple = suites.testsuite.find((s) => s.name.includes('choose routes'))!;
    expect(simple.tests).toBe('5');
    expect(simple.failures).toBe('0');
  });
});

describe('JSON output', () => {
  it('carries counts, exit code, failures, timeline and coverage', async () => {
    const summary = await runScenarios([`${fixtures}/wrong-expectation.scenario.yaml`], { snapshots: 'off' });
    const json = JSON.parse(formatRunReport(summary, 'json')) as {
      counts: Record<string, number>;
      exitCode: number;
      scenarios: Array<{ status: string; failures: Array<{ step: number; message: string }>; timeline: string }>;
      coverage: Array<{ file: string; statements: { covered: number; total: number } }>;
    };
    expect(json.counts).toEqual({ passed: 0, failed: 1, invalid: 0 });
    expect(json.exitCode).toBe(1);
    expect(json.scenarios[0]!.failures.map((f) => f.step)).toEqual([2, 2]);
    expect(json.scenarios[0]!.timeline).toContain('breaker foundry1 opened for 00:01:07 (Retry-After 00:01:07)');
    expect(json.coverage.map((c) => c.file.split('/').pop())).toEqual(['global.xml', 'openai-api.xml']);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { formatDiagnosticLine } from '../../src/diagnostics/diagnostic.js';
import { loadScenario, runScenarioFile } from '../../src/scenarios/index.js';

/**
 * Concurrent steps: N requests in flight at once on the in-process upstream, virtual time moving only when every one of
 * them waits on the clock, and the breaker deciding only at each pool choice (docs/backends.md, docs/emulator-choices.md).
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const config = path.join(root, 'policies/example/apim-emulator.json');
const example = path.join(root, 'examples/scenarios/concurrent-trip.scenario.yaml');
const dir = mkdtempSync(path.join(tmpdir(), 'apim-scenario-concurrent-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

const CHAT = `{ path: "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", headers: { api-key: example-key }, body: { messages: [] } }`;

describe('ten concurrent requests against a pool with a 1-failure breaker (examples/scenarios/concurrent-trip)', () => {
  it('trips on the first 429; requests already in flight keep their answers; later choices avoid the member; late failures do not extend the trip', async () => {
    const r = await runScenarioFile(example, { snapshots: 'off' });
    expect(r.failures.map((f) => f.message)).toEqual([]);
    expect(r.requests).toBe(30);
    const lines = r.timeline!.split('\n');
    // All ten arrive at +0 and wait on foundry1's 100 ms side by side: nine end at +100 ms, not one after the other.
    expect(lines.filter((l) => l.includes('#') && l.includes('foundry1 200 → 200 (done +00:00:00.100)'))).toHaveLength(9);
    // The one that got the 429 retried onto priority 2 (50 ms more).
    expect(lines).toContain('  +00:00:00.000 #1 foundry1 429, foundry2 200 → 200 (done +00:00:00.150)');
    expect(lines).toContain('  +00:00:00.100 breaker foundry1 opened for 00:00:30 (Retry-After 00:00:30), until +00:00:30.100');
    // While open: nothing is sent to foundry1; priority 2 shares the ten (smooth weighted round-robin, 50/50).
    const step2 = lines.slice(
      lines.findIndex((l) => l.startsWith('step 2')) + 1,
      lines.findIndex((l) => l.startsWith('step 3')),
    );
    expect(step2.filter((l) => / #\d+ foundry2 200 /.test(l))).toHaveLength(5);
    expect(step2.filter((l) => / #\d+ foundry3 200 /.test(l))).toHaveLength(5);
    // Nine 429s came back at +32.2 s, while open: the breaker still closes 30 s after the trip.
    expect(lines).toContain('  +00:00:30.200 #2 foundry1 429, foundry2 200 → 200 (done +00:00:32.250)');
    expect(lines).toContain('  +00:00:30.300 breaker foundry1 opened for 00:00:30 (Retry-After 00:00:30), until +00:01:00.300');
    expect(lines).toContain('  +00:01:00.300 breaker foundry1 closed');
    expect(lines.filter((l) => l.includes('opened'))).toHaveLength(2);
  });

  it('a group expectation that does not hold names the counts it got and lists the requests', async () => {
    const f = write(
      'wrong-group.scenario.yaml',
      `config: ${config}
snapshot: false
mocks:
  foundry1: "429 retry-after=30 latency=100ms; aoai latency=100ms"
steps:
  - name: ten at once
    concurrent:
      - send: ${CHAT}
        repeat: 10
        expect: { attempts: [foundry1 200] }
    expect:
      statuses: { 200: 9, 503: 1 }
      servedBy: { foundry1: 10 }
`,
    );
    const r = await runScenarioFile(f);
    expect(r.status).toBe('failed');
    expect(r.failures.map((x) => x.message)).toEqual([
      "expected attempts foundry1 200 but got foundry1 429, foundry2 200 (request 1 of 10 in step 1 'ten at once')",
      "step 1 'ten at once': the statuses of 10 requests are off: 200 ×10 (expected 9); 503 ×0 (expected 1)",
      "step 1 'ten at once': the servedBy of 10 requests are off: foundry1 ×9 (expected 10); foundry2 ×1 (expected none)",
    ]);
    expect(r.failures[2]!.details[0]).toBe('+00:00:00.000 #1 foundry1 429, foundry2 200 → 200 (done +00:00:00.100)');
  });

  it('entries of one step may differ; each entry expectation reports the request number within the whole step', async () => {
    const f = write(
      'mixed.scenario.yaml',
      `config: ${config}
snapshot: false
steps:
  - concurrent:
      - send: ${CHAT}
        repeat: 2
      - name: a path no operation matches
        send: { path: /nowhere, headers: { api-key: example-key } }
        expect: { status: 200 }
    expect:
      statuses: { 200: 2, 404: 1 }
`,
    );
    const r = await runScenarioFile(f);
    expect(r.failures.map((x) => x.message)).toEqual(['expected status 200 but got 404 (request 3 of 3 in step 1: concurrent)']);
  });
});

describe('concurrent step validation', () => {
  it('names counts that cannot add up, state inside an entry, repeat on the step and too many requests, with line:column', () => {
    const f = write(
      'invalid.scenario.yaml',
      `config: ${config}
steps:
  - concurrent:
      - send: ${CHAT}
        repeat: 3
        expect: { breakers: { foundry1: open }, servedBy: { foundry1: 2 } }
    repeat: 2
  - concurrent:
      - send: ${CHAT}
        repeat: 1000
      - send: ${CHAT}
    expect: { statuses: { 200: 1001 } }
`,
    );
    const got = loadScenario(f).diagnostics.map((d) => formatDiagnosticLine(d).replace(/^.*?(\d+:\d+)/, '$1'));
    expect(got).toEqual([
      '7:5 $.steps[0].repeat: error scenario/step: "repeat" needs "send" in step 1 (in a concurrent step, give repeat on each entry)',
      '6:19 $.steps[0].concurrent[0].expect.breakers: error scenario/expect: "breakers" is state after the whole step, not about request 1 of the concurrent step 1 (move it to the step\'s own expect)',
      '6:59 $.steps[0].concurrent[0].expect.servedBy: error scenario/expect: the counts of "servedBy" add up to 2, but request 1 of the concurrent step 1 sends 3 requests (give the count of every outcome; together they are all the requests)',
      '8:5 $.steps[1].concurrent: error scenario/step: step 2 starts 1001 requests at once, more than 1000 (split it into several steps, or use send with repeat (one after the other))',
    ]);
  });
});

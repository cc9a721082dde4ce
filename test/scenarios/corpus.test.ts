import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenarioFile } from '../../src/scenarios/index.js';

const corpus = fileURLToPath(new URL('../../../shared/corpus/ai-gateway/', import.meta.url));
const exists = existsSync(path.join(corpus, 'backend-pool-load-balancing__policy.xml'));
if (!exists) console.warn(`scenario corpus test skipped: the AI-Gateway corpus is absent (${corpus})`);

describe.skipIf(!exists)('a scenario over an AI-Gateway lab as published (policy with {backend-id}, backends transcription)', () => {
  // Created in beforeAll, not while collecting: a skipped describe runs its body but not its hooks, which left an
  // empty folder behind on every run without the corpus.
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'apim-scenario-corpus-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the lab policy with its policyPlaceholders: failover on 429, 50/50 in priority 2, reopen after Retry-After', async () => {
    const file = path.join(dir, 'lab.scenario.yaml');
    writeFileSync(
      file,
      `name: backend-pool-load-balancing lab
policy: ${JSON.stringify(path.join(corpus, 'backend-pool-load-balancing__policy.xml'))}
backends: ${JSON.stringify(path.join(corpus, 'backend-pool-load-balancing__backends.json'))}
api: { path: inference }
snapshot: false
mocks:
  foundry1: "429 retry-after=10; aoai"
steps:
  - send:
      path: /inference/deployments/gpt-4o/chat/completions?api-version=2024-10-21
      body: { messages: [{ role: user, content: hi }] }
    repeat: 3
    expect:
      status: 200
      breakers: { foundry1: open }
  - advance: 10s
    expect: { breakers: { foundry1: closed } }
`,
    );
    const r = await runScenarioFile(file);
    expect(r.failures.map((f) => f.message)).toEqual([]);
    expect(r.timeline!.split('\n').slice(2, 9)).toEqual([
      'step 1: send 3× POST /inference/deployments/gpt-4o/chat/completions?api-version=2024-10-21',
      '  +00:00:00.000 #1 foundry1 429, foundry2 200 → 200',
      '  +00:00:00.000 breaker foundry1 opened for 00:00:10 (Retry-After 00:00:10), until +00:00:10.000',
      '  +00:00:00.000 #2 foundry3 200 → 200',
      '  +00:00:00.000 #3 foundry2 200 → 200',
      'step 2: advance 10s → +00:00:10.000',
      '  +00:00:10.000 breaker foundry1 closed',
    ]);
    const cov = r.coverage[0]!;
    expect(cov.file.endsWith('backend-pool-load-balancing__policy.xml')).toBe(true);
    expect(cov.items.filter((i) => cov.hit.has(`${i.section} ${i.path}`)).map((i) => `${i.section} ${i.path}`)).toEqual([
      'inbound set-backend-service[1]',
      'backend retry[1]',
      'backend retry[1]/set-backend-service[1]',
      'backend retry[1]/forward-request[1]',
    ]);
  });
});

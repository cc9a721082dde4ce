import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { BackendRegistry, loadBackends } from '../../src/backends/index.js';
import { formatDiagnosticLine } from '../../src/diagnostics/diagnostic.js';
import { CORPUS_DIR, CORPUS_PRESENT } from '../helpers/corpus.js';

describe.skipIf(!CORPUS_PRESENT)('corpus: every AI-Gateway __backends.json loads and validates', () => {
  const files = CORPUS_PRESENT
    ? readdirSync(CORPUS_DIR)
        .filter((f) => f.endsWith('__backends.json'))
        .sort()
    : [];
  const read = (f: string) => ({ file: f, text: readFileSync(path.join(CORPUS_DIR, f), 'utf8') });

  it('51 files, zero errors, zero warnings; counts printed', () => {
    expect(files.length).toBe(51);
    let backends = 0;
    let pools = 0;
    let breakers = 0;
    let retryAfter = 0;
    const problems: string[] = [];
    for (const f of files) {
      const r = loadBackends([read(f)]);
      problems.push(...r.diagnostics.map(formatDiagnosticLine));
      const raw = JSON.parse(read(f).text) as { backends: unknown[] };
      expect(r.backends.length, f).toBe(raw.backends.length);
      backends += r.backends.length;
      pools += r.backends.filter((b) => b.type === 'Pool').length;
      breakers += r.backends.filter((b) => b.circuitBreaker).length;
      retryAfter += r.backends.filter((b) => b.circuitBreaker?.acceptRetryAfter).length;
    }
    console.log(`[backends corpus] files=${files.length} backends=${backends} pools=${pools} breakers=${breakers} acceptRetryAfter=${retryAfter}`);
    expect(problems).toEqual([]);
    expect(backends).toBe(104);
    expect(pools).toBe(13);
    expect(breakers).toBe(33);
  });

  it('backend-pool-load-balancing: priority 1, then 50/50, then priority 3, as the lab describes', () => {
    const r = loadBackends([read('backend-pool-load-balancing__backends.json')]);
    expect(r.placeholders).toEqual({ '{backend-id}': 'inference-backend-pool' });
    const clock = new VirtualClock();
    const reg = new BackendRegistry(r.backends, clock);
    const pick = () => {
      const s = reg.select('inference-backend-pool');
      return s.ok ? s.memberId : `unavailable ${s.statusCode}`;
    };
    expect([pick(), pick()]).toEqual(['foundry1', 'foundry1']);
    reg.report('foundry1', { status: 429, headers: { 'Retry-After': '10' } });
    expect([pick(), pick(), pick(), pick()]).toEqual(['foundry2', 'foundry3', 'foundry2', 'foundry3']);
    reg.report('foundry2', { status: 429 });
    reg.report('foundry3', { status: 429 });
    expect(pick()).toBe('foundry4');
    reg.report('foundry4', { status: 429 });
    expect(pick()).toBe('unavailable 503');
    clock.advance(10_000); // foundry1's Retry-After: 10 s, shorter than its PT1M tripDuration
    expect(pick()).toBe('foundry1');
  });

  it('full ARM ids in the Terraform lab resolve to member names', () => {
    const r = loadBackends([read('backend-pool-load-balancing-tf__backends.json')]);
    const pool = r.backends.find((b) => b.type === 'Pool')!;
    expect(pool.pool!.members.map((m) => [m.backendId, m.priority, m.weight])).toEqual([
      ['backend-aiservices-frc', 2, 50],
      ['backend-aiservices-swc', 2, 50],
      ['backend-aiservices-uks', 1, null],
    ]);
  });

  it('named values in credentials resolve from the map (google-gemini-api)', () => {
    const r = loadBackends([read('google-gemini-api__backends.json')], { namedValues: new Map([['gemini-api-key', 'k-123']]) });
    const withHeader = r.backends.find((b) => b.credentials.headers.Authorization);
    expect(withHeader?.credentials.headers.Authorization).toEqual(['k-123']);
    const missing = loadBackends([read('google-gemini-api__backends.json')], { namedValues: new Map() });
    expect(missing.diagnostics.map((d) => d.code)).toContain('backend/named-value-missing');
  });
});

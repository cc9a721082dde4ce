import { UndiciUpstream } from '../../src/server/undici-upstream.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { SourceText } from '../../src/diagnostics/source.js';
import { formatDiagnosticLine } from '../../src/diagnostics/diagnostic.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { MockBackendSet } from '../../src/mocks/index.js';
import { startServer } from '../../src/server/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { CORPUS_DIR, CORPUS_PRESENT, fillPlaceholders } from '../helpers/corpus.js';
import { script } from '../helpers/mocks.js';

/**
 * The `backend-pool-load-balancing` lab of Microsoft's AI-Gateway, end to end over real HTTP: client → Express
 * gateway → mock Azure OpenAI backends on 127.0.0.1, on a virtual clock. The lab's own policy and (transcribed)
 * backends JSON, unchanged except for the deploy placeholder and the backend URLs.
 */
describe.skipIf(!CORPUS_PRESENT)('backend-pool-load-balancing lab end to end', () => {
  const clock = new VirtualClock(Date.UTC(2025, 5, 1, 12, 0, 0));
  const mocks = new MockBackendSet();
  let server: RunningServer;
  let gateway: Gateway;
  const names = ['foundry1', 'foundry2', 'foundry3', 'foundry4'];

  beforeAll(async () => {
    const lab = 'backend-pool-load-balancing';
    let backendsText = readFileSync(path.join(CORPUS_DIR, `${lab}__backends.json`), 'utf8');
    const json = JSON.parse(backendsText) as { policyPlaceholders: Record<string, string> };
    for (const n of names) {
      const m = await mocks.start(n, script('aoai'), clock);
      backendsText = backendsText.split(`https://${n}.example.com`).join(m.url);
    }
    const policy = fillPlaceholders(readFileSync(path.join(CORPUS_DIR, `${lab}__policy.xml`), 'utf8'), json.policyPlaceholders);
    const built = Gateway.build(
      {
        service: { name: 'lab', region: 'Sweden Central', gatewayId: 'managed' },
        fragments: [],
        namedValues: [],
        backendFiles: [{ file: `${lab}__backends.json`, text: backendsText }],
        products: [],
        apis: [
          {
            id: 'inference',
            name: 'Inference',
            path: 'inference',
            serviceUrl: '',
            subscriptionRequired: false,
            policy: new SourceText(`${lab}__policy.xml`, policy),
            operations: [],
          },
        ],
        subscriptions: [],
      },
      { clock, upstream: new UndiciUpstream(clock) },
    );
    if (!built.gateway) throw new Error(built.diagnostics.map(formatDiagnosticLine).join('\n'));
    gateway = built.gateway;
    server = await startServer({ gateway, clock, mocks, logger: false });
  });

  afterAll(async () => {
    await server?.close();
    await mocks.closeAll();
  });

  async function chat(): Promise<{ status: number; backend: string | undefined }> {
    const r = await request(`${server.url}/inference/deployments/gpt-4o/chat/completions?api-version=2024-10-21`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
    });
    await r.body.text();
    const b = r.headers['x-mock-backend'];
    return { status: r.statusCode, backend: Array.isArray(b) ? b[0] : b };
  }

  const served = () => Object.fromEntries(names.map((n) => [n, mocks.get(n)!.requests.length]));
  const breaker = (n: string) => gateway.backends!.state().find((s) => s.id === n) as unknown as { breaker?: { state: string } };

  it('sends traffic only to priority 1 while its breaker is closed', async () => {
    for (let i = 0; i < 10; i++) expect(await chat()).toEqual({ status: 200, backend: 'foundry1' });
    expect(served()).toEqual({ foundry1: 10, foundry2: 0, foundry3: 0, foundry4: 0 });
  });

  it('trips priority 1 on a 429 with Retry-After and retries the same request onto priority 2', async () => {
    mocks.get('foundry1')!.setScript(script('429 retry-after=2; aoai'));
    const r = await chat();
    expect(r.status).toBe(200);
    expect(['foundry2', 'foundry3']).toContain(r.backend);
    expect(breaker('foundry1').breaker?.state).toBe('open');
  });

  it('splits priority 2 50/50 between its two members (within 5% over 1,000 requests)', async () => {
    const before = served();
    for (let i = 0; i < 1000; i++) expect((await chat()).status).toBe(200);
    const after = served();
    const f2 = after.foundry2! - before.foundry2!;
    const f3 = after.foundry3! - before.foundry3!;
    expect(f2 + f3).toBe(1000);
    expect(Math.abs(f2 - 500)).toBeLessThanOrEqual(50);
    expect(after.foundry1).toBe(before.foundry1);
    expect(after.foundry4).toBe(before.foundry4);
  });

  it('falls to priority 3 when both priority 2 members trip, then 503 when everything is open', async () => {
    mocks.get('foundry2')!.setScript(script('429 retry-after=60; aoai'));
    mocks.get('foundry3')!.setScript(script('429 retry-after=60; aoai'));
    const r = await chat();
    expect(r).toEqual({ status: 200, backend: 'foundry4' });
    expect(await chat()).toEqual({ status: 200, backend: 'foundry4' });

    mocks.get('foundry4')!.setScript(script('429 retry-after=60; aoai'));
    const all = await chat();
    expect(all.status).toBe(503);
    for (const n of names) expect(breaker(n).breaker?.state).toBe('open');
  });

  it('brings priority 1 back after its Retry-After of 2 s of clock time', async () => {
    clock.advance(1999);
    expect((await chat()).status).toBe(503);
    clock.advance(1);
    expect(await chat()).toEqual({ status: 200, backend: 'foundry1' });
    expect(breaker('foundry1').breaker?.state).toBe('closed');
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { buildGateway, policies, send, startBackend, tryBuildGateway } from '../../helpers/gateway.js';
import type { TestBackend } from '../../helpers/gateway.js';

/** limit-concurrency (docs/apim-behaviour.md: Throttling): at most max-count requests inside per key; one more fails at once with 429. */
const backends: TestBackend[] = [];
afterEach(async () => {
  await Promise.all(backends.splice(0).map((b) => b.close()));
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!check()) throw new Error('condition not reached');
}

describe('limit-concurrency', () => {
  it('rejects the request beyond max-count while the others are inside, and frees the slot when they leave', async () => {
    const releases: Array<() => void> = [];
    const b = await startBackend((_req, res) => {
      releases.push(() => res.end('done'));
    });
    backends.push(b);
    const doc = policies({ backend: '<limit-concurrency key="backend-calls" max-count="1"><forward-request /></limit-concurrency>' });
    const { gateway } = buildGateway({ serviceUrl: b.url, api: doc });
    const first = send(gateway, '/api/a');
    await until(() => releases.length === 1);
    const second = await send(gateway, '/api/a');
    expect(second.status).toBe(429);
    expect(second.json()).toEqual({ statusCode: 429, message: 'Too many concurrent requests. Try again later.' });
    expect(second.context?.lastError).toMatchObject({ source: 'limit-concurrency', reason: 'ConcurrencyLimitExceeded', section: 'backend' });
    releases[0]!();
    expect((await first).status).toBe(200);
    const third = send(gateway, '/api/a');
    await until(() => releases.length === 2);
    releases[1]!();
    expect((await third).status).toBe(200);
    expect(b.requests).toHaveLength(2);
  });

  it('frees the slot when the enclosed policies fail', async () => {
    const doc = policies({
      inbound: '<limit-concurrency key="k" max-count="1"><rate-limit-by-key calls="1" renewal-period="60" counter-key="rl" /></limit-concurrency>',
    });
    const { gateway } = buildGateway({ api: doc });
    expect((await send(gateway, '/api/a')).status).toBe(200);
    const r = await send(gateway, '/api/a');
    expect(r.context?.lastError?.source).toBe('rate-limit-by-key'); // not limit-concurrency: the slot was released
  });

  it('needs key and max-count, and max-count takes no expression', () => {
    const { diagnostics } = tryBuildGateway({
      api: policies({ inbound: '<limit-concurrency max-count="@(2)"><set-variable name="a" value="b" /></limit-concurrency>' }),
    });
    const m = diagnostics.map((d) => d.message);
    expect(m).toContain('<limit-concurrency> is missing the required attribute "key"');
    expect(m).toContain('attribute "max-count" of <limit-concurrency> does not accept policy expressions');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStateStore } from '../../src/state/redis.js';
import { StateUnavailableError } from '../../src/state/store.js';
import { stateStoreContract } from './contract.js';
import { RedisServer, redisAvailable } from './redis-server.js';

const available = redisAvailable();
let server: RedisServer | null = null;
let n = 0;

if (available) {
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await server?.stop();
  });
}

async function connect(o: { failOpen?: boolean; log?: (l: 'warn' | 'info', m: string) => void } = {}): Promise<RedisStateStore> {
  const s = new RedisStateStore({ url: server!.url, prefix: `t${n++}:`, commandTimeoutMs: 500, ...o });
  await s.ready();
  return s;
}

stateStoreContract('redis', () => connect(), available ? null : 'redis-server is not installed');

(available ? describe : describe.skip)('Redis store when Redis goes away', () => {
  it('fails open with one log line, then counts again after Redis restarts, without a new store', async () => {
    const lines: string[] = [];
    const store = await connect({ log: (l, m) => lines.push(`${l}: ${m}`) });
    const T = 1_800_000_000_000;
    try {
      expect((await store.hit('k', T, 60_000, 2, 1, true)).allowed).toBe(true);
      await server!.stop();
      // Down: every call passes uncounted, and only one line says so.
      for (let i = 0; i < 3; i++) expect(await store.hit('k', T, 60_000, 2, 1, true)).toEqual({ allowed: true, used: 0, waitMs: 0 });
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^warn: shared state: Redis unreachable .*failing open/);
      await server!.start();
      await store.ready(10_000);
      // Back (an empty Redis: no persistence): counting resumes and one line says so.
      expect(await store.hit('k', T, 60_000, 2, 1, true)).toMatchObject({ allowed: true, used: 0 });
      expect(await store.hit('k', T, 60_000, 2, 1, true)).toMatchObject({ allowed: true, used: 1 });
      expect(await store.hit('k', T, 60_000, 2, 1, true)).toMatchObject({ allowed: false, used: 2 });
      expect(lines).toHaveLength(2);
      expect(lines[1]).toMatch(/^info: shared state: Redis reachable again/);
    } finally {
      await store.close();
    }
  });

  it('fails closed when told to: the call throws StateUnavailableError', async () => {
    const store = await connect({ failOpen: false });
    try {
      await server!.stop();
      await expect(store.hit('k', 1, 1000, 1, 1, true)).rejects.toBeInstanceOf(StateUnavailableError);
    } finally {
      await server!.start();
      await store.close();
    }
  });
});

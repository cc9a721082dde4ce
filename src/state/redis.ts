import { Redis } from 'ioredis';
import type { SlidingHit, StateStore } from './store.js';
import { StateUnavailableError } from './store.js';

/**
 * Counters in Redis (`--state redis://HOST:PORT`, config `state.redis`): several emulator processes enforce one limit
 * together. Each sliding window is a sorted set of `seq:amount` members scored by their time on the emulator's clock;
 * one Lua script expires, sums, checks and counts atomically, so concurrent gateways never both take the last call.
 *
 * Redis down: commands fail at once (no offline queue) and the client reconnects in the background. `failOpen`
 * (the default) lets requests through uncounted; fail-closed refuses them (StateUnavailableError, a 503). The change
 * of state is logged once each way (docs/emulator-choices.md, "Shared state when Redis is down").
 */
export interface RedisStoreOptions {
  url: string;
  /** Let requests through when Redis cannot answer (default true). */
  failOpen?: boolean;
  /** Key prefix, so several emulators (or tests) can share one Redis (default `apim-emulator:`). */
  prefix?: string;
  /** Upper bound (ms) on one command (default 1000). */
  commandTimeoutMs?: number;
  /** One line when Redis becomes unreachable and one when it is back. */
  log?: (level: 'warn' | 'info', message: string) => void;
}

// KEYS[1] window, KEYS[2] sequence. ARGV: now, windowMs, limit, need, commit (1/0). Returns {allowed, used, waitMs}.
const HIT = `
local now = tonumber(ARGV[1]); local win = tonumber(ARGV[2]); local limit = tonumber(ARGV[3]); local need = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - win)
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local used = 0
for i = 1, #entries, 2 do used = used + tonumber(string.match(entries[i], ':(.*)$')) end
if need > 0 and used + need > limit then
  if need > limit then return {0, used, win} end
  local sum = used
  for i = 1, #entries, 2 do
    sum = sum - tonumber(string.match(entries[i], ':(.*)$'))
    if sum + need <= limit then return {0, used, tonumber(entries[i + 1]) + win - now} end
  end
  return {0, used, win}
end
if ARGV[5] == '1' and need > 0 then
  local seq = redis.call('INCR', KEYS[2])
  redis.call('ZADD', KEYS[1], now, seq .. ':' .. need)
  redis.call('PEXPIRE', KEYS[1], win)
end
return {1, used, 0}`;

// KEYS[1] window, KEYS[2] sequence. ARGV: now, windowMs, amount.
const ADD = `
local now = tonumber(ARGV[1]); local win = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - win)
local seq = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[1], now, seq .. ':' .. ARGV[3])
redis.call('PEXPIRE', KEYS[1], win)
return 1`;

type ScriptedRedis = Redis & {
  apimHit(window: string, seq: string, now: number, windowMs: number, limit: number, need: number, commit: string): Promise<[number, number, number]>;
  apimAdd(window: string, seq: string, now: number, windowMs: number, amount: number): Promise<number>;
};

export class RedisStateStore implements StateStore {
  readonly kind = 'redis';
  private readonly redis: ScriptedRedis;
  private readonly prefix: string;
  private readonly failOpen: boolean;
  private readonly log: NonNullable<RedisStoreOptions['log']>;
  private down = false;

  constructor(o: RedisStoreOptions) {
    this.prefix = o.prefix ?? 'apim-emulator:';
    this.failOpen = o.failOpen ?? true;
    this.log = o.log ?? (() => undefined);
    this.redis = new Redis(o.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: o.commandTimeoutMs ?? 1000,
      // Keep trying in the background (every 0.1 s growing to 1 s): recovery needs no restart.
      retryStrategy: (times) => Math.min(100 * times, 1000),
      lazyConnect: false,
    }) as ScriptedRedis;
    this.redis.defineCommand('apimHit', { numberOfKeys: 2, lua: HIT });
    this.redis.defineCommand('apimAdd', { numberOfKeys: 2, lua: ADD });
    // Connection errors are reported through the commands that fail; without a listener ioredis prints each retry.
    this.redis.on('error', () => undefined);
  }

  /** Resolves once connected (or rejects after `timeoutMs`): the CLI checks the URL at start-up. */
  ready(timeoutMs = 5000): Promise<void> {
    if (this.redis.status === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.redis.off('ready', onReady);
        reject(new Error(`Redis did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.redis.once('ready', onReady);
    });
  }

  async hit(key: string, now: number, windowMs: number, limit: number, need: number, commit: boolean): Promise<SlidingHit> {
    try {
      const [allowed, used, waitMs] = await this.redis.apimHit(this.prefix + key, `${this.prefix}seq`, now, windowMs, limit, need, commit ? '1' : '0');
      this.up();
      return { allowed: allowed === 1, used, waitMs };
    } catch (e) {
      this.failed(e);
      return { allowed: true, used: 0, waitMs: 0 };
    }
  }

  async add(key: string, now: number, windowMs: number, amount: number): Promise<void> {
    if (amount <= 0) return;
    try {
      await this.redis.apimAdd(this.prefix + key, `${this.prefix}seq`, now, windowMs, amount);
      this.up();
    } catch (e) {
      // A postponed increment that cannot be stored is lost either way; fail-closed has nothing to refuse here.
      this.markDown(e);
    }
  }

  async reset(): Promise<void> {
    try {
      let cursor = '0';
      do {
        const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 500);
        if (keys.length) await this.redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      this.up();
    } catch (e) {
      this.markDown(e);
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  private up(): void {
    if (!this.down) return;
    this.down = false;
    this.log('info', 'shared state: Redis reachable again; counters are shared again');
  }

  private markDown(e: unknown): void {
    if (this.down) return;
    this.down = true;
    this.log('warn', `shared state: Redis unreachable (${(e as Error)?.message ?? String(e)}); ${this.failOpen ? 'failing open: requests pass uncounted' : 'failing closed: throttled requests are refused with 503'} until it is back`);
  }

  private failed(e: unknown): void {
    this.markDown(e);
    if (!this.failOpen) throw new StateUnavailableError('redis', 'the shared rate-limit state (Redis) is unavailable');
  }
}

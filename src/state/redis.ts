import { Redis } from 'ioredis';
import type { BreakerOutcomeRecord, CheckResult, CounterCheck, SharedBreakerState, SlidingHit, StateStore, StoredEntry, TakeResult } from './store.js';
import { passAll, REMOTE_GRACE_MS, StateUnavailableError } from './store.js';

/**
 * Counters and the external cache in Redis (`--state redis://HOST:PORT`, config `state.redis`): several emulator
 * processes enforce one limit together. Each sliding window is a sorted set of `id:amount` members scored by their
 * time on the emulator's clock; each fixed-period counter a hash {s: period start, c: calls, a: amount}. One Lua
 * script expires, sums, checks and counts atomically, so concurrent gateways never both take the last call. Keys
 * expire on Redis's own clock only as garbage collection, REMOTE_GRACE_MS after their clock-time end.
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

// Shared by the scripts. A sliding window is a sorted set of `id:amount` members scored by clock time, with its running
// total in `<window>:sum`, so that a call costs what expired since the last one, not the window's size (a window at
// 10k calls/s holds 600k entries a minute). The sum key is derived, so one window needs one Redis node (no Cluster).
const LUA_WINDOW = `
local function amountOf(m) return tonumber(string.match(m, ':(.*)$')) end
local function windowTotal(key, now, win)
  local sumKey = key .. ':sum'
  local used = tonumber(redis.call('GET', sumKey) or '0')
  local expired = redis.call('ZRANGEBYSCORE', key, '-inf', now - win)
  if #expired > 0 then
    for i = 1, #expired do used = used - amountOf(expired[i]) end
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - win)
    if redis.call('ZCARD', key) == 0 then used = 0 end
    redis.call('SET', sumKey, used, 'KEEPTTL')
  end
  return used
end
local function waitFor(key, now, win, limit, need, used)
  if need > limit then return win end
  local sum = used; local start = 0
  while true do
    local chunk = redis.call('ZRANGE', key, start, start + 99, 'WITHSCORES')
    if #chunk == 0 then return win end
    for j = 1, #chunk, 2 do
      sum = sum - amountOf(chunk[j])
      if sum + need <= limit then return tonumber(chunk[j + 1]) + win - now end
    end
    start = start + 100
  end
end
local function addToWindow(key, seqKey, now, win, amount)
  local id = redis.call('INCR', seqKey)
  redis.call('ZADD', key, now, id .. ':' .. amount)
  redis.call('INCRBYFLOAT', key .. ':sum', amount)
  redis.call('PEXPIRE', key, win + ${REMOTE_GRACE_MS})
  redis.call('PEXPIRE', key .. ':sum', win + ${REMOTE_GRACE_MS})
  return id
end`;

// KEYS[1] window, KEYS[2] sequence. ARGV: now, windowMs, limit, need, commit (1/0). Returns {allowed, used, waitMs}.
const HIT = `${LUA_WINDOW}
local now = tonumber(ARGV[1]); local win = tonumber(ARGV[2]); local limit = tonumber(ARGV[3]); local need = tonumber(ARGV[4])
local used = windowTotal(KEYS[1], now, win)
if need > 0 and used + need > limit then return {0, used, waitFor(KEYS[1], now, win, limit, need, used)} end
if ARGV[5] == '1' and need > 0 then addToWindow(KEYS[1], KEYS[2], now, win, ARGV[4]) end
return {1, used, 0}`;

// KEYS[1] window, KEYS[2] sequence. ARGV: now, windowMs, amount.
const ADD = `${LUA_WINDOW}
local now = tonumber(ARGV[1]); local win = tonumber(ARGV[2])
windowTotal(KEYS[1], now, win)
addToWindow(KEYS[1], KEYS[2], now, win, ARGV[3])
return 1`;

// KEYS: one per check, then the id sequence. ARGV: now, count, grace, then 9 per check:
//   sliding: 's', windowMs, limit, need, add, -, -, -, -
//   fixed:   'f', periodStart, expiresAt (0 never), callsLimit (-1 none), callsNeed, amountLimit (-1 none), amountNeed, addCalls, addAmount
// Returns {allowed, failedIndex (-1), {{used, amount, waitMs, entry}...}}.
const TAKE = `${LUA_WINDOW}
local now = tonumber(ARGV[1]); local n = tonumber(ARGV[2]); local grace = tonumber(ARGV[3])
local function a(i, j) return ARGV[3 + (i - 1) * 9 + j] end
local res = {}
for i = 1, n do
  local key = KEYS[i]
  if a(i, 1) == 's' then
    local win = tonumber(a(i, 2)); local limit = tonumber(a(i, 3)); local need = tonumber(a(i, 4))
    local used = windowTotal(key, now, win)
    if need > 0 and used + need > limit then
      res[i] = {used, 0, waitFor(key, now, win, limit, need, used), 0}
      return {0, i - 1, res}
    end
    res[i] = {used, 0, 0, 0}
  else
    local start = tonumber(a(i, 2))
    local h = redis.call('HMGET', key, 's', 'c', 'a')
    local calls = 0; local amount = 0
    if h[1] and tonumber(h[1]) == start then calls = tonumber(h[2]); amount = tonumber(h[3])
    else redis.call('HSET', key, 's', a(i, 2), 'c', 0, 'a', 0) end
    res[i] = {calls, amount, 0, 0}
    local cl = tonumber(a(i, 4)); local al = tonumber(a(i, 6))
    if (cl >= 0 and calls + tonumber(a(i, 5)) > cl) or (al >= 0 and amount + tonumber(a(i, 7)) > al) then return {0, i - 1, res} end
  end
end
for i = 1, n do
  local key = KEYS[i]
  if a(i, 1) == 's' then
    if tonumber(a(i, 5)) > 0 then res[i][4] = addToWindow(key, KEYS[n + 1], now, tonumber(a(i, 2)), a(i, 5)) end
  else
    local amount = res[i][2] + tonumber(a(i, 9))
    if amount < 0 then amount = 0 end
    redis.call('HSET', key, 'c', res[i][1] + tonumber(a(i, 8)), 'a', amount)
    local expires = tonumber(a(i, 3))
    if expires > 0 then redis.call('PEXPIRE', key, math.max(expires - now, 0) + grace) else redis.call('PERSIST', key) end
  end
end
return {1, -1, res}`;

// KEYS[1] window. ARGV: entry id, at, amount, now, windowMs.
const CORRECT = `${LUA_WINDOW}
local now = tonumber(ARGV[4]); local win = tonumber(ARGV[5])
windowTotal(KEYS[1], now, win)
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[2], ARGV[2])) do
  if string.match(m, '^(%d+):') == ARGV[1] then
    redis.call('ZREM', KEYS[1], m)
    redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1] .. ':' .. ARGV[3])
    redis.call('INCRBYFLOAT', KEYS[1] .. ':sum', tonumber(ARGV[3]) - amountOf(m))
    return 1
  end
end
return 0`;

// KEYS[1] fixed counter. ARGV: periodStart, expiresAt (0 never), now, calls, amount, roll (1/0), grace.
const ADD_FIXED = `
local h = redis.call('HMGET', KEYS[1], 's', 'c', 'a')
local calls = 0; local amount = 0
if h[1] and tonumber(h[1]) == tonumber(ARGV[1]) then calls = tonumber(h[2]); amount = tonumber(h[3])
elseif ARGV[6] ~= '1' then return 0 end
amount = amount + tonumber(ARGV[5])
if amount < 0 then amount = 0 end
redis.call('HSET', KEYS[1], 's', ARGV[1], 'c', calls + tonumber(ARGV[4]), 'a', amount)
local expires = tonumber(ARGV[2])
if expires > 0 then redis.call('PEXPIRE', KEYS[1], math.max(expires - tonumber(ARGV[3]), 0) + tonumber(ARGV[7])) end
return 1`;

// KEYS[1] breaker hash {u openUntil, f openForMs, t trips, r reason, n failures, c total}, KEYS[2] its window (list of
// `at:0|1`). ARGV: now, intervalMs, count (-1 none), percentage, failure (1/0), openForMs, why, interval text,
// source text, channel, key, grace. Returns {openUntil, openForMs, trips, reason, failures, total, tripped}; a trip is
// published on the channel (the same logic as MemoryStateStore.breakerRecord).
const BREAKER = `
local now = tonumber(ARGV[1]); local win = tonumber(ARGV[2]); local grace = tonumber(ARGV[12])
local h = redis.call('HMGET', KEYS[1], 'u', 'f', 't', 'r', 'n', 'c')
local u = tonumber(h[1] or '0'); local f = tonumber(h[2] or '0'); local t = tonumber(h[3] or '0'); local r = h[4] or ''
local fails = tonumber(h[5] or '0'); local total = tonumber(h[6] or '0')
if u > now then return {u, f, t, r, fails, total, 0} end
while true do
  local first = redis.call('LINDEX', KEYS[2], 0)
  if not first then break end
  if now - tonumber(string.match(first, '^(.*):')) < win then break end
  redis.call('LPOP', KEYS[2])
  total = total - 1
  if string.sub(first, -1) == '1' then fails = fails - 1 end
end
redis.call('RPUSH', KEYS[2], ARGV[1] .. ':' .. ARGV[5])
total = total + 1
local failure = ARGV[5] == '1'
if failure then fails = fails + 1 end
local th = nil
local count = tonumber(ARGV[3]); local pct = tonumber(ARGV[4])
if count >= 0 then
  if fails >= count then th = fails .. ' failures >= count ' .. ARGV[3] end
elseif fails > 0 and fails * 100 >= pct * total then th = fails .. '/' .. total .. ' failures >= ' .. ARGV[4] .. '%' end
if failure and th then
  f = tonumber(ARGV[6]); u = now + f; t = t + 1
  r = ARGV[7] .. '; ' .. th .. ' within ' .. ARGV[8] .. '; open for ' .. ARGV[9]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'u', u, 'f', f, 't', t, 'r', r, 'n', 0, 'c', 0)
  redis.call('PEXPIRE', KEYS[1], f + win + grace)
  redis.call('PUBLISH', ARGV[10], cjson.encode({key = ARGV[11], openUntil = u, openForMs = f, trips = t, reason = r, failures = fails, total = total}))
  return {u, f, t, r, fails, total, 1}
end
redis.call('HSET', KEYS[1], 'n', fails, 'c', total)
redis.call('PEXPIRE', KEYS[1], math.max(u - now, 0) + win + grace)
redis.call('PEXPIRE', KEYS[2], win + grace)
return {u, f, t, r, fails, total, 0}`;

type ScriptedRedis = Redis & {
  apimHit(window: string, seq: string, now: number, windowMs: number, limit: number, need: number, commit: string): Promise<[number, number, number]>;
  apimAdd(window: string, seq: string, now: number, windowMs: number, amount: number): Promise<number>;
  apimTake(...keysThenArgs: Array<string | number>): Promise<[number, number, Array<[number, number, number, number]>]>;
  apimCorrect(window: string, id: number, at: number, amount: number, now: number, windowMs: number): Promise<number>;
  apimBreaker(hash: string, window: string, ...args: Array<string | number>): Promise<[number, number, number, string, number, number, number]>;
  apimAddFixed(
    counter: string,
    periodStart: number,
    expiresAt: number,
    now: number,
    calls: number,
    amount: number,
    roll: string,
    grace: number,
  ): Promise<number>;
};

/** Largest cached entry (characters) Redis is asked to keep: docs/limits.md. */
export const REDIS_CACHE_MAX_CHARS = 4 * 1024 * 1024;

export class RedisStateStore implements StateStore {
  readonly kind = 'redis';
  readonly shared = true;
  private readonly redis: ScriptedRedis;
  private readonly prefix: string;
  private readonly failOpen: boolean;
  private readonly log: NonNullable<RedisStoreOptions['log']>;
  private down = false;
  private subscriber: Redis | null = null;
  /** Settles once the subscriber listens: a record waits for it, so a trip it publishes is heard here too. */
  private subscribed: Promise<unknown> = Promise.resolve();
  private readonly breakerListeners = new Set<(key: string, state: SharedBreakerState) => void>();

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
    // apimTake's key count varies with the call: given as its first argument (numberOfKeys left out).
    this.redis.defineCommand('apimTake', { lua: TAKE });
    this.redis.defineCommand('apimCorrect', { numberOfKeys: 1, lua: CORRECT });
    this.redis.defineCommand('apimAddFixed', { numberOfKeys: 1, lua: ADD_FIXED });
    this.redis.defineCommand('apimBreaker', { numberOfKeys: 2, lua: BREAKER });
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

  async take(now: number, checks: readonly CounterCheck[]): Promise<TakeResult> {
    const keys: string[] = [];
    const args: Array<string | number> = [now, checks.length, REMOTE_GRACE_MS];
    for (const c of checks) {
      if (c.kind === 'sliding') {
        keys.push(this.prefix + c.key);
        args.push('s', c.windowMs, c.limit, c.need, c.add, 0, 0, 0, 0);
      } else {
        keys.push(this.fixedKey(c.key));
        args.push('f', c.periodStart, c.expiresAt, c.callsLimit ?? -1, c.callsNeed, c.amountLimit ?? -1, c.amountNeed, c.addCalls, c.addAmount);
      }
    }
    try {
      const [allowed, failed, rows] = await this.redis.apimTake(keys.length + 1, ...keys, `${this.prefix}seq`, ...args);
      this.up();
      const results: CheckResult[] = rows.map(([used, amount, waitMs, entry]) => ({ used, amount, waitMs, entry }));
      return { allowed: allowed === 1, failed, results };
    } catch (e) {
      this.failed(e);
      return passAll(checks);
    }
  }

  async correct(key: string, entry: number, at: number, amount: number, now: number, windowMs: number): Promise<void> {
    if (entry <= 0) return;
    await this.quietly(() => this.redis.apimCorrect(this.prefix + key, entry, at, amount, now, windowMs));
  }

  async addFixed(key: string, periodStart: number, expiresAt: number, now: number, calls: number, amount: number, roll: boolean): Promise<void> {
    await this.quietly(() => this.redis.apimAddFixed(this.fixedKey(key), periodStart, expiresAt, now, calls, amount, roll ? '1' : '0', REMOTE_GRACE_MS));
  }

  async cacheGet(key: string, now: number): Promise<StoredEntry | undefined> {
    let raw: string | null;
    try {
      raw = await this.redis.get(this.cacheKey(key));
      this.up();
    } catch (e) {
      // A cache that cannot answer is a miss (APIM: the backend is called), whatever the fail mode of the counters.
      this.markDown(e);
      return undefined;
    }
    if (raw === null) return undefined;
    const nl = raw.indexOf('\n');
    const expiresAt = Number(raw.slice(0, nl));
    if (!(nl > 0) || !(now < expiresAt)) return undefined;
    return { value: raw.slice(nl + 1), expiresAt };
  }

  async cacheSet(key: string, value: string, now: number, expiresAt: number): Promise<void> {
    const k = this.cacheKey(key);
    if (!(expiresAt > now) || value.length > REDIS_CACHE_MAX_CHARS) {
      await this.quietly(() => this.redis.del(k));
      return;
    }
    await this.quietly(() => this.redis.set(k, `${expiresAt}\n${value}`, 'PX', Math.ceil(expiresAt - now) + REMOTE_GRACE_MS));
  }

  async cacheDelete(key: string): Promise<boolean> {
    return (await this.quietly(() => this.redis.del(this.cacheKey(key)))) === 1;
  }

  /** A shared breaker Redis cannot record for is StateUnavailableError: the caller decides on its own (src/backends/breaker.ts). */
  async breakerRecord(key: string, now: number, o: BreakerOutcomeRecord): Promise<SharedBreakerState> {
    const count = o.count ?? -1;
    await this.subscribed;
    try {
      const [openUntil, openForMs, trips, reason, failures, total, tripped] = await this.redis.apimBreaker(
        `${this.prefix}b:${key}`,
        `${this.prefix}bw:${key}`,
        now,
        o.intervalMs,
        count,
        o.percentage ?? 100,
        o.failure ? 1 : 0,
        o.openForMs,
        o.why,
        o.interval,
        o.source,
        this.breakerChannel(),
        key,
        REMOTE_GRACE_MS,
      );
      this.up();
      return { openUntil, openForMs, trips, reason, failures, total, tripped: tripped === 1 };
    } catch (e) {
      this.markDown(e);
      throw new StateUnavailableError('redis', 'the shared circuit breaker state (Redis) is unavailable');
    }
  }

  /** Trips published by any emulator using this Redis, through a second connection in subscriber mode (opened on first use). */
  onBreakerOpened(listener: (key: string, state: SharedBreakerState) => void): () => void {
    this.breakerListeners.add(listener);
    if (!this.subscriber) {
      const sub = this.redis.duplicate({ enableOfflineQueue: true });
      sub.on('error', () => undefined);
      sub.on('message', (_channel: string, message: string) => {
        let key: string;
        let state: SharedBreakerState;
        try {
          const { key: k, ...rest } = JSON.parse(message) as SharedBreakerState & { key: string };
          key = k;
          state = { ...rest, tripped: true };
        } catch {
          return;
        }
        for (const l of this.breakerListeners) l(key, state);
      });
      this.subscribed = sub.subscribe(this.breakerChannel()).catch(() => undefined);
      this.subscriber = sub;
    }
    return () => this.breakerListeners.delete(listener);
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
    this.subscriber?.disconnect();
    this.redis.disconnect();
  }

  private breakerChannel(): string {
    return `${this.prefix}breakers`;
  }

  private fixedKey(key: string): string {
    return `${this.prefix}q:${key}`;
  }

  private cacheKey(key: string): string {
    return `${this.prefix}c:${key}`;
  }

  /** A write that cannot reach Redis is lost either way: noted once (markDown), never thrown. */
  private async quietly<T>(run: () => Promise<T>): Promise<T | undefined> {
    try {
      const r = await run();
      this.up();
      return r;
    } catch (e) {
      this.markDown(e);
      return undefined;
    }
  }

  private up(): void {
    if (!this.down) return;
    this.down = false;
    this.log('info', 'shared state: Redis reachable again; counters are shared again');
  }

  private markDown(e: unknown): void {
    if (this.down) return;
    this.down = true;
    this.log(
      'warn',
      `shared state: Redis unreachable (${(e as Error)?.message ?? String(e)}); ${this.failOpen ? 'failing open: requests pass uncounted' : 'failing closed: throttled requests are refused with 503'} until it is back`,
    );
  }

  private failed(e: unknown): void {
    this.markDown(e);
    if (!this.failOpen) throw new StateUnavailableError('redis', 'the shared rate-limit state (Redis) is unavailable');
  }
}

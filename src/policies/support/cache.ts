import type { Awaitable, Clock, GatewayResponse, RuntimeServices, StateStore } from '../../engine/policy-sdk.js';
import { HeaderMap, MessageBody, whenReady } from '../../engine/policy-sdk.js';
import { JToken } from '../../dotnet/json.js';

/**
 * The caches of cache-lookup / cache-store and cache-store-value / cache-lookup-value / cache-remove-value
 * (docs/policies-ai-caching.md, "Where cached entries live"):
 * - APIM's built-in ("internal") cache: entries with a time-to-live on the injected clock, shared by every API of the
 *   gateway, volatile (cleared by services.reset()). In one process the entries are the objects themselves
 *   (ExpiringCache); under `serve --workers N` they live in the primary process, serialized, because APIM's built-in
 *   cache "is shared by all units" of the gateway.
 * - The external cache: with `--state redis://…` Redis plays the "external Azure Cache for Redis"; `caching-type`
 *   external and prefer-external use it, internal keeps the built-in cache. Without Redis there is no external cache:
 *   prefer-external falls back to the built-in one as APIM documents, and external does the same (APIM is SILENT on
 *   an external cache that is not configured; docs/emulator-choices.md).
 */

interface Entry<T> {
  value: T;
  /** Clock time (epoch ms) after which the entry is gone. */
  expiresAt: number;
}

/** Entries kept at most per cache; the oldest go first when it is full (APIM's cache is bounded too, by memory). */
export const DEFAULT_MAX_ENTRIES = 10_000;

/** What a cache keeps of the responses it stores, at most: beyond it the oldest go first (docs/limits.md). */
export const RESPONSE_CACHE_MAX_BYTES = 64 * 1024 * 1024;

export class ExpiringCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private bytes = 0;

  /** `sizeOf` (with `maxBytes`) bounds the memory the entries hold, not only their number. */
  constructor(
    private readonly clock: Clock,
    private readonly maxEntries = DEFAULT_MAX_ENTRIES,
    private readonly sizeOf?: (value: T) => number,
    private readonly maxBytes = Number.POSITIVE_INFINITY,
  ) {}

  /** The live value for `key`, or undefined (an expired entry is dropped on the way). */
  get(key: string): T | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (this.clock.now() >= e.expiresAt) {
      this.delete(key);
      return undefined;
    }
    return e.value;
  }

  /** Seconds the entry for `key` still lives (0 when absent). */
  remainingSeconds(key: string): number {
    const e = this.entries.get(key);
    if (!e) return 0;
    return Math.max(0, Math.ceil((e.expiresAt - this.clock.now()) / 1000));
  }

  /**
   * Stores `value` for `ttlMs` of clock time; a non-positive ttl stores nothing and removes what was there. False when
   * the value alone is larger than the cache may hold.
   */
  set(key: string, value: T, ttlMs: number): boolean {
    this.delete(key); // re-insert so Map order stays oldest-first
    if (!(ttlMs > 0)) return true;
    const size = this.sizeOf?.(value) ?? 0;
    if (size > this.maxBytes) return false;
    if (this.entries.size >= this.maxEntries || this.bytes + size > this.maxBytes) this.evict(size);
    this.entries.set(key, { value, expiresAt: this.clock.now() + ttlMs });
    this.bytes += size;
    return true;
  }

  delete(key: string): boolean {
    const e = this.entries.get(key);
    if (!e) return false;
    this.entries.delete(key);
    if (this.sizeOf) this.bytes -= this.sizeOf(e.value);
    return true;
  }

  /** Live entries, for similarity scans (semantic cache). */
  *live(): IterableIterator<[string, T]> {
    const now = this.clock.now();
    for (const [k, e] of this.entries) {
      if (now >= e.expiresAt) this.delete(k);
      else yield [k, e.value];
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** Expired entries first, then the oldest, until one more entry of `incoming` bytes fits. */
  private evict(incoming: number): void {
    const now = this.clock.now();
    for (const [k, e] of this.entries) if (now >= e.expiresAt) this.delete(k);
    while (this.entries.size >= this.maxEntries || this.bytes + incoming > this.maxBytes) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
    }
  }
}

/** The in-process value cache of cache-store-value / cache-lookup-value / cache-remove-value (one per gateway). */
export function valueCache(services: RuntimeServices): ExpiringCache<unknown> {
  return services.store('cache:internal:values', () => new ExpiringCache<unknown>(services.clock));
}

/** A hit: the value and how long it still lives. */
export interface CacheHit<T> {
  value: T;
  remainingSeconds: number;
}

/** A cache as the policies use it, wherever its entries live. Writes that nobody waits for report their own failures. */
export interface PolicyCache<T> {
  /** `built-in` (this process), `built-in, shared by the workers` or `external (Redis)`: for traces. */
  readonly where: string;
  get(key: string): Awaitable<CacheHit<T> | undefined>;
  /** Keeps `value` for `ttlMs` of clock time; false when the value cannot be kept there (not serializable, too large). */
  set(key: string, value: T, ttlMs: number): Awaitable<boolean>;
  delete(key: string): Awaitable<boolean>;
}

/** How a store cache turns values into text and back; encode gives undefined for a value it cannot keep. */
export interface CacheCodec<T> {
  encode(value: T): string | undefined;
  decode(text: string): T;
}

/** The in-process cache as a PolicyCache (objects kept as they are). */
function localCache<T>(cache: ExpiringCache<T>): PolicyCache<T> {
  return {
    where: 'built-in',
    get(key) {
      const value = cache.get(key);
      return value === undefined ? undefined : { value, remainingSeconds: cache.remainingSeconds(key) };
    },
    set: (key, value, ttlMs) => cache.set(key, value, ttlMs),
    delete: (key) => cache.delete(key),
  };
}

/** A cache whose entries live in the state store (the primary of `serve --workers`, or Redis), serialized by `codec`. */
function storeCache<T>(state: StateStore, clock: Clock, namespace: string, codec: CacheCodec<T>, where: string): PolicyCache<T> {
  return {
    where,
    get(key) {
      const now = clock.now();
      return whenReady(state.cacheGet(namespace + key, now), (e) =>
        e ? { value: codec.decode(e.value), remainingSeconds: Math.max(0, Math.ceil((e.expiresAt - now) / 1000)) } : undefined,
      );
    },
    set(key, value, ttlMs) {
      const now = clock.now();
      const text = ttlMs > 0 ? codec.encode(value) : '';
      if (text === undefined) return false;
      return whenReady(state.cacheSet(namespace + key, text, now, ttlMs > 0 ? now + ttlMs : now), () => true);
    },
    delete: (key) => state.cacheDelete(namespace + key),
  };
}

export type CachingType = 'internal' | 'external' | 'prefer-external';

/** services.store keys of the PolicyCache wrappers, spelled once (no string built per request). */
const CACHE_KEYS = {
  values: { external: 'cache:policy:external:values', primary: 'cache:policy:primary:values', local: 'cache:policy:local:values' },
  responses: { external: 'cache:policy:external:responses', primary: 'cache:policy:primary:responses', local: 'cache:policy:local:responses' },
} as const;

/**
 * The cache a policy with `caching-type` uses right now (looked up per request: services.reset() replaces the
 * in-process caches). See the module comment for where each one lives.
 */
export function pickCache<T>(
  services: RuntimeServices,
  type: CachingType,
  kind: 'values' | 'responses',
  local: () => ExpiringCache<T>,
  codec: CacheCodec<T>,
): PolicyCache<T> {
  const state = services.state;
  const keys = CACHE_KEYS[kind];
  if (type !== 'internal' && state.kind === 'redis')
    return services.store(keys.external, () => storeCache(state, services.clock, `${kind}:`, codec, 'external (Redis)'));
  if (state.kind === 'primary')
    return services.store(keys.primary, () => storeCache(state, services.clock, `internal:${kind}:`, codec, 'built-in, shared by the workers'));
  return services.store(keys.local, () => localCache(local()));
}

/** The cache of cache-store-value / cache-lookup-value / cache-remove-value for a caching-type. */
export function valueCacheFor(services: RuntimeServices, type: CachingType): PolicyCache<unknown> {
  return pickCache(services, type, 'values', () => valueCache(services), VALUE_CODEC);
}

/** The caching-type attribute's literal value (validated against the enum by metadata; default prefer-external). */
export function cachingType(text: string | undefined): CachingType {
  const t = text?.trim().toLowerCase();
  return t === 'internal' || t === 'external' ? t : 'prefer-external';
}

/**
 * Values of cache-store-value in a store cache: strings, numbers, booleans, null and JSON tokens (JObject, JArray,
 * JValue) keep their type; anything else (a DateTime, a byte array, a context object) cannot be kept outside the
 * process and is refused (encode → undefined), which the policy reports.
 */
export const VALUE_CODEC: CacheCodec<unknown> = {
  encode(value) {
    if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return JSON.stringify({ v: value });
    if (typeof value === 'bigint') return JSON.stringify({ i: value.toString() });
    if (value instanceof JToken) return JSON.stringify({ j: value.ToString('None') });
    return undefined;
  },
  decode(text) {
    const o = JSON.parse(text) as { v?: unknown; i?: string; j?: string };
    if (o.j !== undefined) return JToken.Parse(o.j);
    if (o.i !== undefined) return BigInt(o.i);
    return o.v ?? null;
  },
};

/** Cached responses in a store cache: status, headers and the body (base64). */
export const RESPONSE_CODEC: CacheCodec<CachedResponse> = {
  encode: (r) => JSON.stringify({ s: r.statusCode, r: r.statusReason, h: r.headers, b: r.body ? r.body.toString('base64') : null }),
  decode(text) {
    const o = JSON.parse(text) as { s: number; r: string; h: Array<[string, string[]]>; b: string | null };
    return { statusCode: o.s, statusReason: o.r, headers: o.h, body: o.b === null ? null : Buffer.from(o.b, 'base64') };
  },
};

/** A response kept by cache-store or a semantic cache store: status, headers and the whole body. */
export interface CachedResponse {
  statusCode: number;
  statusReason: string;
  headers: Array<[string, string[]]>;
  body: Buffer | null;
}

/** The response cache of cache-lookup / cache-store (one per gateway). */
export function responseCache(services: RuntimeServices): ExpiringCache<CachedResponse> {
  return services.store(
    'cache:internal:responses',
    () => new ExpiringCache<CachedResponse>(services.clock, DEFAULT_MAX_ENTRIES, responseSize, RESPONSE_CACHE_MAX_BYTES),
  );
}

/** Approximate bytes a cached response holds: its body and header text. */
function responseSize(r: CachedResponse): number {
  let n = r.body?.length ?? 0;
  for (const [name, values] of r.headers) for (const v of values) n += name.length + v.length;
  return n;
}

/** `duration` attributes are whole seconds; anything that is not a positive finite number stores nothing. */
export function durationMs(seconds: number): number {
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
}

/**
 * Hop-by-hop and per-message headers a cached copy must not replay: the server recomputes framing for the cached
 * bytes (a backend's chunked encoding would otherwise be repeated over a fixed-length body).
 */
const NOT_CACHED_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'set-cookie', 'proxy-authenticate', 'upgrade']);

/** Copies a response for the cache, reading its body into memory (the body stays readable for the client). */
export async function snapshotResponse(r: GatewayResponse): Promise<CachedResponse> {
  const body = r.body ? Buffer.from(await r.body.buffer()) : null;
  const headers: Array<[string, string[]]> = [];
  for (const [n, v] of r.headers.entries()) if (!NOT_CACHED_HEADERS.has(n.toLowerCase())) headers.push([n, [...v]]);
  return { statusCode: r.statusCode, statusReason: r.statusReason, headers, body };
}

/** A fresh response from a cached copy (each hit gets its own headers and body objects). */
export function restoreResponse(c: CachedResponse): GatewayResponse {
  const headers = new HeaderMap(c.headers.map(([n, v]) => [n, [...v]] as [string, string[]]));
  if (c.body) headers.set('Content-Length', [String(c.body.length)]);
  return { statusCode: c.statusCode, statusReason: c.statusReason, headers, body: c.body ? MessageBody.fromBuffer(c.body) : null };
}

import type { Clock, GatewayResponse, RuntimeServices } from '../../engine/policy-sdk.js';
import { HeaderMap, MessageBody } from '../../engine/policy-sdk.js';

/**
 * The gateway's built-in cache (APIM's "internal" cache): entries with a time-to-live on the injected clock, shared by
 * every API of the gateway, volatile (cleared by services.reset()). APIM's `external` / `prefer-external` caching types
 * name an Azure Cache for Redis the emulator does not have; they use this same in-memory cache (docs/policies-ai-caching.md).
 */

interface Entry<T> {
  value: T;
  /** Clock time (epoch ms) after which the entry is gone. */
  expiresAt: number;
}

/** Entries kept at most per cache; the oldest go first when it is full (APIM's cache is bounded too, by memory). */
export const DEFAULT_MAX_ENTRIES = 10_000;

export class ExpiringCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly clock: Clock,
    private readonly maxEntries = DEFAULT_MAX_ENTRIES,
  ) {}

  /** The live value for `key`, or undefined (an expired entry is dropped on the way). */
  get(key: string): T | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (this.clock.now() >= e.expiresAt) {
      this.entries.delete(key);
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

  /** Stores `value` for `ttlMs` of clock time; a non-positive ttl stores nothing and removes what was there. */
  set(key: string, value: T, ttlMs: number): void {
    this.entries.delete(key); // re-insert so Map order stays oldest-first
    if (!(ttlMs > 0)) return;
    if (this.entries.size >= this.maxEntries) this.evict();
    this.entries.set(key, { value, expiresAt: this.clock.now() + ttlMs });
  }

  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  /** Live entries, for similarity scans (semantic cache). */
  *live(): IterableIterator<[string, T]> {
    const now = this.clock.now();
    for (const [k, e] of this.entries) {
      if (now >= e.expiresAt) this.entries.delete(k);
      else yield [k, e.value];
    }
  }

  get size(): number {
    return this.entries.size;
  }

  private evict(): void {
    const now = this.clock.now();
    for (const [k, e] of this.entries) if (now >= e.expiresAt) this.entries.delete(k);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }
}

/** The value cache of cache-store-value / cache-lookup-value / cache-remove-value (one per gateway). */
export function valueCache(services: RuntimeServices): ExpiringCache<unknown> {
  return services.store('cache:internal:values', () => new ExpiringCache<unknown>(services.clock));
}

/** A response kept by cache-store or a semantic cache store: status, headers and the whole body. */
export interface CachedResponse {
  statusCode: number;
  statusReason: string;
  headers: Array<[string, string[]]>;
  body: Buffer | null;
}

/** The response cache of cache-lookup / cache-store (one per gateway). */
export function responseCache(services: RuntimeServices): ExpiringCache<CachedResponse> {
  return services.store('cache:internal:responses', () => new ExpiringCache<CachedResponse>(services.clock));
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

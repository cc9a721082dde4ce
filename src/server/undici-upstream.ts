import { Agent, errors as undiciErrors, interceptors, request } from 'undici';
import type { Dispatcher } from 'undici';
import type { Clock } from '../clock.js';
import { HeaderMap } from '../engine/headers.js';
import { UpstreamError } from '../engine/upstream.js';
import type { Upstream, UpstreamRequest, UpstreamResponse } from '../engine/upstream.js';

/**
 * APIM's limit on concurrent connections to backends per gateway unit (docs/emulator-choices.md, "Upstream connections per backend"): the
 * default cap per backend origin.
 */
export const DEFAULT_CONNECTIONS_PER_BACKEND = 2048;

export interface UndiciUpstreamOptions {
  /** Connections per backend origin; requests beyond it queue (their wait counts against forward-request timeout). */
  connections?: number;
  /**
   * The clock is the wall clock: long timeouts may use undici's own header timer (cheaper than racing a clock
   * deadline). The shell says so; the upstream never inspects the clock's class.
   */
  wallClock?: boolean;
  /** Told when a request timed out after queueing behind the connection cap (the server logs it). */
  onCapTimeout?: (info: { origin: string; cap: number; inFlight: number; timeoutMs: number }) => void;
}

const DEADLINE_CANCELLED = new Error('deadline cancelled: the backend answered');
/** Shortest forward-request timeout left to undici's header timer (≈1 s resolution, so at most ~10% late). */
const NATIVE_TIMEOUT_MIN_MS = 10_000;

/** Hop-by-hop headers a proxy must not forward (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);

/**
 * Upstream over undici with a pooled keep-alive Agent. The header timeout is raced on the injected clock, so a virtual
 * clock decides when forward-request times out.
 */
export class UndiciUpstream implements Upstream {
  private readonly agent: Agent;
  /** The same pool with undici 7's redirect interceptor, for forward-request follow-redirects="true". */
  private readonly redirecting: Dispatcher;
  private readonly cap: number;
  /** Requests in flight per origin: beyond the cap they queue in undici, which a timeout message should say. */
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly opts: UndiciUpstreamOptions = {},
  ) {
    this.cap = opts.connections ?? DEFAULT_CONNECTIONS_PER_BACKEND;
    this.agent = new Agent({
      connections: this.cap,
      keepAliveTimeout: 30_000,
      // Deadlines are enforced on the clock below; undici's own timers would fire in wall time.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    this.redirecting = this.agent.compose(interceptors.redirect({ maxRedirections: 10 }));
  }

  async send(req: UpstreamRequest): Promise<UpstreamResponse> {
    const origin = originOf(req.url);
    const before = this.inFlight.get(origin) ?? 0;
    this.inFlight.set(origin, before + 1);
    try {
      return await this.sendCounted(req);
    } catch (e) {
      // Every connection to this backend was busy when the request arrived: it queued, and the queueing counted
      // against forward-request's timeout. Say so, as APIM's limit is per unit (issue: upstream connection cap).
      if (e instanceof UpstreamError && e.reason === 'Timeout' && before >= this.cap) {
        this.opts.onCapTimeout?.({ origin, cap: this.cap, inFlight: before, timeoutMs: req.timeoutMs });
        throw new UpstreamError(
          'Timeout',
          `${e.message} The request waited for a connection: ${before} requests were already in flight to ${origin}, the cap of ${this.cap} connections per backend (server.upstreamConnections).`,
        );
      }
      throw e;
    } finally {
      const n = (this.inFlight.get(origin) ?? 1) - 1;
      if (n <= 0) this.inFlight.delete(origin);
      else this.inFlight.set(origin, n);
    }
  }

  private async sendCounted(req: UpstreamRequest): Promise<UpstreamResponse> {
    const headers: Record<string, string | string[]> = {};
    for (const [name, values] of req.headers.entries()) {
      if (HOP_BY_HOP.has(name.toLowerCase())) continue;
      headers[name] = values.length === 1 ? values[0]! : values;
    }
    // On the system clock undici's own header timer is the same wall-clock deadline and much cheaper than racing a
    // clock deadline (two AbortControllers, a promise race and listeners per request; ~5% CPU in bench/). Its timers
    // tick about once a second, so short timeouts keep the precise path.
    if (req.timeoutMs >= NATIVE_TIMEOUT_MIN_MS && this.opts.wallClock === true) return this.sendWithNativeTimeout(req, headers);
    const abort = new AbortController();
    const onAbort = () => abort.abort(req.signal.reason);
    if (req.signal.aborted) onAbort();
    else req.signal.addEventListener('abort', onAbort, { once: true });
    const timer = new AbortController();
    const deadline = this.clock.deadline(req.timeoutMs, timer.signal).then(
      () => 'timeout' as const,
      () => 'cancelled' as const,
    );
    try {
      const call = request(req.url, {
        method: req.method as 'GET',
        headers,
        body: req.body ?? undefined,
        signal: abort.signal,
        dispatcher: req.followRedirects ? this.redirecting : this.agent,
      });
      const raced = await Promise.race([call, deadline]);
      if (raced === 'timeout') {
        abort.abort(new Error('timeout'));
        call.catch(() => undefined);
        throw new UpstreamError('Timeout', `Request to the backend timed out: no response headers within ${formatSeconds(req.timeoutMs)}.`);
      }
      if (raced === 'cancelled') throw new UpstreamError('ClientConnectionFailure', 'The request was cancelled.');
      return {
        statusCode: raced.statusCode,
        statusReason: '',
        headers: HeaderMap.fromRecord(raced.headers),
        body: raced.body,
      };
    } catch (e) {
      if (e instanceof UpstreamError) throw e;
      if (req.signal.aborted) throw new UpstreamError('ClientConnectionFailure', 'The client closed the connection before the backend answered.');
      throw new UpstreamError('BackendConnectionFailure', describeConnectionError(e));
    } finally {
      // A fixed reason: abort() without one builds a DOMException (with a stack) on every request.
      timer.abort(DEADLINE_CANCELLED);
      req.signal.removeEventListener('abort', onAbort);
    }
  }

  private async sendWithNativeTimeout(req: UpstreamRequest, headers: Record<string, string | string[]>): Promise<UpstreamResponse> {
    try {
      const r = await request(req.url, {
        method: req.method as 'GET',
        headers,
        body: req.body ?? undefined,
        signal: req.signal,
        dispatcher: req.followRedirects ? this.redirecting : this.agent,
        headersTimeout: req.timeoutMs,
      });
      return { statusCode: r.statusCode, statusReason: '', headers: HeaderMap.fromRecord(r.headers), body: r.body };
    } catch (e) {
      if (e instanceof undiciErrors.HeadersTimeoutError) {
        throw new UpstreamError('Timeout', `Request to the backend timed out: no response headers within ${formatSeconds(req.timeoutMs)}.`);
      }
      if (req.signal.aborted) throw new UpstreamError('ClientConnectionFailure', 'The client closed the connection before the backend answered.');
      throw new UpstreamError('BackendConnectionFailure', describeConnectionError(e));
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/**
 * The origin a URL's requests count against, for the connection-cap message only: `scheme://authority` as written
 * (no URL object per request; undici reports a bad URL itself).
 */
export function originOf(url: string): string {
  const scheme = url.indexOf('://');
  if (scheme < 0) return '';
  const rest = url.slice(scheme + 3);
  const end = rest.search(/[/?#]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  // Credentials in the URL (user:pass@) never go into the message.
  return `${url.slice(0, scheme + 3)}${authority.slice(authority.lastIndexOf('@') + 1)}`.toLowerCase();
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

function describeConnectionError(e: unknown): string {
  const err = e as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = err.cause?.code ?? err.code;
  if (e instanceof undiciErrors.SocketError || code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') {
    return 'Underlying transport connection was unexpectedly closed.';
  }
  if (code === 'ECONNREFUSED') return 'Unable to connect to the backend: connection refused.';
  if (code === 'ENOTFOUND') return 'Unable to connect to the backend: host not found.';
  return `Unable to reach the backend: ${err.cause?.message ?? err.message ?? String(e)}`;
}

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Clock } from '../clock.js';
import { aoaiErrorFor, estimateAoaiRequest, generateAoai, type AoaiAnswer } from './aoai.js';
import { effectiveLimits, quotaExceededBody, QuotaTracker, type QuotaRemaining, type QuotaReservation } from './quota.js';
import { BODYLESS_STATUSES, DEFAULT_RATE_LIMIT, stepForCall, type MockScript, type MockStep } from './script.js';
import { formatMockScript } from './text-form.js';

/** Request bodies are logged up to this many bytes by default (the whole body is still read and used for aoai answers). */
export const LOG_BODY_LIMIT = 64 * 1024;
/** The log keeps the most recent entries only by default, so a long `serve` session does not grow without bound. */
export const LOG_MAX_ENTRIES = 10_000;

/** Bounds of each mock's request log (`serve --mock-log-entries/--mock-log-body-bytes`, config `server.mockLog`; docs/limits.md). */
export interface MockLogLimits {
  /** Most recent entries kept; 0 keeps none. */
  entries: number;
  /** Bytes of each request body kept in its entry. */
  bodyBytes: number;
}
export const DEFAULT_MOCK_LOG: Readonly<MockLogLimits> = { entries: LOG_MAX_ENTRIES, bodyBytes: LOG_BODY_LIMIT };
const RATE_WINDOW_MS = 60_000;

export interface MockBackendOptions {
  name: string;
  script: MockScript;
  clock: Clock;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (an ephemeral port). */
  port?: number;
  /**
   * No listening socket: the mock is reached only through its handle(), by the in-process upstream
   * (src/mocks/in-process.ts) that `apim-emulator test` uses. Its url is then `http://<name>.mock.invalid`.
   */
  inProcess?: boolean;
  /** Request log bounds; default DEFAULT_MOCK_LOG. */
  log?: Partial<MockLogLimits>;
}

export type MockOutcome =
  /** Still being handled (latency, hang). */
  | 'pending'
  | 'answered'
  /** The script reset the connection. */
  | 'reset'
  /** The client went away before the answer was complete. */
  | 'aborted'
  /** The script cut the body or the event stream (sseFailAfterChunks). */
  | 'failed-mid-body'
  /** A bug in the mock; answered 500. */
  | 'error';

export interface MockRequestLogEntry {
  /** 1-based, counting since start or the last reset(). */
  seq: number;
  /** Clock time (epoch ms) when the request arrived. */
  time: number;
  method: string;
  path: string;
  /** Raw query string without "?" ('' when none). */
  query: string;
  headers: Record<string, string | string[]>;
  /** Body text, cut at the log's bodyBytes (default LOG_BODY_LIMIT). */
  body: string;
  bodyTruncated: boolean;
  /** Status sent, or null when none was (reset, hang, abort). */
  responseStatus: number | null;
  /** Index of the script step that answered; null when the script's `then: <status>` answered. */
  stepIndex: number | null;
  outcome: MockOutcome;
}

export interface MockBackendInfo {
  name: string;
  url: string;
  script: MockScript;
  /** The script in the compact text form. */
  scriptText: string;
  requestCount: number;
  /** 0-based number of the next call, which picks the next step. */
  nextCall: number;
}

/**
 * A scripted backend: a real HTTP server on 127.0.0.1 that answers according to a MockScript. Latency and hangs run
 * on the injected clock. Every response carries `x-mock-backend: <name>`.
 */
export class MockBackend {
  private current: MockScript;
  private log: MockRequestLogEntry[] = [];
  private seq = 0;
  private calls = 0;
  private rate = { windowStart: Number.NEGATIVE_INFINITY, requests: 0, tokens: 0 };
  /** Per-deployment quota usage; kept across setScript (usage is the deployment's, not the script's), cleared by reset(). */
  private readonly quota: QuotaTracker;
  private closed = false;

  private constructor(
    readonly name: string,
    private readonly server: Server | null,
    readonly url: string,
    script: MockScript,
    private readonly clock: Clock,
    private readonly logLimits: MockLogLimits,
  ) {
    this.current = script;
    this.quota = new QuotaTracker(() => clock.now());
  }

  static async start(o: MockBackendOptions): Promise<MockBackend> {
    const log: MockLogLimits = { ...DEFAULT_MOCK_LOG, ...o.log };
    if (o.inProcess) return new MockBackend(o.name, null, `http://${encodeURIComponent(o.name).toLowerCase()}.mock.invalid`, o.script, o.clock, log);
    const server = createServer();
    // A hanging step may hold a request indefinitely; Node's own request timeout must not end it.
    server.requestTimeout = 0;
    const host = o.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    const backend = new MockBackend(o.name, server, url, o.script, o.clock, log);
    server.on('request', (req, res) => void backend.handle(req, res));
    return backend;
  }

  get script(): MockScript {
    return this.current;
  }

  /** Replaces the script; the next request starts at its first step. The request log is kept. */
  setScript(s: MockScript): void {
    this.current = s;
    this.calls = 0;
  }

  get requests(): readonly MockRequestLogEntry[] {
    return this.log;
  }

  /** Clears the request log, the step position, the rate-limit window and the quota usage (between tests). */
  reset(): void {
    this.log = [];
    this.seq = 0;
    this.calls = 0;
    this.rate = { windowStart: Number.NEGATIVE_INFINITY, requests: 0, tokens: 0 };
    this.quota.reset();
  }

  describe(): MockBackendInfo {
    return { name: this.name, url: this.url, script: this.current, scriptText: formatMockScript(this.current), requestCount: this.seq, nextCall: this.calls };
  }

  /** Stops listening and closes every connection, idle keep-alive ones and hanging requests included. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const server = this.server;
    if (!server) return;
    const done = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await done;
  }

  /** Answers one request (the HTTP server's listener; the in-process upstream calls it with its own req/res objects). */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const script = this.current;
    const call = this.calls++;
    const pick = stepForCall(script, call);
    const step: MockStep = 'index' in pick ? script.steps[pick.index]! : { times: 1, status: pick.thenStatus };
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const entry: MockRequestLogEntry = {
      seq: ++this.seq,
      time: this.clock.now(),
      method: req.method ?? 'GET',
      path: q >= 0 ? rawUrl.slice(0, q) : rawUrl,
      query: q >= 0 ? rawUrl.slice(q + 1) : '',
      headers: headerRecord(req),
      body: '',
      bodyTruncated: false,
      responseStatus: null,
      stepIndex: 'index' in pick ? pick.index : null,
      outcome: 'pending',
    };
    const keep = this.logLimits.entries;
    if (keep > 0) {
      this.log.push(entry);
      if (this.log.length > keep) this.log.splice(0, this.log.length - keep);
    }
    try {
      await this.respond(req, res, step, entry);
    } catch (e) {
      this.fail(res, entry, e);
    }
  }

  private async respond(req: IncomingMessage, res: ServerResponse, step: MockStep, entry: MockRequestLogEntry): Promise<void> {
    // The client (or close()) ending the connection aborts latency waits and hangs.
    const gone = new AbortController();
    const goneP = new Promise<void>((resolve) => gone.signal.addEventListener('abort', () => resolve(), { once: true }));
    res.once('close', () => {
      if (!res.writableFinished) {
        if (entry.outcome === 'pending') entry.outcome = 'aborted';
        gone.abort(new Error('client closed the connection'));
      }
    });

    const body = await readBody(req, gone.signal);
    if (body === undefined) return;
    entry.body = body.subarray(0, this.logLimits.bodyBytes).toString('utf8');
    entry.bodyTruncated = body.length > this.logLimits.bodyBytes;

    // Quota admission happens on arrival, as in Azure OpenAI: a throttled request is answered at once, without latency.
    let reservation: QuotaReservation | undefined;
    let estimatedTokens = 0;
    if (step.aoai?.quota && !step.reset && (step.status ?? 200) < 400) {
      const est = estimateAoaiRequest(entry.path, body.toString('utf8'));
      const limits = est ? effectiveLimits(step.aoai.quota, est.deployment) : undefined;
      if (est && limits) {
        const decision = this.quota.admit(est.deployment, limits, est.estimate);
        if (!decision.admitted) {
          const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
          const headers = this.baseHeaders(step, entry);
          headers['retry-after'] = String(seconds);
          headers['retry-after-ms'] = String(Math.max(0, Math.round(decision.retryAfterMs)));
          setQuotaHeaders(headers, decision.remaining, limits);
          const apiVersion = new URLSearchParams(entry.query).get('api-version') ?? undefined;
          const payload = Buffer.from(JSON.stringify(quotaExceededBody(est.operation, apiVersion, decision.limit, seconds)), 'utf8');
          for (const [k, v] of Object.entries(step.headers ?? {})) headers[k.toLowerCase()] = v;
          headers['content-type'] = 'application/json; charset=utf-8';
          headers['content-length'] = String(payload.length);
          entry.responseStatus = 429;
          res.writeHead(429, headers);
          res.end(payload);
          entry.outcome = 'answered';
          return;
        }
        reservation = decision.reservation;
        estimatedTokens = est.estimate;
      }
    }

    try {
      if (step.hang) {
        if (step.latencyMs === undefined) return await goneP;
        await this.clock.deadline(step.latencyMs, gone.signal);
      } else if (step.latencyMs) {
        await this.clock.sleep(step.latencyMs, gone.signal);
      }
    } catch {
      return; // the client went away while we waited
    }
    if (gone.signal.aborted) return;

    if (step.reset) {
      entry.outcome = 'reset';
      resetSocket(req.socket);
      return;
    }

    const status = step.status ?? 200;
    const headers = this.baseHeaders(step, entry);
    if (step.retryAfter !== undefined) headers['retry-after'] = String(step.retryAfter);

    let answer: AoaiAnswer | { kind: 'sse'; events: string[] } | { kind: 'raw'; contentType?: string; payload: Buffer };
    if (step.aoai) {
      answer =
        status >= 400
          ? { kind: 'json', status, body: aoaiErrorFor(status, step.retryAfter, this.name) }
          : generateAoai(step.aoai, { path: entry.path, bodyText: body.toString('utf8'), backendName: this.name, seq: entry.seq, nowMs: this.clock.now() });
    } else if (step.sse) {
      answer = { kind: 'sse', events: step.sse.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))) };
    } else if (BODYLESS_STATUSES.has(status)) {
      answer = { kind: 'raw', payload: Buffer.alloc(0) };
    } else if (typeof step.body === 'string') {
      answer = { kind: 'raw', contentType: 'text/plain; charset=utf-8', payload: Buffer.from(step.body, 'utf8') };
    } else {
      const json =
        step.body !== undefined
          ? step.body
          : status < 400
            ? { backend: this.name, status, seq: entry.seq }
            : { error: { code: String(status), message: `Scripted ${status} from mock backend ${this.name}.` } };
      answer = { kind: 'raw', contentType: 'application/json; charset=utf-8', payload: Buffer.from(JSON.stringify(json), 'utf8') };
    }

    // A generated Azure OpenAI answer keeps the step's 2xx status, but its own 400/404 for requests it cannot serve.
    const finalStatus = (answer.kind === 'json' || answer.kind === 'stream') && answer.status !== 200 ? answer.status : status;
    if (reservation) {
      // The estimate reserved at admission becomes the actual usage now that the answer is known.
      const actual = answer.kind === 'json' || answer.kind === 'stream' ? (answer.usage?.total_tokens ?? estimatedTokens) : estimatedTokens;
      setQuotaHeaders(headers, this.quota.settle(reservation, actual), reservation.limits);
    } else if (step.rateLimitHeaders) {
      const tokens = answer.kind === 'json' || answer.kind === 'stream' ? (answer.usage?.total_tokens ?? 0) : 0;
      const remaining = this.countRate(
        tokens,
        step.rateLimitHeaders.requests ?? DEFAULT_RATE_LIMIT.requests,
        step.rateLimitHeaders.tokens ?? DEFAULT_RATE_LIMIT.tokens,
      );
      headers['x-ratelimit-remaining-requests'] = String(remaining.requests);
      headers['x-ratelimit-remaining-tokens'] = String(remaining.tokens);
    }
    for (const [k, v] of Object.entries(step.headers ?? {})) headers[k.toLowerCase()] = v;
    entry.responseStatus = finalStatus;

    if (answer.kind === 'stream' || answer.kind === 'sse') {
      headers['content-type'] ??= 'text/event-stream; charset=utf-8';
      headers['cache-control'] ??= 'no-cache';
      res.writeHead(finalStatus, headers);
      res.flushHeaders();
      const events = answer.events;
      const cut = step.sseFailAfterChunks !== undefined ? Math.min(step.sseFailAfterChunks, Math.max(0, events.length - 1)) : undefined;
      for (let i = 0; i < events.length; i++) {
        if (cut !== undefined && i >= cut) return this.cut(res, entry);
        if (i > 0 && step.chunkDelayMs) {
          try {
            await this.clock.sleep(step.chunkDelayMs, gone.signal);
          } catch {
            return;
          }
        }
        if (gone.signal.aborted) return;
        // Wait for the flush only when something follows that depends on it (a clock wait, or the cut).
        if (step.chunkDelayMs || (cut !== undefined && i + 1 >= cut)) await write(res, `data: ${events[i]}\n\n`);
        else res.write(`data: ${events[i]}\n\n`);
      }
      res.end();
      entry.outcome = 'answered';
      return;
    }

    const payload = answer.kind === 'json' ? Buffer.from(JSON.stringify(answer.body), 'utf8') : answer.payload;
    const contentType = answer.kind === 'json' ? 'application/json; charset=utf-8' : answer.contentType;
    if (contentType) headers['content-type'] ??= contentType;
    if (!BODYLESS_STATUSES.has(finalStatus)) headers['content-length'] = String(payload.length);
    res.writeHead(finalStatus, headers);
    if (step.sseFailAfterChunks !== undefined && payload.length > 0) {
      res.flushHeaders();
      await write(res, payload.subarray(0, Math.floor(payload.length / 2)));
      return this.cut(res, entry);
    }
    res.end(payload);
    entry.outcome = 'answered';
  }

  private baseHeaders(step: MockStep, entry: MockRequestLogEntry): Record<string, string | string[]> {
    const headers: Record<string, string | string[]> = {
      'x-mock-backend': this.name,
      'x-mock-step': entry.stepIndex === null ? 'then' : String(entry.stepIndex),
    };
    if (step.aoai?.region !== undefined) headers['x-ms-region'] = step.aoai.region;
    return headers;
  }

  private cut(res: ServerResponse, entry: MockRequestLogEntry): void {
    entry.outcome = 'failed-mid-body';
    // A plain destroy (FIN without the final chunk) rather than a TCP reset, so bytes already sent are not discarded.
    res.socket?.destroy();
  }

  private countRate(tokens: number, limitRequests: number, limitTokens: number): { requests: number; tokens: number } {
    const now = this.clock.now();
    if (now - this.rate.windowStart >= RATE_WINDOW_MS) this.rate = { windowStart: now, requests: 0, tokens: 0 };
    this.rate.requests += 1;
    this.rate.tokens += tokens;
    return { requests: Math.max(0, limitRequests - this.rate.requests), tokens: Math.max(0, limitTokens - this.rate.tokens) };
  }

  private fail(res: ServerResponse, entry: MockRequestLogEntry, e: unknown): void {
    entry.outcome = 'error';
    if (res.headersSent) {
      res.socket?.destroy();
      return;
    }
    const msg = JSON.stringify({ error: { code: 'MockBackendError', message: `mock backend ${this.name} failed: ${(e as Error)?.message ?? String(e)}` } });
    entry.responseStatus = 500;
    res.writeHead(500, { 'content-type': 'application/json; charset=utf-8', 'x-mock-backend': this.name });
    res.end(msg);
  }
}

/** Several named mock backends, e.g. one per `--mock BACKEND_ID=SCRIPT`. */
export class MockBackendSet {
  private readonly backends = new Map<string, MockBackend>();

  /** `log` bounds every mock's request log (default DEFAULT_MOCK_LOG). */
  constructor(private readonly log: Partial<MockLogLimits> = {}) {}

  async start(name: string, script: MockScript, clock: Clock, opts: { host?: string; port?: number; inProcess?: boolean } = {}): Promise<MockBackend> {
    if (this.backends.has(name)) throw new Error(`a mock backend named "${name}" is already running`);
    const b = await MockBackend.start({ name, script, clock, log: this.log, ...opts });
    this.backends.set(name, b);
    return b;
  }

  /** Stops and forgets one mock (a reload removed its backend). */
  async stop(name: string): Promise<void> {
    const b = this.backends.get(name);
    if (!b) return;
    this.backends.delete(name);
    await b.close();
  }

  get(name: string): MockBackend | undefined {
    return this.backends.get(name);
  }

  all(): MockBackend[] {
    return [...this.backends.values()];
  }

  resetAll(): void {
    for (const b of this.backends.values()) b.reset();
  }

  async closeAll(): Promise<void> {
    const all = [...this.backends.values()];
    this.backends.clear();
    await Promise.all(all.map((b) => b.close()));
  }
}

/** Azure OpenAI's rate-limit headers for the limits that apply (a dimension without a limit gets none). */
function setQuotaHeaders(headers: Record<string, string | string[]>, remaining: QuotaRemaining, limits: ReturnType<typeof effectiveLimits>): void {
  if (remaining.requests !== undefined) headers['x-ratelimit-remaining-requests'] = String(remaining.requests);
  if (remaining.tokens !== undefined) headers['x-ratelimit-remaining-tokens'] = String(remaining.tokens);
  if (limits?.requests) headers['x-ratelimit-limit-requests'] = String(limits.requests.perWindow);
  if (limits?.tpm !== undefined) headers['x-ratelimit-limit-tokens'] = String(limits.tpm);
}

function headerRecord(req: IncomingMessage): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const prev = out[name];
    out[name] = prev === undefined ? raw[i + 1]! : [...(Array.isArray(prev) ? prev : [prev]), raw[i + 1]!];
  }
  return out;
}

function readBody(req: IncomingMessage, signal: AbortSignal): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => {
      signal.removeEventListener('abort', onAbort);
      resolve(Buffer.concat(chunks));
    });
    req.once('error', () => resolve(undefined));
  });
}

function write(res: ServerResponse, data: string | Buffer): Promise<void> {
  return new Promise((resolve) => {
    res.write(data, () => resolve());
  });
}

/** A TCP reset (RST) where the platform supports it, so the client sees ECONNRESET as from a crashed backend. */
function resetSocket(socket: Socket): void {
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

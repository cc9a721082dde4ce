import type { ServerResponse } from 'node:http';
import express from 'express';
import type { Request, Response, Router } from 'express';
import type { CircuitBreakerEvent } from '../backends/index.js';
import type { Clock } from '../clock.js';
import type { Gateway } from '../gateway/gateway.js';
import type { MockBackendSet } from '../mocks/index.js';
import { readConsoleAsset } from './assets.js';
import { backendsTried, RequestTap, throttleCounters } from './requests.js';
import type { FinishedRequest, RequestRow, ThrottleCounter } from './requests.js';
import { clockView, instanceView, OutcomeRecorder } from './snapshot.js';
import type { ClockView, InstanceView } from './snapshot.js';

export { RequestTap } from './requests.js';
export type { FinishedRequest, RequestRow, ThrottleCounter } from './requests.js';
export type { BreakerView, ClockView, InstanceView, PoolView, SingleView } from './snapshot.js';

/**
 * The web console under /_emulator/ (docs/console.md): a static page, its assets, and one Server-Sent Events stream
 * that pushes the backends' state, breaker events and finished requests. Everything here is idle until a browser
 * connects: the gateway handler checks `tap.active`, the registry is observed and state diffed only while a stream is
 * open, and every history is bounded.
 */

export interface ConsoleDeps {
  /** The switch the gateway handler checks (created by the server before the console itself is loaded). */
  tap?: RequestTap;
  /** The gateway instances at start; a reload hands the new ones to swap(). */
  instances: readonly Gateway[];
  clock: Clock;
  mocks: MockBackendSet | undefined;
  /** Breaker events kept by the server, one ring per instance (shown to a console that connects later). */
  events: ReadonlyArray<{ toArray(): CircuitBreakerEvent[] }>;
  /** Masks secret values in anything sent to the browser. */
  maskValue<T>(v: T): T;
}

/** What a console receives whenever something changed (and first, in the `hello` event). */
export interface ConsoleState {
  clock: ClockView;
  instances: InstanceView[];
  mocks: Array<{ name: string; url: string; scriptText: string; requestCount: number }>;
  throttling: ThrottleCounter[];
  /** Requests answered 429 or 403 without any backend being called (a throttling or quota policy answered). */
  throttled: number;
}

/** Bounds: the console never holds more than this, whatever the traffic. */
export const CONSOLE_LIMITS = { requests: 200, breakerEvents: 100, throttleCounters: 50, clients: 16, writeBufferBytes: 1 << 20 } as const;
/** How often (wall ms) the state is rebuilt and compared while a console is connected: changes reach it within this. */
export const CONSOLE_TICK_MS = 100;
/** Batching of request rows under load: at most one push per this many ms. */
const FLUSH_MS = 25;
const HEARTBEAT_MS = 15_000;

const ASSETS: Record<string, string> = {
  'console.js': 'text/javascript; charset=utf-8',
  'trace-view.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

interface Client {
  res: ServerResponse;
}

export class WebConsole {
  /** Hand this to the gateway handler: it reports finished requests only while `tap.active`. */
  readonly tap: RequestTap;
  private readonly clients = new Set<Client>();
  private outcomes: OutcomeRecorder[];
  private instances: readonly Gateway[];
  private readonly rows: RequestRow[] = [];
  /** Trace records of the kept rows, by row seq (bounded with the rows). */
  private readonly trees = new Map<number, object>();
  private readonly counters = new Map<string, ThrottleCounter>();
  private throttled = 0;
  private seq = 0;
  private pendingRows: RequestRow[] = [];
  private pendingEvents: CircuitBreakerEvent[] = [];
  private lastStateKey = '';
  private detach: Array<() => void> = [];
  private ticker: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  /** null when the install lacks the page: the console then says so instead of failing the server. */
  private readonly html: string | null;
  private readonly assets = new Map<string, { type: string; body: string }>();

  constructor(private readonly d: ConsoleDeps) {
    this.tap = d.tap ?? new RequestTap();
    this.instances = d.instances;
    this.outcomes = d.instances.map(() => new OutcomeRecorder(d.clock));
    this.html = readConsoleAsset('index.html');
    for (const [name, type] of Object.entries(ASSETS)) {
      const body = readConsoleAsset(name);
      if (body !== null) this.assets.set(name, { type, body });
    }
  }

  /**
   * The page and its static files (GET /, /console, /console/assets/*). They hold no data, so the server mounts them
   * before the admin guard: a browser can load the page, then the page sends the admin token (when one is required)
   * with every data request.
   */
  pageRouter(): Router {
    const r = express.Router({ caseSensitive: false, strict: false });
    const page = (req: Request, res: Response, next: () => void) => {
      // API clients keep the admin 404 listing of endpoints; browsers get the console.
      if (req.path === '/' && (!req.accepts('html') || req.accepts(['json', 'html']) === 'json')) return next();
      if (this.html === null || this.assets.size < Object.keys(ASSETS).length) {
        res.status(503).json({
          error: `the web console's files are missing from this installation (looked for src/console/assets next to the emulator's modules); the admin API still works: GET ${req.baseUrl}/health`,
        });
        return;
      }
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.setHeader('Cache-Control', 'no-store');
      // The page must not be framed by another site (clickjacking of the controls).
      res.setHeader('X-Frame-Options', 'DENY');
      res.send(this.html);
    };
    r.get('/', page);
    r.get('/console', page);
    r.get('/console/assets/:name', (req, res, next) => {
      const a = this.assets.get(String(req.params.name));
      if (!a) return next();
      res.setHeader('Content-Type', a.type);
      res.setHeader('Cache-Control', 'no-cache');
      res.send(a.body);
    });
    return r;
  }

  /** The data: GET /console/stream (Server-Sent Events) and /console/status. Mounted behind the admin guard. */
  dataRouter(): Router {
    const r = express.Router({ caseSensitive: false, strict: false });
    r.get('/console/stream', (req, res) => this.open(req, res));
    // The tree of a request seen while a console was connected (traced or not), as long as its row is kept.
    r.get('/console/requests/:seq/trace', (req, res) => {
      const t = this.trees.get(Number(req.params.seq));
      if (t) res.json(t);
      else res.status(404).json({ error: `request ${req.params.seq} is not in the console's history (it keeps the last ${CONSOLE_LIMITS.requests})` });
    });
    // How many consoles are connected (recording happens only while this is above 0).
    r.get('/console/status', (_req, res) => {
      res.json({ connected: this.clients.size, limits: CONSOLE_LIMITS });
    });
    return r;
  }

  /** The state a console sees now (also what tests and the `hello` event get). */
  state(): ConsoleState {
    return this.d.maskValue({
      clock: clockView(this.d.clock),
      instances: this.instances.map((g, i) => instanceView(i, g.backends, this.clients.size > 0 ? this.outcomes[i] : undefined)),
      mocks: (this.d.mocks?.all() ?? []).map((m) => {
        const info = m.describe();
        return { name: info.name, url: info.url, scriptText: info.scriptText, requestCount: info.requestCount };
      }),
      throttling: [...this.counters.values()],
      throttled: this.throttled,
    });
  }

  get connected(): number {
    return this.clients.size;
  }

  /** Ends every stream (server shutdown). */
  close(): void {
    for (const c of [...this.clients]) {
      c.res.end();
      this.drop(c);
    }
  }

  private open(req: Request, res: Response): void {
    if (this.clients.size >= CONSOLE_LIMITS.clients) {
      res.status(503).json({ error: `too many consoles connected (at most ${CONSOLE_LIMITS.clients}); close one and reload` });
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    const client: Client = { res };
    if (this.clients.size === 0) this.start();
    this.clients.add(client);
    // The response's close is the connection's end (the request's may come as soon as its empty body is read).
    res.on('close', () => this.drop(client));
    const state = this.state();
    this.lastStateKey = stateKey(state);
    const events = this.d.events.flatMap((ring) => ring.toArray()).slice(-CONSOLE_LIMITS.breakerEvents);
    this.write(client, `retry: 1000\n\n`);
    this.send(client, 'hello', { state, requests: this.rows, events: this.d.maskValue(events) });
  }

  /** A reload replaced the gateway instances: watch the new ones (their breakers and pools start afresh). */
  swap(next: readonly Gateway[]): void {
    const watching = this.clients.size > 0;
    if (watching) this.unhook();
    this.instances = next;
    this.outcomes = next.map(() => new OutcomeRecorder(this.d.clock));
    if (watching) {
      this.hook();
      this.tick();
    }
  }

  private hook(): void {
    this.instances.forEach((g, i) => {
      if (!g.backends) return;
      this.detach.push(this.outcomes[i]!.attach(g.backends));
      this.detach.push(g.backends.onEvent((e) => this.onBreakerEvent(e)));
    });
  }

  private unhook(): void {
    for (const f of this.detach.splice(0)) f();
    for (const o of this.outcomes) o.clear();
  }

  private start(): void {
    this.hook();
    this.tap.connect((r) => this.onRequest(r));
    this.ticker = setInterval(() => this.tick(), CONSOLE_TICK_MS);
    this.ticker.unref();
    this.heartbeat = setInterval(() => this.broadcastRaw(': keep-alive\n\n'), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  private stop(): void {
    this.tap.disconnect();
    this.unhook();
    clearInterval(this.ticker);
    clearInterval(this.heartbeat);
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.pendingRows = [];
    this.pendingEvents = [];
  }

  private drop(c: Client): void {
    if (!this.clients.delete(c)) return;
    if (this.clients.size === 0) this.stop();
  }

  private onBreakerEvent(e: CircuitBreakerEvent): void {
    this.pendingEvents.push(e);
    if (this.pendingEvents.length > CONSOLE_LIMITS.breakerEvents) this.pendingEvents.shift();
    this.scheduleFlush();
  }

  private onRequest(r: FinishedRequest): void {
    const ctx = r.context;
    const events = ctx?.traceEvents ?? [];
    const time = new Date(r.arrived).toISOString();
    const row: RequestRow = {
      seq: ++this.seq,
      time,
      method: r.method,
      url: r.url,
      api: r.api,
      operation: r.operation,
      status: r.status,
      backends: backendsTried(events, r.backend),
      durationMs: Math.round(r.durationMs * 10) / 10,
      traceId: r.traceId,
      ...(r.instance >= 0 ? { instance: r.instance } : {}),
    };
    if ((r.status === 429 || r.status === 403) && !r.backend) this.throttled++;
    for (const c of throttleCounters(events, time)) {
      const key = `${c.policy}|${c.path}|${String(c.data.key ?? c.data.subscription ?? '')}`;
      this.counters.delete(key);
      this.counters.set(key, c);
      if (this.counters.size > CONSOLE_LIMITS.throttleCounters) this.counters.delete(this.counters.keys().next().value!);
    }
    if (r.trace) {
      row.tree = true;
      this.trees.set(row.seq, r.trace);
    }
    this.rows.push(row);
    if (this.rows.length > CONSOLE_LIMITS.requests) this.trees.delete(this.rows.shift()!.seq);
    this.pendingRows.push(row);
    if (this.pendingRows.length > CONSOLE_LIMITS.requests) this.pendingRows.shift();
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushTimer || this.clients.size === 0) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flush();
    }, FLUSH_MS);
  }

  private flush(): void {
    if (this.pendingEvents.length) this.broadcast('breaker', this.d.maskValue(this.pendingEvents.splice(0)));
    if (this.pendingRows.length) this.broadcast('requests', this.pendingRows.splice(0));
    this.tick();
  }

  /** Rebuilds the state and pushes it when it differs from what consoles last got. */
  private tick(): void {
    if (this.clients.size === 0) return;
    const state = this.state();
    const key = stateKey(state);
    if (key === this.lastStateKey) return;
    this.lastStateKey = key;
    this.broadcast('state', state);
  }

  private broadcast(event: string, data: unknown): void {
    this.broadcastRaw(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private broadcastRaw(text: string): void {
    for (const c of [...this.clients]) this.write(c, text);
  }

  private send(c: Client, event: string, data: unknown): void {
    this.write(c, `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private write(c: Client, text: string): void {
    // A console that stops reading is dropped rather than buffered without bound.
    if (c.res.writableLength > CONSOLE_LIMITS.writeBufferBytes) {
      c.res.destroy();
      this.drop(c);
      return;
    }
    c.res.write(text);
  }
}

/** What decides "changed": everything but a real clock's ticking (a virtual clock's time is a change). */
function stateKey(s: ConsoleState): string {
  return JSON.stringify(s.clock.virtual ? s : { ...s, clock: null });
}

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Express } from 'express';
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { CircuitBreakerEvent } from '../backends/index.js';
import type { Clock } from '../clock.js';
import type { MetricRecord, RuntimeServices } from '../engine/services.js';
import { Gateway } from '../gateway/gateway.js';
import type { MockBackendSet } from '../mocks/index.js';
import type { WebConsole } from '../console/index.js';
import { RequestTap } from '../console/requests.js';
import { ADMIN_PREFIX, isAdminPath } from './admin-paths.js';
import { adminGuard, adminStartProblem } from './admin-security.js';
import { createGatewayHandler, InFlight } from './handler.js';
import { InstanceSelector, MAX_INSTANCES } from './instances.js';
import { ServerMetrics } from './metrics.js';
import { Generation, reloadRoute, type ReloadOutcome } from './reload.js';
import { RingBuffer } from './ring.js';
import { SecretMasker } from './secrets.js';
import { TraceStore } from './traces.js';

export { ADMIN_PREFIX, isAdminPath } from './admin-paths.js';
export { ADMIN_TOKEN_ENV, CSRF_HEADER } from './admin-security.js';
export { CLIENT_CLOSED_STATUS } from './handler.js';
export { DEBUG_HEADER, TRACE_ID_HEADER } from './traces.js';
export type { TraceRecord, TraceSummary } from './traces.js';
export { MASK, SecretMasker } from './secrets.js';
export { ServerMetrics } from './metrics.js';
export { INSTANCE_HEADER, InstanceSelector, MAX_INSTANCES } from './instances.js';

export interface ServerOptions {
  /**
   * The compiled gateway, or several simulated gateway instances (APIM scale units): each built by its own
   * Gateway.build on the same definition, so breakers, pool positions, rate-limit counters and caches are per instance
   * and not synchronised, as in APIM. Requests are spread round-robin (docs/configuration.md, "Several gateway instances").
   */
  gateway: Gateway | readonly Gateway[];
  clock: Clock;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port (read it from RunningServer.port). */
  port?: number;
  /** Mock backends to expose under /_emulator/mocks (and reset with /_emulator/reset); the caller still owns and closes them. */
  mocks?: MockBackendSet;
  /** Default: a pino logger on stdout. false: no logs. */
  logger?: Logger | false;
  /** When set, only requests whose Apim-Debug-Authorization equals this value are traced; otherwise any non-empty value. */
  debugToken?: string;
  /** How many traces to keep (default 100). */
  traceLimit?: number;
  /** How many circuit breaker events to keep (default 1000). */
  eventLimit?: number;
  /** Values to mask in logs and traces, in addition to the gateway's secret named values. */
  secrets?: string[];
  /**
   * Where the gateway's policies send metrics and log entries: pass the same object's `deps` to Gateway.build so
   * emit-metric / llm-emit-token-metric reach /_emulator/metrics and the trace policy reaches the log.
   */
  telemetry?: GatewayTelemetry;
  /** Upper bound (wall ms) close() waits for in-flight requests before cutting connections (default 10000). */
  shutdownTimeoutMs?: number;
  /** POST /_emulator/reload: re-reads the inputs and swaps the gateway (src/server/reload.ts); 404 without it. */
  reload?: () => Promise<ReloadOutcome>;
  /**
   * Send gateway requests through the Express app's catch-all instead of straight from the HTTP server (same
   * behaviour, slower; default false). Admin requests always go through Express.
   */
  routeGatewayThroughExpress?: boolean;
  /** Where and for whom the admin API is served (SECURITY.md). */
  admin?: AdminOptions;
}

export interface AdminOptions {
  /** A separate listener for /_emulator/* (off the gateway's port); default: shared with the gateway. */
  port?: number;
  /** Interface of the separate listener (default 127.0.0.1); ignored without `port`. */
  host?: string;
  /** Bearer token required on every admin request; required when the admin API listens beyond loopback. */
  token?: string;
  /** Host header names accepted besides IP addresses, localhost, the bound host and this machine's name. */
  allowedHosts?: string[];
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /** Base URL of the admin API (ends before /_emulator): the gateway's URL unless it has its own listener. */
  readonly adminUrl: string;
  /** The admin API's Express app (loaded on first use: `serve` listens before Express is imported). */
  adminApp(): Promise<Express>;
  /**
   * Hot reload: new requests go to `next` (same number of instances) from now on; requests in flight finish on the
   * gateways they started on, which are closed once their last request is done (src/server/reload.ts).
   */
  swap(next: readonly Gateway[]): void;
  /** The gateways serving new requests. */
  current(): readonly Gateway[];
  close(): Promise<void>;
}

/** Why the server could not start; `code` is the system error code (EADDRINUSE, EACCES...) or EINVALIDOPTION. */
export class ServerStartError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ServerStartError';
  }
}

/**
 * Late-bound sinks for RuntimeServices.emitMetric and .log. The gateway is compiled before the server exists and
 * policies capture these functions at compile time, so the CLI creates one of these, passes `deps` to Gateway.build
 * and the object itself to startServer, which connects it to Prometheus and pino.
 */
export class GatewayTelemetry {
  private metricSink: ((m: MetricRecord) => void) | null = null;
  private logSink: RuntimeServices['log'] | null = null;

  readonly emitMetric = (m: MetricRecord): void => {
    this.metricSink?.(m);
  };

  readonly log: RuntimeServices['log'] = (entry) => {
    this.logSink?.(entry);
  };

  /** Spread into GatewayDeps: `Gateway.build(def, { clock, ...telemetry.deps })`. */
  get deps(): { emitMetric: (m: MetricRecord) => void; log: RuntimeServices['log'] } {
    return { emitMetric: this.emitMetric, log: this.log };
  }

  /** Connects the sinks; returns the function that disconnects them. */
  attach(sinks: { emitMetric: (m: MetricRecord) => void; log: RuntimeServices['log'] }): () => void {
    this.metricSink = sinks.emitMetric;
    this.logSink = sinks.log;
    return () => {
      if (this.metricSink === sinks.emitMetric) this.metricSink = null;
      if (this.logSink === sinks.log) this.logSink = null;
    };
  }
}

/**
 * Serves a compiled gateway over HTTP: gateway traffic on every path except /_emulator/..., which holds the admin
 * endpoints (health, traces, backends, events, metrics, reset, clock, mocks).
 */
export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const host = o.host ?? '127.0.0.1';
  const port = o.port ?? 0;
  const traceLimit = positiveInt(o.traceLimit, 100, 'traceLimit');
  const eventLimit = positiveInt(o.eventLimit, 1000, 'eventLimit');
  const shutdownTimeoutMs = o.shutdownTimeoutMs ?? 10_000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ServerStartError('EINVALIDOPTION', `port must be an integer from 0 to 65535, got ${port}`);

  let instances: readonly Gateway[] = o.gateway instanceof Gateway ? [o.gateway] : o.gateway;
  if (instances.length < 1 || instances.length > MAX_INSTANCES)
    throw new ServerStartError('EINVALIDOPTION', `the number of gateway instances must be from 1 to ${MAX_INSTANCES}, got ${instances.length}`);
  if (new Set(instances).size !== instances.length)
    throw new ServerStartError(
      'EINVALIDOPTION',
      'each gateway instance must be its own Gateway (build the definition once per instance), not the same object twice',
    );
  const multi = instances.length > 1;
  const selector = multi ? new InstanceSelector(instances.length) : null;
  const separateAdmin = o.admin?.port !== undefined;
  const adminHost = separateAdmin ? (o.admin?.host ?? '127.0.0.1') : host;
  const adminPort = o.admin?.port ?? 0;
  if (separateAdmin && (!Number.isInteger(adminPort) || adminPort < 0 || adminPort > 65535))
    throw new ServerStartError('EINVALIDOPTION', `admin port must be an integer from 0 to 65535, got ${adminPort}`);
  const adminProblem = adminStartProblem(adminHost, o.admin?.token, separateAdmin);
  if (adminProblem) throw new ServerStartError('EINVALIDOPTION', adminProblem);

  const logger = o.logger === false ? null : (o.logger ?? pino({ name: 'apim-emulator' }));
  // Every instance compiles the same definition, so the first one's named values are everybody's.
  const secretNamedValues = [...instances[0]!.services.namedValues.values()].filter((n) => n.secret).map((n) => n.value);
  const masker = new SecretMasker([...(o.secrets ?? []), ...secretNamedValues]);
  const metrics = new ServerMetrics({ warn: (message) => logger?.warn(message) });
  const traces = new TraceStore(traceLimit);
  // One event list per instance: each instance's breakers trip on their own.
  const events = instances.map(() => new RingBuffer<CircuitBreakerEvent>(eventLimit));
  const inFlight = new InFlight();

  const cleanups: Array<() => void> = [];
  const hookEvents = (list: readonly Gateway[]): Array<() => void> => {
    const out: Array<() => void> = [];
    list.forEach((gateway, instance) => {
      if (!gateway.backends) return;
      const ring = events[instance]!;
      out.push(
        gateway.backends.onEvent((e) => {
          ring.push(e);
          metrics.breakerEvent(e);
          logger?.warn(
            {
              eventType: e.eventType,
              backend: e.data.backendName,
              subject: e.subject,
              eventTime: e.eventTime,
              rules: e.data.circuitBreaker.rules,
              ...(multi ? { instance } : {}),
            },
            e.eventType.endsWith('Opened') ? 'circuit breaker opened' : 'circuit breaker closed',
          );
        }),
      );
    });
    return out;
  };
  let eventHooks = hookEvents(instances);
  if (o.telemetry) {
    cleanups.push(
      o.telemetry.attach({
        emitMetric: (m) => metrics.policyMetric(m),
        log: (entry) =>
          logger?.[entry.level]({ source: entry.source, ...(entry.data ? { data: masker.maskValue(entry.data) } : {}) }, masker.mask(entry.message)),
      }),
    );
  } else {
    // Without a GatewayTelemetry, listen to each gateway's metrics (policy log entries, captured at compile time,
    // need the telemetry route).
    for (const gateway of instances) cleanups.push(gateway.services.onMetric((m) => metrics.policyMetric(m)));
  }
  const cleanup = () => {
    for (const c of cleanups.splice(0)) c();
    for (const c of eventHooks.splice(0)) c();
  };

  const startedAt = performance.now();
  // The console's switch exists from the start (the gateway handler checks it); the console itself is loaded with the
  // admin API.
  const tap = new RequestTap();
  let generation = new Generation(
    createGatewayHandler({ instances, selector, clock: o.clock, logger, metrics, traces, masker, debugToken: o.debugToken, inFlight, tap }),
    instances,
  );
  const retired = new Set<Generation>();
  const gatewayHandler = (req: IncomingMessage, res: ServerResponse): void => generation.handle(req, res);

  // The admin API (Express, the admin router, the web console) loads after the server listens, or on the first admin
  // request if that comes first: Express alone is ~260 ms of `serve` start-up (docs/performance.md, start-up).
  interface AdminApi {
    app: Express;
    console: WebConsole;
    swap(next: readonly Gateway[]): void;
  }
  let adminApi: Promise<AdminApi> | null = null;
  let adminLoaded: AdminApi | null = null;
  const loadAdmin = (): Promise<AdminApi> =>
    (adminApi ??= (async () => {
      const [{ default: express }, { WebConsole }, { createAdminRouter }] = await Promise.all([
        import('express'),
        import('../console/index.js'),
        import('./admin.js'),
      ]);
      const webConsole = new WebConsole({ tap, instances, clock: o.clock, mocks: o.mocks, events, maskValue: (v) => masker.maskValue(v) });
      const makeAdmin = (list: readonly Gateway[]) =>
        createAdminRouter({
          instances: list,
          selector,
          clock: o.clock,
          mocks: o.mocks,
          metrics,
          traces,
          events,
          inFlight,
          masker,
          debugTokenRequired: o.debugToken !== undefined,
          startedAt,
        });
      let adminRouter = makeAdmin(instances);
      const app = express();
      app.disable('x-powered-by');
      app.set('etag', false);
      app.set('json spaces', 2);
      // The web console's page and static files (no data) come before the guard, so a browser can load them; the page
      // then sends the admin token with its data requests (docs/console.md).
      app.use(ADMIN_PREFIX, webConsole.pageRouter());
      // Before every admin route (reload included): Host check, token, CSRF rule.
      app.use(
        ADMIN_PREFIX,
        adminGuard({
          boundHost: adminHost,
          ...(o.admin?.token !== undefined ? { token: o.admin.token } : {}),
          ...(o.admin?.allowedHosts ? { allowedHosts: o.admin.allowedHosts } : {}),
        }),
      );
      if (o.reload) app.post(`${ADMIN_PREFIX}/reload`, reloadRoute(o.reload));
      // The web console's event stream, then the rest of the admin API.
      app.use(ADMIN_PREFIX, webConsole.dataRouter());
      app.use(ADMIN_PREFIX, (req, res, next) => adminRouter(req, res, next));
      // Catch-all: everything outside the admin prefix is gateway traffic.
      app.use((req, res) => gatewayHandler(req, res));
      adminLoaded = {
        app,
        console: webConsole,
        swap(next) {
          adminRouter = makeAdmin(next);
          webConsole.swap(next);
        },
      };
      return adminLoaded;
    })());
  const toAdmin = (req: IncomingMessage, res: ServerResponse): void => {
    if (adminLoaded) return void adminLoaded.app(req, res);
    loadAdmin().then(
      (a) => a.app(req, res),
      (e: unknown) => {
        logger?.error({ err: e }, 'the admin API could not be loaded');
        res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify({ error: 'the admin API could not be loaded' }));
      },
    );
  };

  const viaExpress = o.routeGatewayThroughExpress ?? false;
  // Gateway requests skip Express's router by default (it costs throughput on the hot path, docs/performance.md).
  const server: Server = createServer((req, res) => {
    if (separateAdmin && isAdminPath(req.url ?? '/')) notHere(res);
    else if (viaExpress || isAdminPath(req.url ?? '/')) toAdmin(req, res);
    else gatewayHandler(req, res);
  });
  // With its own listener, the admin API is not on the gateway's port at all; the admin listener serves nothing else.
  const adminServer: Server | null = separateAdmin
    ? createServer((req, res) => {
        if (isAdminPath(req.url ?? '/')) toAdmin(req, res);
        else notHere(res);
      })
    : null;
  // WebSocket (and other Upgrade) requests: Node would drop the socket silently; say why instead.
  server.on('upgrade', (req, socket) => {
    logger?.warn(
      { method: req.method, path: masker.mask((req.url ?? '/').split('?')[0]!), upgrade: req.headers.upgrade },
      'upgrade request refused: WebSocket APIs are not supported',
    );
    const body = JSON.stringify({
      statusCode: 501,
      message: `Protocol upgrade to "${String(req.headers.upgrade)}" is not supported by the emulator (WebSocket APIs are not emulated).`,
    });
    socket.on('error', () => undefined);
    socket.end(
      `HTTP/1.1 501 Not Implemented\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });

  try {
    await listen(server, port, host);
  } catch (e) {
    cleanup();
    throw toStartError(e, host, port);
  }
  if (adminServer) {
    try {
      await listen(adminServer, adminPort, adminHost);
    } catch (e) {
      cleanup();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw toStartError(e, adminHost, adminPort);
    }
  }
  // Only after listening: a failed listen (port in use) is reported once, as the one-line start error, not logged too.
  server.on('error', (e) => logger?.error({ err: e }, 'server error'));
  adminServer?.on('error', (e) => logger?.error({ err: e }, 'admin server error'));
  const actualPort = (server.address() as AddressInfo).port;
  const urlHost = urlHostOf(host);
  const url = `http://${urlHost}:${actualPort}`;
  const adminUrl = adminServer ? `http://${urlHostOf(adminHost)}:${(adminServer.address() as AddressInfo).port}` : url;
  logger?.info(
    {
      url,
      adminUrl,
      adminTokenRequired: o.admin?.token !== undefined,
      traceLimit,
      debugTokenRequired: o.debugToken !== undefined,
      ...(multi ? { instances: instances.length } : {}),
    },
    `gateway listening on ${url} (admin endpoints under ${adminUrl}${ADMIN_PREFIX}/)`,
  );

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      inFlight.closing = true;
      // A load still under way finishes first, so its console is closed too.
      if (adminApi) (await adminApi.catch(() => null))?.console.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const adminClosed = adminServer ? new Promise<void>((resolve) => adminServer.close(() => resolve())) : Promise.resolve();
      adminServer?.closeAllConnections();
      if (inFlight.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([inFlight.idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, shutdownTimeoutMs)))]);
        clearTimeout(timer);
        if (inFlight.size > 0)
          logger?.warn({ inFlight: inFlight.size }, `closing with ${inFlight.size} request(s) still in flight after ${shutdownTimeoutMs} ms`);
      }
      server.closeAllConnections();
      await closed;
      await adminClosed;
      cleanup();
      // The upstream agent waits for its requests; they were all aborted above, but never let close() hang on one.
      let agentTimer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...instances, ...[...retired].flatMap((g) => g.gateways)].map((g) => g.close())),
        new Promise<void>((resolve) => (agentTimer = setTimeout(resolve, shutdownTimeoutMs))),
      ]);
      clearTimeout(agentTimer);
      logger?.info({ url }, 'gateway stopped');
    })());

  const swap = (next: readonly Gateway[]): void => {
    if (next.length !== instances.length) throw new RangeError(`a reload keeps the number of gateway instances (${instances.length}), got ${next.length}`);
    const old = generation;
    for (const c of eventHooks.splice(0)) c();
    instances = next;
    generation = new Generation(
      createGatewayHandler({ instances: next, selector, clock: o.clock, logger, metrics, traces, masker, debugToken: o.debugToken, inFlight, tap }),
      next,
    );
    // An admin API still loading picks up `instances` (already `next`) when it is built.
    adminLoaded?.swap(next);
    eventHooks = hookEvents(next);
    retired.add(old);
    old.retire(() => {
      retired.delete(old);
      void Promise.all(old.gateways.map((g) => g.close()));
    });
  };

  // Loaded once the caller has announced the server (next turn of the event loop), unless a request started it already.
  setImmediate(() => void loadAdmin().catch((e: unknown) => logger?.error({ err: e }, 'the admin API could not be loaded')));
  return { url, port: actualPort, adminUrl, adminApp: async () => (await loadAdmin()).app, close, swap, current: () => instances };
}

function urlHostOf(host: string): string {
  return host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
}

/** The admin API has its own listener: /_emulator/* is not served on the gateway's port, nor gateway traffic on it. */
function notHere(res: ServerResponse): void {
  const body = JSON.stringify({ error: 'not served on this port: the gateway and the admin API (/_emulator) listen on separate ports' });
  res.writeHead(404, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function toStartError(e: unknown, host: string, port: number): ServerStartError {
  const err = e as NodeJS.ErrnoException;
  const code = err.code ?? 'ESTART';
  switch (code) {
    case 'EADDRINUSE':
      return new ServerStartError(code, `port ${port} is already in use on ${host}`);
    case 'EACCES':
      return new ServerStartError(code, `permission denied to listen on port ${port} on ${host}${port < 1024 ? ' (ports below 1024 need privileges)' : ''}`);
    case 'EADDRNOTAVAIL':
      return new ServerStartError(code, `cannot listen on ${host}: the address is not available on this machine`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ServerStartError(code, `cannot listen on ${host}: the host name does not resolve`);
    default:
      return new ServerStartError(code, `cannot listen on ${host}:${port}: ${err.message ?? String(e)}`);
  }
}

function positiveInt(v: number | undefined, def: number, name: string): number {
  if (v === undefined) return def;
  if (!Number.isInteger(v) || v < 1) throw new ServerStartError('EINVALIDOPTION', `${name} must be a positive integer, got ${v}`);
  return v;
}

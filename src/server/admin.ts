import express from 'express';
import type { NextFunction, Request, Response, Router } from 'express';
import type { CircuitBreakerEvent } from '../backends/index.js';
import { JsonSyntaxError, parseJsonWithPositions, toPlain } from '../source/json.js';
import type { Clock } from '../clock.js';
import { VirtualClock } from '../clock.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { capPerFile } from '../diagnostics/cap.js';
import { formatDiagnosticLine } from '../diagnostics/diagnostic.js';
import { SourceText } from '../diagnostics/source.js';
import type { Gateway } from '../gateway/gateway.js';
import { SINK_KINDS, sinkEntries, sinkLimit } from '../policies/support/sinks.js';
import type { SinkKind } from '../policies/support/sinks.js';
import type { MockBackendSet } from '../mocks/index.js';
import { mockScriptFromJson, parseMockScript } from '../mocks/index.js';
import type { InFlight } from './handler.js';
import type { InstanceSelector } from './instances.js';
import type { ServerMetrics } from './metrics.js';
import type { RingBuffer } from './ring.js';
import { requestCredentials, type SecretMasker } from './secrets.js';
import type { TraceStore } from './traces.js';

/** Reserved path prefix of the emulator's own endpoints; requests under it never reach the gateway. */
import { ADMIN_PREFIX } from './admin-paths.js';
export { ADMIN_PREFIX, isAdminPath } from './admin-paths.js';

export interface AdminDeps {
  /** The simulated gateway instances by instance number (usually one). */
  instances: readonly Gateway[];
  /** Round-robin over the instances; null with one instance. */
  selector: InstanceSelector | null;
  clock: Clock;
  mocks: MockBackendSet | undefined;
  metrics: ServerMetrics;
  traces: TraceStore;
  /** Circuit breaker events, one list per instance. */
  events: readonly RingBuffer<CircuitBreakerEvent>[];
  inFlight: InFlight;
  masker: SecretMasker;
  debugTokenRequired: boolean;
  /** performance.now() at start, for uptime. */
  startedAt: number;
}

const ENDPOINTS = [
  'GET  /_emulator/health',
  'GET  /_emulator/traces',
  'GET  /_emulator/traces/:id',
  'GET  /_emulator/backends',
  'GET  /_emulator/events',
  'GET  /_emulator/metrics',
  'POST /_emulator/reset',
  'GET  /_emulator/clock',
  'POST /_emulator/clock  {"advanceMs": N} | {"set": "<ISO 8601>"}  (virtual clock only)',
  'GET  /_emulator/sinks  [?kind=service-bus|dapr-pubsub|dapr-binding|one-way-request|graphql-event]',
  'GET  /_emulator/mocks',
  'GET  /_emulator/mocks/:name',
  'GET  /_emulator/mocks/:name/requests',
  'GET  /_emulator/mocks/:name/script',
  'PUT  /_emulator/mocks/:name/script  (JSON script, or the text form as text/plain)',
];

/** A client mistake answered with a JSON error; never a stack trace. */
class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The admin endpoints (JSON) under /_emulator. */
export function createAdminRouter(d: AdminDeps): Router {
  const r = express.Router({ caseSensitive: false, strict: false });
  const first = d.instances[0]!;
  // With several instances, per-instance state is listed by instance; with one, the shapes stay as they always were.
  const multi = d.instances.length > 1;
  const openBreakers = (g: Gateway) => (g.backends?.state() ?? []).filter((b) => b.breaker && b.breaker.state !== 'closed').map((b) => b.id);
  // Parsers inside the router so that their errors (bad JSON, too large) reach the JSON error handler below.
  r.use(...adminBodyParsers());
  const route = (path: string, methods: Partial<Record<'get' | 'post' | 'put', (req: Request, res: Response) => unknown>>) => {
    const rt = r.route(path);
    for (const [m, h] of Object.entries(methods))
      rt[m as 'get' | 'post' | 'put'](async (req: Request, res: Response) => {
        await h(req, res);
      });
    const allow = Object.keys(methods).map((m) => m.toUpperCase());
    if (allow.includes('GET')) allow.push('HEAD');
    rt.all((req: Request, res: Response) => {
      res.setHeader('Allow', allow.join(', '));
      res.status(405).json({ error: `${req.method} is not allowed on ${req.baseUrl}${req.path}`, allowed: allow });
    });
  };

  route('/health', {
    get: (_req, res) => {
      const total = first.backends?.state().length ?? 0;
      const openByInstance = d.instances.map(openBreakers);
      res.json({
        status: d.inFlight.closing ? 'closing' : 'ok',
        uptimeSeconds: Math.round((performance.now() - d.startedAt) / 10) / 100,
        clock: clockInfo(d.clock),
        inFlight: d.inFlight.size,
        apis: first.listApis().length,
        ...(multi ? { instances: d.instances.length } : {}),
        backends: {
          total,
          // Open on any instance; per instance below when there are several.
          openCircuitBreakers: [...new Set(openByInstance.flat())],
          ...(multi ? { instances: openByInstance.map((open, instance) => ({ instance, openCircuitBreakers: open })) } : {}),
        },
        mocks: d.mocks?.all().length ?? 0,
        traces: { stored: d.traces.size, limit: d.traces.limit, debugTokenRequired: d.debugTokenRequired },
      });
    },
  });

  route('/traces', {
    get: (_req, res) => {
      res.json({ limit: d.traces.limit, traces: d.traces.list().reverse() });
    },
  });
  route('/traces/:id', {
    get: (req, res) => {
      const t = d.traces.get(String(req.params.id));
      if (!t) throw new AdminError(404, `no trace with id "${req.params.id}": it never existed or was evicted (the last ${d.traces.limit} traces are kept)`);
      res.json(t);
    },
  });

  route('/backends', {
    get: (_req, res) => {
      const backends = (g: Gateway) => (g.backends ? d.masker.maskValue(g.backends.state()) : []);
      if (!multi) res.json({ backends: backends(first) });
      else res.json({ instances: d.instances.map((g, instance) => ({ instance, backends: backends(g) })) });
    },
  });

  route('/events', {
    get: (_req, res) => {
      const limit = d.events[0]!.capacity;
      if (!multi) res.json({ limit, events: d.events[0]!.toArray() });
      else res.json({ limit, instances: d.events.map((ring, instance) => ({ instance, events: ring.toArray() })) });
    },
  });

  route('/metrics', {
    get: async (_req, res) => {
      const m = await d.metrics.render();
      res.setHeader('Content-Type', m.contentType);
      res.send(m.body);
    },
  });

  route('/reset', {
    post: (_req, res) => {
      for (const g of d.instances) g.reset();
      d.selector?.reset();
      d.mocks?.resetAll();
      d.traces.clear();
      for (const ring of d.events) ring.clear();
      res.json({
        reset: [
          'policy state',
          'circuit breakers',
          'pool positions',
          ...(multi ? ['instance rotation'] : []),
          ...(d.mocks ? ['mock backends'] : []),
          'traces',
          'events',
        ],
        ...(multi ? { instances: d.instances.length } : {}),
      });
    },
  });

  route('/clock', {
    get: (_req, res) => {
      res.json(clockInfo(d.clock));
    },
    post: (req, res) => {
      const clock = d.clock;
      if (!(clock instanceof VirtualClock)) {
        throw new AdminError(409, 'the clock can only be moved when the emulator runs on a virtual clock; this server uses the system clock');
      }
      const body = req.body as unknown;
      if (!body || typeof body !== 'object' || Array.isArray(body)) {
        throw new AdminError(400, 'expected a JSON object: {"advanceMs": <milliseconds>} or {"set": "<ISO 8601 time>"}');
      }
      const b = body as Record<string, unknown>;
      const keys = Object.keys(b);
      const unknown = keys.filter((k) => k !== 'advanceMs' && k !== 'set');
      if (unknown.length > 0 || keys.length !== 1) {
        throw new AdminError(
          400,
          `expected exactly one of "advanceMs" or "set"${unknown.length ? `; unknown: ${unknown.map((k) => `"${k}"`).join(', ')}` : ''}`,
        );
      }
      if ('advanceMs' in b) {
        const ms = b.advanceMs;
        if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0)
          throw new AdminError(400, `"advanceMs" must be a non-negative number of milliseconds, got ${JSON.stringify(ms)}`);
        clock.advance(ms);
      } else {
        const t = typeof b.set === 'string' ? Date.parse(b.set) : Number.NaN;
        if (Number.isNaN(t)) throw new AdminError(400, `"set" must be an ISO 8601 time such as "2025-01-01T00:00:00Z", got ${JSON.stringify(b.set)}`);
        clock.set(t);
      }
      res.json(clockInfo(clock));
    },
  });

  // What send-service-bus-message, publish-to-dapr, invoke-dapr-binding and send-one-way-request would have sent
  // (src/policies/support/sinks.ts). Payloads are built from requests, so secrets are masked as in the mock log.
  route('/sinks', {
    get: (req, res) => {
      const raw = req.query.kind;
      let kind: SinkKind | undefined;
      if (raw !== undefined) {
        if (typeof raw !== 'string' || !(SINK_KINDS as readonly string[]).includes(raw)) {
          throw new AdminError(400, `unknown sink kind ${JSON.stringify(raw)}; allowed: ${SINK_KINDS.join(', ')}`, { allowed: SINK_KINDS });
        }
        kind = raw as SinkKind;
      }
      const entries = (g: Gateway) => sinkEntries(g.services, kind).map((e) => d.masker.with(requestCredentials(e.properties, e.target)).maskValue(e));
      const limit = sinkLimit(first.services);
      if (!multi) res.json({ limit, entries: entries(first) });
      else res.json({ limit, instances: d.instances.map((g, instance) => ({ instance, entries: entries(g) })) });
    },
  });

  const mock = (req: Request) => {
    const name = String(req.params.name);
    const set = d.mocks;
    const m = set?.get(name);
    if (!m) {
      const known = set?.all().map((x) => x.name) ?? [];
      throw new AdminError(404, `no mock backend named "${name}"`, { known });
    }
    return m;
  };
  route('/mocks', {
    get: (_req, res) => {
      res.json({ mocks: (d.mocks?.all() ?? []).map((m) => m.describe()) });
    },
  });
  route('/mocks/:name', {
    get: (req, res) => {
      res.json(mock(req).describe());
    },
  });
  route('/mocks/:name/requests', {
    get: (req, res) => {
      const m = mock(req);
      // What the gateway forwarded carries the caller's credentials (Authorization, keys): masked per request.
      res.json({ name: m.name, requests: m.requests.map((x) => d.masker.with(requestCredentials(x.headers, `${x.path}?${x.query}`)).maskValue(x)) });
    },
  });
  route('/mocks/:name/script', {
    get: (req, res) => {
      const info = mock(req).describe();
      res.json({ name: info.name, script: info.script, scriptText: info.scriptText });
    },
    put: (req, res) => {
      const m = mock(req);
      const text = typeof req.body === 'string' ? req.body : '';
      const origin = `PUT ${ADMIN_PREFIX}/mocks/${m.name}/script`;
      const isJson = /\bjson\b/i.test(req.get('content-type') ?? '');
      let parsed: { script?: import('../mocks/index.js').MockScript; diagnostics: Diagnostic[] };
      if (isJson) {
        let json: unknown;
        try {
          json = toPlain(parseJsonWithPositions(text));
        } catch (e) {
          if (!(e instanceof JsonSyntaxError)) throw e;
          const pos = new SourceText(origin, text).positionAt(e.offset);
          parsed = { diagnostics: [{ severity: 'error', code: 'mock/json', message: e.message, file: origin, line: pos.line, column: pos.column }] };
          throw badScript(parsed.diagnostics);
        }
        parsed = mockScriptFromJson(json, origin);
      } else {
        parsed = parseMockScript(text, origin);
      }
      if (!parsed.script || parsed.diagnostics.some((x) => x.severity === 'error')) throw badScript(parsed.diagnostics);
      m.setScript(parsed.script);
      res.json({ ...m.describe(), warnings: parsed.diagnostics.map(withText) });
    },
  });

  r.use((req: Request, _res: Response) => {
    throw new AdminError(404, `no emulator endpoint ${req.method} ${req.baseUrl}${req.path}`, { endpoints: ENDPOINTS });
  });
  r.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    if (err instanceof AdminError) {
      res.status(err.status).json({ error: err.message, ...err.extra });
      return;
    }
    // body-parser errors (bad JSON, too large) carry a status.
    const e = err as { status?: number; statusCode?: number; message?: string; type?: string };
    const status = e.status ?? e.statusCode;
    if (status && status >= 400 && status < 500) {
      res.status(status).json({ error: e.type === 'entity.parse.failed' ? `the request body is not valid JSON: ${e.message}` : (e.message ?? 'bad request') });
      return;
    }
    res.status(500).json({ error: `admin endpoint failed: ${e.message ?? String(err)}` });
  });
  return r;
}

/** Body parsers for the admin prefix only (gateway requests keep their raw streams). */
function adminBodyParsers(): express.RequestHandler[] {
  return [
    // The mock script endpoint takes JSON or the text form; both are read as text and parsed there for positioned errors.
    (req, res, next) => (/\/mocks\/[^/]+\/script\/?$/i.test(req.path) ? express.text({ type: () => true, limit: '1mb' })(req, res, next) : next()),
    express.json({ limit: '1mb', strict: false }),
  ];
}

function badScript(diagnostics: Diagnostic[]): AdminError {
  // Capped like every report, so a hostile script cannot make a huge answer.
  const listed = capPerFile(diagnostics, 50);
  return new AdminError(
    400,
    `invalid mock script: ${listed
      .filter((x) => x.severity === 'error')
      .map(formatDiagnosticLine)
      .join('; ')}`,
    { diagnostics: listed.map(withText) },
  );
}

function withText(x: Diagnostic): Diagnostic & { text: string } {
  return { ...x, text: formatDiagnosticLine(x) };
}

function clockInfo(clock: Clock): Record<string, unknown> {
  const now = clock.now();
  return {
    now: new Date(now).toISOString(),
    epochMs: now,
    virtual: clock instanceof VirtualClock,
    ...(clock instanceof VirtualClock ? { sleepMode: clock.sleepMode } : {}),
  };
}

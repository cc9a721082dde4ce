import { UndiciUpstream } from '../../src/server/undici-upstream.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { VirtualClock } from '../../src/clock.js';
import { formatDiagnosticLine } from '../../src/diagnostics/diagnostic.js';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';
import { SourceText } from '../../src/diagnostics/source.js';
import { HeaderMap } from '../../src/engine/headers.js';
import type { ApiDefinition, GatewayDefinition } from '../../src/gateway/definition.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { nodeSettingsFiles, settingsBaseDir } from '../../src/config/settings-files.js';
import type { GatewayDeps, GatewayResult } from '../../src/gateway/gateway.js';

/** Shared test helpers: build gateways from inline XML, send requests, run real backends on 127.0.0.1. */

export interface TestGatewayOptions {
  /** API-scope policy XML. */
  api?: string;
  /**
   * Global policy XML. When omitted, tests get an empty global policy, so `<backend><base /></backend>` calls no
   * backend unless the test says so; pass 'apim-default' for APIM's own default (whose backend forwards).
   */
  global?: string | 'apim-default';
  product?: string;
  operation?: string;
  fragments?: Record<string, string>;
  namedValues?: Record<string, string>;
  /** Backend JSON documents (objects are serialised). */
  backends?: Array<unknown>;
  serviceUrl?: string;
  apiPath?: string;
  subscriptionRequired?: boolean;
  subscriptions?: GatewayDefinition['subscriptions'];
  products?: GatewayDefinition['products'];
  operations?: ApiDefinition['operations'];
  settings?: Record<string, unknown>;
  /** The API's specification text (OpenAPI JSON/YAML, or GraphQL SDL). */
  specification?: string;
  clock?: VirtualClock;
  deps?: Partial<GatewayDeps>;
}

const EMPTY_GLOBAL = '<policies><inbound /><backend /><outbound /><on-error /></policies>';

export function src(file: string, text: string): SourceText {
  return new SourceText(file, text);
}

/** Builds a gateway; returns diagnostics instead of throwing when it does not compile. */
export function tryBuildGateway(o: TestGatewayOptions): { gateway: Gateway | null; diagnostics: Diagnostic[]; clock: VirtualClock } {
  const clock = o.clock ?? new VirtualClock();
  const def: GatewayDefinition = {
    service: { name: 'apim-test', region: 'West Europe', gatewayId: 'managed' },
    ...(o.global === 'apim-default' ? {} : { globalPolicy: src('global.xml', o.global ?? EMPTY_GLOBAL) }),
    fragments: Object.entries(o.fragments ?? {}).map(([id, text]) => ({ id, source: src(`${id}.xml`, text) })),
    namedValues: Object.entries(o.namedValues ?? {}).map(([name, value]) => ({ name, value, secret: false })),
    backendFiles: (o.backends ?? []).map((b, i) => ({ file: `backends-${i}.json`, text: typeof b === 'string' ? b : JSON.stringify(b, null, 2) })),
    products:
      o.products ??
      (o.product ? [{ id: 'starter', name: 'Starter', policy: src('product.xml', o.product), subscriptionRequired: false, apis: ['test-api'] }] : []),
    apis: [
      {
        id: 'test-api',
        name: 'Test API',
        path: o.apiPath ?? 'api',
        serviceUrl: o.serviceUrl ?? '',
        subscriptionRequired: o.subscriptionRequired ?? false,
        ...(o.api ? { policy: src('api.xml', o.api) } : {}),
        ...(o.specification !== undefined ? { specification: src('specification.yaml', o.specification) } : {}),
        operations: o.operations ?? (o.operation ? [{ id: 'op', method: '*', urlTemplate: '/*', policy: src('operation.xml', o.operation) }] : []),
      },
    ],
    subscriptions: o.subscriptions ?? [],
    settings: o.settings ?? {},
  };
  const { gateway, diagnostics } = Gateway.build(def, {
    clock,
    files: nodeSettingsFiles(settingsBaseDir(def.settings)),
    ...o.deps,
    upstream: o.deps?.upstream ?? new UndiciUpstream(o.deps?.clock ?? clock),
  });
  return { gateway, diagnostics, clock };
}

/** Builds a gateway and fails the test with every error line when it does not compile. */
export function buildGateway(o: TestGatewayOptions): { gateway: Gateway; clock: VirtualClock; diagnostics: Diagnostic[] } {
  const r = tryBuildGateway(o);
  if (!r.gateway) throw new Error(`gateway did not build:\n${r.diagnostics.map(formatDiagnosticLine).join('\n')}`);
  return { gateway: r.gateway, clock: r.clock, diagnostics: r.diagnostics };
}

export interface SendOptions {
  method?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  tracing?: boolean;
}

/** Sends a request through gateway.handle (no HTTP server in between) and reads the whole response body. */
export async function send(
  gateway: Gateway,
  pathAndQuery: string,
  o: SendOptions = {},
): Promise<GatewayResult & { status: number; text: string; json: () => unknown; header: (n: string) => string | undefined }> {
  const q = pathAndQuery.indexOf('?');
  const headers = new HeaderMap(Object.entries(o.headers ?? {}));
  const body = o.body === undefined ? null : Readable.from([Buffer.from(o.body)]);
  if (o.body !== undefined && !headers.has('content-length')) headers.set('Content-Length', [String(Buffer.byteLength(o.body))]);
  const result = await gateway.handle({
    method: o.method ?? 'GET',
    path: q < 0 ? pathAndQuery : pathAndQuery.slice(0, q),
    search: q < 0 ? '' : pathAndQuery.slice(q),
    scheme: 'http',
    host: '127.0.0.1',
    port: 8080,
    headers,
    body,
    ip: '127.0.0.1',
    tracing: o.tracing ?? true,
  });
  const buf = result.response.body ? await result.response.body.buffer() : Buffer.alloc(0);
  const text = buf.toString('utf8');
  return {
    ...result,
    status: result.response.statusCode,
    text,
    json: () => JSON.parse(text) as unknown,
    header: (n: string) => result.response.headers.getJoined(n),
  };
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

export interface TestBackend {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * A real HTTP backend on 127.0.0.1 (ephemeral port). `respond` decides each answer; by default 200 with a JSON echo
 * of the request.
 */
export async function startBackend(respond?: (req: RecordedRequest, res: http.ServerResponse, index: number) => void | Promise<void>): Promise<TestBackend> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(rec);
      const index = requests.length - 1;
      if (respond) {
        void Promise.resolve(respond(rec, res, index)).catch((e: unknown) => {
          res.statusCode = 599;
          res.end(String(e));
        });
        return;
      }
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ method: rec.method, url: rec.url, headers: rec.headers, body: rec.body }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A minimal `<policies>` document with the given section contents (missing ones get `<base />`). */
export function policies(s: { inbound?: string; backend?: string; outbound?: string; onError?: string }): string {
  return `<policies>
  <inbound>${s.inbound ?? '<base />'}</inbound>
  <backend>${s.backend ?? '<base />'}</backend>
  <outbound>${s.outbound ?? '<base />'}</outbound>
  <on-error>${s.onError ?? '<base />'}</on-error>
</policies>`;
}

export const FORWARD = '<forward-request />';

/**
 * Backends started through `backend()` are closed by `closeAll()` (call it in afterEach), so each test can start the
 * backends it needs without bookkeeping.
 */
export function backendPool(): { backend: typeof startBackend; closeAll: () => Promise<void> } {
  const started: TestBackend[] = [];
  return {
    backend: async (...args) => {
      const b = await startBackend(...args);
      started.push(b);
      return b;
    },
    closeAll: async () => {
      await Promise.all(started.splice(0).map((b) => b.close()));
    },
  };
}

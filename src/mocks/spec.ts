import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One operation the spec mock can answer: method, URL template and the example APIM's mock-response would use. */
export interface SpecMockOperation {
  id: string;
  method: string;
  urlTemplate: string;
  example?: { status: number; contentType?: string; body?: unknown };
}

/** Request bodies the echo reads at most (a mock must not buffer unbounded input). */
const ECHO_BODY_LIMIT = 64 * 1024;

/**
 * A backend for APIs that are not Azure OpenAI (`serve --mock-backends`): answers each operation of the API's
 * specification with its example, like APIM's `mock-response` (first 2xx response; its example, else a value shaped by
 * its schema); an operation without an example body, and a path no operation matches, get an echo of the request
 * (method, path, query, headers, body as JSON) instead of a failure. URLs: `/apis/<api id>/...` for an API's web service URL, `/backends/<backend id>/...` for a backend, which
 * matches against every API's operations. Every response carries `x-mock-backend: spec`.
 */
export class SpecMockBackend {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly sockets: Set<Socket>,
  ) {}

  static async start(apis: ReadonlyMap<string, readonly SpecMockOperation[]>, host = '127.0.0.1'): Promise<SpecMockBackend> {
    const compiled = new Map<string, Array<SpecMockOperation & { re: RegExp }>>();
    for (const [id, ops] of apis)
      compiled.set(
        id,
        ops.map((o) => ({ ...o, re: templateRegex(o.urlTemplate) })),
      );
    const all = [...compiled.values()].flat();
    const sockets = new Set<Socket>();
    const server = createServer((req, res) => void answer(req, res, compiled, all));
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    return new SpecMockBackend(server, `http://${host}:${port}`, sockets);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

async function answer(
  req: IncomingMessage,
  res: ServerResponse,
  apis: Map<string, Array<SpecMockOperation & { re: RegExp }>>,
  all: Array<SpecMockOperation & { re: RegExp }>,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://mock');
  const parts = url.pathname.split('/');
  // ['', 'apis'|'backends', id, ...rest]
  const kind = parts[1];
  const id = decodeURIComponent(parts[2] ?? '');
  const rest = `/${parts.slice(3).join('/')}`;
  const candidates = kind === 'apis' ? (apis.get(id) ?? []) : all;
  const method = (req.method ?? 'GET').toUpperCase();
  const op = candidates.find((o) => (o.method === '*' || o.method === method) && o.re.test(rest));
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    if (size < ECHO_BODY_LIMIT) chunks.push(c);
    size += c.length;
  }
  res.setHeader('x-mock-backend', 'spec');
  if (op?.example && op.example.body !== undefined) {
    const ex = op.example;
    res.setHeader('x-mock-operation', op.id);
    const text = typeof ex.body === 'string' && !/json/i.test(ex.contentType ?? '') ? ex.body : JSON.stringify(ex.body);
    res.writeHead(ex.status, { 'content-type': ex.contentType ?? 'application/json' }).end(text);
    return;
  }
  if (op) res.setHeader('x-mock-operation', op.id);
  const status = op?.example?.status ?? 200;
  if (status === 204 || status === 304 || status < 200) {
    res.writeHead(status).end();
    return;
  }
  const body = Buffer.concat(chunks).toString('utf8').slice(0, ECHO_BODY_LIMIT);
  // No example body: echo what arrived, with the operation's documented status (200 for a path no operation names).
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(
    JSON.stringify({
      echo: true,
      method,
      path: url.pathname,
      rest,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body,
      ...(op ? { operation: op.id } : {}),
    }),
  );
}

/** `/items/{id}` → /^\/items\/[^/]+\/?$/ (query templates ignored: matching is by path). */
function templateRegex(template: string): RegExp {
  const pathPart = template.split('?')[0]!;
  const src = pathPart
    .split(/(\{[^}]*\})/)
    .map((seg) => (seg.startsWith('{') ? (seg.startsWith('{*') ? '.*' : '[^/]+') : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${src.replace(/\/$/, '')}/?$`, 'i');
}

/** Whether a url is an Azure OpenAI / OpenAI endpoint (those get the built-in Azure OpenAI mock instead). */
export function looksLikeOpenAi(url: string): boolean {
  return /openai\.azure\.com|cognitiveservices\.azure\.com|services\.ai\.azure\.com|api\.openai\.com|\/openai(\/|$)/i.test(url);
}

import type { IncomingMessage } from 'node:http';
import { HeaderMap } from '../engine/headers.js';
import type { IncomingRequest } from '../gateway/gateway.js';

/** Methods whose requests never carry content to forward (RFC 9110: TRACE must not; HEAD has no defined body). */
const METHODS_WITHOUT_BODY = new Set(['HEAD', 'TRACE']);

/** Path and query of a request target as received (percent-encoding kept); absolute-form targets lose their origin. */
export function splitTarget(target: string): { path: string; search: string } {
  let t = target;
  if (!t.startsWith('/')) {
    // absolute-form (`http://host/p?q`, sent to proxies) or asterisk-form (`OPTIONS *`).
    const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(t);
    t = m ? t.slice(m[0].length) : '';
    if (!t.startsWith('/')) t = `/${t}`;
  }
  const hash = t.indexOf('#');
  if (hash >= 0) t = t.slice(0, hash);
  const q = t.indexOf('?');
  return q < 0 ? { path: t, search: '' } : { path: t.slice(0, q), search: t.slice(q) };
}

/** Host and port from a Host header value (`name`, `name:port`, `[v6]`, `[v6]:port`); null when unusable. */
export function parseHostHeader(value: string | undefined, defaultPort: number): { host: string; port: number } | null {
  if (!value) return null;
  const v = value.trim();
  let host: string;
  let portText = '';
  if (v.startsWith('[')) {
    const end = v.indexOf(']');
    if (end < 0) return null;
    host = v.slice(1, end);
    const rest = v.slice(end + 1);
    if (rest.startsWith(':')) portText = rest.slice(1);
    else if (rest !== '') return null;
  } else {
    const colon = v.lastIndexOf(':');
    host = colon < 0 ? v : v.slice(0, colon);
    if (colon >= 0) portText = v.slice(colon + 1);
  }
  if (!host) return null;
  if (portText === '') return { host, port: defaultPort };
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return null;
  return { host, port };
}

/** `::ffff:127.0.0.1` (an IPv4 client on a dual-stack socket) → `127.0.0.1`, as APIM's context.Request.IpAddress shows it. */
export function clientIp(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/**
 * The framework-free request the gateway runs on. `headers` is passed in because the server inspects (and strips) the
 * debug header before the gateway sees them.
 */
export function toIncomingRequest(req: IncomingMessage, headers: HeaderMap, tracing: boolean, observed = false): IncomingRequest {
  const method = (req.method ?? 'GET').toUpperCase();
  // Express rewrites req.url for mounted routers; originalUrl is what the client sent.
  const target = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
  const { path, search } = splitTarget(target);
  const socket = req.socket;
  const hostPort = parseHostHeader(req.headers.host, 80) ?? {
    host: socket.localAddress ? clientIp(socket.localAddress) : '127.0.0.1',
    port: socket.localPort ?? 80,
  };
  const contentLength = req.headers['content-length'];
  const hasBody =
    !METHODS_WITHOUT_BODY.has(method) && ((contentLength !== undefined && contentLength !== '0') || req.headers['transfer-encoding'] !== undefined);
  return {
    method,
    path,
    search,
    scheme: 'http',
    host: hostPort.host,
    port: hostPort.port,
    headers,
    body: hasBody ? req : null,
    ip: clientIp(socket.remoteAddress),
    tracing,
    ...(observed ? { observed } : {}),
  };
}

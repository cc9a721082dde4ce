import type { GatewayContext, GatewayRequest, PolicyDefinition, ValueGetter, XmlElement } from '../engine/policy-sdk.js';
import { HeaderMap, childElements } from '../engine/policy-sdk.js';

/** A CORS preflight: OPTIONS with Origin and Access-Control-Request-Method. */
export function isPreflight(request: Pick<GatewayRequest, 'method' | 'headers'>): boolean {
  return request.method.toUpperCase() === 'OPTIONS' && request.headers.has('Origin') && request.headers.has('Access-Control-Request-Method');
}

/** Per-request CORS state: only the first cors policy that matches applies ("generally only the first cors policy is applied"). */
const handled = new WeakSet<GatewayContext>();

/** Origin as scheme://host:port, lower-case, with the default port made explicit (policy docs: 80 for http, 443 for https). */
export function normalizeOrigin(text: string): string | null {
  const t = text.trim();
  if (t === '*') return '*';
  try {
    const u = new URL(t);
    if (!u.protocol || !u.hostname) return null;
    const scheme = u.protocol.slice(0, -1).toLowerCase();
    const port = u.port || (scheme === 'https' ? '443' : scheme === 'http' ? '80' : '');
    return `${scheme}://${u.hostname.toLowerCase()}${port ? `:${port}` : ''}`;
  } catch {
    return null;
  }
}

function empty200(ctx: GatewayContext): 'stop' {
  ctx.response.body?.liveStream?.resume();
  ctx.response = { statusCode: 200, statusReason: 'OK', headers: new HeaderMap(), body: null };
  return 'stop';
}

/**
 * `<cors allow-credentials terminate-unmatched-request>`: answers preflights itself (Access-Control-Allow-Origin,
 * -Methods, -Headers, -Credentials, -Max-Age) and adds Access-Control-Allow-Origin / -Credentials / -Expose-Headers to
 * the response of matching cross-origin requests. Unmatched requests: see terminate-unmatched-request in the docs.
 */
export const cors: PolicyDefinition = {
  name: 'cors',
  summary: 'CORS: preflight answers and response headers for allowed origins.',
  support: 'approximate',
  sections: ['inbound'],
  // "Only the cors policy is evaluated on the OPTIONS request during preflight" (policy docs): the gateway runs the
  // operation's inbound cors statements alone for a preflight; without an answer from them, an empty 200.
  preflight: { matches: isPreflight },
  attributes: [
    { name: 'allow-credentials', expressions: true, kind: 'bool', default: 'false' },
    // The attribute table says false; "Common configuration issues" says true (docs/apim-behaviour.md: Access control, caching and observability). The table wins.
    { name: 'terminate-unmatched-request', expressions: true, kind: 'bool', default: 'false' },
  ],
  elements: [
    { name: 'allowed-origins', min: 1, max: 1, elements: [{ name: 'origin', min: 1, text: { expressions: false, required: true } }] },
    {
      name: 'allowed-methods',
      max: 1,
      attributes: [{ name: 'preflight-result-max-age', expressions: true, kind: 'int', min: 0, default: '0' }],
      elements: [{ name: 'method', min: 1, text: { expressions: true, required: true } }],
    },
    // Documented as required, but AI-Gateway labs deploy cors without it: accepted, and then no request headers are allowed.
    { name: 'allowed-headers', max: 1, elements: [{ name: 'header', min: 1, text: { expressions: false, required: true } }] },
    { name: 'expose-headers', max: 1, elements: [{ name: 'header', min: 1, text: { expressions: false, required: true } }] },
  ],
  compile(el, cx) {
    const allowCredentials = cx.bool(el, 'allow-credentials') ?? (() => false);
    const terminate = cx.bool(el, 'terminate-unmatched-request') ?? (() => false);
    const literal = (e: XmlElement): string => {
      try {
        return (
          cx
            .text(e)?.({} as GatewayContext)
            .trim() ?? ''
        );
      } catch {
        return '';
      }
    };
    const origins = new Set<string>();
    for (const o of childElements(el, 'allowed-origins').flatMap((a) => childElements(a, 'origin'))) {
      const text = literal(o);
      const n = normalizeOrigin(text);
      if (!n) {
        cx.diagnostics.error(
          o.source,
          o.start,
          'policy/bad-origin',
          `"${text}" is not an origin`,
          'write * or a URI with scheme, host and optional port, e.g. https://contoso.com',
        );
        continue;
      }
      origins.add(n);
    }
    if (origins.has('*') && origins.size > 1) {
      cx.diagnostics.error(
        el.source,
        el.start,
        'policy/bad-origin',
        '<allowed-origins> mixes * with explicit origins',
        'use either a single <origin>*</origin> or a list of URIs',
      );
    }
    const anyOrigin = origins.has('*');
    const methodsEl = childElements(el, 'allowed-methods')[0];
    const methods: Array<ValueGetter<string>> = methodsEl
      ? childElements(methodsEl, 'method')
          .map((m) => cx.text(m))
          .filter((g): g is ValueGetter<string> => g !== undefined)
      : [() => 'GET', () => 'POST'];
    const maxAge = methodsEl ? (cx.int(methodsEl, 'preflight-result-max-age') ?? (() => 0)) : () => 0;
    const allowedHeaders = childElements(el, 'allowed-headers')
      .flatMap((a) => childElements(a, 'header'))
      .map(literal);
    const anyHeader = allowedHeaders.includes('*');
    const allowedHeaderSet = new Set(allowedHeaders.map((h) => h.toLowerCase()));
    const expose = childElements(el, 'expose-headers')
      .flatMap((a) => childElements(a, 'header'))
      .map(literal);

    const originAllowed = (origin: string): boolean => {
      if (anyOrigin) return true;
      const n = normalizeOrigin(origin);
      return n !== null && origins.has(n);
    };
    /** The Access-Control-Allow-Origin value: `*` for a wildcard without credentials, else the caller's origin. */
    const allowOrigin = (origin: string, credentials: boolean): string => (anyOrigin && !credentials ? '*' : origin);

    return (ctx) => {
      if (handled.has(ctx)) return 'continue';
      const origin = ctx.request.headers.get('Origin')?.[0];
      if (origin === undefined) return 'continue';
      const credentials = allowCredentials(ctx);
      // An OPTIONS request that matched an OPTIONS operation is not a preflight for cors (policy docs).
      if (isPreflight(ctx.request) && ctx.operation.method.toUpperCase() !== 'OPTIONS') {
        const method = ctx.request.headers.get('Access-Control-Request-Method')![0]!.trim().toUpperCase();
        const requested = (ctx.request.headers.getJoined('Access-Control-Request-Headers') ?? '')
          .split(',')
          .map((h) => h.trim())
          .filter(Boolean);
        const methodOk = methods.some((m) => {
          const v = m(ctx).trim().toUpperCase();
          return v === '*' || v === method;
        });
        const headersOk = anyHeader || requested.every((h) => allowedHeaderSet.has(h.toLowerCase()));
        if (!originAllowed(origin) || !methodOk || !headersOk) {
          if (ctx.tracing)
            ctx.trace({ kind: 'info', policy: 'cors', message: `preflight from ${origin} for ${method} not allowed${terminate(ctx) ? '; empty 200' : ''}` });
          return terminate(ctx) ? empty200(ctx) : 'continue';
        }
        handled.add(ctx);
        const h = new HeaderMap();
        h.set('Access-Control-Allow-Origin', [allowOrigin(origin, credentials)]);
        if (credentials) h.set('Access-Control-Allow-Credentials', ['true']);
        h.set('Access-Control-Allow-Methods', [method]);
        if (requested.length) h.set('Access-Control-Allow-Headers', [requested.join(',')]);
        const age = maxAge(ctx);
        if (age > 0) h.set('Access-Control-Max-Age', [String(age)]);
        h.set('Vary', ['Origin']);
        ctx.response.body?.liveStream?.resume();
        ctx.response = { statusCode: 200, statusReason: 'OK', headers: h, body: null };
        if (ctx.tracing) ctx.trace({ kind: 'info', policy: 'cors', message: `preflight from ${origin} for ${method} allowed` });
        return 'stop';
      }
      if (!originAllowed(origin)) {
        const m = ctx.request.method.toUpperCase();
        if ((m === 'GET' || m === 'HEAD') && terminate(ctx)) return empty200(ctx);
        return 'continue';
      }
      handled.add(ctx);
      // The headers belong on whatever response the client finally gets (backend's, return-response's or an error).
      ctx.completed.push((c) => {
        const h = c.response.headers;
        h.set('Access-Control-Allow-Origin', [allowOrigin(origin, credentials)]);
        if (credentials) h.set('Access-Control-Allow-Credentials', ['true']);
        if (expose.length) h.set('Access-Control-Expose-Headers', [expose.join(',')]);
        const vary = h.getJoined('Vary');
        if (!vary) h.set('Vary', ['Origin']);
        else if (!/(^|,)\s*origin\s*(,|$)/i.test(vary)) h.set('Vary', [`${vary}, Origin`]);
      });
      return 'continue';
    };
  },
};

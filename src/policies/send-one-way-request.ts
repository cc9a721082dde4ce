import type { Flow, PolicyDefinition } from '../engine/policy-sdk.js';
import { HeaderMap, MessageBody, attributeText, childElements } from '../engine/policy-sdk.js';
import { sendRequest } from './send-request.js';
import { recordSink } from './support/sinks.js';
import { compileBodyWriter, compileHeaderMutation } from './support/message.js';

const DEFAULT_TIMEOUT_S = 60;

/**
 * `<send-one-way-request mode timeout>` with set-url, set-method, set-header, set-body, authentication-certificate:
 * sends the request and goes on at once, without waiting for a response ("fire and forget").
 * Attribute table: learn.microsoft.com/azure/api-management/send-one-way-request-policy (read 2026-12-02).
 * The call runs in the background with its own timeout; its outcome (status or failure) goes to the log and to the
 * local "one-way-request" sink, never to the caller's response.
 */
export const sendOneWayRequest: PolicyDefinition = {
  name: 'send-one-way-request',
  summary: 'Sends an HTTP request without waiting for it (never delays the response); outcome logged and recorded in the one-way-request sink.',
  support: 'full',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: [
    { name: 'mode', expressions: true, kind: 'enum', values: ['new', 'copy'], default: 'new' },
    { name: 'timeout', expressions: true, kind: 'int', min: 0, default: String(DEFAULT_TIMEOUT_S) },
  ],
  ordered: true,
  // Same child elements as send-request (the reference lists the same set).
  elements: (sendRequest.elements ?? []).filter((e) => e.name !== 'authentication-managed-identity' && e.name !== 'proxy'),
  compile(el, cx) {
    const mode = cx.string(el, 'mode') ?? (() => 'new');
    const timeoutS = cx.int(el, 'timeout') ?? (() => DEFAULT_TIMEOUT_S);
    const urlEl = childElements(el, 'set-url')[0];
    const url = urlEl ? cx.text(urlEl) : undefined;
    const methodEl = childElements(el, 'set-method')[0];
    const method = methodEl ? cx.text(methodEl) : undefined;
    const headers = childElements(el, 'set-header').map((h) => compileHeaderMutation(h, cx));
    const body = childElements(el, 'set-body').map((b) => compileBodyWriter(b, cx));
    for (const c of childElements(el, 'authentication-certificate')) {
      cx.diagnostics.warning(
        el.source,
        c.start,
        'policy/offline',
        '<authentication-certificate> inside <send-one-way-request> runs offline: the request is sent without a client certificate',
      );
    }
    const literalMode = (attributeText(el, 'mode') ?? 'new').trim().toLowerCase();
    if (literalMode === 'new' && !url)
      cx.diagnostics.error(el.source, el.start, 'policy/missing-element', '<send-one-way-request mode="new"> needs a <set-url>');
    if (literalMode !== 'new') cx.needsBody('request');
    const { services } = cx;
    return async (ctx): Promise<Flow> => {
      const copy = mode(ctx).toLowerCase() === 'copy';
      const h = copy ? ctx.request.headers.clone() : new HeaderMap();
      let payload: Buffer | null = null;
      if (copy && ctx.request.body) payload = await ctx.request.body.buffer();
      for (const m of headers) m(ctx, h);
      for (const b of body) payload = await b(ctx).buffer();
      if (payload) h.set('Content-Length', [String(payload.length)]);
      const target = url ? url(ctx) : ctx.request.url.toString();
      const verb = method ? method(ctx).trim().toUpperCase() : copy ? ctx.request.method : 'GET';
      const timeoutMs = timeoutS(ctx) * 1000;
      const requestId = ctx.requestId;
      const startedAt = ctx.clock.now();
      if (ctx.tracing) ctx.trace({ kind: 'info', policy: 'send-one-way-request', message: `${verb} ${target} (not awaited)` });
      // Own abort controller: the call outlives the caller's request.
      const abort = new AbortController();
      const record = (outcome: string): void => {
        recordSink(services, {
          kind: 'one-way-request',
          target,
          payload: payload ? payload.toString('utf8') : '',
          properties: { method: verb, outcome },
          timestamp: startedAt,
          requestId,
        });
      };
      void services.upstream
        .send({ method: verb, url: target, headers: h, body: payload, timeoutMs, followRedirects: false, signal: abort.signal })
        .then(async (res) => {
          await MessageBody.fromStream(res.body).buffer();
          record(String(res.statusCode));
          services.log({ level: 'info', source: 'send-one-way-request', message: `${verb} ${target} answered ${res.statusCode}`, data: { requestId } });
        })
        .catch((e: unknown) => {
          record('failed');
          services.log({
            level: 'warn',
            source: 'send-one-way-request',
            message: `${verb} ${target} failed: ${e instanceof Error ? e.message : String(e)}`,
            data: { requestId },
          });
        });
      return 'continue';
    };
  },
};

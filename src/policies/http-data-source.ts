import type { ElementSpec, GatewayResponse, PolicyDefinition } from '../engine/policy-sdk.js';
import { HeaderMap, MessageBody, UpstreamError, childElements } from '../engine/policy-sdk.js';
import { compileBodyWriter, compileHeaderMutation } from './support/message.js';
import { isResolverRoot, registerResolver, resolverError } from './support/graphql-resolvers.js';
import { firstReport } from './support/once.js';
import { SET_HEADER_ATTRIBUTES, VALUE_ELEMENT } from './set-header.js';

const DEFAULT_TIMEOUT_S = 300;

/** Children of `<http-request>` the resolver accepts but cannot run offline (each said once as a warning). */
const NOT_OFFLINE: Record<string, string> = {
  'get-authorization-context': 'no credential manager offline: the resolver request is sent without its token',
  'set-backend-service': 'the resolver request goes to its <set-url>, not to a backend entity',
  'include-fragment': 'fragments are not expanded inside resolver requests',
  'authentication-certificate': 'no client certificate is presented on the resolver request',
};

const HTTP_REQUEST: ElementSpec = {
  name: 'http-request',
  min: 1,
  max: 1,
  elements: [
    { name: 'get-authorization-context', max: 1, anyContent: true },
    { name: 'set-backend-service', max: 1, anyContent: true },
    { name: 'include-fragment', anyContent: true },
    { name: 'set-method', min: 1, max: 1, text: { expressions: true, required: true } },
    { name: 'set-url', min: 1, max: 1, text: { expressions: true, required: true } },
    { name: 'set-header', attributes: SET_HEADER_ATTRIBUTES, elements: [VALUE_ELEMENT] },
    {
      name: 'set-body',
      max: 1,
      attributes: [
        { name: 'template', expressions: false, kind: 'enum', values: ['liquid', 'none'] },
        { name: 'xsi-nil', expressions: false, kind: 'enum', values: ['blank', 'null'] },
        { name: 'parse-date', expressions: false, kind: 'bool' },
      ],
      text: { expressions: true },
    },
    { name: 'authentication-certificate', max: 1, anyContent: true },
  ],
};

/**
 * `<http-data-source>`: the resolver of one field of a synthetic GraphQL API (docs/policies-graphql.md).
 * Element table: learn.microsoft.com/azure/api-management/http-data-source-policy (ms.date 05/02/2024, read
 * 2026-12-02). `<http-request>` builds the request (set-method, set-url, set-header, set-body, with
 * `context.GraphQL.Arguments` / `.Parent` in expressions); it is sent with the gateway's HTTP client; `<http-response>`
 * transforms the answer with set-body (Liquid too), xml-to-json, find-and-replace, publish-event, as outbound would.
 * The result is the body, parsed as JSON when it is JSON, else the raw string (as the page says).
 */
export const httpDataSource: PolicyDefinition = {
  name: 'http-data-source',
  summary: 'GraphQL resolver: builds and sends the HTTP request for one field, transforms the answer, returns it to the GraphQL executor.',
  support: 'approximate',
  // A resolver document is compiled where its API's backend runs (forward-request executes the GraphQL request).
  sections: ['backend'],
  attributes: [],
  ordered: true,
  elements: [
    HTTP_REQUEST,
    {
      name: 'backend',
      max: 1,
      elements: [
        { name: 'forward-request', max: 1, attributes: [{ name: 'timeout', expressions: true, kind: 'int', min: 0, default: String(DEFAULT_TIMEOUT_S) }] },
      ],
    },
    { name: 'http-response', max: 1, policies: ['set-body', 'xml-to-json', 'find-and-replace', 'publish-event', 'include-fragment'], section: 'outbound' },
  ],
  compile(el, cx) {
    if (!isResolverRoot(el)) {
      cx.diagnostics.error(
        el.source,
        el.start,
        'policy/element-not-allowed',
        '<http-data-source> is a GraphQL resolver: it is the root of a resolver document, not a statement inside <policies>',
        'give resolvers in settings["graphql.resolvers"] (docs/policies-graphql.md)',
      );
      return () => 'continue';
    }
    const req = childElements(el, 'http-request')[0]!;
    for (const c of req.children) {
      if (c.kind === 'element' && NOT_OFFLINE[c.name] && firstReport(c, 'offline')) {
        cx.diagnostics.warning(c.source, c.start, 'policy/offline', `<${c.name}> in a resolver runs offline without effect: ${NOT_OFFLINE[c.name]}`);
      }
    }
    const methodEl = childElements(req, 'set-method')[0];
    const method = methodEl ? cx.text(methodEl) : undefined;
    const urlEl = childElements(req, 'set-url')[0];
    const url = urlEl ? cx.text(urlEl) : undefined;
    const headers = childElements(req, 'set-header').map((h) => compileHeaderMutation(h, cx));
    const bodyEl = childElements(req, 'set-body')[0];
    const body = bodyEl ? compileBodyWriter(bodyEl, cx, { bodyless: true }) : undefined;
    const forward = childElements(el, 'backend').flatMap((b) => childElements(b, 'forward-request'))[0];
    const timeoutS = (forward ? cx.int(forward, 'timeout') : undefined) ?? (() => DEFAULT_TIMEOUT_S);
    const responseEl = childElements(el, 'http-response')[0];
    const transform = responseEl ? cx.policies(responseEl) : undefined;
    const { upstream } = cx.services;
    const where = cx.path;

    registerResolver(el, async (ctx) => {
      const h = new HeaderMap();
      for (const m of headers) m(ctx, h);
      const payload = body ? await body(ctx).buffer() : null;
      if (payload) h.set('Content-Length', [String(payload.length)]);
      const target = url ? url(ctx).trim() : '';
      const verb = method ? method(ctx).trim().toUpperCase() : 'GET';
      if (ctx.tracing) ctx.trace({ kind: 'info', policy: 'http-data-source', message: `${where}: ${verb} ${target}` });
      let res: GatewayResponse;
      try {
        const r = await upstream.send({
          method: verb,
          url: target,
          headers: h,
          body: payload,
          timeoutMs: timeoutS(ctx) * 1000,
          followRedirects: false,
          signal: ctx.abort.signal,
        });
        res = {
          statusCode: r.statusCode,
          statusReason: r.statusReason,
          headers: r.headers,
          body: MessageBody.fromBuffer(await MessageBody.fromStream(r.body).buffer()),
        };
      } catch (e) {
        const reason = e instanceof UpstreamError ? e.reason : 'BackendConnectionFailure';
        throw resolverError('http-data-source', `The resolver's HTTP request to ${target} failed (${reason}): ${e instanceof Error ? e.message : String(e)}`);
      }
      // An error status fails the field (APIM is SILENT; docs/emulator-choices.md), after http-response had its say.
      ctx.response = res;
      if (transform) await transform(ctx);
      const status = ctx.response.statusCode;
      const text = ctx.response.body ? (await ctx.response.body.buffer()).toString('utf8') : '';
      if (status >= 400)
        throw resolverError('http-data-source', `The resolver's HTTP request to ${target} answered ${status}${text ? `: ${text.slice(0, 200)}` : ''}`);
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text;
      }
    });
    // Compiled as a resolver: never run as a statement.
    return () => 'continue';
  },
};

import type { Flow, PolicyDefinition } from '../engine/policy-sdk.js';
import { HeaderMap, MessageBody, PolicyError, StoredResponse, UpstreamError, childElements, gatewayErrorResponse } from '../engine/policy-sdk.js';
import { compileBodyWriter, compileHeaderMutation } from './support/message.js';
import { compileManagedIdentityChild } from './authentication-managed-identity.js';
import { SET_HEADER_ATTRIBUTES, VALUE_ELEMENT } from './set-header.js';

const DEFAULT_TIMEOUT_S = 60;

/**
 * `<send-request mode response-variable-name timeout ignore-error>`: an extra HTTP call whose response is stored in a
 * variable as IResponse; with ignore-error="true" a failure stores null instead of raising (docs/apim-behaviour.md: Access control, caching and observability).
 */
export const sendRequest: PolicyDefinition = {
  name: 'send-request',
  summary: 'Makes an extra HTTP call and stores the response (IResponse) in a variable.',
  support: 'full',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: [
    { name: 'mode', expressions: true, kind: 'enum', values: ['new', 'copy'], default: 'new' },
    { name: 'response-variable-name', required: true, expressions: false },
    { name: 'timeout', expressions: true, kind: 'int', min: 0, default: String(DEFAULT_TIMEOUT_S) },
    { name: 'ignore-error', expressions: true, kind: 'bool', default: 'false' },
  ],
  ordered: true,
  elements: [
    { name: 'set-url', max: 1, text: { expressions: true, required: true } },
    { name: 'set-method', max: 1, text: { expressions: true, required: true } },
    { name: 'set-header', attributes: [...SET_HEADER_ATTRIBUTES, { name: 'id', expressions: false }], elements: [VALUE_ELEMENT] },
    {
      name: 'set-body',
      max: 1,
      attributes: [
        { name: 'template', expressions: false, kind: 'enum', values: ['liquid', 'none'] },
        { name: 'id', expressions: false },
      ],
      text: { expressions: true },
    },
    {
      name: 'authentication-certificate',
      max: 1,
      attributes: [
        { name: 'thumbprint', expressions: true },
        { name: 'certificate-id', expressions: true },
        { name: 'body', expressions: true },
        { name: 'password', expressions: true },
      ],
    },
    {
      name: 'authentication-managed-identity',
      max: 1,
      attributes: [
        { name: 'resource', required: true, expressions: true },
        { name: 'client-id', expressions: false },
        { name: 'output-token-variable-name', expressions: false },
        { name: 'ignore-error', expressions: false, kind: 'bool' },
      ],
    },
    {
      name: 'proxy',
      max: 1,
      attributes: [
        { name: 'url', required: true, expressions: true },
        { name: 'username', expressions: true },
        { name: 'password', expressions: true },
      ],
    },
  ],
  compile(el, cx) {
    const variable = el.attributes.find((a) => a.name === 'response-variable-name')?.value.text ?? '';
    const mode = cx.string(el, 'mode') ?? (() => 'new');
    const timeoutS = cx.int(el, 'timeout') ?? (() => DEFAULT_TIMEOUT_S);
    const ignoreError = cx.bool(el, 'ignore-error') ?? (() => false);
    const urlEl = childElements(el, 'set-url')[0];
    const url = urlEl ? cx.text(urlEl) : undefined;
    const methodEl = childElements(el, 'set-method')[0];
    const method = methodEl ? cx.text(methodEl) : undefined;
    const headers = childElements(el, 'set-header').map((h) => compileHeaderMutation(h, cx));
    const body = childElements(el, 'set-body').map((b) => compileBodyWriter(b, cx));
    for (const name of ['authentication-certificate', 'proxy']) {
      for (const c of childElements(el, name)) {
        cx.diagnostics.error(el.source, c.start, 'policy/unsupported', `<${name}> inside <send-request> is not supported by apim-emulator yet`);
      }
    }
    const managedIdentity = childElements(el, 'authentication-managed-identity')[0];
    const resource = managedIdentity ? cx.string(managedIdentity, 'resource') : undefined;
    const identity = managedIdentity ? compileManagedIdentityChild(managedIdentity, cx) : undefined;
    const literalMode =
      el.attributes
        .find((a) => a.name === 'mode')
        ?.value.text.trim()
        .toLowerCase() ?? 'new';
    if (literalMode === 'new' && !url) {
      cx.diagnostics.error(el.source, el.start, 'policy/missing-element', '<send-request mode="new"> needs a <set-url>');
    }
    const { upstream } = cx.services;

    return async (ctx): Promise<Flow> => {
      const copy = mode(ctx).toLowerCase() === 'copy';
      const h = copy ? ctx.request.headers.clone() : new HeaderMap();
      let payload: Buffer | null = null;
      if (copy && ctx.request.body && (cx.section === 'inbound' || cx.section === 'backend')) payload = await ctx.request.body.buffer();
      for (const m of headers) m(ctx, h);
      for (const b of body) payload = await b(ctx).buffer();
      if (resource && identity) identity(ctx, resource(ctx), h);
      if (payload) h.set('Content-Length', [String(payload.length)]);
      const target = url ? url(ctx) : ctx.request.url.toString();
      const verb = method ? method(ctx).trim().toUpperCase() : copy ? ctx.request.method : 'GET';
      if (ctx.tracing) ctx.trace({ kind: 'info', policy: 'send-request', message: `${verb} ${target}` });
      try {
        const res = await upstream.send({
          method: verb,
          url: target,
          headers: h,
          body: payload,
          timeoutMs: timeoutS(ctx) * 1000,
          followRedirects: false,
          signal: ctx.abort.signal,
        });
        const buf = await MessageBody.fromStream(res.body).buffer();
        ctx.variables.set(variable, new StoredResponse(res.statusCode, res.statusReason, res.headers, MessageBody.fromBuffer(buf)));
        if (ctx.tracing) ctx.trace({ kind: 'info', policy: 'send-request', message: `${target} answered ${res.statusCode}` });
      } catch (e) {
        const reason = e instanceof UpstreamError ? e.reason : 'BackendConnectionFailure';
        const message = e instanceof Error ? e.message : String(e);
        if (ignoreError(ctx)) {
          ctx.variables.set(variable, null);
          if (ctx.tracing) ctx.trace({ kind: 'info', policy: 'send-request', message: `${target} failed (${reason}); ignore-error stores null` });
          return 'continue';
        }
        throw new PolicyError('send-request', reason, message, gatewayErrorResponse(500, 'Internal server error'));
      }
      return 'continue';
    };
  },
};

import type { PolicyDefinition, ValueGetter } from '../engine/policy-sdk.js';
import { PolicyError, childElements, gatewayErrorResponse } from '../engine/policy-sdk.js';

/**
 * `<check-header name failed-check-httpcode failed-check-error-message ignore-case>` + `<value>`*: the request must
 * carry the header and, when values are listed, one of them (docs/apim-behaviour.md: Access control, caching and observability). Failure ends the request with the
 * configured status and message (`{statusCode, message}` body) and LastError HeaderNotFound / HeaderValueNotAllowed.
 */
export const checkHeader: PolicyDefinition = {
  name: 'check-header',
  summary: 'Requires a request header, optionally with one of the listed values.',
  support: 'full',
  sections: ['inbound'],
  scopes: ['global', 'product', 'api', 'operation'],
  attributes: [
    { name: 'name', required: true, expressions: true },
    { name: 'failed-check-httpcode', required: true, expressions: true, kind: 'int', min: 100, max: 599 },
    { name: 'failed-check-error-message', required: true, expressions: true },
    { name: 'ignore-case', required: true, expressions: true, kind: 'bool' },
  ],
  elements: [{ name: 'value', text: { expressions: true, required: true } }],
  compile(el, cx) {
    const name = cx.string(el, 'name')!;
    const code = cx.int(el, 'failed-check-httpcode')!;
    const message = cx.string(el, 'failed-check-error-message')!;
    const ignoreCase = cx.bool(el, 'ignore-case')!;
    const values = childElements(el, 'value')
      .map((v) => cx.text(v))
      .filter((g): g is ValueGetter<string> => g !== undefined);
    return (ctx) => {
      const header = name(ctx);
      const got = ctx.request.headers.get(header);
      const deny = (reason: string, lastError: string): never => {
        throw new PolicyError('check-header', reason, lastError, gatewayErrorResponse(code(ctx), message(ctx)));
      };
      if (!got || got.length === 0) return deny('HeaderNotFound', `Header ${header} was not found in the request. Access denied.`);
      if (values.length === 0) return 'continue';
      const fold = ignoreCase(ctx);
      const norm = (s: string): string => (fold ? s.toLowerCase() : s);
      const allowed = values.map((v) => norm(v(ctx)));
      // The whole (comma-joined) value, or any single value of a repeated header, may match.
      const joined = got.join(',');
      if (allowed.includes(norm(joined)) || got.some((g) => allowed.includes(norm(g)))) return 'continue';
      return deny('HeaderValueNotAllowed', `Header ${header} value of ${joined} is not allowed. Access denied.`);
    };
  },
};

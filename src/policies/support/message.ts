import type { CompileContext, GatewayContext, HeaderMap, PolicySection, XmlElement } from '../../engine/policy-sdk.js';
import { MessageBody, PolicyError, TextSpan, childElements } from '../../engine/policy-sdk.js';
import { toPolicyString } from '../../expressions/index.js';
import { bindBody, compileLiquid } from './liquid.js';

/** Which message a header/body policy changes: the request before the backend, the response after it. */
export function messageOf(section: PolicySection): 'request' | 'response' {
  return section === 'inbound' || section === 'backend' ? 'request' : 'response';
}

/**
 * Headers that APIM emits as separate header lines when several `<value>`s are given; all others are joined with ","
 * (docs/apim-behaviour.md: Headers, variables and URLs).
 */
const MULTI_LINE_HEADERS = new Set([
  'user-agent',
  'www-authenticate',
  'proxy-authenticate',
  'cookie',
  'set-cookie',
  'warning',
  'date',
  'expires',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'retry-after',
]);

/** Headers APIM does not let policies change (docs/apim-behaviour.md: Headers, variables and URLs). */
export const PROTECTED_HEADERS = new Set(['connection', 'content-length', 'keep-alive', 'transfer-encoding']);

export type HeaderMutation = (ctx: GatewayContext, headers: HeaderMap) => void;

/**
 * Compiles a `<set-header name exists-action><value/>*</set-header>` element into a mutation of a header map.
 * Shared by set-header itself, return-response and send-request.
 */
export function compileHeaderMutation(el: XmlElement, cx: CompileContext): HeaderMutation {
  const name = cx.string(el, 'name') ?? (() => '');
  const action = cx.string(el, 'exists-action') ?? (() => 'override');
  const values = childElements(el, 'value').map((v) => cx.text(v) ?? (() => ''));
  const literalName = el.attributes.find((a) => a.name === 'name')?.value.text ?? '';
  if (PROTECTED_HEADERS.has(literalName.toLowerCase())) {
    cx.diagnostics.warning(
      el.source,
      el.start,
      'policy/protected-header',
      `APIM does not let policies change the "${literalName}" header; apim-emulator ignores this <set-header> as APIM does`,
    );
  }
  return (ctx, headers) => {
    const n = name(ctx);
    if (PROTECTED_HEADERS.has(n.toLowerCase())) return;
    const a = action(ctx).toLowerCase();
    switch (a) {
      case 'delete':
        headers.delete(n);
        return;
      case 'skip':
        if (headers.has(n)) return;
        headers.set(
          n,
          headerValues(
            n,
            values.map((v) => v(ctx)),
          ),
        );
        return;
      case 'append':
        headers.append(
          n,
          headerValues(
            n,
            values.map((v) => v(ctx)),
          ),
        );
        return;
      case 'override':
        headers.set(
          n,
          headerValues(
            n,
            values.map((v) => v(ctx)),
          ),
        );
        return;
      default:
        throw new PolicyError('set-header', 'ExpressionValueEvaluationFailure', `exists-action evaluated to "${a}"; allowed: override, skip, append, delete`);
    }
  };
}

function headerValues(name: string, values: string[]): string[] {
  if (values.length <= 1 || MULTI_LINE_HEADERS.has(name.toLowerCase())) return values;
  return [values.join(',')];
}

export type BodyWriter = (ctx: GatewayContext) => MessageBody;

/**
 * Compiles set-body's content into a producer of the new body: text, a policy expression, or a Liquid template
 * (support/liquid.ts). `bodyless`: the template sees no body (inside return-response, which removes the current
 * bodies, docs/apim-behaviour.md: return-response).
 */
export function compileBodyWriter(el: XmlElement, cx: CompileContext, o: { bodyless?: boolean } = {}): BodyWriter {
  const template = el.attributes
    .find((a) => a.name === 'template')
    ?.value.text.trim()
    .toLowerCase();
  if (template === 'liquid') return compileLiquidWriter(el, cx, o.bodyless === true);
  const value = cx.textValue(el) ?? (() => '');
  return (ctx) => {
    const v = value(ctx);
    if (v instanceof Uint8Array) return MessageBody.fromBuffer(Buffer.from(v));
    return MessageBody.fromBuffer(valueToText(v));
  };
}

function compileLiquidWriter(el: XmlElement, cx: CompileContext, bodyless: boolean): BodyWriter {
  const render = compileLiquidText(el, cx, { bodyless });
  return (ctx) => MessageBody.fromBuffer(render(ctx));
}

/**
 * The text of `el` as a Liquid template rendered per request, with `context` and the current message as `body`
 * (set-body, and the message text of publish-to-dapr / invoke-dapr-binding with template="liquid"). `options` is the
 * element carrying xsi-nil and parse-date (el itself by default).
 */
export function compileLiquidText(el: XmlElement, cx: CompileContext, o: { bodyless?: boolean; options?: XmlElement } = {}): (ctx: GatewayContext) => string {
  const texts = el.children.filter((c) => c.kind === 'text').map((c) => c.text);
  const span = texts.length === 0 ? undefined : texts.length === 1 ? texts[0]! : TextSpan.concat(texts[0]!.source, texts);
  const render = span ? compileLiquid(span, cx.services.namedValues, cx.diagnostics) : () => '';
  if (!render) return () => '';
  const opts = o.options ?? el;
  const xsiNil =
    (opts.attributes
      .find((a) => a.name === 'xsi-nil')
      ?.value.text.trim()
      .toLowerCase() ?? 'blank') === 'null'
      ? 'null'
      : 'blank';
  const parseDate =
    (opts.attributes
      .find((a) => a.name === 'parse-date')
      ?.value.text.trim()
      .toLowerCase() ?? 'true') !== 'false';
  const which = messageOf(cx.section);
  const bodyless = o.bodyless === true;
  if (!bodyless) cx.needsBody(which);
  return (ctx) => render(ctx, bodyless ? '' : bindBody(which === 'request' ? ctx.request : ctx.response, { xsiNil, parseDate }));
}

/** An element's text as a string getter: a Liquid template when `liquid`, else text or a policy expression. */
export function compileMessageText(el: XmlElement, cx: CompileContext, liquid: boolean, options?: XmlElement): (ctx: GatewayContext) => string {
  if (liquid) return compileLiquidText(el, cx, options ? { options } : {});
  return cx.text(el) ?? (() => '');
}

function valueToText(v: unknown): string {
  return typeof v === 'string' ? v : toPolicyString(v);
}

import type { PolicyDefinition } from '../engine/policy-sdk.js';
import { childElements } from '../engine/policy-sdk.js';

/**
 * `<trace source severity><message/><metadata name value/>*</trace>`: written to the request trace and the log.
 * The legacy form `<trace source="x">text</trace>` (before `<message>` existed) is still accepted by APIM: its text is
 * the message.
 */
export const trace: PolicyDefinition = {
  name: 'trace',
  summary: 'Adds a message to the request trace (served under /_emulator/traces) and the log.',
  support: 'full',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: [
    { name: 'source', required: true, expressions: false },
    { name: 'severity', expressions: false, kind: 'enum', values: ['verbose', 'information', 'error'], default: 'verbose' },
  ],
  ordered: true,
  text: { expressions: true },
  elements: [
    { name: 'message', max: 1, text: { expressions: true } },
    {
      name: 'metadata',
      attributes: [
        { name: 'name', required: true, expressions: false },
        { name: 'value', required: true, expressions: true },
      ],
    },
  ],
  compile(el, cx) {
    const source = el.attributes.find((a) => a.name === 'source')?.value.text ?? '';
    const severity = el.attributes.find((a) => a.name === 'severity')?.value.text ?? 'verbose';
    const msgEl = childElements(el, 'message')[0];
    if (!msgEl && !el.children.some((c) => c.kind === 'text' && c.text.text.trim())) {
      cx.diagnostics.error(
        el.source,
        el.start,
        'policy/missing-element',
        '<trace> needs a <message> element',
        'write <message>text or @(expression)</message> inside <trace>',
      );
    }
    if (msgEl && el.children.some((c) => c.kind === 'text' && c.text.text.trim())) {
      cx.diagnostics.error(
        el.source,
        el.start,
        'policy/text-not-allowed',
        '<trace> has both a <message> and text',
        'keep only <message> (the text form is the legacy syntax)',
      );
    }
    const message = msgEl ? (cx.text(msgEl) ?? (() => '')) : (cx.text(el) ?? (() => ''));
    const metadata = childElements(el, 'metadata').map((m) => ({
      name: m.attributes.find((a) => a.name === 'name')?.value.text ?? '',
      value: cx.string(m, 'value') ?? (() => ''),
    }));
    const log = cx.services.log;
    return (ctx) => {
      const text = message(ctx);
      const meta: Record<string, string> = {};
      for (const m of metadata) meta[m.name] = m.value(ctx);
      ctx.trace({ kind: 'trace', policy: 'trace', message: text, source, severity: severity as 'verbose' | 'information' | 'error', metadata: meta });
      log({ level: severity === 'error' ? 'error' : 'info', source, message: text, data: { requestId: ctx.requestId, ...meta } });
      return 'continue';
    };
  },
};

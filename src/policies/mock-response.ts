import type { PolicyDefinition } from '../engine/policy-sdk.js';
import { HeaderMap, MessageBody, defineSetting, reasonPhrase } from '../engine/policy-sdk.js';

/** `settings.mockResponses`: example bodies by `"<operation or API id>:<status>"` (APIM takes them from the API schema). */
export const MOCK_RESPONSES_SETTING = defineSetting<Readonly<Record<string, string>>>(
  'mockResponses',
  'example bodies by "<operation or api id>:<status>"',
  (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, message: 'settings.mockResponses must be an object' };
    for (const [k, body] of Object.entries(v)) if (typeof body !== 'string') return { ok: false, message: `settings.mockResponses["${k}"] must be a string` };
    return { ok: true, value: v as Record<string, string> };
  },
);

/**
 * `<mock-response status-code content-type>`: ends the pipeline with a mocked response. APIM takes the body from the
 * API's schema examples; apim-emulator has no API schemas, so the body is empty unless `mockResponses` examples are
 * configured for the operation (docs/policies.md).
 */
export const mockResponse: PolicyDefinition = {
  settings: [MOCK_RESPONSES_SETTING],
  name: 'mock-response',
  summary: 'Stops the pipeline with a mocked response (empty body: no API schema examples offline).',
  support: 'approximate',
  sections: ['inbound', 'outbound', 'on-error'],
  attributes: [
    { name: 'status-code', expressions: false, kind: 'int', min: 100, max: 599, default: '200' },
    { name: 'content-type', expressions: false },
  ],
  compile(el, cx) {
    const status = Number(el.attributes.find((a) => a.name === 'status-code')?.value.text ?? '200');
    const contentType = el.attributes.find((a) => a.name === 'content-type')?.value.text;
    const found = cx.setting(MOCK_RESPONSES_SETTING);
    if (!found.ok)
      cx.diagnostics.error(
        el.source,
        el.start,
        'settings/mock-responses',
        found.message,
        'give settings.mockResponses as { "<operation or api id>:<status>": "<body text>" }',
      );
    const examples = found.ok ? found.value : undefined;
    return (ctx) => {
      const headers = new HeaderMap();
      const example = examples?.[`${ctx.operation.id}:${status}`] ?? examples?.[`${ctx.api.id}:${status}`];
      if (contentType) headers.set('Content-Type', [contentType]);
      ctx.response.body?.liveStream?.resume();
      ctx.response = { statusCode: status, statusReason: reasonPhrase(status), headers, body: example !== undefined ? MessageBody.fromBuffer(example) : null };
      return 'stop';
    };
  },
};

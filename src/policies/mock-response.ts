import { MessageBody } from '../engine/body.js';
import { HeaderMap } from '../engine/headers.js';
import { reasonPhrase } from '../pipeline/errors.js';
import type { PolicyDefinition } from './types.js';

/**
 * `<mock-response status-code content-type>`: ends the pipeline with a mocked response. APIM takes the body from the
 * API's schema examples; apim-emulator has no API schemas, so the body is empty unless `mockResponses` examples are
 * configured for the operation (docs/policies.md).
 */
export const mockResponse: PolicyDefinition = {
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
    const examples = cx.services.settings.get('mockResponses') as Record<string, string> | undefined;
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

import type { Flow, PolicyDefinition } from '../engine/policy-sdk.js';
import { MessageBody, PolicyError, gatewayErrorResponse } from '../engine/policy-sdk.js';
import { acceptWants, conversionTarget, isJsonType, isXmlType } from './support/body-conversion.js';
import { fastXmlParser, xmlToJson } from './support/convert.js';

/**
 * `<xml-to-json kind apply consider-accept-header always-array-child-elements />`.
 * Attribute table: learn.microsoft.com/azure/api-management/xml-to-json-policy (read 2026-12-02).
 * Output shapes: src/policies/support/convert.ts.
 */
export const xmlToJsonPolicy: PolicyDefinition = {
  name: 'xml-to-json',
  summary: 'Converts the request or response body from XML to JSON (kind direct or javascript-friendly).',
  support: 'full',
  sections: ['inbound', 'outbound', 'on-error'],
  attributes: [
    { name: 'kind', required: true, expressions: true, kind: 'enum', values: ['javascript-friendly', 'direct'] },
    { name: 'apply', required: true, expressions: true, kind: 'enum', values: ['always', 'content-type-xml'] },
    { name: 'consider-accept-header', expressions: true, kind: 'bool', default: 'true' },
    { name: 'always-array-child-elements', expressions: true, kind: 'bool', default: 'false' },
  ],
  compile(el, cx) {
    fastXmlParser(); // loaded at compile time: the first request must not pay for the import
    const kind = cx.string(el, 'kind') ?? (() => 'direct');
    const apply = cx.string(el, 'apply') ?? (() => 'always');
    const considerAccept = cx.bool(el, 'consider-accept-header') ?? (() => true);
    const alwaysArray = cx.bool(el, 'always-array-child-elements') ?? (() => false);
    const target = conversionTarget(cx);
    return async (ctx): Promise<Flow> => {
      const msg = target(ctx);
      if (!msg.body) return 'continue';
      if (apply(ctx).toLowerCase() === 'content-type-xml' && !isXmlType(msg.headers.getJoined('Content-Type'))) return 'continue';
      // consider-accept-header="true": convert only when the caller asked for JSON.
      if (considerAccept(ctx) && !acceptWants(ctx, isJsonType)) return 'continue';
      const text = (await msg.body.buffer()).toString('utf8');
      let json: unknown;
      try {
        json = xmlToJson(text, {
          kind: kind(ctx).toLowerCase() === 'javascript-friendly' ? 'javascript-friendly' : 'direct',
          alwaysArrayChildElements: alwaysArray(ctx),
        });
      } catch (e) {
        throw new PolicyError(
          'xml-to-json',
          'XmlToJsonConversionFailure',
          `The body is not valid XML: ${e instanceof Error ? e.message : String(e)}`,
          gatewayErrorResponse(500, 'Internal server error'),
        );
      }
      msg.body = MessageBody.fromBuffer(JSON.stringify(json));
      msg.headers.set('Content-Type', ['application/json']);
      msg.headers.delete('Content-Length');
      return 'continue';
    };
  },
};

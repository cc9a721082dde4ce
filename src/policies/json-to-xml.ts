import type { Flow, PolicyDefinition } from '../engine/policy-sdk.js';
import { MessageBody, PolicyError, gatewayErrorResponse } from '../engine/policy-sdk.js';
import { acceptWants, conversionTarget, isJsonType, isXmlType } from './support/body-conversion.js';
import { fastXmlParser, jsonToXml } from './support/convert.js';

/**
 * `<json-to-xml apply consider-accept-header parse-date namespace-separator namespace-prefix attribute-block-name />`.
 * Attribute table: learn.microsoft.com/azure/api-management/json-to-xml-policy (read 2026-12-02).
 * Output shape: src/policies/support/convert.ts.
 */
export const jsonToXmlPolicy: PolicyDefinition = {
  name: 'json-to-xml',
  summary: 'Converts the request or response body from JSON to XML (<Document> root, Json.NET shapes).',
  support: 'full',
  sections: ['inbound', 'outbound', 'on-error'],
  attributes: [
    { name: 'apply', required: true, expressions: true, kind: 'enum', values: ['always', 'content-type-json'] },
    { name: 'consider-accept-header', expressions: true, kind: 'bool', default: 'true' },
    { name: 'parse-date', expressions: true, kind: 'bool', default: 'true' },
    { name: 'namespace-separator', expressions: true },
    { name: 'namespace-prefix', expressions: true },
    { name: 'attribute-block-name', expressions: true },
  ],
  compile(el, cx) {
    fastXmlParser(); // loaded at compile time: the first request must not pay for the import
    const apply = cx.string(el, 'apply') ?? (() => 'always');
    const considerAccept = cx.bool(el, 'consider-accept-header') ?? (() => true);
    const parseDate = cx.bool(el, 'parse-date') ?? (() => true);
    const sep = cx.string(el, 'namespace-separator');
    const prefix = cx.string(el, 'namespace-prefix');
    const attrBlock = cx.string(el, 'attribute-block-name');
    const target = conversionTarget(cx);
    return async (ctx): Promise<Flow> => {
      const msg = target(ctx);
      if (!msg.body) return 'continue';
      if (apply(ctx).toLowerCase() === 'content-type-json' && !isJsonType(msg.headers.getJoined('Content-Type'))) return 'continue';
      // consider-accept-header="true": convert only when the caller asked for XML.
      if (considerAccept(ctx) && !acceptWants(ctx, isXmlType)) return 'continue';
      const text = (await msg.body.buffer()).toString('utf8');
      let xml: string;
      try {
        xml = jsonToXml(text, {
          parseDate: parseDate(ctx),
          namespaceSeparator: sep?.(ctx),
          namespacePrefix: prefix?.(ctx),
          attributeBlockName: attrBlock?.(ctx),
        });
      } catch (e) {
        throw new PolicyError(
          'json-to-xml',
          'JsonToXmlConversionFailure',
          `The body is not valid JSON: ${e instanceof Error ? e.message : String(e)}`,
          gatewayErrorResponse(500, 'Internal server error'),
        );
      }
      msg.body = MessageBody.fromBuffer(xml);
      msg.headers.set('Content-Type', ['application/xml']);
      msg.headers.delete('Content-Length');
      return 'continue';
    };
  },
};

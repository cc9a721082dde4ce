import type { XmlParser } from 'xslt-processor';
import type { Flow, PolicyDefinition } from '../engine/policy-sdk.js';
import { MessageBody, PolicyError, attributeText, childElements, gatewayErrorResponse, lazyLibrary } from '../engine/policy-sdk.js';
import { conversionTarget } from './support/body-conversion.js';

// xslt-processor loads when this policy is first compiled, not at start-up (src/lazy-library.ts).
const xsltProcessor = lazyLibrary<typeof import('xslt-processor')>('xslt-processor');

/**
 * `<xsl-transform><parameter name>value</parameter>*<xsl:stylesheet>…</xsl:stylesheet></xsl-transform>`.
 * Attribute table: learn.microsoft.com/azure/api-management/xsl-transform-policy (read 2026-12-02).
 * XSLT 1.0 (what APIM runs, .NET's XslCompiledTransform) on xslt-processor: a maintained pure-TypeScript XSLT/XPath
 * 1.0 engine, no native build; the stylesheet is parsed once at load, parameters are evaluated per request.
 */
export const xslTransform: PolicyDefinition = {
  name: 'xsl-transform',
  summary: 'Applies an XSLT 1.0 stylesheet (with parameters from expressions) to the XML request or response body.',
  support: 'full',
  sections: ['inbound', 'outbound'],
  attributes: [],
  ordered: true,
  elements: [
    { name: 'parameter', attributes: [{ name: 'name', required: true, expressions: false }], text: { expressions: true } },
    { name: 'xsl:stylesheet', min: 1, max: 1, anyContent: true },
  ],
  compile(el, cx) {
    const sheetEl = childElements(el, 'xsl:stylesheet')[0];
    const { XmlParser, Xslt } = xsltProcessor();
    const parser = new XmlParser();
    let sheet: ReturnType<XmlParser['xmlParse']> | undefined;
    if (sheetEl) {
      try {
        sheet = parser.xmlParse(sheetEl.source.text.slice(sheetEl.start, sheetEl.end));
      } catch (e) {
        cx.diagnostics.error(
          el.source,
          sheetEl.start,
          'policy/bad-stylesheet',
          `the XSLT stylesheet cannot be read: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    }
    const params = childElements(el, 'parameter').map((p) => ({ name: attributeText(p, 'name') ?? '', value: cx.text(p) ?? (() => '') }));
    const target = conversionTarget(cx);
    return async (ctx): Promise<Flow> => {
      const msg = target(ctx);
      if (!msg.body || !sheet) return 'continue';
      const text = (await msg.body.buffer()).toString('utf8');
      let out: string;
      try {
        const xslt = new Xslt({ parameters: params.map((p) => ({ name: p.name, value: p.value(ctx) })) });
        out = await xslt.xsltProcess(new XmlParser().xmlParse(text), sheet);
      } catch (e) {
        throw new PolicyError(
          'xsl-transform',
          'XslTransformationFailure',
          `XSL transformation failed: ${e instanceof Error ? e.message : String(e)}`,
          gatewayErrorResponse(500, 'Internal server error'),
        );
      }
      msg.body = MessageBody.fromBuffer(out);
      msg.headers.delete('Content-Length');
      return 'continue';
    };
  },
};

import type { PolicyDefinition } from '../engine/policy-sdk.js';
import { HeaderMap, MessageBody, childElements } from '../engine/policy-sdk.js';

/**
 * `<cross-domain><cross-domain-policy>…</cross-domain-policy></cross-domain>`: the Adobe Flash / Silverlight
 * cross-domain policy file. Attribute table: learn.microsoft.com/azure/api-management/cross-domain-policy (read
 * 2026-12-02). The gateway serves it: a GET whose path ends in `/crossdomain.xml` is answered with the policy XML as
 * written (docs/emulator-choices.md, "cross-domain"); every other request goes on.
 */
export const crossDomain: PolicyDefinition = {
  name: 'cross-domain',
  summary: 'Answers GET …/crossdomain.xml with the given Flash/Silverlight cross-domain policy XML.',
  support: 'full',
  sections: ['inbound'],
  scopes: ['global'],
  attributes: [],
  elements: [{ name: 'cross-domain-policy', max: 1, anyContent: true }],
  compile(el) {
    const policyEl = childElements(el, 'cross-domain-policy')[0];
    const xml = policyEl
      ? `<?xml version="1.0"?>\n${policyEl.source.text.slice(policyEl.start, policyEl.end)}`
      : '<?xml version="1.0"?>\n<cross-domain-policy />';
    const bytes = Buffer.from(xml, 'utf8');
    return (ctx) => {
      if (ctx.request.method !== 'GET' || !ctx.request.url.path.toLowerCase().endsWith('/crossdomain.xml')) return 'continue';
      const headers = new HeaderMap();
      headers.set('Content-Type', ['text/xml; charset=utf-8']);
      ctx.response = { statusCode: 200, statusReason: 'OK', headers, body: MessageBody.fromBuffer(bytes) };
      return 'stop';
    };
  },
};

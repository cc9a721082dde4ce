import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway, policies, send, startBackend, tryBuildGateway as tryBuild } from '../helpers/gateway.js';
import type { TestBackend } from '../helpers/gateway.js';

/**
 * `<base/>` resolution (docs/apim-behaviour.md: Policy scopes and `<base/>`): the narrowest document is the template; each `<base/>` is replaced by the
 * effective section of the next broader scope. The Microsoft toolkit runs scopes outer-to-inner instead; these tests
 * pin the documented order where the two differ.
 */
const mark = (v: string) => `<set-header name="x-order" exists-action="append"><value>${v}</value></set-header>`;

let backend: TestBackend;
beforeAll(async () => {
  backend = await startBackend();
});
afterAll(() => backend.close());

function order(): string {
  const raw = backend.requests.at(-1)!.rawHeaders;
  const values: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === 'x-order') values.push(...raw[i + 1]!.split(',').map((s) => s.trim()));
  return values.join(' ');
}

describe('<base/> across global, product, API and operation scopes', () => {
  it('replaces each <base/> with the broader scope, wherever it stands in the section', async () => {
    const { gateway } = buildGateway({
      serviceUrl: backend.url,
      global: policies({ inbound: mark('global'), backend: '<forward-request />' }),
      product: policies({ inbound: `<base />${mark('product')}` }),
      api: policies({ inbound: `${mark('api')}<base />` }),
      operation: policies({ inbound: `${mark('op-before')}<base />${mark('op-after')}` }),
    });
    const r = await send(gateway, '/api/anything');
    expect(r.status).toBe(200);
    // operation template: op-before, then API (api, then product (global, product)), then op-after.
    expect(order()).toBe('op-before api global product op-after');
  });

  it('drops every broader scope when a section has no <base/>', async () => {
    const { gateway } = buildGateway({
      serviceUrl: backend.url,
      global: policies({ inbound: mark('global'), backend: '<forward-request />' }),
      api: policies({ inbound: mark('api-only') }),
    });
    await send(gateway, '/api/x');
    expect(order()).toBe('api-only');
  });

  it('treats a missing scope document and a missing section as <base/>', async () => {
    const { gateway, diagnostics } = buildGateway({
      serviceUrl: backend.url,
      global: policies({ inbound: mark('global'), backend: '<forward-request />' }),
      // no product, no operation; API document without an <inbound> section
      api: '<policies><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>',
    });
    await send(gateway, '/api/x');
    expect(order()).toBe('global');
    expect(diagnostics.some((d) => d.code === 'policy/missing-section' && d.severity === 'warning')).toBe(true);
  });

  it('applies the same rule to outbound (narrowest document first)', async () => {
    const { gateway } = buildGateway({
      serviceUrl: backend.url,
      global: policies({ backend: '<forward-request />', outbound: '<set-header name="x-out" exists-action="append"><value>global</value></set-header>' }),
      api: policies({ outbound: '<set-header name="x-out" exists-action="append"><value>api</value></set-header><base />' }),
    });
    const r = await send(gateway, '/api/x');
    expect(r.response.headers.get('x-out')).toEqual(['api', 'global']);
  });

  it('skips product-scope policies when the request has no product context', async () => {
    const { gateway } = buildGateway({
      serviceUrl: backend.url,
      global: policies({ inbound: mark('global'), backend: '<forward-request />' }),
      products: [],
      api: policies({ inbound: `<base />${mark('api')}` }),
    });
    await send(gateway, '/api/x');
    expect(order()).toBe('global api');
  });

  it('reports <base/> inside another policy, twice in a section, and in a fragment', () => {
    const { diagnostics } = tryBuild({
      api: `<policies>
  <inbound>
    <base />
    <base />
    <choose><when condition="true"><base /></when></choose>
    <include-fragment fragment-id="f" />
  </inbound>
  <backend><forward-request /></backend><outbound /><on-error />
</policies>`,
      fragments: { f: '<fragment>\n  <base />\n</fragment>' },
    });
    const codes = diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}@${d.file}:${d.line}:${d.column}`);
    expect(codes).toContain('policy/duplicate-base@api.xml:4:5');
    expect(codes).toContain('policy/misplaced-base@api.xml:5:36');
    expect(codes).toContain('policy/base-in-fragment@f.xml:2:3');
  });
});

describe('set-backend-service across scopes (docs/apim-behaviour.md: set-backend-service)', () => {
  it('an inherited backend-id can only be overridden by another backend-id, not by base-url', async () => {
    const other = await startBackend();
    try {
      const backends = [[{ name: 'pooled', properties: { url: backend.url, protocol: 'http' } }]];
      const inherited = buildGateway({
        backends,
        global: policies({ inbound: '<set-backend-service backend-id="pooled" />', backend: '<forward-request />' }),
        api: policies({ inbound: `<base /><set-backend-service base-url="${other.url}" />` }),
      });
      const before = backend.requests.length;
      const r = await send(inherited.gateway, '/api/x');
      expect(r.status).toBe(200);
      expect(backend.requests.length).toBe(before + 1);
      expect(other.requests).toHaveLength(0);
      expect(r.context!.traceEvents.some((e) => e.message.includes('only another backend-id can override it'))).toBe(true);

      const sameScope = buildGateway({
        backends,
        api: policies({
          inbound: `<set-backend-service backend-id="pooled" /><set-backend-service base-url="${other.url}" />`,
          backend: '<forward-request />',
        }),
      });
      await send(sameScope.gateway, '/api/x');
      expect(other.requests).toHaveLength(1);
    } finally {
      await other.close();
    }
  });
});

describe('APIM default global policy', () => {
  it("without a global policy, <backend><base /></backend> forwards the request, as APIM's default global policy does", async () => {
    const before = backend.requests.length;
    const { gateway } = buildGateway({ serviceUrl: backend.url, global: 'apim-default', api: policies({}) });
    const r = await send(gateway, '/api/default-global');
    expect(r.status).toBe(200);
    expect(backend.requests.length).toBe(before + 1);
    expect(backend.requests.at(-1)!.url).toBe('/default-global');
  });
});

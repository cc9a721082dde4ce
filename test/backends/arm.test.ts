import { describe, expect, it } from 'vitest';
import { isBackendDocument, loadBackends } from '../../src/backends/index.js';
import { formatDiagnosticLine } from '../../src/diagnostics/diagnostic.js';

const template = {
  $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
  contentVersion: '1.0.0.0',
  parameters: {
    apimName: { type: 'string', defaultValue: 'apim-abc' },
    regions: { type: 'array', defaultValue: ['eastus', 'swedencentral'] },
    tripCount: { type: 'int', defaultValue: 3 },
    secondWeight: { type: 'int', defaultValue: 1 },
  },
  variables: {
    prefix: "[concat('aoai-', toLower('EAST'))]",
    urlFormat: 'https://{0}.openai.example.com/openai',
  },
  resources: [
    { type: 'Microsoft.ApiManagement/service', apiVersion: '2024-06-01-preview', name: "[parameters('apimName')]", location: '[resourceGroup().location]' },
    {
      type: 'Microsoft.ApiManagement/service/backends',
      apiVersion: '2024-06-01-preview',
      name: "[format('{0}/{1}', parameters('apimName'), variables('prefix'))]",
      properties: {
        url: "[format(variables('urlFormat'), first(parameters('regions')))]",
        protocol: 'http',
        description: '[[not an expression]',
        circuitBreaker: {
          rules: [
            {
              name: 'r',
              failureCondition: { count: "[parameters('tripCount')]", interval: 'PT1M', statusCodeRanges: [{ min: 429, max: 429 }] },
              tripDuration: 'PT1M',
            },
          ],
        },
      },
    },
    {
      type: 'Microsoft.ApiManagement/service/backends',
      apiVersion: '2024-06-01-preview',
      name: "[concat(parameters('apimName'), '/aoai-', last(parameters('regions')))]",
      properties: { url: "[format(variables('urlFormat'), last(parameters('regions')))]", protocol: 'http' },
    },
    {
      type: 'Microsoft.ApiManagement/service/backends',
      apiVersion: '2024-06-01-preview',
      name: "[format('{0}/{1}', parameters('apimName'), 'pool')]",
      dependsOn: ["[resourceId('Microsoft.ApiManagement/service/backends', parameters('apimName'), variables('prefix'))]"],
      properties: {
        type: 'Pool',
        pool: {
          services: [
            { id: "[resourceId('Microsoft.ApiManagement/service/backends', parameters('apimName'), variables('prefix'))]", priority: 1, weight: 3 },
            {
              id: "[resourceId('Microsoft.ApiManagement/service/backends', parameters('apimName'), concat('aoai-', last(parameters('regions'))))]",
              priority: 1,
              weight: "[parameters('secondWeight')]",
            },
          ],
        },
      },
    },
  ],
};

const load = (t: unknown, parameters?: Record<string, unknown>) =>
  loadBackends([{ file: 'main.json', text: JSON.stringify(t, null, 2) }], parameters ? { parameters } : {});

describe('ARM templates', () => {
  it('evaluates parameters, variables, format, concat, resourceId, [[ escaping; ignores other resources', () => {
    const r = load(template);
    expect(isBackendDocument(template)).toBe(true);
    expect(r.diagnostics.map(formatDiagnosticLine)).toEqual([]);
    expect(r.backends.map((b) => b.id)).toEqual(['aoai-east', 'aoai-swedencentral', 'pool']);
    const [east, sweden, pool] = r.backends;
    expect(east!.url).toBe('https://eastus.openai.example.com/openai');
    expect(east!.description).toBe('[not an expression]');
    expect(east!.circuitBreaker?.count).toBe(3);
    expect(sweden!.url).toBe('https://swedencentral.openai.example.com/openai');
    expect(pool!.pool!.members).toEqual([
      {
        backendId: 'aoai-east',
        rawId:
          '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/emulator-rg/providers/Microsoft.ApiManagement/service/apim-abc/backends/aoai-east',
        priority: 1,
        weight: 3,
      },
      expect.objectContaining({ backendId: 'aoai-swedencentral', weight: 1 }),
    ]);
  });

  it('parameter overrides (command-line strings are coerced to the declared type)', () => {
    const r = load(template, { regions: '["westus","northeurope"]', tripCount: '5', secondWeight: 7 });
    expect(r.diagnostics).toEqual([]);
    expect(r.backends.map((b) => b.id)).toEqual(['aoai-east', 'aoai-northeurope', 'pool']);
    expect(r.backends[0]!.url).toBe('https://westus.openai.example.com/openai');
    expect(r.backends[0]!.circuitBreaker?.count).toBe(5);
    expect(r.backends[2]!.pool!.members[1]!.weight).toBe(7);
  });

  it('a parameters file loaded alongside feeds the template; explicit parameters win', () => {
    const params = {
      $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#',
      contentVersion: '1.0.0.0',
      parameters: { apimName: { value: 'svc2' }, tripCount: { value: 9 } },
    };
    const r = loadBackends(
      [
        { file: 'main.json', text: JSON.stringify(template) },
        { file: 'main.parameters.json', text: JSON.stringify(params) },
      ],
      { parameters: { tripCount: 4 } },
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.backends[0]!.circuitBreaker?.count).toBe(4);
    expect(r.backends[2]!.pool!.members[0]!.rawId).toContain('/service/svc2/backends/aoai-east');
  });

  it('reference() and listKeys() are "not supported offline", pointing at the expression', () => {
    const t = structuredClone(template) as typeof template;
    (t.resources[2]!.properties as Record<string, unknown>).credentials = {
      header: { 'api-key': ["[listKeys(resourceId('Microsoft.CognitiveServices/accounts', 'x'), '2023-05-01').key1]"] },
    };
    (t.resources[1]!.properties as Record<string, unknown>).url = "[reference('aoai').properties.endpoint]";
    const text = JSON.stringify(t, null, 2);
    const r = loadBackends([{ file: 'main.json', text }]);
    const errs = r.diagnostics.filter((d) => d.code === 'backend/arm-unsupported-function');
    expect(errs.map((d) => d.jsonPath)).toEqual(['$.resources[1].properties.url', "$.resources[2].properties.credentials.header['api-key'][0]"]);
    expect(errs[0]!.message).toContain('reference() is not supported offline');
    expect(errs[1]!.message).toContain('listKeys() is not supported offline');
    expect(errs[0]!.hint).toContain('--parameter');
    const line = text.split('\n').findIndex((l) => l.includes('[reference(')) + 1;
    expect(errs[0]!.line).toBe(line);
    // The pool loses a member, so it is not built either, but the other backends are unaffected.
    expect(r.backends.map((b) => b.id)).toEqual([]);
  });

  it('an unknown function, a syntax error and a parameter without a value each say what is wrong', () => {
    const t = structuredClone(template) as typeof template;
    (t.resources[1]!.properties as Record<string, unknown>).url = "[frobnicate('x')]";
    (t.resources[2]!.properties as Record<string, unknown>).url = "[concat('a', ]";
    (t.parameters as Record<string, unknown>).apimName = { type: 'string' };
    const r = load(t);
    const msgs = r.diagnostics.map((d) => `${d.code} ${d.jsonPath}: ${d.message}`);
    expect(msgs.some((m) => m.startsWith('backend/arm-parameter') && m.includes("parameter 'apimName' has no defaultValue"))).toBe(true);
    const r2 = load(t, { apimName: 'svc' });
    const m2 = r2.diagnostics.map((d) => `${d.code} ${d.jsonPath}: ${d.message}`);
    expect(m2).toContain("backend/arm-unsupported-function $.resources[1].properties.url: unknown ARM template function frobnicate() in [frobnicate('x')]");
    expect(m2.find((m) => m.startsWith('backend/arm-expression $.resources[2].properties.url'))).toContain('syntax error');
  });

  it('languageVersion 2.0 (resources as an object), nested service resources, copy loops and conditions', () => {
    const t = {
      languageVersion: '2.0',
      parameters: { n: { type: 'int', defaultValue: 2 }, withPool: { type: 'bool', defaultValue: false } },
      resources: {
        apim: {
          type: 'Microsoft.ApiManagement/service',
          apiVersion: '2024-06-01-preview',
          name: 'svc',
          resources: [{ type: 'backends', apiVersion: '2024-06-01-preview', name: 'child', properties: { url: 'https://child', protocol: 'http' } }],
        },
        loop: {
          copy: { name: 'be', count: "[parameters('n')]" },
          type: 'Microsoft.ApiManagement/service/backends',
          apiVersion: '2024-06-01-preview',
          name: "[format('svc/b{0}', copyIndex(1))]",
          properties: { url: "[format('https://b{0}', copyIndex())]" },
        },
        pool: {
          condition: "[parameters('withPool')]",
          type: 'Microsoft.ApiManagement/service/backends',
          apiVersion: '2024-06-01-preview',
          name: 'svc/pool',
          properties: { type: 'Pool', pool: { services: [{ id: '/backends/b1' }] } },
        },
        existing: { existing: true, type: 'Microsoft.ApiManagement/service/backends', apiVersion: '2024-06-01-preview', name: 'svc/elsewhere' },
      },
    };
    const r = load(t);
    expect(r.diagnostics).toEqual([]);
    expect(r.backends.map((b) => [b.id, b.url, b.jsonPath])).toEqual([
      ['child', 'https://child', '$.resources.apim.resources[0]'],
      ['b1', 'https://b0', '$.resources.loop'],
      ['b2', 'https://b1', '$.resources.loop'],
    ]);
    expect(load(t, { withPool: 'true' }).backends.map((b) => b.id)).toContain('pool');
  });

  it('Bicep-style loops over a config array: indexing and property access', () => {
    const t = {
      parameters: {
        cfg: {
          type: 'array',
          defaultValue: [
            { name: 'eastus', endpoint: 'https://e.example.com/' },
            { name: 'westus', endpoint: 'https://w.example.com/' },
          ],
        },
      },
      resources: [
        {
          copy: { name: 'backends', count: "[length(parameters('cfg'))]" },
          type: 'Microsoft.ApiManagement/service/backends',
          apiVersion: '2024-06-01-preview',
          name: "[format('{0}/{1}', 'svc', parameters('cfg')[copyIndex()].name)]",
          properties: {
            url: "[format('{0}openai', parameters('cfg')[copyIndex()].endpoint)]",
            protocol: 'http',
            circuitBreaker: {
              rules: [
                {
                  name: 'r',
                  failureCondition: { count: 1, interval: 'PT1M', statusCodeRanges: [{ min: 429, max: 429 }], errorReasons: 'Timeout' },
                  tripDuration: 'PT1M',
                },
              ],
            },
          },
        },
      ],
    };
    const r = load(t);
    expect(r.diagnostics).toEqual([]);
    expect(r.backends.map((b) => [b.id, b.url, b.circuitBreaker?.errorReasons])).toEqual([
      ['eastus', 'https://e.example.com/openai', ['Timeout']],
      ['westus', 'https://w.example.com/openai', ['Timeout']],
    ]);
  });

  it('inline nested deployments (Bicep modules) with inner scope get their parameters from the outer template', () => {
    const t = {
      parameters: { apim: { type: 'string', defaultValue: 'svc' } },
      resources: [
        {
          type: 'Microsoft.Resources/deployments',
          apiVersion: '2022-09-01',
          name: 'backendsModule',
          properties: {
            expressionEvaluationOptions: { scope: 'inner' },
            parameters: { serviceName: { value: "[parameters('apim')]" }, host: { value: 'inner.example.com' } },
            template: {
              parameters: { serviceName: { type: 'string' }, host: { type: 'string' } },
              resources: [
                {
                  type: 'Microsoft.ApiManagement/service/backends',
                  apiVersion: '2024-06-01-preview',
                  name: "[format('{0}/m', parameters('serviceName'))]",
                  properties: { url: "[format('https://{0}/', parameters('host'))]", protocol: 'http' },
                },
              ],
            },
          },
        },
      ],
    };
    const r = load(t);
    expect(r.diagnostics).toEqual([]);
    expect(r.backends.map((b) => [b.id, b.url])).toEqual([['m', 'https://inner.example.com/']]);
  });

  it('an expression outside a template is reported rather than used as text', () => {
    const r = loadBackends([{ file: 'b.json', text: JSON.stringify([{ name: 'a', properties: { url: "[parameters('u')]" } }]) }]);
    expect(r.diagnostics[0]).toMatchObject({ code: 'backend/arm-expression', jsonPath: '$[0].properties.url' });
  });
});

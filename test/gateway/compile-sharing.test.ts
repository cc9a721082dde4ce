import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { SourceText } from '../../src/diagnostics/source.js';
import type { PolicyCatalog, PolicyDefinition } from '../../src/engine/policy-sdk.js';
import { NO_UPSTREAM } from '../../src/engine/upstream.js';
import type { ApiDefinition, GatewayDefinition } from '../../src/gateway/definition.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { POLICY_CATALOG } from '../../src/policies/registry.js';
import { buildGateway, send } from '../helpers/gateway.js';

/**
 * The global + product + API chain above an operation is compiled once per distinct chain, not once per operation
 * (issue 17: 1,000 APIs x 10 operations). Counted through the compiler's seam: a catalogue whose set-header records
 * which element each compile() call was for.
 */
function countingCatalog(): { catalog: PolicyCatalog; compiles: Map<string, number> } {
  const compiles = new Map<string, number>();
  const setHeader = POLICY_CATALOG.get('set-header')!;
  const counted: PolicyDefinition = {
    ...setHeader,
    compile(el, cx) {
      const where = `${el.source.file}:${el.start}`;
      compiles.set(where, (compiles.get(where) ?? 0) + 1);
      return setHeader.compile!(el, cx);
    },
  };
  const catalog: PolicyCatalog = {
    get: (name) => (name === 'set-header' ? counted : POLICY_CATALOG.get(name)),
    names: () => POLICY_CATALOG.names(),
    all: () => POLICY_CATALOG.all().map((d) => (d.name === 'set-header' ? counted : d)),
  };
  return { catalog, compiles };
}

const header = (name: string, value: string, base = true) =>
  `<policies><inbound>${base ? '<base />' : ''}<set-header name="${name}" exists-action="override"><value>${value}</value></set-header></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>`;

describe('compiling shared policy chains', () => {
  it('compiles each policy once per distinct chain above it: 40 APIs x 10 operations, a product with a policy and one without', () => {
    const { catalog, compiles } = countingCatalog();
    const apis: ApiDefinition[] = Array.from({ length: 40 }, (_, a) => ({
      id: `api-${a}`,
      name: `API ${a}`,
      path: `api-${a}`,
      serviceUrl: 'http://127.0.0.1:9',
      subscriptionRequired: false,
      policy: new SourceText(`api-${a}.xml`, header('x-api', `api-${a}`)),
      // Operation 0 has a policy of its own (its <base/> reuses the API's chain); the others have none.
      operations: Array.from({ length: 10 }, (_, o) => ({
        id: `op-${o}`,
        method: 'GET',
        urlTemplate: `/r${o}`,
        ...(o === 0 ? { policy: new SourceText(`api-${a}-op-0.xml`, header('x-op', 'own')) } : {}),
      })),
    }));
    const def: GatewayDefinition = {
      service: { name: 'apim-test', region: 'local', gatewayId: 'managed' },
      globalPolicy: new SourceText('global.xml', header('x-global', 'g', false)),
      fragments: [],
      namedValues: [],
      backendFiles: [],
      products: [
        { id: 'gold', name: 'Gold', subscriptionRequired: false, apis: apis.map((a) => a.id), policy: new SourceText('gold.xml', header('x-product', 'gold')) },
        { id: 'open', name: 'Open', subscriptionRequired: false, apis: apis.map((a) => a.id) },
      ],
      apis,
      subscriptions: [],
    };
    const built = Gateway.build(def, { clock: new VirtualClock(), upstream: NO_UPSTREAM, policies: catalog });
    expect(built.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const byFile = (re: RegExp) => [...compiles].filter(([k]) => re.test(k)).map(([, n]) => n);
    // An API policy's <base/> leads to the product's policy or straight to the global one: two distinct chains, so
    // it compiles twice (the product without a policy is the same chain as no product). Before the cache it compiled
    // 10 operations x 3 product contexts + OperationNotFound = 31 times.
    expect(byFile(/^api-\d+\.xml:/)).toEqual(Array(40).fill(2));
    expect(byFile(/^api-\d+-op-0\.xml:/)).toEqual(Array(40).fill(2));
    // Product and global policies compile once per API: a policy may read the API it is compiled for (cx.api, e.g.
    // validate-content and its specification), so chains of different APIs are never shared.
    expect(byFile(/^gold\.xml:/)).toEqual([40]);
    expect(byFile(/^global\.xml:/)).toEqual([40]);
  });

  it('keeps what requests see: headers from every scope, and position-keyed counters shared by the operations', async () => {
    const api = `<policies><inbound><base /><rate-limit calls="2" renewal-period="60" /><set-header name="x-api" exists-action="override"><value>@(context.Operation.Id)</value></set-header><return-response><set-status code="200" reason="OK" /></return-response></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>`;
    const { gateway } = buildGateway({
      api,
      subscriptionRequired: true,
      subscriptions: [{ id: 's1', name: 's1', scope: 'all', primaryKey: 'key-1', state: 'active' }],
      operations: [
        { id: 'one', method: 'GET', urlTemplate: '/one' },
        { id: 'two', method: 'GET', urlTemplate: '/two' },
      ],
    });
    const key = { 'Ocp-Apim-Subscription-Key': 'key-1' };
    const first = await send(gateway, '/api/one', { headers: key });
    const second = await send(gateway, '/api/two', { headers: key });
    // The shared step still evaluates per request: each answer names its own operation.
    expect([first.status, first.context?.request.headers.get('x-api')?.[0]]).toEqual([200, 'one']);
    expect([second.status, second.context?.request.headers.get('x-api')?.[0]]).toEqual([200, 'two']);
    // rate-limit counts per subscription at its element position: the API's two operations share the window.
    expect((await send(gateway, '/api/one', { headers: key })).status).toBe(429);
    await gateway.close();
  });
});

import { describe, expect, it } from 'vitest';
import { loadApiops } from '../../../src/apiops/index.js';
import { VirtualClock } from '../../../src/clock.js';
import { SourceText } from '../../../src/diagnostics/source.js';
import { Gateway } from '../../../src/gateway/gateway.js';
import { UndiciUpstream } from '../../../src/server/undici-upstream.js';
import { send } from '../../helpers/gateway.js';

/** An APIOps GraphQL API's specification.graphql reaches the policies: validate-graphql-request checks queries with it. */
describe('APIOps specification.graphql', () => {
  it('validate-graphql-request of an extracted GraphQL API validates against its schema', async () => {
    const file = (rel: string, text: string) => ({ rel, source: new SourceText(rel, text) });
    const loaded = loadApiops([
      file(
        'apis/g/apiInformation.json',
        JSON.stringify({ properties: { path: 'g', type: 'graphql', displayName: 'g', serviceUrl: 'http://127.0.0.1:9', subscriptionRequired: false } }),
      ),
      file('apis/g/specification.graphql', 'type Query { hello: String }'),
      file(
        'apis/g/policy.xml',
        '<policies><inbound><base /><validate-graphql-request max-size="10000" /><return-response><set-body>valid</set-body></return-response></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>',
      ),
    ]);
    expect(loaded.definition).not.toBeNull();
    const clock = new VirtualClock();
    const { gateway } = Gateway.build(loaded.definition!, { clock, upstream: new UndiciUpstream(clock) });
    const ask = (query: string) =>
      send(gateway!, '/g', { method: 'POST', body: JSON.stringify({ query }), headers: { 'content-type': 'application/json' } }).then((r) => r.text);
    expect(await ask('{ hello }')).toBe('valid');
    expect(JSON.parse(await ask('{ goodbye }'))).toEqual({ errors: [{ message: 'Cannot query field "goodbye" on type "Query".' }] });
  });
});

import { describe, expect, it } from 'vitest';
import { POLICY_REFERENCE } from '../../src/policies/reference.js';
import { allPolicyDefinitions, getPolicyDefinition, policyNames } from '../../src/policies/registry.js';

/** Microsoft's policy reference, walked: every policy in it is known to the registry. */
describe('policy reference', () => {
  it('every policy of the reference list is known to the registry', () => {
    const unknown = POLICY_REFERENCE.map((p) => p.name).filter((n) => !policyNames().includes(n));
    expect(unknown).toEqual([]);
    expect(POLICY_REFERENCE.length).toBeGreaterThanOrEqual(70);
  });

  it('every reference policy except the GraphQL resolvers is executed', () => {
    const notRun = POLICY_REFERENCE.map((p) => p.name).filter((n) => n !== 'include-fragment' && getPolicyDefinition(n)?.support === 'unsupported');
    expect(notRun.sort()).toEqual(['cosmosdb-data-source', 'http-data-source', 'publish-event', 'sql-data-source']);
  });

  it('every policy left unsupported says why', () => {
    for (const d of allPolicyDefinitions().filter((x) => x.support === 'unsupported')) expect(d.summary.length).toBeGreaterThan(40);
  });
});

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

  it('every reference policy is executed (fully or with its documented offline behaviour)', () => {
    const notRun = POLICY_REFERENCE.map((p) => p.name).filter((n) => n !== 'include-fragment' && getPolicyDefinition(n)?.support === 'unsupported');
    expect(notRun).toEqual([]);
    // The only unsupported name left is the retired resolver policy, which is not in the reference any more.
    expect(
      allPolicyDefinitions()
        .filter((d) => d.support === 'unsupported')
        .map((d) => d.name),
    ).toEqual(['set-graphql-resolver']);
  });

  it('every policy left unsupported says why', () => {
    for (const d of allPolicyDefinitions().filter((x) => x.support === 'unsupported')) expect(d.summary.length).toBeGreaterThan(40);
  });
});

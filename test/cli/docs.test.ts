import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { POLICIES_DOC_URL, README_URL, renderPoliciesDoc, updateReadme } from '../../src/cli/docs-policies.js';
import { allPolicyDefinitions } from '../../src/policies/registry.js';

describe('generated policy documentation', () => {
  it('docs/policies.md matches the registry (run npm run docs:policies when this fails)', () => {
    expect(readFileSync(POLICIES_DOC_URL, 'utf8')).toBe(renderPoliciesDoc());
  });

  it('the README table matches the registry (run npm run docs:policies when this fails)', () => {
    const readme = readFileSync(README_URL, 'utf8');
    expect(readme).toBe(updateReadme(readme));
  });

  it('lists every policy of the registry, executed ones with their support level', () => {
    const doc = renderPoliciesDoc();
    for (const d of allPolicyDefinitions())
      expect(doc).toContain(`| \`${d.name}\` | ${d.support === 'full' ? 'yes' : d.support === 'approximate' ? 'approximate' : 'not yet'} |`);
  });
});

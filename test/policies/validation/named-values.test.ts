import { describe, expect, it } from 'vitest';
import { policies, tryBuildGateway } from '../../helpers/gateway.js';

/** Named values and fragments that were not given never break validation: warnings only (issue 11). */
const DOC = policies({
  inbound: `<rate-limit-by-key calls="{{RateLimit-Calls}}" renewal-period="{{period}}" counter-key="@(context.Request.IpAddress)" />
    <validate-jwt header-name="Authorization"><issuer-signing-keys><key>{{signing-key}}</key></issuer-signing-keys></validate-jwt>
    <set-variable name="slot" value="@(new Random().Next(0, 100) % {{Instance-Count}} + 1)" />
    <set-variable name="mirror" value="@{ int p = {{Mirror-Percentage}}; return p > 50; }" />
    <include-fragment fragment-id="shared-auth" />`,
  backend: '<forward-request timeout="{{bff-timeout}}" />',
});

describe('named values and fragments not given', () => {
  it('give warnings only: one per named value, saying what it was checked as', () => {
    const { gateway, diagnostics } = tryBuildGateway({ api: DOC });
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(gateway).not.toBeNull();
    const warnings = diagnostics.filter((d) => d.severity === 'warning').map((d) => d.message);
    expect(warnings).toContain('named value RateLimit-Calls not given: no named values were given, so "{{RateLimit-Calls}}" is checked as a whole number');
    expect(warnings).toContain(
      'named value Instance-Count not given: no named values were given, so "{{Instance-Count}}" is checked as a number inside the C# expression',
    );
    expect(warnings).toContain(
      'named value Mirror-Percentage not given: no named values were given, so "{{Mirror-Percentage}}" is checked as a number inside the C# expression',
    );
    expect(warnings).toContain('named value bff-timeout not given: no named values were given, so "{{bff-timeout}}" is checked as a whole number');
    expect(warnings.filter((w) => w.startsWith('named value signing-key'))).toHaveLength(1);
    expect(warnings).toContain('fragment "shared-auth" not given: no fragments were given, so its policies are not checked');
  });

  it('with values given they are substituted and checked for real; a missing one is an error then', () => {
    const given = {
      'RateLimit-Calls': 'ten',
      period: '60',
      'signing-key': Buffer.alloc(32).toString('base64'),
      'Instance-Count': '3',
      'Mirror-Percentage': '20',
      'bff-timeout': '30',
    };
    const errors = tryBuildGateway({
      api: DOC,
      namedValues: given,
      fragments: { other: '<fragment><set-header name="a" exists-action="override"><value>b</value></set-header></fragment>' },
    }).diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((e) => e.code).sort()).toEqual(['policy/bad-attribute-value', 'policy/unknown-fragment']);
    expect(errors.find((e) => e.code === 'policy/bad-attribute-value')!.message).toContain('"ten"');
  });
});

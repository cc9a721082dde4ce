import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';
import { tryBuildGateway } from '../helpers/gateway.js';

/** Malformed and invalid policy documents: one clear diagnostic each, at the right line and column. */
function errorsOf(api: string, extra: Parameters<typeof tryBuildGateway>[0] = {}): Diagnostic[] {
  const r = tryBuildGateway({ ...extra, api });
  expect(r.gateway).toBeNull();
  return r.diagnostics.filter((d) => d.severity === 'error');
}

const at = (d: Diagnostic) => `${d.file}:${d.line}:${d.column}`;

describe('policy diagnostics', () => {
  it('truncated XML', () => {
    const errors = errorsOf('<policies>\n  <inbound>\n    <base />\n');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toMatch(/^xml\//);
    expect(errors[0]!.file).toBe('api.xml');
    expect(errors[0]!.line).toBeGreaterThanOrEqual(2);
  });

  it('unknown policy, with a suggestion', () => {
    const errors = errorsOf(
      '<policies>\n  <inbound>\n    <base />\n    <set-headr name="a" />\n  </inbound>\n  <backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error>\n</policies>',
    );
    expect(errors).toHaveLength(1);
    expect(at(errors[0]!)).toBe('api.xml:4:5');
    expect(errors[0]!.code).toBe('policy/unknown-element');
    expect(errors[0]!.message).toBe('<set-headr> is not an APIM policy');
    expect(errors[0]!.hint).toContain('<set-header>');
  });

  it('misplaced <base/>', () => {
    const errors = errorsOf(
      '<policies>\n  <inbound>\n    <retry condition="true" count="1" interval="0">\n      <base />\n    </retry>\n  </inbound>\n  <backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error>\n</policies>',
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('policy/misplaced-base');
    expect(at(errors[0]!)).toBe('api.xml:4:7');
  });

  it('bad attribute value, unknown attribute and missing attribute', () => {
    const doc = [
      '<policies>',
      '  <inbound>',
      '    <set-header name="x" exists-action="replace"><value>1</value></set-header>',
      '    <set-variable name="a" value="1" colour="red" />',
      '    <set-status reason="x" />',
      '  </inbound>',
      '  <backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error>',
      '</policies>',
    ].join('\n');
    const errors = errorsOf(doc);
    expect(errors.map((e) => `${e.code}@${e.line}:${e.column}`)).toEqual([
      'policy/bad-attribute-value@3:26',
      'policy/unknown-attribute@4:38',
      'policy/missing-attribute@5:5',
    ]);
    expect(errors[0]!.hint).toBe('allowed: override, skip, append, delete');
    expect(errors[1]!.message).toBe('<set-variable> has no attribute "colour"');
    expect(errors[2]!.message).toBe('<set-status> is missing the required attribute "code"');
  });

  it('a policy in a section APIM forbids, and an expression where APIM forbids one', () => {
    const doc =
      '<policies>\n  <inbound>\n    <forward-request />\n    <set-variable name="@(&quot;n&quot;)" value="1" />\n  </inbound>\n  <backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error>\n</policies>';
    const errors = errorsOf(doc);
    expect(errors.map((e) => `${e.code}@${e.line}:${e.column}`)).toEqual(['policy/wrong-section@3:5', 'policy/expression-not-allowed@4:19']);
    expect(errors[0]!.hint).toBe('allowed sections: backend');
  });

  it('a policy apim-emulator does not execute is an explicit error, never a silent no-op', () => {
    const errors = errorsOf(
      '<policies><inbound><set-graphql-resolver /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>',
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('policy/unsupported');
    expect(errors[0]!.message).toBe('<set-graphql-resolver> is not supported by apim-emulator yet');
  });

  it('set-backend-service backend-id must name a defined backend when backends are given', () => {
    const backends = [{ name: 'b1', properties: { url: 'http://127.0.0.1:9', protocol: 'http' } }];
    const errors = errorsOf(
      '<policies>\n<inbound><set-backend-service backend-id="b2" /></inbound><backend><forward-request /></backend><outbound /><on-error /></policies>',
      { backends: [backends] },
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('policy/unknown-backend');
    expect(at(errors[0]!)).toBe('api.xml:2:31');
    expect(errors[0]!.hint).toContain('b1');
  });

  it('a C# syntax error points at the token inside the file', () => {
    const doc =
      '<policies>\n  <inbound>\n    <set-variable name="v" value="@(1 + )" />\n  </inbound>\n  <backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error>\n</policies>';
    const errors = errorsOf(doc);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.line).toBe(3);
    // the unexpected `)` after `1 + ` is at column 41.
    expect(errors[0]!.column).toBe(41);
    expect(errors[0]!.code).toMatch(/^expr\//);
  });
});

/**
 * The audit list in docs/expressions.md ("Context members and extension methods") is Microsoft's "API Management
 * policy expressions" page (context variable table, IMessageBody, IUrl, the helper extension methods) member by member.
 * This test walks that list: each expression must compile against the library, so the document cannot claim a member
 * the emulator lacks. Behaviour of the newer members is asserted below.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile, makeContext, run } from './helpers.js';

const doc = readFileSync(new URL('../../docs/expressions.md', import.meta.url), 'utf8');
const section = doc.split('## Context members and extension methods')[1]?.split('\n## ')[0] ?? '';
const rows = [...section.matchAll(/^\| `([^`]+)` \| ([^|]+) \|$/gm)].map((m) => ({ expr: m[1]!, note: m[2]!.trim() }));

describe('the audit list of docs/expressions.md compiles member by member', () => {
  it('lists the page: context, its members, IUrl, IMessageBody.As<T> targets and the helper methods', () => {
    expect(section).toMatch(/Source:[\s\S]*api-management-policy-expressions/);
    expect(rows.length).toBeGreaterThanOrEqual(120);
    for (const must of [
      'context.Deployment.Certificates',
      'context.Request.Body.As<XDocument>(preserveContent: true)',
      '"a".AsJwt().Claims',
      'context.Trace("message")',
    ]) {
      expect(rows.map((r) => r.expr)).toContain(must);
    }
  });
  it.each(rows.map((r) => [r.expr, r.note]))('%s (%s)', (expr) => {
    const text = expr.startsWith('context.Trace(') ? `@{ ${expr}; return 1; }` : `@{ var x = ${expr}; return x; }`;
    const { expr: compiled, errors } = compile(text);
    expect(errors).toEqual([]);
    expect(compiled).not.toBeNull();
  });
});

describe('members added by the audit', () => {
  it('Deployment.Certificates is an empty dictionary; PrivateEndpointConnection is null', () => {
    expect(run('@(context.Deployment.Certificates.Count)')).toBe(0);
    expect(run('@(context.Request.PrivateEndpointConnection?.Name ?? "none")')).toBe('none');
  });
  it('VerifyNoRevocation on the (null) client certificate throws NullReferenceException', () => {
    expect(() => run('@(context.Request.Certificate.VerifyNoRevocation())')).toThrow(/Object reference not set/);
  });
  it('Encrypt/Decrypt with SymmetricAlgorithm.Create("Aes") round-trip with its own Key and IV', () => {
    expect(
      run(
        '@{ var a = SymmetricAlgorithm.Create("Aes"); var c = Encoding.UTF8.GetBytes("secret").Encrypt(a); return Encoding.UTF8.GetString(c.Decrypt(a)) + a.Key.Length + a.IV.Length; }',
      ),
    ).toBe('secret3216');
    expect(
      run(
        '@{ var a = SymmetricAlgorithm.Create("Aes"); byte[] k = new byte[16]; byte[] iv = new byte[16]; return Convert.ToBase64String(Encoding.UTF8.GetBytes("x").Encrypt(a, k, iv)) == Convert.ToBase64String(Encoding.UTF8.GetBytes("x").Encrypt("Aes", k, iv)); }',
      ),
    ).toBe(true);
  });
  // .NET FormUrlEncodedContent: Uri.EscapeDataString per key and value, %20 written as '+', pairs joined by '&'
  it.each([
    ['@(context.Request.Body.AsFormUrlEncodedContent().ToFormUrlEncodedContent())', 'a=1&a=2&b=x+y&c=%2Fz'],
    ['@(new Dictionary<string, string> { { "q", "a b&c" }, { "é", "~ok*" } }.ToFormUrlEncodedContent())', 'q=a+b%26c&%C3%A9=~ok%2A'],
    ['@(new List<KeyValuePair<string, string>> { new KeyValuePair<string, string>("k", "v") }.ToFormUrlEncodedContent())', 'k=v'],
  ])('%s → %s', (text, expected) => {
    expect(run(text, makeContext({ body: 'a=1&b=x+y&a=2&c=%2Fz' }))).toBe(expected);
  });
});

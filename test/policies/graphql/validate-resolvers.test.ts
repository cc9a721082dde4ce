import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runValidate } from '../../../src/cli/validate.js';

/** Plain `validate DIR` recognises GraphQL resolver documents and checks them as resolvers, not as <policies>. */
let dir = '';
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'apim-resolvers-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const write = (rel: string, text: string) => {
  mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  writeFileSync(path.join(dir, rel), text);
};

describe('validate DIR with resolver documents', () => {
  it('a valid resolver gives one note; a broken one its errors at its own file and line', () => {
    write(
      'resolvers/users.xml',
      '<http-data-source>\n  <http-request>\n    <set-method>GET</set-method>\n    <set-url>@($"https://data.example/users/{context.GraphQL.Arguments["id"]}")</set-url>\n  </http-request>\n</http-data-source>',
    );
    write(
      'resolvers/broken.xml',
      '<http-data-source>\n  <http-request>\n    <set-url>https://data.example/x</set-url>\n  </http-request>\n  <http-response><set-status code="200" /></http-response>\n</http-data-source>',
    );
    const r = runValidate({ inputs: [dir], backends: [], namedValues: [], scope: 'api', backendParameters: {} });
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.every((d) => d.file?.endsWith('resolvers/broken.xml'))).toBe(true);
    expect(errors.map((d) => `${d.code}@${d.line}`).sort()).toEqual(['policy/element-not-allowed@5', 'policy/missing-element@2']);
    expect(r.diagnostics.filter((d) => d.code === 'input/resolver-alone')).toHaveLength(2);
    // Nothing is reported about the internal host document, and no bad-root error for either file.
    expect(r.diagnostics.some((d) => d.code === 'policy/bad-root' || d.code === 'policy/bad-graphql-schema')).toBe(false);
    expect(r.exitCode).toBe(1);
  });
});

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runValidate } from '../../../src/cli/validate.js';

/** Plain `validate DIR` uses the fragments found in the folders it walks, by id: `<id>.xml` and APIOps `policy fragments/<id>/policy.xml`. */
let dir = '';
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'apim-frag-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const write = (rel: string, text: string) => {
  mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  writeFileSync(path.join(dir, rel), text);
};
const validate = () => runValidate({ inputs: [dir], backends: [], namedValues: [], scope: 'api', backendParameters: {} });

describe('validate DIR with fragments', () => {
  it('an APIOps-layout fragment (no information file, so not a whole tree) is known by its folder name', () => {
    write(
      'policy fragments/cors-common/policy.xml',
      '<fragment>\n  <set-header name="x-frag" exists-action="override"><value>1</value></set-header>\n</fragment>',
    );
    write(
      'apis/orders/policy.xml',
      '<policies>\n  <inbound><include-fragment fragment-id="cors-common" /></inbound>\n  <backend><base /></backend>\n  <outbound /><on-error />\n</policies>',
    );
    const r = validate();
    expect(r.diagnostics.filter((d) => d.severity !== 'info')).toEqual([]);
    expect(r.exitCode).toBe(0);
    expect(r.files.some((f) => f.endsWith(path.join('policy fragments', 'cors-common', 'policy.xml')))).toBe(true);
  });

  it("with fragments found, an id that none of them has is an error at the include, and a fragment's own mistake is reported in its file", () => {
    write('policy fragments/good/policy.xml', '<fragment>\n  <set-header name="x" exists-action="sometimes"><value>1</value></set-header>\n</fragment>');
    write('plain-frag.xml', '<fragment><set-variable name="v" value="1" /></fragment>');
    write(
      'apis/orders/policy.xml',
      '<policies>\n  <inbound>\n    <include-fragment fragment-id="good" />\n    <include-fragment fragment-id="plain-frag" />\n    <include-fragment fragment-id="missing" />\n  </inbound>\n  <backend><base /></backend>\n  <outbound /><on-error />\n</policies>',
    );
    const r = validate();
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    const unknown = errors.find((d) => d.code === 'policy/unknown-fragment');
    expect(unknown).toMatchObject({ line: 5 });
    expect(unknown!.message).toContain('missing');
    expect(unknown!.file).toContain(path.join('apis', 'orders', 'policy.xml'));
    // "good" and "plain-frag" were found, so only "missing" is unknown; good's bad exists-action is reported in its own file.
    expect(errors.filter((d) => d.code === 'policy/unknown-fragment')).toHaveLength(1);
    const bad = errors.find((d) => d.code === 'policy/bad-attribute-value');
    expect(bad?.file).toContain(path.join('policy fragments', 'good', 'policy.xml'));
    expect(r.exitCode).toBe(1);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';

/** An API's `specification` in the config file is read next to its policy (for validate-content & co.). */
const dir = mkdtempSync(path.join(tmpdir(), 'apim-spec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('config apis[].specification', () => {
  it('reads the file into the API definition; a missing file is a diagnostic at its JSON path', () => {
    writeFileSync(path.join(dir, 'openapi.yaml'), 'openapi: 3.0.1\npaths: {}\n');
    writeFileSync(path.join(dir, 'ok.json'), JSON.stringify({ apis: [{ id: 'a', path: 'a', specification: 'openapi.yaml' }] }));
    const ok = loadConfig(path.join(dir, 'ok.json'));
    expect(ok.diagnostics).toEqual([]);
    expect(ok.definition!.apis[0]!.specification!.text).toBe('openapi: 3.0.1\npaths: {}\n');
    writeFileSync(path.join(dir, 'missing.json'), JSON.stringify({ apis: [{ id: 'a', path: 'a', specification: 'nope.yaml' }] }));
    const missing = loadConfig(path.join(dir, 'missing.json'));
    expect(missing.diagnostics.map((d) => d.jsonPath)).toContain('$.apis[0].specification');
  });
});

import { describe, expect, it } from 'vitest';
import { mockScriptFromJson, parseMockScript } from '../../src/mocks/index.js';
import { MOCK_SCRIPT_LIMITS } from '../../src/mocks/script.js';

/** Hostile mock scripts: refused with one positioned diagnostic, before any per-step work. */
describe('mock script limits', () => {
  it('a text script over the size limit is one mock/too-large at the limit', () => {
    const r = parseMockScript('200; '.repeat(250_000), 'PUT /_emulator/mocks/m/script');
    expect(r.script).toBeUndefined();
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({
      code: 'mock/too-large',
      file: 'PUT /_emulator/mocks/m/script',
      line: 1,
      column: MOCK_SCRIPT_LIMITS.textChars + 1,
    });
    expect(parseMockScript('429x3 retry-after=7; 200').script).toBeDefined();
  });

  it('a JSON script with too many steps is refused at its steps array', () => {
    const r = mockScriptFromJson({ steps: Array.from({ length: MOCK_SCRIPT_LIMITS.steps + 1 }, () => ({ status: 200 })) }, 'config.json');
    expect(r.script).toBeUndefined();
    expect(r.diagnostics).toEqual([expect.objectContaining({ code: 'mock/too-large', file: 'config.json', jsonPath: '$.steps' })]);
    expect(mockScriptFromJson([{ status: 500, times: 1000 }]).script).toBeDefined();
  });
});

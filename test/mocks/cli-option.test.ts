import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseMockOption } from '../../src/mocks/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'mock-scripts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--mock BACKEND_ID=SCRIPT', () => {
  it('parses the text form and names the backend in diagnostics', () => {
    expect(parseMockOption('aoai-1=429x3 retry-after=7; 200')).toMatchObject({
      backendId: 'aoai-1',
      script: {
        steps: [
          { times: 3, status: 429, retryAfter: 7 },
          { times: 1, status: 200 },
        ],
      },
    });
    const bad = parseMockOption('aoai-1=429x3 retry=7');
    expect(bad.script).toBeUndefined();
    expect(bad.diagnostics[0]).toMatchObject({ file: '--mock aoai-1', line: 1, column: 7, code: 'mock/syntax' });
  });

  it('rejects a missing "=" or a bad backend id', () => {
    expect(parseMockOption('aoai-1').diagnostics[0]).toMatchObject({ code: 'mock/option', message: '"aoai-1" has no "="' });
    expect(parseMockOption('bad id=200').diagnostics[0]).toMatchObject({ code: 'mock/option', message: 'invalid backend id "bad id"', column: 7 });
  });

  it('reads @file scripts as JSON, YAML or text by extension, with positions', () => {
    writeFileSync(path.join(dir, 'ok.json'), JSON.stringify({ steps: [{ status: 500, times: 2 }, { aoai: true }] }));
    writeFileSync(path.join(dir, 'ok.yaml'), 'steps:\n  - status: 429\n    retryAfter: 3\n  - aoai: true\n');
    writeFileSync(path.join(dir, 'ok.txt'), '429x2\naoai\n');
    writeFileSync(path.join(dir, 'bad.json'), '{\n  "steps": [\n    { "status": 200, }\n  ]\n}');
    writeFileSync(path.join(dir, 'bad-schema.yaml'), 'steps:\n  - status: 42\n');
    expect(parseMockOption('a=@ok.json', dir).script!.steps).toEqual([
      { times: 2, status: 500 },
      { times: 1, aoai: {} },
    ]);
    expect(parseMockOption('a=@ok.yaml', dir).script!.steps).toEqual([
      { times: 1, status: 429, retryAfter: 3 },
      { times: 1, aoai: {} },
    ]);
    expect(parseMockOption('a=@ok.txt', dir).script!.steps).toEqual([
      { times: 2, status: 429 },
      { times: 1, aoai: {} },
    ]);
    expect(parseMockOption('a=@bad.json', dir).diagnostics[0]).toMatchObject({ code: 'mock/json', file: path.join(dir, 'bad.json'), line: 3, column: 22 });
    expect(parseMockOption('a=@bad-schema.yaml', dir).diagnostics[0]).toMatchObject({
      code: 'mock/schema',
      jsonPath: '$.steps[0].status',
      hint: 'allowed: 200-599',
    });
    expect(parseMockOption('a=@missing.json', dir).diagnostics[0]).toMatchObject({ code: 'mock/option', message: expect.stringContaining('ENOENT') });
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { INIT_FILES, runInit } from '../../src/cli/init.js';
import { startEmulator } from '../../src/cli/serve.js';
import { runValidate } from '../../src/cli/validate.js';
import { runScenarios } from '../../src/scenarios/index.js';

const root = mkdtempSync(path.join(tmpdir(), 'apim-init-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('apim-emulator init', () => {
  const dir = path.join(root, 'gateway');

  it('writes a folder that validates clean, whose scenario passes and that serves', async () => {
    const r = runInit(dir);
    expect(r.exitCode).toBe(0);
    expect(r.lines[0]).toBe(`wrote ${INIT_FILES.map(([f]) => f).join(', ')} in ${dir}`);
    for (const [rel, text] of INIT_FILES) expect(readFileSync(path.join(dir, rel), 'utf8')).toBe(text);

    const v = runValidate({ inputs: [dir], backends: [], namedValues: [], scope: 'api', backendParameters: {} });
    expect(v.diagnostics).toEqual([]);
    expect(v.exitCode).toBe(0);

    const t = await runScenarios([path.join(dir, 'scenarios')], { snapshots: 'off' });
    expect(t.diagnostics).toEqual([]);
    expect(t.counts).toEqual({ passed: 1, failed: 0, invalid: 0 });
    expect(t.exitCode).toBe(0);

    const errors: string[] = [];
    const running = await startEmulator(
      {
        config: path.join(dir, 'apim-emulator.json'),
        backends: [],
        apiPath: '',
        fragments: [],
        namedValues: [],
        namedValuesFiles: [],
        mocks: ['primary=429; aoai'],
        mockBackends: true,
        port: 0,
        logLevel: 'silent',
        params: {},
      },
      { out: () => undefined, err: (l) => errors.push(l) },
    );
    try {
      const chat = () =>
        fetch(`${running.url}/chat/deployments/gpt-4o/chat/completions?api-version=2024-10-21`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ messages: [{ role: 'user', content: 'Hello' }] }),
        });
      // The primary's 429 trips its breaker; the retry goes to the secondary, which answers as Azure OpenAI.
      const first = await chat();
      expect(first.status).toBe(200);
      expect(first.headers.get('x-mock-backend')).toBe('secondary');
      expect(((await first.json()) as { object: string }).object).toBe('chat.completion');
    } finally {
      await running.close();
    }
    expect(errors).toEqual([]);
  });

  it('never overwrites: existing starter files make it exit 2 and write nothing, unless --force', () => {
    const other = path.join(root, 'existing');
    runInit(other);
    writeFileSync(path.join(other, 'backends.json'), 'mine');
    const again = runInit(other);
    expect(again.exitCode).toBe(2);
    expect(again.lines).toEqual([
      expect.stringMatching(
        /^error: apim-emulator\.json, policies\/chat-api\.xml, backends\.json, scenarios\/failover\.scenario\.yaml already exist in .*; nothing was written \(use --force to overwrite\)$/,
      ),
    ]);
    expect(readFileSync(path.join(other, 'backends.json'), 'utf8')).toBe('mine');
    expect(runInit(other, true).exitCode).toBe(0);
    expect(readFileSync(path.join(other, 'backends.json'), 'utf8')).toBe(INIT_FILES.find(([f]) => f === 'backends.json')![1]);
  });
});

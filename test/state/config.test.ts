import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { formatDiagnosticLine } from '../../src/diagnostics/diagnostic.js';

/** The config file's `state` object (docs/configuration.md, "Shared state"): read as given, bad values positioned. */
const dir = mkdtempSync(path.join(os.tmpdir(), 'apim-state-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function load(state: unknown): ReturnType<typeof loadConfig> {
  const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, `{\n  "apis": [{ "id": "a", "path": "a", "subscriptionRequired": false }],\n  "state": ${JSON.stringify(state)}\n}\n`);
  return loadConfig(file);
}

describe('config state', () => {
  it('reads redis, failMode and shareBreakers', () => {
    const r = load({ redis: 'redis://127.0.0.1:6380/2', failMode: 'closed', shareBreakers: true });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.state).toEqual({ redis: 'redis://127.0.0.1:6380/2', failMode: 'closed', shareBreakers: true });
  });

  it('a URL that is not a Redis URL, an unknown fail mode and an unknown key are errors at their line:column', () => {
    const lines = load({ redis: 'http://localhost:6379', failMode: 'sometimes', sharedCounters: true }).diagnostics.map((d) =>
      formatDiagnosticLine(d).replace(/^.*?\.json/, 'c.json'),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^c\.json:3:21 \$\.state\.redis: error config\/schema: "http:\/\/localhost:6379" has the wrong form \(redis:\/\/HOST:PORT/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^c\.json:3:\d+ \$\.state\.failMode: error config\/schema: "sometimes" is not allowed \(allowed: open, closed\)/),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^c\.json:3:\d+ \$\.state.*sharedCounters/));
  });
});

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/cli/serve.js';
import type { ServeOptions } from '../../src/cli/serve.js';

/** `serve --virtual-clock [advance|wait]`: the clock the admin endpoint reports and moves. In process (no child). */
const EXAMPLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../policies/example/apim-emulator.json');

function options(virtualClock: ServeOptions['virtualClock']): ServeOptions {
  return {
    config: EXAMPLE,
    backends: [],
    apiPath: '',
    fragments: [],
    namedValues: [],
    namedValuesFiles: [],
    mocks: [],
    mockBackends: true,
    port: 0,
    logLevel: 'silent',
    params: {},
    ...(virtualClock !== undefined ? { virtualClock } : {}),
  };
}

async function clockOf(url: string): Promise<{ virtual: boolean; sleepMode?: string; epochMs: number }> {
  return (await (await fetch(`${url}/_emulator/clock`)).json()) as { virtual: boolean; sleepMode?: string; epochMs: number };
}

describe('serve --virtual-clock', () => {
  it.each([
    [true, 'advance'],
    ['wait', 'wait'],
  ] as const)('virtualClock=%s gives a virtual clock whose in-flow waits %s', async (mode, expected) => {
    const lines: string[] = [];
    const emu = await startEmulator(options(mode), { out: (l) => lines.push(l), err: (l) => lines.push(l) });
    try {
      const c = await clockOf(emu.url);
      expect(c.virtual).toBe(true);
      expect(c.sleepMode).toBe(expected);
      const moved = (await (
        await fetch(`${emu.url}/_emulator/clock`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ advanceMs: 60_000 }),
        })
      ).json()) as { epochMs: number };
      expect(moved.epochMs - c.epochMs).toBe(60_000);
    } finally {
      await emu.close();
    }
  });

  it('without it the system clock cannot be moved (409)', async () => {
    const emu = await startEmulator(options(undefined), { out: () => undefined, err: () => undefined });
    try {
      expect((await clockOf(emu.url)).virtual).toBe(false);
      const r = await fetch(`${emu.url}/_emulator/clock`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ advanceMs: 1 }),
      });
      expect(r.status).toBe(409);
    } finally {
      await emu.close();
    }
  });
});

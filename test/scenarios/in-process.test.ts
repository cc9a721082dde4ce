import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenarioFile, runScenarios } from '../../src/scenarios/index.js';

/**
 * `apim-emulator test` calls the mock backends in-process by default: no socket is opened, and virtual time moves
 * exactly when every request in flight waits on the clock, so the same scenario gives the same timeline every run.
 */

const EXAMPLES = path.resolve(__dirname, '../../examples/scenarios');

/** Counts socket connects and server listens in this process while `fn` runs. */
async function countingSockets<T>(fn: () => Promise<T>): Promise<{ result: T; connects: number; listens: number }> {
  const connect = net.Socket.prototype.connect;
  const listen = http.Server.prototype.listen;
  let connects = 0;
  let listens = 0;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    connects++;
    return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof connect;
  http.Server.prototype.listen = function (this: http.Server, ...args: unknown[]) {
    listens++;
    return (listen as (...a: unknown[]) => http.Server).apply(this, args);
  } as typeof listen;
  try {
    return { result: await fn(), connects, listens };
  } finally {
    net.Socket.prototype.connect = connect;
    http.Server.prototype.listen = listen;
  }
}

describe('scenarios in-process (the default of apim-emulator test)', () => {
  it('runs examples/scenarios with no socket opened, every scenario passing its snapshot', async () => {
    const { result, connects, listens } = await countingSockets(() => runScenarios([EXAMPLES], { snapshots: 'ci' }));
    expect(result.results.length).toBeGreaterThanOrEqual(5);
    expect(result.results.map((r) => [r.name, r.status])).toEqual(result.results.map((r) => [r.name, 'passed']));
    expect(connects).toBe(0);
    expect(listens).toBe(0);
  });

  it('the counting itself sees a real socket (so the zero above means something)', async () => {
    const { result, connects, listens } = await countingSockets(() =>
      runScenarioFile(path.join(EXAMPLES, 'retry-reselection.scenario.yaml'), { snapshots: 'ci', realSockets: true }),
    );
    expect(result.status).toBe('passed');
    expect(listens).toBeGreaterThan(0);
    expect(connects).toBeGreaterThan(0);
  });

  it.each(['retry-reselection', 'concurrent-trip'])('gives identical timelines on 20 repeated runs: %s', async (name) => {
    const file = path.join(EXAMPLES, `${name}.scenario.yaml`);
    const timelines = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const r = await runScenarioFile(file, { snapshots: 'off' });
      expect(r.status).toBe('passed');
      timelines.add(r.timeline ?? '');
    }
    expect(timelines.size).toBe(1);
    expect([...timelines][0]).toMatch(/\+\d\d:\d\d:\d\d\.\d{3}/);
  });
});

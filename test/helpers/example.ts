import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { VirtualClock } from '../../src/clock.js';
import { buildGateway, loadConfig, prepareDefinition } from '../../src/config/load.js';
import { attachMocks } from '../../src/config/mocks.js';
import { formatDiagnosticLine } from '../../src/diagnostics/diagnostic.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import type { MockBackendSet, MockScript } from '../../src/mocks/index.js';
import { UndiciUpstream } from '../../src/server/undici-upstream.js';
import { startServer, type RunningServer } from '../../src/server/index.js';

/** The bundled example's config (what `npm start` serves). */
export const EXAMPLE_CONFIG = fileURLToPath(new URL('../../policies/example/apim-emulator.json', import.meta.url));

export interface ServedExample {
  server: RunningServer;
  mocks: MockBackendSet;
  gateway: Gateway;
  close(): Promise<void>;
}

/**
 * Serves the bundled example over real HTTP on 127.0.0.1, as `npm start` does: every backend gets the built-in mock
 * Azure OpenAI (or the given script), on the given clock. Asserts the example loads and compiles with no error.
 */
export async function serveExample(clock: VirtualClock, scripts: ReadonlyMap<string, MockScript> = new Map()): Promise<ServedExample> {
  const loaded = loadConfig(EXAMPLE_CONFIG);
  expect(loaded.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnosticLine)).toEqual([]);
  const prepared = prepareDefinition(loaded.definition!);
  const attached = await attachMocks(prepared.definition, prepared.backends, new Map(scripts), true, clock);
  const built = buildGateway({ ...prepared, definition: attached.definition }, { clock, upstream: new UndiciUpstream(clock) });
  expect(built.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnosticLine)).toEqual([]);
  const gateway = built.gateway!;
  const server = await startServer({ gateway, clock, mocks: attached.mocks, logger: false });
  return {
    server,
    mocks: attached.mocks,
    gateway,
    async close() {
      await server.close();
      await attached.mocks.closeAll();
    },
  };
}

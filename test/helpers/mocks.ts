import { parseMockScript } from '../../src/mocks/index.js';
import type { MockBackend, MockScript } from '../../src/mocks/index.js';

/** A mock script from its text form; a test with a bad script fails with the parser's messages. */
export function script(text: string): MockScript {
  const r = parseMockScript(text);
  if (!r.script) throw new Error(r.diagnostics.map((d) => d.message).join('; '));
  return r.script;
}

/** Mock backends registered with `track()` are closed by `closeAll()` (call it in afterEach). */
export function mockTracker(): { track: (b: MockBackend) => MockBackend; closeAll: () => Promise<void> } {
  const started: MockBackend[] = [];
  return {
    track: (b) => {
      started.push(b);
      return b;
    },
    closeAll: async () => {
      await Promise.all(started.splice(0).map((b) => b.close()));
    },
  };
}

import path from 'node:path';
import type { BackendDefinition } from '../backends/index.js';
import { VirtualClock, type VirtualSleepMode } from '../clock.js';
import { buildGateway, checkMockTargets, loadConfig, prepareDefinition, DEFAULT_SERVICE, type MockRequest } from '../config/load.js';
import { readSource } from '../config/files.js';
import { attachMocks } from '../config/mocks.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { UpstreamError, type Upstream, type UpstreamRequest, type UpstreamResponse } from '../engine/upstream.js';
import { UndiciUpstream } from '../server/undici-upstream.js';
import { InProcessUpstream } from '../mocks/in-process.js';
import type { GatewayDefinition } from '../gateway/definition.js';
import type { Gateway } from '../gateway/gateway.js';
import { AZURE_OPENAI_MOCK, type MockBackendSet, type MockScript } from '../mocks/index.js';
import type { Scenario } from './types.js';

/** Everything one scenario runs against: a fresh gateway on its own virtual clock, with its mock backends. */
export interface ScenarioEnvironment {
  gateway: Gateway;
  clock: ScenarioClock;
  mocks: MockBackendSet;
  /** The definition the gateway was built from (placeholders substituted, backend urls pointing at the mocks). */
  definition: GatewayDefinition;
  backends: BackendDefinition[];
  /** The mocks are called in-process (no sockets); false with realSockets. */
  inProcess: boolean;
  close(): Promise<void>;
}

/** Why an environment could not be built: `invalid` = the scenario file is wrong (exit 2); `load` = the files under test are. */
export type EnvironmentFailure = { kind: 'invalid' | 'load'; diagnostics: Diagnostic[] };

/**
 * Builds the environment the way `serve` does (config loader, lab placeholders, mocks attached by rewriting backend
 * urls), with a ScenarioClock (waits park in-process, move the clock themselves over real sockets) and an upstream
 * that reaches only the mocks, so a scenario never reaches the network. Backends without a script get the built-in Azure OpenAI mock (`unmockedBackends: aoai`, the
 * default) or make the scenario invalid (`unmockedBackends: error`). Such scenario mistakes come back as `problems`
 * next to a usable environment, so they are reported together with the rest.
 */
export async function createEnvironment(
  s: Scenario,
  o: { realSockets?: boolean } = {},
): Promise<{ env: ScenarioEnvironment; problems: Diagnostic[] } | { failure: EnvironmentFailure }> {
  const diagnostics: Diagnostic[] = [];
  let definition: GatewayDefinition | null;
  const mocks = new Map<string, MockRequest>();
  const target = s.target;
  if (target.kind === 'config') {
    const loaded = loadConfig(target.path);
    // The config file itself missing is the scenario's mistake: point at the scenario's "config".
    const io = loaded.diagnostics.filter((d) => d.severity === 'error' && d.code.startsWith('io/') && d.file === loaded.files[0]);
    if (io.length) return { failure: { kind: 'invalid', diagnostics: io.map((d) => ({ ...d, ...target.loc })) } };
    diagnostics.push(...loaded.diagnostics);
    definition = loaded.definition;
    for (const [id, m] of loaded.mocks) mocks.set(id, m);
  } else {
    definition = definitionFromFiles(s, diagnostics);
  }
  for (const [id, m] of s.mocks) mocks.set(id, { script: m.script, origin: m.loc });
  if (!definition || diagnostics.some((d) => d.severity === 'error')) return { failure: { kind: failureKind(diagnostics), diagnostics } };

  const prepared = prepareDefinition(definition);
  const mockDiagnostics: Diagnostic[] = [];
  checkMockTargets(mocks, prepared.backends, mockDiagnostics);
  // Backends whose script a step changes must have a mock from the start (it answers like Azure OpenAI until then).
  const scripted = new Map<string, MockScript>([...mocks].map(([id, m]) => [id, m.script]));
  for (const step of s.steps) {
    if (step.kind !== 'script') continue;
    for (const x of step.scripts) {
      if (!scripted.has(x.backendId)) scripted.set(x.backendId, AZURE_OPENAI_MOCK);
      if (!mocks.has(x.backendId)) checkMockTargets(new Map([[x.backendId, { script: x.script, origin: x.loc }]]), prepared.backends, mockDiagnostics);
    }
  }
  if (s.unmockedBackends === 'error') {
    const missing = prepared.backends.filter((b) => b.type === 'Single' && b.url && !scripted.has(b.id)).map((b) => b.id);
    if (missing.length) {
      mockDiagnostics.push({
        severity: 'error',
        code: 'scenario/unmocked-backend',
        message: `backend${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ha${missing.length > 1 ? 've' : 's'} no mock script`,
        hint: 'give each a script under "mocks", or set unmockedBackends: aoai to answer like Azure OpenAI',
        ...s.unmockedLoc,
      });
    }
  }
  // Mock problems make the scenario invalid, but the gateway is still built (without those mocks) so the runner can
  // check the rest of the file against it and report everything at once.
  const singles = new Set(prepared.backends.filter((b) => b.type === 'Single').map((b) => b.id));
  for (const id of [...scripted.keys()]) if (!singles.has(id)) scripted.delete(id);

  const inProcess = !o.realSockets;
  // In-process the runner sees when every request in flight waits on the clock, so waits (mock latency, retry
  // intervals) park until it moves time to the earliest of them: concurrent requests wait side by side, not one
  // after the other. Over real sockets it cannot see that, so a wait moves the clock by itself (`advance`).
  const clock = new ScenarioClock(s.start, inProcess ? 'wait' : 'advance');
  const attached = await attachMocks(prepared.definition, prepared.backends, scripted, s.unmockedBackends === 'aoai', clock, '127.0.0.1', { inProcess });
  const upstream: Upstream = inProcess ? new InProcessUpstream(clock, attached.mocks) : new LoopbackOnlyUpstream(new UndiciUpstream(clock));
  if (attached.diagnostics.some((d) => d.severity === 'error')) {
    await attached.mocks.closeAll();
    await upstream.close();
    return { failure: { kind: 'load', diagnostics: attached.diagnostics } };
  }
  const built = buildGateway({ ...prepared, definition: attached.definition }, { clock, upstream });
  if (!built.gateway) {
    await attached.mocks.closeAll();
    await upstream.close();
    return { failure: { kind: 'load', diagnostics: built.diagnostics } };
  }
  const gateway = built.gateway;
  const mockSet = attached.mocks;
  return {
    problems: mockDiagnostics,
    env: {
      gateway,
      clock,
      mocks: mockSet,
      definition: attached.definition,
      backends: prepared.backends,
      inProcess,
      async close() {
        await gateway.close();
        await mockSet.closeAll();
      },
    },
  };
}

/** An unreadable file the scenario names is the scenario's mistake (exit 2); anything else is about the files under test. */
function failureKind(diagnostics: Diagnostic[]): 'invalid' | 'load' {
  return diagnostics.some((d) => d.severity === 'error' && d.code.startsWith('io/')) ? 'invalid' : 'load';
}

function definitionFromFiles(s: Scenario, diagnostics: Diagnostic[]): GatewayDefinition | null {
  if (s.target.kind !== 'files') return null;
  const t = s.target;
  const read = (f: { path: string; loc: Scenario['steps'][number]['loc'] }) => readSource(f.path, diagnostics, f.loc) ?? undefined;
  const policy = t.policy ? read(t.policy) : undefined;
  const globalPolicy = t.globalPolicy ? read(t.globalPolicy) : undefined;
  const fragments: GatewayDefinition['fragments'] = [];
  for (const f of t.fragments) {
    const src = read(f);
    if (src) fragments.push({ id: f.id, source: src });
  }
  const backendFiles: GatewayDefinition['backendFiles'] = [];
  for (const b of t.backends) {
    const src = read(b);
    if (src) backendFiles.push({ file: src.file, text: src.text });
  }
  const apiPath = t.api.path.replace(/^\/+|\/+$/g, '');
  return {
    service: { ...DEFAULT_SERVICE },
    ...(globalPolicy ? { globalPolicy } : {}),
    fragments,
    namedValues: Object.entries(t.namedValues).map(([name, value]) => ({ name, value, secret: false })),
    backendFiles,
    products: [],
    apis: [
      { id: t.api.id, name: apiPath || t.api.id, path: apiPath, serviceUrl: '', subscriptionRequired: false, ...(policy ? { policy } : {}), operations: [] },
    ],
    subscriptions: [],
  };
}

/**
 * The scenario's VirtualClock, which also knows the deadlines being waited for, so the runner can move
 * time to the next one when a request can make no other progress (a mock that hangs until a timeout).
 */
export class ScenarioClock extends VirtualClock {
  private readonly deadlines = new Map<number, number>();

  constructor(start: number, mode: VirtualSleepMode = 'advance') {
    super(start, mode);
  }

  override deadline(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms <= 0 || signal?.aborted) return super.deadline(ms, signal);
    const until = this.now() + ms;
    this.deadlines.set(until, (this.deadlines.get(until) ?? 0) + 1);
    const done = () => {
      const n = (this.deadlines.get(until) ?? 1) - 1;
      if (n <= 0) this.deadlines.delete(until);
      else this.deadlines.set(until, n);
    };
    const p = super.deadline(ms, signal);
    p.then(done, done);
    return p;
  }

  /** The earliest pending deadline (epoch ms), if any. */
  nextDeadline(): number | undefined {
    let min: number | undefined;
    for (const t of this.deadlines.keys()) if (min === undefined || t < min) min = t;
    return min;
  }
}

/**
 * Sends only to loopback addresses (the mocks). A backend a scenario did not mock (an API's service URL in a config
 * file, a url a policy builds) fails like an unreachable backend instead of reaching the network.
 */
export class LoopbackOnlyUpstream implements Upstream {
  constructor(private readonly inner: Upstream) {}

  send(req: UpstreamRequest): Promise<UpstreamResponse> {
    let host = '';
    try {
      host = new URL(req.url).hostname;
    } catch {
      // Not a URL: the inner upstream reports it.
    }
    if (host && host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') {
      return Promise.reject(
        new UpstreamError(
          'BackendConnectionFailure',
          `scenarios do not reach the network: ${req.url} is not a mock backend (give the backend a script under "mocks")`,
        ),
      );
    }
    return this.inner.send(req);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Display form of a path relative to a scenario's folder (for messages). */
export function relativeTo(scenarioPath: string, file: string): string {
  return path.relative(path.dirname(scenarioPath), file).split(path.sep).join('/');
}

import path from 'node:path';
import { pino } from 'pino';
import { LazyUpstream } from './lazy-upstream.js';
import type { BackendDefinition } from '../backends/index.js';
import type { Gateway } from '../gateway/gateway.js';
import type { GatewayDefinition } from '../gateway/definition.js';
import { loadApiopsConfig } from '../config/apiops.js';
import { rewriteBackendUrls } from '../config/mocks.js';
import { MockBackendSet } from '../mocks/index.js';
import { looksLikeOpenAi, SpecMockBackend } from '../mocks/spec.js';
import { describeChanges, ReloadQueue, type ReloadOutcome } from '../server/reload.js';
import type { RunningServer } from '../server/index.js';
import { InputWatcher, type WatchTarget } from './watch.js';
import { prettyDestination } from './log-format.js';
import { SystemClock, VirtualClock, type Clock, type VirtualSleepMode } from '../clock.js';
import { formatDiagnosticLine, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { NamedValue } from '../engine/services.js';
import { hasIoErrors } from '../config/files.js';
import {
  buildGateway,
  checkMockTargets,
  definitionFromOptions,
  loadConfig,
  overrideNamedValues,
  prepareDefinition,
  type LoadedConfig,
  type SimpleServeOptions,
} from '../config/load.js';
import { attachMocks } from '../config/mocks.js';
import { parseMockOption } from '../mocks/cli.js';
import { openStateStore } from '../state/index.js';
import { SecretMasker } from '../server/secrets.js';
import { GatewayTelemetry, MAX_INSTANCES, ServerStartError, startServer, type AdminOptions } from '../server/index.js';

/** `serve` options: the flags-only API description (used when there is no --config) plus how to run. */
export interface ServeOptions extends SimpleServeOptions {
  config?: string;
  /** An APIOps extractor output folder to serve (README "Run your APIOps repository"). */
  apiops?: string;
  /** APIOps `configuration.<env>.yaml` override file. */
  apiopsConfig?: string;
  /** With --apiops: every `--subscription-key` value (`KEY`, or `SUBSCRIPTION=KEY` for a subscription of the tree). */
  subscriptionKeys?: string[];
  /** Reload when an input file changes. */
  watch?: boolean;
  /** `--backend-url ID=URL`: backend ID goes to a real local service (breaker and pool membership kept). */
  backendUrls?: Array<{ id: string; url: string }>;
  /** Log lines as pino JSON (default when stderr is not a terminal) or human-readable. */
  logFormat?: 'pretty' | 'json';
  namedValues: NamedValue[];
  /** Raw `--mock BACKEND_ID=SCRIPT` arguments. */
  mocks: string[];
  mockBackends?: boolean;
  /** A virtual clock, and how a request's own waits behave on it (src/clock.ts VirtualSleepMode); true = 'advance'. */
  virtualClock?: boolean | VirtualSleepMode;
  debugToken?: string;
  host?: string;
  port?: number;
  logLevel?: string;
  traceLimit?: number;
  /** Circuit breaker events kept per instance for /_emulator/events (default 1000). */
  eventLimit?: number;
  /** Bounds of each mock backend's request log; each field overrides config `server.mockLog`. */
  mockLog?: { entries?: number; bodyBytes?: number };
  /** `--admin-host/--admin-port/--admin-token`: where and for whom the admin API is served (SECURITY.md). */
  admin?: AdminOptions;
  /** Simulated gateway instances (APIM scale units); default 1. */
  instances?: number;
  params: Record<string, unknown>;
  /** `redis://HOST:PORT`: rate-limit counters shared through Redis (src/state). */
  state?: string;
  /** With `state`: refuse throttled requests (503) instead of letting them through while Redis is down. */
  stateFailClosed?: boolean;
  /** `--state-fail-mode`: open or closed (wins over stateFailClosed and the config file's state.failMode). */
  stateFailMode?: 'open' | 'closed';
  /** `--share-breakers`: circuit breakers in the shared state too (workers' primary or Redis). */
  shareBreakers?: boolean;
}

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export interface RunningEmulator {
  url: string;
  /** Base URL of /_emulator (the gateway's URL unless --admin-port gives the admin API its own listener). */
  adminUrl: string;
  /** Re-reads and re-validates every input and swaps the gateway atomically; an input with errors keeps the old one. */
  reload(): Promise<ReloadOutcome>;
  /** Called after every reload (from --watch, POST /_emulator/reload, SIGHUP or reload()). */
  onReload(listener: (r: ReloadOutcome) => void): () => void;
  close(): Promise<void>;
}

/** A failure to start, already explained: one line for stderr and the exit code (2 usage/I-O, 1 invalid inputs). */
export class StartFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
    this.name = 'StartFailure';
  }
}

/** One compiled state of the inputs: what a reload swaps in. */
interface Compiled {
  /** The definition as read (before mocks and --backend-url), to tell what a reload changed. */
  definition: GatewayDefinition;
  gateways: Gateway[];
  specMock: SpecMockBackend | null;
  secrets: string[];
  files: string[];
  watchDirs: string[];
}

/**
 * Loads the configuration (file, APIOps folder or flags), starts the requested mock backends, compiles the gateway and
 * listens. Warnings go to stderr; the first error becomes a StartFailure with a one-line message. Reloads (--watch,
 * POST /_emulator/reload, SIGHUP) run the same steps and swap the result in (src/server/reload.ts).
 */
export async function startEmulator(o: ServeOptions, io: Output): Promise<RunningEmulator> {
  const settingsProbe = o.config ? loadConfig(o.config) : null;
  const settings = settingsProbe?.server ?? {};
  const instanceCount = o.instances ?? settings.instances ?? 1;
  if (!Number.isInteger(instanceCount) || instanceCount < 1 || instanceCount > MAX_INSTANCES)
    throw new StartFailure(`--instances must be a whole number from 1 to ${MAX_INSTANCES}, got ${instanceCount}`, 2);
  const virtual = o.virtualClock ?? settings.virtualClock ?? false;
  // Virtual time starts at the wall time and then moves only by POST /_emulator/clock and by the request's own waits
  // (retry intervals, mock latency), which advance it instantly; deadlines (timeouts) wait for it (docs/emulator-choices.md).
  const clock: Clock = virtual ? new VirtualClock(Date.now(), virtual === 'wait' ? 'wait' : 'advance') : new SystemClock();
  const host = o.host ?? settings.host ?? '127.0.0.1';
  const mocks = new MockBackendSet({ ...settings.mockLog, ...o.mockLog });
  // Policy log lines (trace, log-to-eventhub) and metrics reach the server's log and Prometheus through this.
  const telemetry = new GatewayTelemetry();
  const mockAll = o.mockBackends ?? settings.mockBackends ?? false;

  // Each instance has its own upstream connections (own pool, own cap), as each APIM unit does. The log line for a
  // timeout caused by the cap is bound once the logger exists.
  let capLog: ((info: { origin: string; cap: number; inFlight: number; timeoutMs: number }) => void) | undefined;
  // undici is imported once the server listens, not before: start-up is faster. A failure to load surfaces on the
  // first send, hence the ignored prefetch rejection.
  let pending: LazyUpstream[] | null = [];
  const prefetch = (u: LazyUpstream) => void u.prefetch().catch(() => undefined);
  const upstream = () => {
    const u = new LazyUpstream(async () => {
      const { UndiciUpstream } = await import('../server/undici-upstream.js');
      return new UndiciUpstream(clock, {
        wallClock: !virtual,
        ...(settings.upstreamConnections ? { connections: settings.upstreamConnections } : {}),
        onCapTimeout: (i) => capLog?.(i),
      });
    });
    if (pending) pending.push(u);
    else prefetch(u); // a reload: the server is listening already
    return u;
  };
  // Shared counters (Redis, or the primary of serve --workers): opened once, kept across reloads. The logger exists
  // later, hence the late binding of its log function.
  let logState: (level: 'warn' | 'info', message: string) => void = (_l, m) => io.err(m);
  // Flags win over the config file's `state` object (docs/configuration.md, "Shared state").
  const stateUrl = o.state ?? settingsProbe?.state?.redis;
  const failMode = o.stateFailMode ?? (o.stateFailClosed ? 'closed' : (settingsProbe?.state?.failMode ?? 'open'));
  const shareBreakers = o.shareBreakers ?? settingsProbe?.state?.shareBreakers ?? false;
  const sharedState = await openStateStore({ ...(stateUrl ? { url: stateUrl } : {}), failOpen: failMode === 'open', log: (l, m) => logState(l, m) }).catch(
    (e: unknown) => {
      throw new StartFailure((e as Error).message, 2);
    },
  );

  let live: Compiled | null = null;
  const compile = async (first: LoadedConfig | null): Promise<{ compiled: Compiled | null; diagnostics: Diagnostic[] }> => {
    const loaded = first ?? load(o);
    const diagnostics = [...loaded.diagnostics];
    for (const arg of o.mocks) {
      const r = parseMockOption(arg);
      diagnostics.push(...r.diagnostics);
      if (r.backendId && r.script) loaded.mocks.set(r.backendId, { script: r.script, origin: { file: '--mock', jsonPath: r.backendId } });
    }
    if (!loaded.definition || diagnostics.some((d) => d.severity === 'error')) return { compiled: null, diagnostics };
    const def = loaded.definition;
    if (o.namedValues.length) overrideNamedValues(def, o.namedValues);
    if (Object.keys(o.params).length) def.backendParameters = { ...def.backendParameters, ...o.params };
    const prepared = prepareDefinition(def);
    checkMockTargets(loaded.mocks, prepared.backends, diagnostics);
    const backendUrls = new Map([...(loaded.backendUrls ?? []), ...(o.backendUrls ?? []).map((b) => [b.id, b.url] as const)]);
    checkBackendUrls(backendUrls, prepared.backends, diagnostics);
    if (diagnostics.some((d) => d.severity === 'error')) return { compiled: null, diagnostics };

    let current = rewriteBackendUrls(prepared.definition, prepared.backends, backendUrls, 'backend-url');
    diagnostics.push(...current.diagnostics);
    // --mock-backends: Azure OpenAI backends get the Azure OpenAI mock; other backends and APIs the spec-following mock.
    const other = new Set(
      mockAll
        ? prepared.backends
            .filter((b) => b.type === 'Single' && b.url && !looksLikeOpenAi(b.url) && !backendUrls.has(b.id) && !loaded.mocks.has(b.id))
            .map((b) => b.id)
        : [],
    );
    const scripts = new Map([...loaded.mocks].map(([id, m]) => [id, m.script]));
    const attached = await attachMocks(current.definition, prepared.backends, scripts, mockAll, clock, host, {
      existing: mocks,
      except: new Set([...backendUrls.keys(), ...other]),
    });
    diagnostics.push(...attached.diagnostics);
    let definition = attached.definition;
    let specMock: SpecMockBackend | null = null;
    const mockedApis = mockAll
      ? definition.apis.filter((a) => a.serviceUrl && !looksLikeOpenAi(a.serviceUrl) && !/^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(a.serviceUrl))
      : [];
    if (other.size || mockedApis.length) {
      const ops = new Map(
        definition.apis.map((a) => [
          a.id,
          a.operations.map((op) => ({
            id: op.id,
            method: op.method,
            urlTemplate: op.urlTemplate,
            ...(loaded.examples?.get(a.id)?.get(op.id) ? { example: loaded.examples.get(a.id)!.get(op.id)! } : {}),
          })),
        ]),
      );
      specMock = await SpecMockBackend.start(ops, host);
      current = rewriteBackendUrls(
        definition,
        prepared.backends,
        new Map([...other].map((id) => [id, `${specMock!.url}/backends/${encodeURIComponent(id)}`])),
        'mock',
      );
      diagnostics.push(...current.diagnostics);
      const mockedIds = new Set(mockedApis.map((a) => a.id));
      definition = {
        ...current.definition,
        apis: current.definition.apis.map((a) => (mockedIds.has(a.id) ? { ...a, serviceUrl: `${specMock!.url}/apis/${encodeURIComponent(a.id)}` } : a)),
      };
    }
    // Subscription keys are credentials too: masked in logs, traces and admin answers like secret named values; both
    // are masked in the start-up and reload diagnostics (a secret can land in an invalid attribute).
    const secrets = [
      ...definition.namedValues.filter((n) => n.secret && n.value).map((n) => n.value),
      ...definition.subscriptions.flatMap((sub) => [sub.primaryKey, ...(sub.secondaryKey ? [sub.secondaryKey] : [])]),
    ];
    const masked = () => new SecretMasker(secrets).maskValue(diagnostics);
    const fail = async () => {
      await specMock?.close();
      return { compiled: null, diagnostics: masked() };
    };
    if (diagnostics.some((d) => d.severity === 'error')) return fail();
    const preparedDef = { ...prepared, definition };
    // Every instance compiles the same definition on its own, as every APIM scale unit does: own breakers, pool
    // positions, counters, caches and upstream connections; one clock, one set of mocks, one telemetry route.
    const gateways: Gateway[] = [];
    while (gateways.length < instanceCount) {
      // A reload keeps the counters of the state store (src/state) the gateway it replaces used.
      const previousState = live?.gateways[gateways.length]?.services.state;
      const state = previousState ?? sharedState;
      const built = buildGateway(preparedDef, {
        clock,
        upstream: upstream(),
        ...telemetry.deps,
        ...(state ? { state } : {}),
        ...(shareBreakers ? { shareBreakers } : {}),
      });
      // Same inputs, same diagnostics: report the first build's only.
      if (gateways.length === 0) diagnostics.push(...built.diagnostics);
      if (!built.gateway) {
        await Promise.all(gateways.map((g) => g.close()));
        if (gateways.length > 0)
          diagnostics.push({ severity: 'error', code: 'config/instance-build', message: `gateway instance ${gateways.length} did not compile` });
        return fail();
      }
      gateways.push(built.gateway);
    }
    return { compiled: { definition: def, gateways, specMock, secrets, files: loaded.files, watchDirs: loaded.watchDirs ?? [] }, diagnostics: masked() };
  };

  const start = await compile(settingsProbe);
  let compiled: Compiled;
  try {
    failOnErrors(start.diagnostics, io);
    compiled = start.compiled!;
    live = compiled;
  } catch (e) {
    await mocks.closeAll();
    await sharedState?.close();
    throw e;
  }

  const level = o.logLevel ?? settings.logLevel ?? 'info';
  // Asynchronous destination for JSON: log writes leave the request path (pino flushes what is buffered on exit).
  // Lines are gathered up to 4 KiB per write (one write per ~15 request lines under load, not one each; a write
  // costs more than the line) and flushed at least every 200 ms, so a quiet emulator's lines still show at once
  // (docs/performance.md, "Request path CPU, round 2").
  const pretty = (o.logFormat ?? (process.stderr.isTTY ? 'pretty' : 'json')) === 'pretty';
  const logger =
    level === 'silent'
      ? false
      : pino(
          { level, base: null },
          pretty ? prettyDestination((line) => process.stderr.write(line)) : pino.destination({ dest: 2, sync: false, minLength: 4096, periodicFlush: 200 }),
        );
  if (logger)
    capLog = (i) =>
      logger.warn(
        i,
        `a backend request timed out after queueing for a connection: ${i.inFlight} in flight to ${i.origin}, cap ${i.cap} per backend (server.upstreamConnections)`,
      );
  if (logger) logState = (l, m) => logger[l]({ state: sharedState?.kind }, m);
  // Sharing needs someone to share with: say so rather than ignore it (one process, no --state).
  if (shareBreakers && !sharedState?.shared)
    logState('warn', 'share-breakers: no shared state (no --state and no --workers): each gateway instance keeps its own circuit breakers');
  const debugToken = o.debugToken ?? settings.debugToken;
  const traceLimit = o.traceLimit ?? settings.traceLimit;
  const listeners = new Set<(r: ReloadOutcome) => void>();

  const reloadNow = async (): Promise<ReloadOutcome> => {
    const r = await compile(null);
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    let outcome: ReloadOutcome;
    if (!r.compiled || errors.length) {
      for (const d of r.diagnostics.filter((x) => x.severity !== 'info')) io.err(formatDiagnosticLine(d));
      outcome = {
        applied: false,
        changes: [],
        diagnostics: r.diagnostics,
        message: `reload rejected: ${errors.length} error(s) in the inputs; still serving the previous configuration`,
      };
      if (logger) logger.warn({ errors: errors.length, first: errors[0] ? formatDiagnosticLine(errors[0]) : undefined }, outcome.message);
      else io.err(outcome.message);
    } else {
      const next = r.compiled;
      const changes = describeChanges(compiled.definition, next.definition);
      // Runtime state carries over: breakers and pool positions of backends still there, policy counters and caches.
      next.gateways.forEach((g, i) => {
        const old = compiled.gateways[i]!;
        g.services.adoptState(old.services);
        if (g.backends && old.backends) g.backends.adoptState(old.backends);
      });
      server.swap(next.gateways);
      const oldSpec = compiled.specMock;
      compiled = next;
      live = next;
      void oldSpec?.close();
      outcome = { applied: true, changes, diagnostics: r.diagnostics, message: changes.length ? `reloaded: ${changes.join('; ')}` : 'reloaded: no changes' };
      if (logger) logger.info({ changes }, outcome.message);
      else io.err(outcome.message);
      if (watcher) watcher.update(watchTargets(next));
    }
    for (const l of listeners) l(outcome);
    return outcome;
  };
  const queue = new ReloadQueue(reloadNow);

  let server: RunningServer;
  try {
    server = await startServer({
      gateway: compiled.gateways.length === 1 ? compiled.gateways[0]! : compiled.gateways,
      clock,
      host,
      port: o.port ?? settings.port ?? 8080,
      mocks,
      logger,
      telemetry,
      ...(debugToken ? { debugToken } : {}),
      ...(traceLimit ? { traceLimit } : {}),
      ...(o.eventLimit ? { eventLimit: o.eventLimit } : {}),
      ...(o.admin ? { admin: o.admin } : {}),
      secrets: compiled.secrets,
      reload: () => queue.request(),
    });
  } catch (e) {
    await Promise.all(compiled.gateways.map((g) => g.close()));
    await compiled.specMock?.close();
    await mocks.closeAll();
    await sharedState?.close();
    if (e instanceof ServerStartError) throw new StartFailure(e.message, 2);
    throw e;
  }
  // Listening: load the upstreams now, while no request waits for them.
  for (const u of pending ?? []) prefetch(u);
  pending = null;
  const watcher = o.watch
    ? new InputWatcher(
        watchTargets(compiled),
        () => void queue.request(),
        (msg) => (logger ? logger.warn(msg) : io.err(msg)),
      )
    : null;
  return {
    url: server.url,
    adminUrl: server.adminUrl,
    reload: () => queue.request(),
    onReload: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    close: async () => {
      watcher?.close();
      await server.close();
      await compiled.specMock?.close();
      await mocks.closeAll();
      await sharedState?.close();
    },
  };
}

/** The inputs as `serve` was told to read them: config file, APIOps folder or flags. */
function load(o: ServeOptions): LoadedConfig {
  if (o.config) return loadConfig(o.config);
  if (o.apiops) {
    const r = loadApiopsConfig({
      dir: o.apiops,
      ...(o.apiopsConfig ? { configuration: o.apiopsConfig } : {}),
      givenNamedValues: o.namedValues.map((n) => n.name),
      subscriptionKeys: o.subscriptionKeys ?? (o.subscriptionKey !== undefined ? [o.subscriptionKey] : []),
    });
    r.watchDirs = [path.resolve(o.apiops)];
    return r;
  }
  return definitionFromOptions(o);
}

/** `--backend-url ID=URL` must name a single backend (a pool has no url; point its members instead). */
function checkBackendUrls(urls: Map<string, string>, backends: BackendDefinition[], diagnostics: Diagnostic[]): void {
  const byId = new Map(backends.map((b) => [b.id, b]));
  for (const [id, url] of urls) {
    const b = byId.get(id);
    const at = { file: '--backend-url', jsonPath: id };
    if (!/^https?:\/\/[^/]/i.test(url))
      diagnostics.push({
        severity: 'error',
        code: 'config/backend-url',
        message: `--backend-url ${id}=${url}: the url must be absolute http(s)`,
        hint: 'e.g. --backend-url backend1=http://127.0.0.1:3000',
        ...at,
      });
    else if (!b)
      diagnostics.push({
        severity: 'error',
        code: 'config/unknown-backend',
        message: `--backend-url names backend "${id}", which is not defined`,
        hint: byId.size ? `defined backends: ${[...byId.keys()].join(', ')}` : 'no backends are defined',
        ...at,
      });
    else if (b.type === 'Pool')
      diagnostics.push({
        severity: 'error',
        code: 'config/backend-url-pool',
        message: `"${id}" is a pool; point its member backends at local services instead`,
        hint: `members: ${(b.pool?.members ?? []).map((m) => m.backendId).join(', ')}`,
        ...at,
      });
  }
}

/** Files and folders a reload depends on. */
function watchTargets(c: Compiled): WatchTarget[] {
  const trees = c.watchDirs.map((d) => path.resolve(d));
  const inTree = (f: string) => trees.some((t) => f === t || f.startsWith(`${t}${path.sep}`));
  const dirs = new Set(c.files.map((f) => path.dirname(path.resolve(f))).filter((d) => !inTree(d)));
  return [...trees.map((dir) => ({ dir, recursive: true })), ...[...dirs].map((dir) => ({ dir, recursive: false }))];
}

/** Prints warnings; throws a StartFailure naming the first error (and how many more there are). */
function failOnErrors(diagnostics: Diagnostic[], io: Output): void {
  let infos = 0;
  for (const d of diagnostics.splice(0)) {
    if (d.severity === 'info') infos++;
    else if (d.severity !== 'error') io.err(formatDiagnosticLine(d));
    else diagnostics.push(d);
  }
  // Notes (an APIOps file the emulator does not need...) would drown the warnings: count them, validate lists them.
  if (infos) io.err(`${infos} note(s) about inputs not needed by the emulator; run apim-emulator validate to list them`);
  if (diagnostics.length === 0) return;
  // An unreadable file explains the other errors (and decides the exit code): name it first.
  diagnostics.sort((a, b) => Number(b.code.startsWith('io/')) - Number(a.code.startsWith('io/')));
  const first = oneLine(diagnostics[0]!);
  const more = diagnostics.length > 1 ? ` (and ${diagnostics.length - 1} more; run apim-emulator validate to see all)` : '';
  throw new StartFailure(`${first}${more}`, hasIoErrors(diagnostics) ? 2 : 1);
}

/** An unreadable file says so plainly (and where it was referenced); other problems use the diagnostic line. */
function oneLine(d: Diagnostic): string {
  if (!d.code.startsWith('io/')) return formatDiagnosticLine(d);
  const at =
    d.line !== undefined ? `${d.file}:${d.line}:${d.column ?? 1}${d.jsonPath ? ` ${d.jsonPath}` : ''}` : d.jsonPath?.startsWith('--') ? d.jsonPath : undefined;
  return at ? `${d.message} (referenced at ${at})` : d.message;
}

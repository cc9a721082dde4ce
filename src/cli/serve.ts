import { pino } from 'pino';
import { SystemClock, VirtualClock, type Clock, type VirtualSleepMode } from '../clock.js';
import { formatDiagnosticLine, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { NamedValue } from '../engine/services.js';
import { hasIoErrors } from '../config/files.js';
import { buildGateway, checkMockTargets, definitionFromOptions, loadConfig, overrideNamedValues, prepareDefinition, type LoadedConfig, type SimpleServeOptions } from '../config/load.js';
import { attachMocks } from '../config/mocks.js';
import { parseMockOption } from '../mocks/cli.js';
import type { MockBackendSet } from '../mocks/index.js';
import { openStateStore, type StateStore } from '../state/index.js';
import { GatewayTelemetry, MAX_INSTANCES, ServerStartError, startServer } from '../server/index.js';

/** `serve` options: the flags-only API description (used when there is no --config) plus how to run. */
export interface ServeOptions extends SimpleServeOptions {
  config?: string;
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
  /** Simulated gateway instances (APIM scale units); default 1. */
  instances?: number;
  params: Record<string, unknown>;
  /** `redis://HOST:PORT`: rate-limit counters shared through Redis (src/state). */
  state?: string;
  /** With `state`: refuse throttled requests (503) instead of letting them through while Redis is down. */
  stateFailClosed?: boolean;
}

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export interface RunningEmulator {
  url: string;
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

/**
 * Loads the configuration (file or flags), starts the requested mock backends, compiles the gateway and listens.
 * Warnings go to stderr; the first error becomes a StartFailure with a one-line message.
 */
export async function startEmulator(o: ServeOptions, io: Output): Promise<RunningEmulator> {
  const loaded: LoadedConfig = o.config
    ? loadConfig(o.config)
    : definitionFromOptions(o);
  const diagnostics = [...loaded.diagnostics];
  for (const arg of o.mocks) {
    const r = parseMockOption(arg);
    diagnostics.push(...r.diagnostics);
    if (r.backendId && r.script) loaded.mocks.set(r.backendId, { script: r.script, origin: { file: '--mock', jsonPath: r.backendId } });
  }
  failOnErrors(diagnostics, io);
  const def = loaded.definition!;
  if (o.namedValues.length) overrideNamedValues(def, o.namedValues);
  if (Object.keys(o.params).length) def.backendParameters = { ...def.backendParameters, ...o.params };

  const settings = loaded.server;
  const prepared = prepareDefinition(def);
  checkMockTargets(loaded.mocks, prepared.backends, diagnostics);
  failOnErrors(diagnostics, io);

  const instanceCount = o.instances ?? settings.instances ?? 1;
  if (!Number.isInteger(instanceCount) || instanceCount < 1 || instanceCount > MAX_INSTANCES) throw new StartFailure(`--instances must be a whole number from 1 to ${MAX_INSTANCES}, got ${instanceCount}`, 2);

  const virtual = o.virtualClock ?? settings.virtualClock ?? false;
  // Virtual time starts at the wall time and then moves only by POST /_emulator/clock and by the request's own waits
  // (retry intervals, mock latency), which advance it instantly; deadlines (timeouts) wait for it (docs/emulator-choices.md).
  const clock: Clock = virtual ? new VirtualClock(Date.now(), virtual === 'wait' ? 'wait' : 'advance') : new SystemClock();
  const host = o.host ?? settings.host ?? '127.0.0.1';
  const scripts = new Map([...loaded.mocks].map(([id, m]) => [id, m.script]));
  const attached = await attachMocks(prepared.definition, prepared.backends, scripts, o.mockBackends ?? settings.mockBackends ?? false, clock);
  const mocks: MockBackendSet = attached.mocks;
  let state: StateStore | undefined;
  try {
    failOnErrors(attached.diagnostics, io);
    // Policy log lines (trace, log-to-eventhub) and metrics reach the server's log and Prometheus through this.
    const telemetry = new GatewayTelemetry();
    const preparedDef = { ...prepared, definition: attached.definition };
    // Shared counters (Redis, or the primary of serve --workers); the logger exists later, hence the late binding.
    let logState: (level: 'warn' | 'info', message: string) => void = (_l, m) => io.err(m);
    state = await openStateStore({ ...(o.state ? { url: o.state } : {}), failOpen: !o.stateFailClosed, log: (l, m) => logState(l, m) }).catch((e: unknown) => {
      throw new StartFailure((e as Error).message, 2);
    });
    const built = buildGateway(preparedDef, { clock, ...telemetry.deps, ...(state ? { state } : {}) });
    failOnErrors(built.diagnostics, io);
    // Every instance compiles the same definition on its own, as every APIM scale unit does: own breakers, pool
    // positions, counters, caches and upstream connections; one clock, one set of mocks, one telemetry route.
    const gateways = [built.gateway!];
    while (gateways.length < instanceCount) {
      // Same inputs, same diagnostics: the first build already reported them.
      const again = buildGateway(preparedDef, { clock, ...telemetry.deps, ...(state ? { state } : {}) });
      if (!again.gateway) {
        failOnErrors(again.diagnostics.filter((x) => x.severity === 'error'), io);
        throw new StartFailure(`gateway instance ${gateways.length} did not compile`, 1);
      }
      gateways.push(again.gateway);
    }
    const level = o.logLevel ?? settings.logLevel ?? 'info';
    // Asynchronous destination: log writes leave the request path (pino flushes what is buffered on exit).
    const logger = level === 'silent' ? false : pino({ level, base: null }, pino.destination({ dest: 2, sync: false }));
    if (logger) logState = (l, m) => logger[l]({ state: state?.kind }, m);
    const secrets = attached.definition.namedValues.filter((n) => n.secret && n.value).map((n) => n.value);
    const debugToken = o.debugToken ?? settings.debugToken;
    const traceLimit = o.traceLimit ?? settings.traceLimit;
    const server = await startServer({
      gateway: gateways.length === 1 ? gateways[0]! : gateways,
      clock,
      host,
      port: o.port ?? settings.port ?? 8080,
      mocks,
      logger,
      telemetry,
      ...(debugToken ? { debugToken } : {}),
      ...(traceLimit ? { traceLimit } : {}),
      secrets,
    }).catch(async (e: unknown) => {
      await Promise.all(gateways.map((g) => g.close()));
      await state?.close();
      if (e instanceof ServerStartError) throw new StartFailure(e.message, 2);
      throw e;
    });
    return {
      url: server.url,
      close: async () => {
        await server.close();
        await state?.close();
        await mocks.closeAll();
      },
    };
  } catch (e) {
    await mocks.closeAll();
    await state?.close();
    throw e;
  }
}

/** Prints warnings; throws a StartFailure naming the first error (and how many more there are). */
function failOnErrors(diagnostics: Diagnostic[], io: Output): void {
  for (const d of diagnostics.splice(0)) {
    if (d.severity !== 'error') io.err(formatDiagnosticLine(d));
    else diagnostics.push(d);
  }
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
  const at = d.line !== undefined ? `${d.file}:${d.line}:${d.column ?? 1}${d.jsonPath ? ` ${d.jsonPath}` : ''}` : d.jsonPath?.startsWith('--') ? d.jsonPath : undefined;
  return at ? `${d.message} (referenced at ${at})` : d.message;
}

import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { VirtualSleepMode } from '../clock.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { DIAGNOSTIC_FORMATS, formatDiagnostics, type DiagnosticFormat } from '../diagnostics/format.js';
import type { NamedValue } from '../engine/services.js';
import type { Output, RunningEmulator } from './serve.js';
import { SCOPE_NAMES, type PolicyScopeName } from './scopes.js';
import { registerTestCommand } from './test-command.js';
import { ADMIN_TOKEN_ENV } from '../server/admin-security.js';

// Start-up cost: this file loads only commander and a few small modules; each command imports what it needs
// (the compiler for validate, Express for serve, the scenario runner for test) when it runs. `--help` stays fast
// (docs/performance.md, start-up).

/**
 * apim-emulator command line. Exit codes: 0 success, 1 invalid inputs (policy, backends or config errors),
 * 2 usage or I/O problems (bad option, missing or unreadable file, port in use), 3 internal error.
 */

const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string; homepage?: string };
const VERSION = PACKAGE.version;

const io: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** `NAME=VALUE` split at the first `=` (the same rule as config/named-values.ts splitAssignment, kept here so option parsing loads nothing). */
function splitAssignment(arg: string): { name: string; value: string } | { error: string } {
  const i = arg.indexOf('=');
  if (i <= 0) return { error: `expected NAME=VALUE, got "${arg}"` };
  return { name: arg.slice(0, i).trim(), value: arg.slice(i + 1) };
}

function assignment(flag: string) {
  return (value: string, previous: Array<{ name: string; value: string }>): Array<{ name: string; value: string }> => {
    const r = splitAssignment(value);
    if ('error' in r) throw new InvalidArgumentError(`${flag}: ${r.error}`);
    return [...previous, r];
  };
}

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError('a port is a whole number 0-65535 (0 picks a free port)');
  return n;
}

function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number ≥ 0');
  return Number(value);
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return n;
}

/** `--param x=3` gives the number 3, `--param x=[1,2]` an array, `--param x=abc` the string "abc" (JSON when it parses). */
function paramValues(list: Array<{ name: string; value: string }>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { name, value } of list) {
    try {
      out[name] = JSON.parse(value) as unknown;
    } catch {
      out[name] = value;
    }
  }
  return out;
}

function namedValues(list: Array<{ name: string; value: string }>): NamedValue[] {
  return list.map(({ name, value }) => ({ name, value, secret: false }));
}

export function buildProgram(): Command {
  const program = new Command('apim-emulator')
    .description(
      'Offline emulator of the Azure API Management gateway: runs APIM policy XML and backend definitions (pools, circuit breakers) locally and in CI.',
    )
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Exit codes:
  0  success (validate: no errors)
  1  invalid inputs: errors in policies, backends or the config file
  2  usage or I/O problem: unknown option, missing or unreadable file, port in use
  3  internal error (a bug: please report it)`,
    );

  program
    .command('validate')
    .description('Check policy documents, fragments, backend definitions and config files (detected by content).')
    .argument('[paths...]', 'files or folders (folders are walked for *.xml and *.json)')
    .option('--backends <file>', 'backend definitions to check policies against (repeatable)', collect, [])
    .option('--named-values <file>', 'named values JSON: {"name": "value" | {"value", "secret"}} (repeatable)', collect, [])
    .option('--named-value <name=value>', 'one named value (repeatable)', assignment('--named-value'), [])
    .option('--param <name=value>', 'ARM template parameter for backend files; JSON values allowed (repeatable)', assignment('--param'), [])
    .addOption(new Option('--format <format>', 'output format').choices(DIAGNOSTIC_FORMATS).default('text'))
    .addOption(new Option('--scope <scope>', 'scope policy documents are checked at').choices(SCOPE_NAMES).default('api'))
    .option('--max-warnings <n>', 'exit 1 when there are more than N warnings (CI gates; notes never count)', wholeNumber)
    .option('--strict', 'warnings fail the run like errors (same as --max-warnings 0)')
    .addHelpText(
      'after',
      `
Examples:
  $ apim-emulator validate policies/
  $ apim-emulator validate policy.xml --backends backends.json --named-values named-values.json
  $ apim-emulator validate --backends backends.json
  $ apim-emulator validate infra/apim --format sarif > apim.sarif
  $ apim-emulator validate ../shared/corpus/ai-gateway

Policies are compiled exactly as serve would (one API per document, at --scope), with the given backends, named
values and every fragment found among the inputs (fragment id = file name without .xml). Config files validate
everything they reference. AI-Gateway labs: without --backends a policy <lab>__x.xml is checked with the sibling
<lab>__backends.json, after substituting its policyPlaceholders (e.g. {backend-id}).

Exit codes: 0 no errors, 1 errors in the inputs (or more warnings than --max-warnings allows), 2 usage or I/O
problems (missing or unreadable file, no files to validate, a .bicep file).`,
    )
    .action(
      async (
        paths: string[],
        opts: {
          backends: string[];
          namedValues: string[];
          namedValue: Array<{ name: string; value: string }>;
          param: Array<{ name: string; value: string }>;
          format: DiagnosticFormat;
          scope: PolicyScopeName;
          maxWarnings?: number;
          strict?: boolean;
        },
      ) => {
        if (paths.length === 0 && opts.backends.length === 0) {
          io.err('error: nothing to validate: give files or folders, or --backends FILE (run with --help for usage)');
          process.exitCode = 2;
          return;
        }
        const [{ loadNamedValuesFile }, { runValidate }] = await Promise.all([import('../config/named-values.js'), import('./validate.js')]);
        const nvDiagnostics: Diagnostic[] = [];
        const fromFiles = opts.namedValues.flatMap((f) => loadNamedValuesFile(f, nvDiagnostics));
        const result = runValidate({
          inputs: paths,
          backends: opts.backends,
          namedValues: [...fromFiles, ...namedValues(opts.namedValue)],
          scope: opts.scope,
          backendParameters: paramValues(opts.param),
        });
        const diagnostics = [...nvDiagnostics, ...result.diagnostics];
        process.stdout.write(
          formatDiagnostics(diagnostics, opts.format, {
            toolVersion: VERSION,
            files: [...opts.namedValues, ...result.files],
            ...(PACKAGE.homepage ? { informationUri: PACKAGE.homepage } : {}),
          }),
        );
        if (opts.format !== 'text') {
          const errors = diagnostics.filter((d) => d.severity === 'error').length;
          const warnings = diagnostics.filter((d) => d.severity === 'warning').length;
          io.err(`checked ${result.files.length} files: ${errors} errors, ${warnings} warnings`);
        }
        const io2 = nvDiagnostics.some((d) => d.severity === 'error' && d.code.startsWith('io/'))
          ? 2
          : nvDiagnostics.some((d) => d.severity === 'error')
            ? 1
            : 0;
        let exitCode = Math.max(result.exitCode, io2);
        const maxWarnings = opts.strict ? 0 : opts.maxWarnings;
        const warnings = diagnostics.filter((d) => d.severity === 'warning').length;
        if (maxWarnings !== undefined && warnings > maxWarnings && exitCode === 0) {
          io.err(`error: ${warnings} warning${warnings === 1 ? '' : 's'}, more than ${opts.strict ? '--strict' : '--max-warnings'} allows (${maxWarnings})`);
          exitCode = 1;
        }
        process.exitCode = exitCode;
      },
    );

  program
    .command('serve')
    .description('Serve APIs through the emulated gateway on loopback.')
    .option('--config <file>', 'configuration file (schemas/config.schema.json); paths in it are relative to it')
    .option('--policy <file>', 'API-scope policy of the single API (no config file)')
    .option('--global-policy <file>', 'global-scope policy')
    .option('--backends <file>', 'backend definitions: ARM template, resource(s), {"backends": [...]} (repeatable)', collect, [])
    .option('--api-path <suffix>', 'URL suffix of the single API; every method and path under it matches', '')
    .option('--service-url <url>', 'web service URL of the single API (default backend)')
    .option('--fragment <id=file>', 'policy fragment for include-fragment (repeatable)', assignment('--fragment'), [])
    .option('--named-value <name=value>', 'named value (repeatable; wins over files)', assignment('--named-value'), [])
    .option('--named-values <file>', 'named values JSON file (repeatable)', collect, [])
    .option(
      '--subscription-key <key>',
      'require this subscription key (header Ocp-Apim-Subscription-Key or query subscription-key); with --apiops repeatable, KEY for all APIs or SUBSCRIPTION=KEY for a subscription of the tree',
      collect,
      [],
    )
    .option('--apiops <dir>', 'serve an APIOps extractor folder (apis/, products/, named values/, backends/, policy.xml...)')
    .option('--apiops-config <file>', 'APIOps configuration.<env>.yaml override file for --apiops')
    .option('--watch', 'reload when a policy, fragment, backend, config or APIOps file changes (also: POST /_emulator/reload, SIGHUP)')
    .option(
      '--backend-url <id=url>',
      'send backend ID to a real local service URL, keeping its breaker and pool membership (repeatable)',
      assignment('--backend-url'),
      [],
    )
    .addOption(new Option('--log-format <format>', 'log lines: pretty (default on a terminal) or pino JSON').choices(['pretty', 'json']))
    .option('--mock <id=script>', "replace backend ID's url with a mock backend running SCRIPT (text form, or @file) (repeatable)", collect, [])
    .option('--mock-backends', 'every backend with a url gets the built-in mock Azure OpenAI')
    .option(
      '--virtual-clock [sleeps]',
      'virtual time: moves through POST /_emulator/clock; a request\'s own waits (retry intervals, mock latency) "advance" it at once (default) or "wait" for the endpoint',
      virtualClockMode,
    )
    .option('--debug-token <token>', 'only this Apim-Debug-Authorization value enables tracing (default: any value)')
    .option('--trace-limit <n>', 'traces kept for /_emulator/traces (default 100)', positiveInt)
    .option(
      '--instances <n>',
      'simulated gateway instances (scale units, 1-64), each with its own breakers, pools and counters; requests go round-robin (default 1)',
      positiveInt,
    )
    .option(
      '--workers <n>',
      'worker processes sharing the port ("auto" = cores); rate-limit counters are shared, breakers per worker (default 1)',
      workersOption,
    )
    .option(
      '--state <url>',
      'keep rate-limit, quota and token-limit counters and the external cache in Redis (redis://HOST:PORT), shared by every emulator using it (config state.redis)',
    )
    .option('--state-fail-closed', 'with --state: refuse throttled requests (503) while Redis is unreachable (same as --state-fail-mode closed)')
    .option(
      '--share-breakers',
      'with --workers or --state: one circuit breaker per backend for every worker/emulator sharing the state, instead of one per gateway instance (config state.shareBreakers)',
    )
    .addOption(
      new Option(
        '--state-fail-mode <mode>',
        'with --state, while Redis is unreachable: open lets throttled requests through uncounted (default), closed refuses them with 503 (config state.failMode)',
      ).choices(['open', 'closed']),
    )
    .option('--host <host>', 'interface to listen on (default 127.0.0.1)')
    .option('--port <port>', 'port to listen on; 0 picks a free port (default 8080)', port)
    .option('--admin-host <host>', "interface of the admin API's own listener (default 127.0.0.1; needs --admin-port)")
    .option('--admin-port <port>', "serve /_emulator/* on its own port instead of the gateway's; 0 picks a free port", port)
    .option('--admin-token <token>', `bearer token for /_emulator/* (16+ chars; or ${ADMIN_TOKEN_ENV}); required when the admin API listens beyond loopback`)
    .option('--event-limit <n>', 'circuit breaker events kept per instance for /_emulator/events (default 1000)', positiveInt)
    .option('--mock-log-entries <n>', "requests kept in each mock backend's request log; 0 keeps none (default 10000)", wholeNumber)
    .option('--mock-log-body-bytes <n>', "bytes of each request body kept in a mock's request log (default 65536)", wholeNumber)
    .addOption(
      new Option('--log-level <level>', 'request log level (pino lines on stderr)').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    )
    .option('--param <name=value>', 'ARM template parameter for backend files; JSON values allowed (repeatable)', assignment('--param'), [])
    .addHelpText(
      'after',
      `
Examples:
  $ apim-emulator serve --config policies/example/apim-emulator.json --mock-backends --port 0
  $ apim-emulator serve --policy policy.xml --backends backends.json --api-path openai --named-value tenant=contoso --port 8080
  $ apim-emulator serve --policy policy.xml --backends backends.json --api-path openai --mock foundry1="429 retry-after=10; aoai"
  $ apim-emulator serve --policy policy.xml --service-url http://127.0.0.1:3000 --subscription-key secret-key
  $ apim-emulator serve --apiops apimartifacts --apiops-config configuration.dev.yaml --subscription-key dev-key --watch
  $ apim-emulator serve --apiops apimartifacts --backend-url backend1=http://127.0.0.1:3000 --mock-backends

Prints "listening on http://HOST:PORT" on stdout when ready, and the URL alone on stderr; request logs go to stderr. Admin endpoints live under
/_emulator/ (health, backends, traces, events, metrics, mocks, clock, reset). SIGINT/SIGTERM close gracefully.

Exit codes: 1 invalid policies, backends or config; 2 usage or I/O problem (unreadable file, port in use).`,
    )
    .action(async (opts: Record<string, unknown>) => {
      const o = opts as {
        config?: string;
        policy?: string;
        globalPolicy?: string;
        backends: string[];
        apiPath: string;
        serviceUrl?: string;
        fragment: Array<{ name: string; value: string }>;
        namedValue: Array<{ name: string; value: string }>;
        namedValues: string[];
        subscriptionKey: string[];
        apiops?: string;
        apiopsConfig?: string;
        watch?: boolean;
        backendUrl: Array<{ name: string; value: string }>;
        logFormat?: 'pretty' | 'json';
        mock: string[];
        mockBackends?: boolean;
        virtualClock?: VirtualSleepMode | true;
        debugToken?: string;
        traceLimit?: number;
        instances?: number;
        host?: string;
        port?: number;
        logLevel?: string;
        param: Array<{ name: string; value: string }>;
        workers?: number | 'auto';
        state?: string;
        stateFailClosed?: boolean;
        stateFailMode?: 'open' | 'closed';
        shareBreakers?: boolean;
        adminHost?: string;
        adminPort?: number;
        adminToken?: string;
        eventLimit?: number;
        mockLogEntries?: number;
        mockLogBodyBytes?: number;
      };
      if (o.adminHost && o.adminPort === undefined)
        throw new UsageError("--admin-host needs --admin-port (without it the admin API shares the gateway's listener and --host)");
      const adminToken = o.adminToken ?? (process.env[ADMIN_TOKEN_ENV] || undefined);
      const simple = o.policy ?? o.globalPolicy;
      if (
        o.config &&
        (simple || o.backends.length || o.fragment.length || o.namedValues.length || o.subscriptionKey.length || o.serviceUrl || o.apiPath || o.apiops)
      ) {
        throw new UsageError(
          '--config cannot be combined with --apiops, --policy, --global-policy, --backends, --fragment, --named-values, --api-path, --service-url or --subscription-key (put them in the config file)',
        );
      }
      if (o.apiops && (simple || o.backends.length || o.fragment.length || o.serviceUrl || o.apiPath)) {
        throw new UsageError(
          '--apiops cannot be combined with --policy, --global-policy, --backends, --fragment, --api-path or --service-url (the APIOps folder describes the service)',
        );
      }
      if (o.apiopsConfig && !o.apiops) throw new UsageError('--apiops-config needs --apiops DIR (or "apiopsConfig" next to "apiops" in the config file)');
      if (!o.config && !simple && !o.apiops)
        throw new UsageError('give --config FILE, --apiops DIR, or --policy FILE (with --backends, --api-path...) for a single API');
      if (!o.apiops && o.subscriptionKey.length > 1) throw new UsageError('--subscription-key is repeatable only with --apiops');
      // Workers (src/server/cluster.ts): loaded only with --workers; every worker runs this same command line.
      const cluster = o.workers !== undefined ? await import('../server/cluster.js') : null;
      const worker = cluster?.isWorker() ?? false;
      const workers = o.workers === 'auto' ? (cluster?.autoWorkers() ?? 1) : (o.workers ?? 1);
      if (cluster && workers > 1 && !worker) {
        // The primary only runs the workers; they listen on the shared port.
        process.exitCode = await cluster.runPrimary(workers, io);
        return;
      }
      const { StartFailure, startEmulator } = await import('./serve.js');
      let running: RunningEmulator;
      try {
        running = await startEmulator(
          {
            ...(o.config ? { config: o.config } : {}),
            ...(o.policy ? { policy: o.policy } : {}),
            ...(o.globalPolicy ? { globalPolicy: o.globalPolicy } : {}),
            backends: o.backends,
            apiPath: o.apiPath,
            ...(o.serviceUrl !== undefined ? { serviceUrl: o.serviceUrl } : {}),
            fragments: o.fragment.map((f) => ({ id: f.name, file: f.value })),
            namedValues: namedValues(o.namedValue),
            namedValuesFiles: o.namedValues,
            ...(o.subscriptionKey.length ? { subscriptionKey: o.subscriptionKey[0]!, subscriptionKeys: o.subscriptionKey } : {}),
            ...(o.apiops ? { apiops: o.apiops } : {}),
            ...(o.apiopsConfig ? { apiopsConfig: o.apiopsConfig } : {}),
            ...(o.watch ? { watch: true } : {}),
            backendUrls: o.backendUrl.map((b) => ({ id: b.name, url: b.value })),
            ...(o.logFormat ? { logFormat: o.logFormat } : {}),
            mocks: o.mock,
            ...(o.mockBackends ? { mockBackends: true } : {}),
            ...(o.virtualClock ? { virtualClock: o.virtualClock === true ? 'advance' : o.virtualClock } : {}),
            ...(o.debugToken ? { debugToken: o.debugToken } : {}),
            ...(o.traceLimit ? { traceLimit: o.traceLimit } : {}),
            ...(o.instances ? { instances: o.instances } : {}),
            ...(o.host ? { host: o.host } : {}),
            ...(o.port !== undefined ? { port: o.port } : {}),
            ...(o.logLevel ? { logLevel: o.logLevel } : {}),
            ...(o.eventLimit ? { eventLimit: o.eventLimit } : {}),
            ...(o.mockLogEntries !== undefined || o.mockLogBodyBytes !== undefined
              ? {
                  mockLog: {
                    ...(o.mockLogEntries !== undefined ? { entries: o.mockLogEntries } : {}),
                    ...(o.mockLogBodyBytes !== undefined ? { bodyBytes: o.mockLogBodyBytes } : {}),
                  },
                }
              : {}),
            ...(o.adminPort !== undefined || adminToken !== undefined
              ? {
                  admin: {
                    ...(o.adminPort !== undefined ? { port: o.adminPort, host: o.adminHost ?? '127.0.0.1' } : {}),
                    ...(adminToken !== undefined ? { token: adminToken } : {}),
                  },
                }
              : {}),
            params: paramValues(o.param),
            ...(o.state ? { state: o.state } : {}),
            ...(o.stateFailClosed ? { stateFailClosed: true } : {}),
            ...(o.stateFailMode ? { stateFailMode: o.stateFailMode } : {}),
            ...(o.shareBreakers ? { shareBreakers: true } : {}),
          },
          io,
        );
      } catch (e) {
        if (e instanceof StartFailure) {
          if (worker) cluster?.reportToPrimary({ kind: 'apim-emulator:failed', message: e.message, exitCode: e.exitCode });
          else io.err(`error: ${e.message}`);
          process.exitCode = e.exitCode;
          return;
        }
        throw e;
      }
      if (worker) cluster?.reportToPrimary({ kind: 'apim-emulator:listening', url: running.url });
      else {
        io.out(`listening on ${running.url}`);
        // The URL alone on stderr as well: under `npm start` stdout begins with npm's banner, and scripts want a clean line.
        io.err(running.url);
        if (running.adminUrl !== running.url) io.out(`admin API on ${running.adminUrl}/_emulator/`);
      }
      await new Promise<void>((resolve) => {
        let closing = false;
        const stop = (signal: NodeJS.Signals) => {
          if (closing) {
            // A second signal while draining: stop waiting.
            process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
          }
          closing = true;
          running.close().then(resolve, (e: unknown) => {
            io.err(`error while closing: ${(e as Error).message}`);
            process.exitCode = 1;
            resolve();
          });
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
        // SIGHUP reloads, like --watch and POST /_emulator/reload (the outcome is logged by the reload itself).
        process.on('SIGHUP', () => void running.reload());
      });
      // A worker's IPC channel keeps it alive: once drained it lets go of the primary and exits.
      if (worker) cluster?.leavePrimary();
    });

  registerTestCommand(program);

  program
    .command('init')
    .description('Write a starter folder: config, one API policy, backends with a pool and a circuit breaker, one scenario.')
    .argument('[dir]', 'folder to write into (created when missing)', '.')
    .option('--force', 'overwrite the starter files when they exist')
    .addHelpText(
      'after',
      `
Examples:
  $ apim-emulator init my-gateway && cd my-gateway && apim-emulator test scenarios

Exit codes: 0 written, 2 files exist already (nothing written without --force) or the folder cannot be written.`,
    )
    .action(async (dir: string, opts: { force?: boolean }) => {
      const { runInit } = await import('./init.js');
      const r = runInit(dir, opts.force ?? false);
      for (const line of r.lines) (r.exitCode === 0 ? io.out : io.err)(line);
      process.exitCode = r.exitCode;
    });
  return program;
}

class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  if (argv.length <= 2) {
    // No command is a usage error (exit 2, docs: exit codes), with the help that lists the commands.
    program.outputHelp({ error: true });
    return 2;
  }
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and --version are not errors; everything else commander rejects is a usage problem.
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2;
    }
    if (e instanceof UsageError) {
      io.err(`error: ${e.message}`);
      return 2;
    }
    io.err(`internal error: ${(e as Error)?.stack ?? String(e)}`);
    return 3;
  }
}

process.exitCode = await main(process.argv);

/** `--workers auto` (the machine's cores) or 1..64 (src/server/cluster.ts MAX_WORKERS). */
function workersOption(value: string): number | 'auto' {
  const n = Number(value);
  if (value === 'auto') return 'auto';
  if (!/^\d+$/.test(value) || n < 1 || n > 64) throw new InvalidArgumentError('expected "auto" or a whole number from 1 to 64');
  return n;
}

/** `--virtual-clock` alone means "advance"; an explicit mode must be one of the two. */
function virtualClockMode(value: string | undefined): VirtualSleepMode {
  if (value === undefined || value === 'advance' || value === 'wait') return value ?? 'advance';
  throw new InvalidArgumentError('expected "advance" or "wait"');
}

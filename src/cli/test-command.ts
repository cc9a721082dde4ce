import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import type { ScenarioReporter, SnapshotMode } from '../scenarios/index.js';

/** The reporters of scenarios/report.ts, listed here so registering the command loads no scenario runner (start-up time). */
const REPORTERS = ['text', 'json', 'junit', 'html'] as const satisfies readonly ScenarioReporter[];

/** Where `--report html` writes its page when no --output is given. */
export const DEFAULT_HTML_REPORT = 'apim-emulator-report.html';

export interface TestCommandOptions {
  reporter: ScenarioReporter;
  /** `--report html`: write the page to --output (default DEFAULT_HTML_REPORT) and the text report to stdout. */
  report?: 'html';
  output?: string;
  updateSnapshots?: boolean;
  ci?: boolean;
  snapshots?: boolean;
  /** --real-sockets: mocks over loopback HTTP instead of in-process. */
  realSockets?: boolean;
}

/**
 * Runs scenarios and writes the report; returns the exit code (0 all passed, 1 any failure, 2 any invalid scenario).
 * With `--output`, the chosen report goes to the file and a text summary to stdout.
 */
export async function runTestCommand(paths: string[], opts: TestCommandOptions, write: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const { formatRunReport, runScenarios } = await import('../scenarios/index.js');
  const snapshots: SnapshotMode = opts.snapshots === false ? 'off' : opts.updateSnapshots ? 'update' : opts.ci ? 'ci' : 'compare';
  const summary = await runScenarios(paths, { snapshots, realSockets: opts.realSockets ?? false });
  if (opts.report) {
    const file = opts.output ?? DEFAULT_HTML_REPORT;
    writeFileSync(file, formatRunReport(summary, opts.report));
    write(formatRunReport(summary, opts.reporter === 'html' ? 'text' : opts.reporter));
    write(`${opts.report.toUpperCase()} report written to ${file}\n`);
    return summary.exitCode;
  }
  const report = formatRunReport(summary, opts.reporter);
  if (opts.output) {
    writeFileSync(opts.output, report);
    if (opts.reporter !== 'text') write(formatRunReport(summary, 'text'));
  } else write(report);
  return summary.exitCode;
}

/** `apim-emulator test <scenario files or folders...>`. */
export function registerTestCommand(program: Command): void {
  program
    .command('test')
    .description('Run scenario files: scripted backends, virtual time, expectations on responses, attempts, breakers and traces.')
    .argument('<paths...>', 'scenario files, or folders searched for *.scenario.yaml|yml|json')
    .addOption(new Option('--reporter <reporter>', 'report format').choices(REPORTERS).default('text'))
    .addOption(
      new Option(
        '--report <format>',
        `also write a self-contained web page (timeline, traces, which backend answered over time) to --output, default ${DEFAULT_HTML_REPORT}`,
      ).choices(['html']),
    )
    .option('--output <file>', 'write the report to a file (a text summary still goes to stdout)')
    .option('--update-snapshots', 'write every timeline snapshot (<name>.snap.txt next to the scenario) afresh')
    .option('--ci', 'a missing snapshot is a failure instead of being written')
    .option('--no-snapshots', 'do not compare or write timeline snapshots')
    .option('--real-sockets', 'call the mock backends over real HTTP on 127.0.0.1 instead of in-process (slower; tests the HTTP path)')
    .addHelpText(
      'after',
      `
Examples:
  $ apim-emulator test examples/scenarios
  $ apim-emulator test failover.scenario.yaml --update-snapshots
  $ apim-emulator test tests/apim --ci --reporter junit --output apim-junit.xml
  $ apim-emulator test examples/scenarios --report html --output report.html

Each scenario runs on a fresh gateway with a virtual clock (minutes of breaker time take milliseconds) and mock
backends called in-process: no socket is opened (--real-sockets serves them on 127.0.0.1 instead). See
docs/scenarios.md for the file format.

Exit codes: 0 all scenarios passed, 1 an expectation or snapshot failed (or the policies under test do not load),
2 an invalid scenario file or a path without scenarios.`,
    )
    .action(async (paths: string[], opts: TestCommandOptions) => {
      process.exitCode = await runTestCommand(paths, opts);
    });
}

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DIAGNOSTIC_CODES, type DiagnosticCode } from './codes.js';
import { capPerFile } from './cap.js';
import { formatDiagnosticLine, type Diagnostic, type Severity } from './diagnostic.js';

export type DiagnosticFormat = 'text' | 'json' | 'sarif' | 'junit';
export const DIAGNOSTIC_FORMATS: readonly DiagnosticFormat[] = ['text', 'json', 'sarif', 'junit'];

export interface FormatOptions {
  /** Version of apim-emulator, reported in SARIF's tool.driver. */
  toolVersion: string;
  /** Every file checked, so JUnit and SARIF list clean files too. */
  files?: string[];
  /** Paths are shown relative to this directory (default process.cwd()); SARIF URIs are relative to it. */
  cwd?: string;
  /**
   * The project's home page (SARIF tool.driver.informationUri). Rules link to docs/diagnostics.md under it
   * (`<informationUri>/blob/main/docs/diagnostics.md#<code anchor>`), so code-scanning alerts show where to read more.
   */
  informationUri?: string;
  /** Diagnostics listed per file (default MAX_DIAGNOSTICS_PER_FILE); the summary counts all of them. */
  maxPerFile?: number;
}

const TOOL_NAME = 'apim-emulator';
const SUITE_NAME = 'apim-emulator validate';
const SARIF_SCHEMA = 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';
const NO_FILE = '(no file)';

/** docs/diagnostics.md, generated from the catalogue in codes.ts. */
export const DIAGNOSTICS_DOC = 'docs/diagnostics.md';

/** The Markdown anchor of a code's heading in docs/diagnostics.md (GitHub's rule: lower case, `/` dropped). */
export function diagnosticAnchor(code: DiagnosticCode): string {
  return code.toLowerCase().replace(/[^a-z0-9 _-]/g, '');
}

/** Renders diagnostics for humans (text) or for CI systems (json, SARIF 2.1.0 for code scanning, JUnit XML). */
export function formatDiagnostics(diags: Diagnostic[], format: DiagnosticFormat, opts: FormatOptions): string {
  const cwd = opts.cwd ?? process.cwd();
  const shown = sortDiagnostics(diags.map((d) => (d.file !== undefined ? { ...d, file: displayPath(d.file, cwd) } : d)));
  const files = uniqueFiles(
    shown,
    (opts.files ?? []).map((f) => displayPath(f, cwd)),
  );
  const summary = summarize(shown, files.length);
  const listed = capPerFile(shown, opts.maxPerFile);
  switch (format) {
    case 'text':
      return [...listed.map(formatDiagnosticLine), summaryLine(summary)].join('\n') + '\n';
    case 'json':
      return JSON.stringify({ diagnostics: listed, summary }, null, 2) + '\n';
    case 'sarif':
      return JSON.stringify(toSarif(listed, files, cwd, opts), null, 2) + '\n';
    case 'junit':
      return toJunit(listed, files);
    default: {
      const never: never = format;
      throw new Error(`unknown diagnostic format "${String(never)}" (allowed: ${DIAGNOSTIC_FORMATS.join(', ')})`);
    }
  }
}

interface Summary {
  errors: number;
  warnings: number;
  infos: number;
  files: number;
}

function summarize(diags: Diagnostic[], files: number): Summary {
  const count = (s: Severity) => diags.filter((d) => d.severity === s).length;
  return { errors: count('error'), warnings: count('warning'), infos: count('info'), files };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function summaryLine(s: Summary): string {
  return `${plural(s.errors, 'error')}, ${plural(s.warnings, 'warning')}${s.infos ? `, ${plural(s.infos, 'note')}` : ''} in ${plural(s.files, 'file')}`;
}

/** Relative to cwd with forward slashes when inside it; otherwise as given (absolute stays absolute). */
function displayPath(file: string, cwd: string): string {
  if (!path.isAbsolute(file)) return file.split(path.sep).join('/');
  const rel = path.relative(cwd, file);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return file.split(path.sep).join('/');
  return rel.split(path.sep).join('/');
}

function sortDiagnostics(diags: Diagnostic[]): Diagnostic[] {
  return diags
    .map((d, i) => ({ d, i }))
    .sort((a, b) => {
      const fa = a.d.file ?? '\uffff';
      const fb = b.d.file ?? '\uffff';
      if (fa !== fb) return fa < fb ? -1 : 1;
      return (a.d.line ?? 0) - (b.d.line ?? 0) || (a.d.column ?? 0) - (b.d.column ?? 0) || a.i - b.i;
    })
    .map((x) => x.d);
}

function uniqueFiles(diags: Diagnostic[], checked: string[]): string[] {
  const set = new Set(checked);
  for (const d of diags) if (d.file !== undefined) set.add(d.file);
  return [...set].sort();
}

function messageWithHint(d: Diagnostic, withJsonPath: boolean): string {
  let text = d.message;
  if (d.hint) text += ` (${d.hint})`;
  if (withJsonPath && d.jsonPath) text += ` [at ${d.jsonPath}]`;
  return text;
}

// ---------------------------------------------------------------- SARIF 2.1.0

function sarifLevel(s: Severity): 'error' | 'warning' | 'note' {
  return s === 'info' ? 'note' : s;
}

/** A short title derived from the code (`backend/pool-nested` → "Backend: pool nested"); the catalogue gives the sentence. */
function ruleTitle(code: string): string {
  const [area, ...rest] = code.split('/');
  const what = rest.join('/').replace(/[-_]/g, ' ');
  return what ? `${capitalize(area ?? '')}: ${what}` : capitalize(code.replace(/[-_]/g, ' '));
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function ruleName(code: string): string {
  return code
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map(capitalize)
    .join('');
}

/** A SARIF artifact location: relative URI under %SRCROOT% for files inside cwd, an absolute file URI otherwise. */
function artifactLocation(file: string): { uri: string; uriBaseId?: string } {
  if (path.isAbsolute(file)) return { uri: pathToFileURL(file).href };
  return { uri: file.split('/').map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' };
}

function toSarif(diags: Diagnostic[], files: string[], cwd: string, opts: FormatOptions): unknown {
  const codes = [...new Set(diags.map((d) => d.code))].sort();
  const worst = (code: string) => {
    const sev = diags.filter((d) => d.code === code).map((d) => d.severity);
    return sarifLevel(sev.includes('error') ? 'error' : sev.includes('warning') ? 'warning' : 'info');
  };
  const docUri = opts.informationUri ? `${opts.informationUri.replace(/\/$/, '')}/blob/main/${DIAGNOSTICS_DOC}` : undefined;
  const rules = codes.map((code) => {
    const meaning = DIAGNOSTIC_CODES[code];
    const helpUri = docUri ? `${docUri}#${diagnosticAnchor(code)}` : undefined;
    return {
      id: code,
      name: ruleName(code),
      shortDescription: { text: ruleTitle(code) },
      fullDescription: { text: meaning },
      help: {
        text: `${meaning} See ${DIAGNOSTICS_DOC} (${code}).`,
        markdown: `${meaning}\n\nSee [${code}](${helpUri ?? `${DIAGNOSTICS_DOC}#${diagnosticAnchor(code)}`}).`,
      },
      ...(helpUri ? { helpUri } : {}),
      defaultConfiguration: { level: worst(code) },
    };
  });
  const results = diags.map((d) => {
    const result: Record<string, unknown> = {
      ruleId: d.code,
      ruleIndex: codes.indexOf(d.code),
      level: sarifLevel(d.severity),
      message: { text: messageWithHint(d, d.line === undefined) },
    };
    // GitHub code scanning needs a file and a start line; JSON-path-only findings sit on line 1 with the path in the message.
    if (d.file !== undefined) {
      const region: Record<string, number> = { startLine: d.line ?? 1 };
      if (d.line !== undefined && d.column !== undefined) region.startColumn = d.column;
      result.locations = [{ physicalLocation: { artifactLocation: artifactLocation(d.file), region } }];
    }
    return result;
  });
  const cwdUri = pathToFileURL(cwd.endsWith(path.sep) ? cwd : cwd + path.sep).href;
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: TOOL_NAME,
            version: opts.toolVersion,
            semanticVersion: opts.toolVersion,
            ...(opts.informationUri ? { informationUri: opts.informationUri } : {}),
            rules,
          },
        },
        originalUriBaseIds: { '%SRCROOT%': { uri: cwdUri } },
        artifacts: files.map((f) => ({ location: artifactLocation(f) })),
        results,
        columnKind: 'utf16CodeUnits',
        invocations: [{ executionSuccessful: true }],
      },
    ],
  };
}

// ---------------------------------------------------------------- JUnit XML

/** Escapes text for XML 1.0 content and attributes; characters XML cannot carry at all become U+FFFD. */
export function xmlEscape(s: string): string {
  return s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function attr(s: string): string {
  // Newlines in attributes would be normalised to spaces by parsers; keep them as character references.
  return xmlEscape(s).replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

function toJunit(diags: Diagnostic[], files: string[]): string {
  const cases = [...files];
  if (diags.some((d) => d.file === undefined)) cases.push(NO_FILE);
  const byFile = new Map<string, Diagnostic[]>(cases.map((f) => [f, []]));
  for (const d of diags) byFile.get(d.file ?? NO_FILE)!.push(d);
  const failing = cases.filter((f) => byFile.get(f)!.some((d) => d.severity === 'error')).length;
  const lines: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${attr(SUITE_NAME)}" tests="${cases.length}" failures="${failing}" errors="0">`,
    `  <testsuite name="${attr(SUITE_NAME)}" tests="${cases.length}" failures="${failing}" errors="0" skipped="0">`,
  ];
  for (const file of cases) {
    const ds = byFile.get(file)!;
    const errs = ds.filter((d) => d.severity === 'error');
    const others = ds.filter((d) => d.severity !== 'error');
    const open = `    <testcase name="${attr(file)}" classname="${attr(file)}"`;
    if (ds.length === 0) {
      lines.push(`${open}/>`);
      continue;
    }
    lines.push(`${open}>`);
    if (errs.length) {
      const first = errs[0]!;
      const message = `${plural(errs.length, 'error')}: ${first.code}: ${first.message}${errs.length > 1 ? ' …' : ''}`;
      lines.push(`      <failure message="${attr(message)}" type="validation">${xmlEscape(errs.map(formatDiagnosticLine).join('\n'))}</failure>`);
    }
    if (others.length) lines.push(`      <system-out>${xmlEscape(others.map(formatDiagnosticLine).join('\n'))}</system-out>`);
    lines.push('    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>');
  return lines.join('\n') + '\n';
}

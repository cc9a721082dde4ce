import { capPerFile } from './cap.js';
import type { DiagnosticCode } from './codes.js';
import type { SourceText } from './source.js';

export type { DiagnosticCode } from './codes.js';

export type Severity = 'error' | 'warning' | 'info';

/**
 * One finding about the user's input. Every diagnostic names where (file with line/column, or a JSON path),
 * what is wrong (message) and, where it helps, what is allowed (hint).
 */
export interface Diagnostic {
  severity: Severity;
  /** Stable machine code from the catalogue in codes.ts, e.g. `policy/unknown-element`, `xml/malformed`, `backend/pool-nested`. */
  code: DiagnosticCode;
  message: string;
  /** What would be accepted instead, e.g. "allowed: override, skip, append, delete". */
  hint?: string;
  file?: string;
  /** 1-based. */
  line?: number;
  /** 1-based. */
  column?: number;
  /** For JSON inputs: a JSON path such as `$.backends[2].properties.circuitBreaker.rules[0]`. */
  jsonPath?: string;
}

/** Collects diagnostics while loading; the loader decides at the end whether errors are fatal. */
export class DiagnosticBag {
  readonly items: Diagnostic[] = [];

  add(d: Diagnostic): void {
    this.items.push(d);
  }

  /** Adds a diagnostic located at an offset of a source file. */
  at(source: SourceText, offset: number, severity: Severity, code: DiagnosticCode, message: string, hint?: string): void {
    const { line, column } = source.positionAt(offset);
    this.items.push({ severity, code, message, file: source.file, line, column, ...(hint ? { hint } : {}) });
  }

  error(source: SourceText, offset: number, code: DiagnosticCode, message: string, hint?: string): void {
    this.at(source, offset, 'error', code, message, hint);
  }

  warning(source: SourceText, offset: number, code: DiagnosticCode, message: string, hint?: string): void {
    this.at(source, offset, 'warning', code, message, hint);
  }

  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === 'error');
  }

  get errors(): Diagnostic[] {
    return this.items.filter((d) => d.severity === 'error');
  }
}

/** Thrown when loading fails; carries every diagnostic found, not only the first. */
export class LoadError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    // Listed with the per-file cap: a hostile file must not make a start-up error of megabytes.
    super(
      capPerFile(diagnostics.filter((d) => d.severity === 'error'))
        .map(formatDiagnosticLine)
        .join('\n') || 'load failed',
    );
    this.name = 'LoadError';
  }
}

/** `file:line:col: error code: message (hint)` — the one-line form used by the CLI and error messages. */
export function formatDiagnosticLine(d: Diagnostic): string {
  const where = d.file
    ? `${d.file}${d.line !== undefined ? `:${d.line}:${d.column ?? 1}` : ''}${d.jsonPath ? ` ${d.jsonPath}` : ''}`
    : (d.jsonPath ?? '<input>');
  return `${where}: ${d.severity} ${d.code}: ${d.message}${d.hint ? ` (${d.hint})` : ''}`;
}

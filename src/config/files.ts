import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { SourceText } from '../diagnostics/source.js';

/** Diagnostic code for a file that could not be read: the CLI exits 2 (I/O problem), not 1 (invalid input). */
export const IO_UNREADABLE = 'io/unreadable';

/** Whether any diagnostic is an I/O problem rather than a mistake in the inputs. */
export function hasIoErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error' && d.code.startsWith('io/'));
}

/** How a file is named in diagnostics: relative to the working directory when that is shorter, with forward slashes. */
export function displayPath(file: string, cwd = process.cwd()): string {
  const abs = path.resolve(cwd, file);
  const rel = path.relative(cwd, abs);
  const chosen = rel && rel.length < abs.length ? rel : abs;
  return chosen.split(path.sep).join('/');
}

/**
 * Reads a text file as a SourceText named by its display path. An unreadable file (missing, a folder, no permission)
 * gives one `io/unreadable` diagnostic naming it, and null. `referencedFrom` says where the path came from.
 */
export function readSource(
  file: string,
  diagnostics: Diagnostic[],
  referencedFrom?: Pick<Diagnostic, 'file' | 'line' | 'column' | 'jsonPath'>,
): SourceText | null {
  const shown = displayPath(file);
  try {
    if (statSync(file).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    const text = readFileSync(file, 'utf8');
    return new SourceText(shown, text);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory, not a file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    diagnostics.push({
      severity: 'error',
      code: IO_UNREADABLE,
      message: `cannot read ${shown}: ${why}`,
      ...(referencedFrom ?? { file: shown }),
      ...(referencedFrom ? { hint: `referenced file ${shown}` } : {}),
    });
    return null;
  }
}

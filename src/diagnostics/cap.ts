import type { Diagnostic } from './diagnostic.js';

/**
 * How many diagnostics one file may list (docs/limits.md). A broken or hostile file can repeat one mistake tens of
 * thousands of times (50,000 undefined `{{a}}` references fit in one policy); past the cap one line says how many more
 * there are, and summaries and exit codes still count them all.
 */
export const MAX_DIAGNOSTICS_PER_FILE = 200;

/**
 * Keeps at most `max` diagnostics per file (errors first, then warnings, then notes, each in the given order) and adds
 * one `diagnostics/truncated` note per file for the rest, at the first one left out. Diagnostics without a file are
 * grouped as one "file". Order of what is kept is the input order.
 */
export function capPerFile(diags: readonly Diagnostic[], max = MAX_DIAGNOSTICS_PER_FILE): Diagnostic[] {
  const byFile = new Map<string | undefined, Diagnostic[]>();
  for (const d of diags) {
    const list = byFile.get(d.file);
    if (list) list.push(d);
    else byFile.set(d.file, [d]);
  }
  if ([...byFile.values()].every((l) => l.length <= max)) return [...diags];
  const rank = { error: 0, warning: 1, info: 2 } as const;
  const kept = new Set<Diagnostic>();
  const notes: Diagnostic[] = [];
  for (const [file, list] of byFile) {
    if (list.length <= max) {
      for (const d of list) kept.add(d);
      continue;
    }
    const ordered = list.map((d, i) => ({ d, i })).sort((a, b) => rank[a.d.severity] - rank[b.d.severity] || a.i - b.i);
    for (const { d } of ordered.slice(0, max)) kept.add(d);
    const dropped = ordered.slice(max).map((x) => x.d);
    const count = (s: Diagnostic['severity']) => dropped.filter((d) => d.severity === s).length;
    const first = dropped[0]!;
    const parts = [`${count('error')} errors`, `${count('warning')} warnings`, ...(count('info') ? [`${count('info')} notes`] : [])];
    notes.push({
      severity: 'info',
      code: 'diagnostics/truncated',
      message: `${dropped.length} more diagnostics in this file are not listed (${parts.join(', ')}); at most ${max} are listed per file`,
      hint: 'fix the ones listed and check again; the summary counts all of them',
      ...(file !== undefined ? { file } : {}),
      ...(first.line !== undefined ? { line: first.line, column: first.column ?? 1 } : {}),
      ...(first.jsonPath !== undefined ? { jsonPath: first.jsonPath } : {}),
    });
  }
  return [...diags.filter((d) => kept.has(d)), ...notes];
}

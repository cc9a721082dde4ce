import os from 'node:os';

/** Median (mean of the two middle values for an even count); NaN for no samples. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** `x` with `digits` decimals, or "n/a" for NaN (a column the run could not measure). */
export function fixed(x: number, digits = 0): string {
  return Number.isNaN(x) ? 'n/a' : x.toFixed(digits);
}

/** A signed difference: "+0.033", "-1.2"; "–" for the reference row itself. */
export function signed(x: number, digits: number): string {
  return `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;
}

/** Load average snapshot, taken before a run: docs/performance.md marks figures measured on a busy machine. */
export function loadAverage(): string {
  return os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
}

/** The first line of every report: when, which Node, how many cores, how busy the machine was at the start. */
export function runHeader(loadAtStart: string): string {
  return `date: ${new Date().toISOString()}  node ${process.version}  ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'})  load average at start: ${loadAtStart}`;
}

/** A markdown table. */
export function markdownTable(header: readonly string[], rows: ReadonlyArray<readonly (string | number)[]>): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

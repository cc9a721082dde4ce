/**
 * The timeline of a scenario: what was sent, which backends each attempt reached, and every circuit breaker transition,
 * stamped with virtual time since the scenario started. It is the snapshot format: plain lines, deterministic (no wall
 * times, no random ids), meant to be read in a pull request diff.
 */

export interface AttemptRecord {
  kind: 'sent' | 'unavailable';
  /** Pool or single backend id the policy chose (`set-backend-service backend-id`), '' for a plain URL. */
  backendId: string;
  /** The single backend that received the attempt ('' for unavailable or a plain URL). */
  memberId: string;
  url: string;
  status?: number;
  /** Gateway error reason when the attempt failed without a response (Timeout, BackendConnectionFailure...). */
  error?: string;
  /** For `unavailable`: why no backend could be chosen. */
  message?: string;
}

export interface BreakerTransition {
  /** ms since the scenario started. */
  at: number;
  backend: string;
  kind: 'opened' | 'closed';
  /** How long it opened for, ms (opened only). */
  openForMs?: number;
  /** Where the duration came from, e.g. "Retry-After 00:00:30" or "tripDuration PT1M". */
  source?: string;
}

export type TimelineEntry =
  | { kind: 'step'; text: string }
  /** `n` of `of` requests of the step (the step line names method and path); `doneAt` when it ended later than it started (concurrent steps). */
  | { kind: 'request'; at: number; n: number; of: number; attempts: AttemptRecord[]; status: number; doneAt?: number }
  | { kind: 'breaker'; event: BreakerTransition };

/** `+HH:MM:SS.mmm` of a virtual offset (hours grow past 99 when they must). */
export function formatOffset(ms: number): string {
  const sign = ms < 0 ? '-' : '+';
  let rest = Math.abs(Math.round(ms));
  const milli = rest % 1000;
  rest = (rest - milli) / 1000;
  const s = rest % 60;
  rest = (rest - s) / 60;
  const m = rest % 60;
  const h = (rest - m) / 60;
  return `${sign}${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}.${String(milli).padStart(3, '0')}`;
}

/** hh:mm:ss(.fff) of a duration, as APIM's events write tripDuration. */
export function formatSpan(ms: number): string {
  return formatOffset(ms)
    .slice(1)
    .replace(/\.000$/, '');
}

export function describeAttempt(a: AttemptRecord): string {
  if (a.kind === 'unavailable') return `${a.backendId || 'backend'} unavailable`;
  const who = a.memberId || a.url;
  return `${who} ${a.status ?? a.error ?? 'no answer'}`;
}

export function describeTransition(e: BreakerTransition): string {
  if (e.kind === 'closed') return `breaker ${e.backend} closed`;
  const dur = e.openForMs !== undefined ? ` for ${formatSpan(e.openForMs)}` : '';
  const src = e.source ? ` (${e.source})` : '';
  const until = e.openForMs !== undefined ? `, until ${formatOffset(e.at + e.openForMs)}` : '';
  return `breaker ${e.backend} opened${dur}${src}${until}`;
}

export function renderTimeline(name: string, entries: readonly TimelineEntry[]): string {
  const lines = [
    `# apim-emulator timeline: ${name}`,
    '# virtual time since the scenario started; refresh with: apim-emulator test <scenario> --update-snapshots',
  ];
  for (const e of entries) {
    if (e.kind === 'step') lines.push(e.text);
    else if (e.kind === 'request') {
      const attempts = e.attempts.length ? e.attempts.map(describeAttempt).join(', ') : 'no backend called';
      lines.push(
        `  ${formatOffset(e.at)} ${e.of > 1 ? `#${e.n} ` : ''}${attempts} → ${e.status}${e.doneAt !== undefined ? ` (done ${formatOffset(e.doneAt)})` : ''}`,
      );
    } else lines.push(`  ${formatOffset(e.event.at)} ${describeTransition(e.event)}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * A line diff (longest common subsequence) in the unified style: `-` lines of the stored snapshot, `+` lines of this
 * run, with up to `context` unchanged lines around each change and `@@ line N @@` headers.
 */
export function diffLines(expected: string, actual: string, context = 2): string {
  const a = expected.replace(/\n$/, '').split('\n');
  const b = actual.replace(/\n$/, '').split('\n');
  const n = a.length;
  const m = b.length;
  // LCS lengths from the end; snapshots are small (hundreds of lines), so O(n·m) is fine.
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const ops: Array<{ op: ' ' | '-' | '+'; text: string; line: number }> = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ op: ' ', text: a[i]!, line: i + 1 });
      i++;
      j++;
    } else if (i < n && (j >= m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      // Removals before additions, as unified diffs show them.
      ops.push({ op: '-', text: a[i]!, line: i + 1 });
      i++;
    } else {
      ops.push({ op: '+', text: b[j]!, line: i + 1 });
      j++;
    }
  }
  const show = new Array<boolean>(ops.length).fill(false);
  ops.forEach((o, k) => {
    if (o.op === ' ') return;
    for (let x = Math.max(0, k - context); x <= Math.min(ops.length - 1, k + context); x++) show[x] = true;
  });
  const out: string[] = [];
  let prevShown = false;
  ops.forEach((o, k) => {
    if (!show[k]) {
      prevShown = false;
      return;
    }
    if (!prevShown) out.push(`@@ line ${o.line} @@`);
    out.push(`${o.op} ${o.text}`);
    prevShown = true;
  });
  return out.join('\n');
}

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SnapshotMode, SnapshotOutcome } from './results.js';
import { diffLines } from './timeline.js';

/** Compares a timeline with its stored snapshot, or writes it, as `mode` says. */
export function handleSnapshot(file: string, timeline: string, mode: SnapshotMode, failed = false): SnapshotOutcome {
  const exists = existsSync(file);
  // A first run whose expectations fail records a timeline nobody vouched for; once the scenario is fixed it would
  // fail on that file. It is written on the first passing run instead (--update-snapshots still writes, as asked).
  if (!exists && mode === 'compare' && failed) return { path: file, status: 'not-written' };
  if (mode === 'update' || (!exists && mode === 'compare')) {
    const before = exists ? readFileSync(file, 'utf8') : undefined;
    if (before !== timeline) {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, timeline);
    }
    return { path: file, status: exists ? (before === timeline ? 'matched' : 'updated') : 'written' };
  }
  if (!exists) return { path: file, status: 'missing' };
  const stored = readFileSync(file, 'utf8').replace(/\r\n/g, '\n');
  if (stored === timeline) return { path: file, status: 'matched' };
  return { path: file, status: 'changed', diff: diffLines(stored, timeline) };
}

import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Newest modification time of the files under `dir` (recursive). */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true }))
    if (e.isFile()) t = Math.max(t, statSync(path.join(e.parentPath, e.name)).mtimeMs);
  return t;
}

/**
 * Node arguments that run the CLI, for tests that spawn it: the compiled dist/ when it is newer than every source file
 * (as after `npm ci`, which builds it: ~4x faster to start), else the sources through tsx, so a test never runs stale
 * code in a working tree. The packaging test covers the built CLI as installed.
 */
export const CLI_ARGS: readonly string[] = (() => {
  const dist = path.join(ROOT, 'dist', 'cli', 'main.js');
  // The incremental build rewrites dist/.tsbuildinfo whenever it compiles anything (unchanged outputs keep their time).
  const buildInfo = path.join(ROOT, 'dist', '.tsbuildinfo');
  if (existsSync(dist) && existsSync(buildInfo) && statSync(buildInfo).mtimeMs >= newest(path.join(ROOT, 'src'))) return [dist];
  return ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts')];
})();

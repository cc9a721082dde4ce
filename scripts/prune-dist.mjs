// After an incremental `tsc` build: removes dist/ files whose source in src/ no longer exists (moved or deleted
// modules), so the package never ships stale modules. tsc itself never deletes outputs.
import { readdirSync, rmSync, existsSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const dist = path.join(root, 'dist');
// tsc's incremental state lives inside dist/, so deleting dist/ also forgets it (a state kept elsewhere would make
// the next build believe the deleted outputs are up to date and emit nothing).
const buildInfo = path.join(dist, '.tsbuildinfo');
let removed = 0;
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      walk(p);
      if (readdirSync(p).length === 0) rmSync(p, { recursive: true });
      continue;
    }
    if (p === buildInfo) continue;
    const rel = path.relative(dist, p).replace(/\.(js|js\.map|d\.ts)$/, '');
    if (!existsSync(path.join(root, 'src', `${rel}.ts`))) {
      rmSync(p);
      removed++;
    }
  }
};
if (existsSync(dist)) walk(dist);
if (removed) console.log(`prune-dist: removed ${removed} stale file(s) from dist/`);

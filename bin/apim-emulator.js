#!/usr/bin/env node
// Runs the compiled CLI (dist/, from `npm run build`, which `npm install` in a clone and `npm pack` run first).
// A clone without a build falls back to the TypeScript sources through tsx, a dev dependency.
import { existsSync } from 'node:fs';

const dist = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(dist)) {
  await import(dist.href);
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write('apim-emulator: dist/ is missing; run `npm run build` first\n');
    process.exit(3);
  }
  register();
  await import('../src/cli/main.ts');
}

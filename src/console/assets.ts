import { existsSync, readFileSync } from 'node:fs';

/**
 * Where the console's static files are: next to this module (sources run through tsx, or a build that copied them to
 * dist/console/assets), else the sources' folder seen from dist/console/ in a clone.
 */
const ASSET_DIRS = ['./assets/', '../../src/console/assets/'];

/** One of the console's static files (index.html, console.js, trace-view.js, console.css), or null when this install lacks it. */
export function readConsoleAsset(name: string): string | null {
  for (const dir of ASSET_DIRS) {
    const url = new URL(`${dir}${name}`, import.meta.url);
    if (existsSync(url)) return readFileSync(url, 'utf8');
  }
  return null;
}

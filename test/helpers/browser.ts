import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's chromium; browser tests skip (with this message) where it is not installed. */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_PRESENT = existsSync(CHROMIUM);
if (!CHROMIUM_PRESENT) console.warn(`[browser] ${CHROMIUM} is absent: browser tests are skipped (install it with: apt-get install chromium).`);

/** Screenshots and pages written by tests (gitignored). */
export const TEST_OUTPUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test-output');

export function outputDir(name: string): string {
  const dir = path.join(TEST_OUTPUT, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A headless Chromium with a fresh profile, nothing but 127.0.0.1 in mind; close() also removes the profile. */
export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(path.join(tmpdir(), 'apim-emulator-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1366, height: 860 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

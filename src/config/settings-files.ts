import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SettingsFiles } from '../engine/settings.js';

/**
 * The shell's file access for settings that name files (OpenID configurations, PEM certificates): relative paths
 * resolve against `baseDir` (the config file's folder). The engine only sees the SettingsFiles interface.
 */
export function nodeSettingsFiles(baseDir: string): SettingsFiles {
  return {
    readText(p) {
      const file = path.resolve(baseDir, p);
      try {
        return { ok: true, value: readFileSync(file, 'utf8') };
      } catch (e) {
        return { ok: false, message: `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})` };
      }
    },
  };
}

/** The folder settings files resolve against: `settings.configDir` (set by the config loader), else the working directory. */
export function settingsBaseDir(settings: Readonly<Record<string, unknown>> | undefined): string {
  const d = settings?.configDir;
  return typeof d === 'string' && d ? d : process.cwd();
}

import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { RuntimeServices } from '../../engine/services.js';

/**
 * Reading the emulator settings the identity policies use (RuntimeServices.settings, from the config file's
 * `settings` object). Settings are plain JSON, so every reader checks shapes and returns a message naming the JSON
 * path of a bad value instead of throwing.
 */

export type SettingResult<T> = { ok: true; value: T } | { ok: false; message: string };

/** A top-level settings object (`settings.<name>`), or undefined when absent. */
export function settingsObject(services: RuntimeServices, name: string): SettingResult<Record<string, unknown> | undefined> {
  const v = services.settings.get(name);
  if (v === undefined || v === null) return { ok: true, value: undefined };
  if (typeof v !== 'object' || Array.isArray(v)) return { ok: false, message: `settings.${name} must be an object` };
  return { ok: true, value: v as Record<string, unknown> };
}

/** Folder that relative file paths in settings are read from: `settings.configDir` when set, else the working directory. */
export function settingsBaseDir(services: RuntimeServices): string {
  const d = services.settings.get('configDir');
  return typeof d === 'string' && d ? d : process.cwd();
}

/**
 * A JSON document given inline (an object) or as a file path (string, relative to settingsBaseDir). Read once at load
 * time; the message names the settings path and the file.
 */
export function jsonDocument(services: RuntimeServices, value: unknown, where: string): SettingResult<Record<string, unknown>> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { ok: true, value: value as Record<string, unknown> };
  if (typeof value !== 'string') return { ok: false, message: `${where} must be a JSON object or the path of a JSON file` };
  const file = path.resolve(settingsBaseDir(services), value);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { ok: false, message: `${where}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, message: `${where}: ${file} does not hold a JSON object` };
    return { ok: true, value: v as Record<string, unknown> };
  } catch (e) {
    return { ok: false, message: `${where}: ${file} is not valid JSON (${(e as Error).message})` };
  }
}

/** Text given inline or from a file (`{ "file": "x.pem" }`), e.g. a PEM certificate. */
export function textDocument(services: RuntimeServices, value: unknown, where: string): SettingResult<string> {
  if (typeof value === 'string') return { ok: true, value };
  if (typeof value === 'object' && value !== null && typeof (value as { file?: unknown }).file === 'string') {
    const file = path.resolve(settingsBaseDir(services), (value as { file: string }).file);
    try {
      return { ok: true, value: readFileSync(file, 'utf8') };
    } catch (e) {
      return { ok: false, message: `${where}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})` };
    }
  }
  return { ok: false, message: `${where} must be a string or { "file": "<path>" }` };
}

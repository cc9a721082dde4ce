/**
 * Typed emulator settings (the config file's `settings` object). Each policy declares the settings it reads as
 * SettingSpecs in its PolicyDefinition; the engine parses a setting once, at load, and hands the policy a typed value.
 * Settings are plain JSON: no functions travel through them (code-level hooks go through PolicyExtensions).
 */

export type SettingResult<T> = { ok: true; value: T } | { ok: false; message: string };

/**
 * File access for settings that name a file (an OpenID configuration, a PEM certificate). The shell (CLI, server,
 * tests) provides it, resolving relative paths against the config file's folder: the engine itself reads no files.
 */
export interface SettingsFiles {
  /** The text of a file, or why it cannot be read (message names the resolved path). */
  readText(path: string): SettingResult<string>;
}

/** A reader that refuses every file: for gateways built without a shell that provides one. */
export const NO_SETTINGS_FILES: SettingsFiles = {
  readText: (p) => ({ ok: false, message: `cannot read ${p}: this gateway was built without file access for settings` }),
};

/** What a setting's parser may use besides the raw JSON value. */
export interface SettingParseContext {
  readonly files: SettingsFiles;
}

/** One setting a policy reads: its key under `settings`, and a parser from JSON to T (undefined when absent). */
export interface SettingSpec<T> {
  readonly key: string;
  /** One line for docs and diagnostics: what the setting holds. */
  readonly describe: string;
  parse(raw: unknown, cx: SettingParseContext): SettingResult<T>;
}

/** Declares a setting; `parse` receives the raw JSON (never undefined: absent settings yield `undefined` without parsing). */
export function defineSetting<T>(key: string, describe: string, parse: (raw: unknown, cx: SettingParseContext) => SettingResult<T>): SettingSpec<T> {
  return { key, describe, parse };
}

/** The parsed settings of one gateway: each spec parsed once, memoised. */
export class SettingsStore {
  private readonly parsed = new Map<SettingSpec<unknown>, SettingResult<unknown>>();

  constructor(
    private readonly raw: Readonly<Record<string, unknown>>,
    private readonly cx: SettingParseContext,
  ) {}

  /** The typed value of a setting, `{ ok: true, value: undefined }` when the config does not give it. */
  get<T>(spec: SettingSpec<T>): SettingResult<T | undefined> {
    let r = this.parsed.get(spec as SettingSpec<unknown>) as SettingResult<T | undefined> | undefined;
    if (!r) {
      const v = this.raw[spec.key];
      r = v === undefined || v === null ? { ok: true, value: undefined } : spec.parse(v, this.cx);
      this.parsed.set(spec as SettingSpec<unknown>, r);
    }
    return r;
  }

  /** The keys the config gave (for "unknown setting" checks). */
  keys(): string[] {
    return Object.keys(this.raw);
  }
}

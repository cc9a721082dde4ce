import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadApiopsFolder } from '../apiops/index.js';
import type { SpecExample } from '../apiops/index.js';
import type { LoadedConfig } from './load.js';

export interface ApiopsServeInputs {
  /** The APIOps extractor output folder. */
  dir: string;
  /** `configuration.<env>.yaml` override file (`--apiops-config`). */
  configuration?: string;
  /** Names of named values given outside the tree (no warning for their missing secret values). */
  givenNamedValues: string[];
  /** Raw `--subscription-key` values: `KEY` (all APIs) or `SUBSCRIPTION=KEY` (a subscription of the tree). */
  subscriptionKeys: string[];
}

/** What `serve --apiops` adds to a LoadedConfig: the examples of each API's specification, for --mock-backends. */
export interface ApiopsLoaded extends LoadedConfig {
  examples: Map<string, Map<string, SpecExample>>;
}

/**
 * `serve --apiops DIR` (or `"apiops": "DIR"` in the config file): the tree becomes the definition. `SUBSCRIPTION=KEY`
 * is only taken as a subscription name when the tree has that subscription folder, so keys containing "=" still work.
 */
export function loadApiopsConfig(i: ApiopsServeInputs): ApiopsLoaded {
  const subscriptionKeys = i.subscriptionKeys.map((raw) => {
    const eq = raw.indexOf('=');
    const name = eq > 0 ? raw.slice(0, eq) : '';
    return name && existsSync(path.join(i.dir, 'subscriptions', name)) ? { subscription: name, key: raw.slice(eq + 1) } : { key: raw };
  });
  const r = loadApiopsFolder(i.dir, { ...(i.configuration ? { overridesFile: i.configuration } : {}), givenNamedValues: i.givenNamedValues, subscriptionKeys });
  return {
    definition: r.definition,
    mocks: new Map(),
    server: {},
    diagnostics: r.diagnostics,
    files: r.files,
    referencedFiles: new Set(r.files.map((f) => path.resolve(f))),
    examples: r.examples,
  };
}

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { NamedValue } from '../engine/services.js';
import { VirtualClock } from '../clock.js';
import type { Upstream } from '../engine/upstream.js';
import { buildGateway, overrideNamedValues, prepareDefinition } from '../config/load.js';
import { loadApiopsFolder } from './files.js';

/** Validation only compiles; nothing is ever sent. */
const NO_UPSTREAM: Upstream = {
  send: () => Promise.reject(new Error('validate never sends requests')),
  close: () => Promise.resolve(),
};

/**
 * `validate DIR` on an APIOps tree: loads it as `serve --apiops` would and compiles every policy at its own scope
 * (service, product, API, operation) with the tree's named values, fragments and backends.
 */
export function validateApiopsTree(
  dir: string,
  namedValues: NamedValue[],
  backendParameters: Record<string, unknown>,
  overridesFile?: string,
): { diagnostics: Diagnostic[]; files: string[] } {
  const r = loadApiopsFolder(dir, { givenNamedValues: namedValues.map((n) => n.name), ...(overridesFile ? { overridesFile } : {}) });
  const diagnostics = [...r.diagnostics];
  if (r.definition) {
    if (namedValues.length) overrideNamedValues(r.definition, namedValues);
    if (Object.keys(backendParameters).length) r.definition.backendParameters = backendParameters;
    diagnostics.push(...buildGateway(prepareDefinition(r.definition), { clock: new VirtualClock(), upstream: NO_UPSTREAM }).diagnostics);
  }
  return { diagnostics, files: r.files };
}

import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { SecretMasker } from '../server/secrets.js';
import { isBackendDocument } from '../backends/index.js';
import { VirtualClock } from '../clock.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { SourceText as SourceBuffer } from '../diagnostics/source.js';
import type { SourceText } from '../diagnostics/source.js';
import type { NamedValue } from '../engine/services.js';
import type { ApiDefinition, GatewayDefinition } from '../gateway/definition.js';
import type { Upstream } from '../engine/upstream.js';
import { displayPath, hasIoErrors, IO_UNREADABLE, readSource } from '../config/files.js';
import { parseJsonSource } from '../config/json.js';
import { validateApiopsTree } from '../apiops/validate.js';
import { isApiopsTree } from '../apiops/index.js';
import { buildGateway, checkMockTargets, DEFAULT_SERVICE, loadConfig, overrideNamedValues, prepareDefinition } from '../config/load.js';

import type { PolicyScopeName } from './scopes.js';

export { SCOPE_NAMES, type PolicyScopeName } from './scopes.js';

export interface ValidateOptions {
  /** Files or folders (folders are walked for *.xml and *.json). */
  inputs: string[];
  /** Backend files every policy is checked against (instead of the lab's sibling backends file). */
  backends: string[];
  namedValues: NamedValue[];
  /** Scope policy documents are checked at (default api). */
  scope: PolicyScopeName;
  backendParameters: Record<string, unknown>;
}

export interface ValidateResult {
  diagnostics: Diagnostic[];
  /** Display paths of every file checked. */
  files: string[];
  /** 0 no errors, 1 errors in the inputs, 2 usage or I/O problems. */
  exitCode: 0 | 1 | 2;
}

type Kind = 'policy' | 'fragment' | 'resolver' | 'backends' | 'config';

interface Input {
  abs: string;
  source: SourceText;
  kind: Kind;
}

/**
 * Checks policy documents, fragments, backend definitions and configuration files, detected by content. Policies are
 * compiled by Gateway.build exactly as `serve` would (one API per policy document, at the chosen scope) with the
 * backends and named values given, and every fragment found in the inputs (fragment id = file name without `.xml`,
 * or `<id>` for the APIOps layout `policy fragments/<id>/policy.xml`).
 *
 * AI-Gateway lab convenience: without --backends, a policy `<lab>__x.xml` is checked with the sibling
 * `<lab>__backends.json` (longest matching prefix; else the lab's backends file whose variant matches, see
 * labBackends) and its `policyPlaceholders` are substituted first.
 */
export function runValidate(o: ValidateOptions): ValidateResult {
  const diagnostics: Diagnostic[] = [];
  const files: string[] = [];
  const inputs: Input[] = [];
  // Secret named values never appear in a report (text, SARIF, ...), even where one lands in an invalid attribute.
  const secrets = o.namedValues.filter((n) => n.secret && n.value).map((n) => n.value);

  // APIOps extractor folders are loaded as the service they describe (src/apiops), not file by file.
  const trees = o.inputs.filter((i) => isApiopsTree(path.resolve(i)));
  for (const t of trees) {
    const r = validateApiopsTree(t, o.namedValues, o.backendParameters);
    diagnostics.push(...r.diagnostics);
    files.push(...r.files);
  }

  for (const p of expandInputs(
    o.inputs.filter((i) => !trees.includes(i)),
    diagnostics,
  )) {
    const source = readSource(p, diagnostics);
    if (!source) continue;
    files.push(source.file);
    const kind = classify(source, diagnostics);
    if (kind) inputs.push({ abs: p, source, kind });
  }
  const extraBackends: Input[] = [];
  for (const b of o.backends) {
    const abs = path.resolve(b);
    const already = inputs.find((i) => i.abs === abs);
    if (already) {
      extraBackends.push(already);
      continue;
    }
    const source = readSource(abs, diagnostics);
    if (!source) continue;
    files.push(source.file);
    extraBackends.push({ abs, source, kind: 'backends' });
  }

  // Config files validate everything they reference; those files are not checked again on their own.
  const referenced = new Set<string>();
  for (const c of inputs.filter((i) => i.kind === 'config')) {
    const loaded = loadConfig(c.abs);
    for (const f of loaded.files) if (!files.includes(f)) files.push(f);
    for (const f of loaded.referencedFiles) referenced.add(f);
    diagnostics.push(...loaded.diagnostics);
    if (!loaded.definition) continue;
    if (o.namedValues.length) overrideNamedValues(loaded.definition, o.namedValues);
    for (const n of loaded.definition.namedValues) if (n.secret && n.value) secrets.push(n.value);
    const prepared = prepareDefinition(loaded.definition);
    checkMockTargets(new Map([...loaded.mocks]), prepared.backends, diagnostics);
    diagnostics.push(...build(prepared.definition, prepared));
  }

  const own = inputs.filter((i) => !referenced.has(i.abs));
  const fragments = own.filter((i) => i.kind === 'fragment').map((i) => ({ id: fragmentId(i.abs), source: i.source }));
  const backendInputs = own.filter((i) => i.kind === 'backends');
  const policies = own.filter((i) => i.kind === 'policy');

  const base = (backendFiles: Input[]): GatewayDefinition => ({
    service: { ...DEFAULT_SERVICE },
    fragments,
    namedValues: o.namedValues,
    backendFiles: backendFiles.map((b) => ({ file: b.source.file, text: b.source.text })),
    backendParameters: o.backendParameters,
    products: [],
    apis: [],
    subscriptions: [],
  });

  // Backend files by themselves (--backends together as one set), and fragments when no policy includes them.
  const backendSets: Input[][] = o.backends.length ? [extraBackends] : [];
  for (const b of backendInputs) if (!extraBackends.includes(b)) backendSets.push([b]);
  for (const set of backendSets) diagnostics.push(...build(base(set)));
  if (fragments.length && policies.length === 0) diagnostics.push(...build(base([])));

  // GraphQL resolver documents, checked as resolvers of one API without a schema (their field paths are not known).
  const resolvers = own.filter((i) => i.kind === 'resolver');
  if (resolvers.length) {
    const def = base(o.backends.length ? extraBackends : []);
    const api: ApiDefinition = {
      id: 'validate',
      name: 'validate',
      path: '',
      serviceUrl: '',
      subscriptionRequired: false,
      operations: [],
      policy: RESOLVER_HOST,
    };
    const found = build({
      ...def,
      apis: [api],
      settings: { 'graphql.resolvers': { validate: Object.fromEntries(resolvers.map((r, i) => [`Query/resolver${i}`, r.source.file])) } },
    });
    // What the host API says about itself (no schema) is replaced by one note per resolver file.
    diagnostics.push(...found.filter((d) => d.file !== RESOLVER_HOST.file));
    for (const r of resolvers) {
      diagnostics.push({
        severity: 'info',
        code: 'input/resolver-alone',
        message: "GraphQL resolver checked on its own: its elements and expressions are validated; its field path and arguments only with its API's schema",
        hint: 'give the API (specification: its schema) and settings["graphql.resolvers"] in a config file to check it in place (docs/policies-graphql.md)',
        file: r.source.file,
        line: 1,
        column: 1,
      });
    }
  }

  let unchecked: { source: SourceText; offset: number; count: number } | undefined;
  for (const p of policies) {
    const backendFiles = o.backends.length ? extraBackends : labBackends(p.abs, backendInputs);
    diagnostics.push(...build(placePolicy(base(backendFiles), p.source, o.scope)));
    // Without backend definitions the compiler cannot tell a defined backend-id from a typo: say so once per run.
    const at = backendFiles.length === 0 ? p.source.text.search(/\bbackend-id\s*=\s*["'][^@]/) : -1;
    if (at >= 0) unchecked = unchecked ? { ...unchecked, count: unchecked.count + 1 } : { source: p.source, offset: at, count: 1 };
  }
  if (unchecked) {
    const { line, column } = unchecked.source.positionAt(unchecked.offset);
    const others = unchecked.count > 1 ? ` (and in ${unchecked.count - 1} more polic${unchecked.count === 2 ? 'y' : 'ies'})` : '';
    diagnostics.push({
      severity: 'info',
      code: 'input/backends-not-checked',
      message: `backend ids were not checked${others}: no backend definitions were given`,
      hint: 'pass --backends FILE (ARM template, resources or {"backends": [...]}) to check every backend-id',
      file: unchecked.source.file,
      line,
      column,
    });
  }
  if (files.length === 0 && !diagnostics.some((d) => d.severity === 'error')) {
    diagnostics.push({
      severity: 'error',
      code: 'input/none',
      message: `no files to validate in ${o.inputs.map((i) => displayPath(path.resolve(i))).join(', ') || '(no paths)'}`,
      hint: 'validate reads policy documents and fragments (*.xml), backend definitions and config files (*.json)',
    });
  }

  const unique = new SecretMasker(secrets).maskValue(dedupe(diagnostics));
  const usage = unique.some((d) => d.severity === 'error' && (d.code === 'input/none' || d.code === 'input/bicep'));
  const exitCode = hasIoErrors(unique) || usage ? 2 : unique.some((d) => d.severity === 'error') ? 1 : 0;
  return { diagnostics: unique, files, exitCode };
}

/**
 * A fragment's id: `<id>.xml` → `<id>`; the APIOps extractor's `policy fragments/<id>/policy.xml` → `<id>`, as
 * src/apiops/load.ts reads whole trees.
 */
export function fragmentId(file: string): string {
  const dir = path.dirname(file);
  if (path.basename(file).toLowerCase() === 'policy.xml' && path.basename(path.dirname(dir)).toLowerCase() === 'policy fragments') return path.basename(dir);
  return path.basename(file).replace(/\.xml$/i, '');
}

/** Compiles like `serve`, on a virtual clock and with an upstream that is never called (nothing is served). */
function build(def: GatewayDefinition, prepared = prepareDefinition(def)): Diagnostic[] {
  return buildGateway(prepared, { clock: new VirtualClock(), upstream: NO_UPSTREAM }).diagnostics;
}

/** The API policy resolver documents are checked under: its forward-request compiles the API's resolvers. */
const RESOLVER_HOST = new SourceBuffer('(resolver check)', '<policies><inbound /><backend><forward-request /></backend><outbound /><on-error /></policies>');

/** Validation only compiles; nothing is ever sent. */
const NO_UPSTREAM: Upstream = {
  send: () => Promise.reject(new Error('validate never sends requests')),
  close: () => Promise.resolve(),
};

function placePolicy(def: GatewayDefinition, policy: SourceText, scope: PolicyScopeName): GatewayDefinition {
  const api: ApiDefinition = { id: 'validate', name: 'validate', path: '', serviceUrl: 'http://127.0.0.1', subscriptionRequired: false, operations: [] };
  switch (scope) {
    case 'global':
      return { ...def, globalPolicy: policy, apis: [api] };
    case 'product':
      return { ...def, apis: [api], products: [{ id: 'validate', name: 'validate', subscriptionRequired: false, apis: ['validate'], policy }] };
    case 'api':
      return { ...def, apis: [{ ...api, policy }] };
    case 'operation':
      return { ...def, apis: [{ ...api, operations: [{ id: 'validate', method: '*', urlTemplate: '/*', policy }] }] };
  }
}

/** Walks folders for *.xml and *.json (sorted, skipping node_modules and dot-folders); explicit files are taken as given. */
function expandInputs(inputs: string[], diagnostics: Diagnostic[]): string[] {
  const out: string[] = [];
  const bicep: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!e.name.startsWith('.') && e.name !== 'node_modules') walk(p);
      } else if (/\.(xml|json)$/i.test(e.name)) out.push(p);
      else if (/\.bicep$/i.test(e.name)) bicep.push(p);
    }
  };
  for (const input of inputs) {
    const abs = path.resolve(input);
    let isDir = false;
    try {
      isDir = statSync(abs).isDirectory();
    } catch {
      diagnostics.push({ severity: 'error', code: IO_UNREADABLE, message: `cannot read ${displayPath(abs)}: no such file or folder`, file: displayPath(abs) });
      continue;
    }
    if (isDir) walk(abs);
    else if (/\.bicep(param)?$/i.test(abs)) {
      // Bicep is not JSON: reading it as such would only give a syntax error at line 1 (docs/backends.md).
      diagnostics.push({
        severity: 'error',
        code: 'input/bicep',
        message: 'Bicep source, which validate does not read',
        hint: 'run `bicep build` first and pass the JSON (ARM template) it writes',
        file: displayPath(abs),
        line: 1,
        column: 1,
      });
    } else out.push(abs);
  }
  if (bicep.length) {
    diagnostics.push({
      severity: 'info',
      code: 'input/bicep',
      message: `${bicep.length} Bicep file${bicep.length === 1 ? '' : 's'} skipped (validate reads JSON)`,
      hint: 'run `bicep build` first and pass the JSON (ARM template) it writes',
      file: displayPath(bicep[0]!),
      line: 1,
      column: 1,
    });
  }
  return [...new Set(out)];
}

/** What a file is, by content: XML root element, or the JSON's shape. */
function classify(source: SourceText, diagnostics: Diagnostic[]): Kind | null {
  const text = source.text.replace(/^\uFEFF/, '');
  const first = text.trimStart()[0];
  if (first === '<' || /\.xml$/i.test(source.file)) {
    const stripped = text.replace(/<\?[\s\S]*?\?>/g, '').replace(/<!--[\s\S]*?-->/g, '');
    if (/^\s*<\s*fragment[\s>/]/.test(stripped)) return 'fragment';
    // A GraphQL resolver document (docs/policies-graphql.md) is rooted at its data source.
    return /^\s*<\s*(http|sql|cosmosdb)-data-source[\s>/]/.test(stripped) ? 'resolver' : 'policy';
  }
  const parsed = parseJsonSource(source, diagnostics);
  if (!parsed) return null;
  const v = parsed.value;
  if (isConfigDocument(v)) return 'config';
  if (isBackendDocument(v) || isArmParameters(v)) return 'backends';
  diagnostics.push({
    severity: 'warning',
    code: 'input/unrecognized',
    message: 'not a policy document, fragment, backend definition or apim-emulator configuration; skipped',
    hint: 'pass named values files with --named-values',
    file: source.file,
    line: 1,
    column: 1,
  });
  return null;
}

const CONFIG_ONLY_KEYS = ['apis', 'products', 'subscriptions', 'globalPolicy', 'fragments', 'mocks', 'server', 'service'];

/** A configuration file: `$schema` naming config.schema.json, or config keys with `backends` (if any) as file paths. */
export function isConfigDocument(v: unknown): boolean {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  if (typeof o.$schema === 'string' && /config\.schema\.json$/.test(o.$schema)) return true;
  const b = o.backends;
  const backendsArePaths = b === undefined || typeof b === 'string' || (Array.isArray(b) && b.every((x) => typeof x === 'string'));
  return backendsArePaths && CONFIG_ONLY_KEYS.some((k) => k in o);
}

function isArmParameters(v: unknown): boolean {
  const s = (v as { $schema?: unknown } | null)?.$schema;
  return typeof s === 'string' && /deploymentParameters/i.test(s);
}

/**
 * The lab's backends file for an AI-Gateway corpus policy, from the same folder:
 * 1. `<X>__backends.json` where the policy's file name starts with `<X>__` (longest X wins);
 * 2. else the lab's backends files (same first name segment, `_deprecated__x` counting as one): the one whose variant
 *    shares a word with the policy's name (`ai-agent-service__v1__openai-policy.xml` → `ai-agent-service__main-v1__…`),
 *    else the first in name order.
 */
export function labBackends<T extends { abs: string }>(policyFile: string, candidates: T[]): T[] {
  const dir = path.dirname(policyFile);
  const name = path.basename(policyFile);
  const siblings = candidates.filter((c) => path.dirname(c.abs) === dir && /__backends\.json$/i.test(c.abs));
  const prefix = (c: T) => path.basename(c.abs).replace(/backends\.json$/i, '');
  const exact = siblings.filter((c) => name.startsWith(prefix(c))).sort((a, b) => prefix(b).length - prefix(a).length);
  if (exact.length) return [exact[0]!];
  const lab = labKey(name);
  const sameLab = siblings.filter((c) => labKey(path.basename(c.abs)) === lab).sort((a, b) => (a.abs < b.abs ? -1 : 1));
  if (sameLab.length <= 1) return sameLab;
  const words = new Set(
    name
      .slice(lab.length)
      .split(/__|[-_.]/)
      .filter(Boolean),
  );
  const scored = sameLab.find((c) =>
    path
      .basename(c.abs)
      .slice(lab.length)
      .replace(/__backends\.json$/i, '')
      .split(/__|[-_.]/)
      .some((w) => words.has(w)),
  );
  return [scored ?? sameLab[0]!];
}

function labKey(name: string): string {
  const parts = name.split('__');
  return parts[0] === '_deprecated' || parts[0] === 'modules' ? `${parts[0]}__${parts[1] ?? ''}` : parts[0]!;
}

function dedupe(diags: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diags.filter((d) => {
    const k = `${d.severity}|${d.code}|${d.file}|${d.line}|${d.column}|${d.jsonPath}|${d.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

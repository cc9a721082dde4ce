import path from 'node:path';
import { nodeSettingsFiles, settingsBaseDir } from './settings-files.js';
import { loadBackends, type BackendDefinition } from '../backends/index.js';
import { member, pathJoin, resolvePointer } from '../source/json.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { SourceText } from '../diagnostics/source.js';
import type { NamedValue } from '../engine/services.js';
import type { ApiDefinition, GatewayDefinition, OperationDefinition, ProductDefinition, SubscriptionDefinition } from '../gateway/definition.js';
import { Gateway, type GatewayDeps } from '../gateway/gateway.js';
import { mockScriptFromJson, type MockScript } from '../mocks/index.js';
import { displayPath, readSource } from './files.js';
import { parseJsonSource } from './json.js';
import { loadApiopsConfig } from './apiops.js';
import type { SpecExample } from '../apiops/index.js';
import { loadNamedValuesFile, namedValuesFromMap } from './named-values.js';
import { PlaceholderEdits } from './placeholders.js';
import { validateConfigSchema } from './schema.js';
import type { DiagnosticCode } from '../diagnostics/codes.js';

/** How `serve` runs, from the config file's `server` object; command-line options override each field. */
export interface ServerSettings {
  host?: string;
  port?: number;
  debugToken?: string;
  traceLimit?: number;
  logLevel?: string;
  virtualClock?: boolean | 'advance' | 'wait';
  mockBackends?: boolean;
  /** Simulated gateway instances (APIM scale units), each with its own breakers, pools and policy state. Default 1. */
  instances?: number;
  /** Connections per backend origin per gateway instance (default 2048, APIM's per-unit limit). */
  upstreamConnections?: number;
  /** Bounds of each mock backend's request log (default 10,000 entries, bodies cut at 64 KiB). */
  mockLog?: { entries?: number; bodyBytes?: number };
}

/** The config file's `state` object: where counters and the external cache live (flags override each field). */
export interface StateSettings {
  /** `redis://HOST:PORT[/DB]`: same as --state. */
  redis?: string;
  /** While Redis is unreachable: let throttled requests through (`open`, default) or refuse them (`closed`). */
  failMode?: 'open' | 'closed';
  /** Circuit breakers in the shared state too (same as --share-breakers). */
  shareBreakers?: boolean;
}

/** Where a mock script came from, for diagnostics about its backend id. */
export interface MockRequest {
  script: MockScript;
  origin: Pick<Diagnostic, 'file' | 'line' | 'column' | 'jsonPath'>;
}

/** A configuration turned into a GatewayDefinition (files read, nothing compiled yet). */
export interface LoadedConfig {
  /** null when the configuration itself could not be read or is invalid. */
  definition: GatewayDefinition | null;
  /** Backend id → mock script (config `mocks` and `--mock`). */
  mocks: Map<string, MockRequest>;
  server: ServerSettings;
  /** The config file's `state` object ({} without one). */
  state?: StateSettings;
  diagnostics: Diagnostic[];
  /** Display paths of every file read, the config file first. */
  files: string[];
  /** Files (absolute) the configuration references, so `validate` does not check them a second time on their own. */
  referencedFiles: Set<string>;
  /** Backend id → url of a real local service (config `backendUrls`). */
  backendUrls?: Map<string, string>;
  /** Per API id and operation id: the example of the API's specification (APIOps trees), for --mock-backends. */
  examples?: Map<string, Map<string, SpecExample>>;
  /** Folders whose changes `serve --watch` reloads on (besides the files read). */
  watchDirs?: string[];
}

export const DEFAULT_SERVICE = { name: 'apim-emulator', region: 'West Europe', gatewayId: 'managed' } as const;

interface RawConfig {
  service?: { name?: string; region?: string; gatewayId?: string };
  globalPolicy?: string;
  fragments?: Record<string, string>;
  namedValues?: string | Record<string, string | { value: string; secret?: boolean } | { env: string; secret?: boolean }>;
  backends?: string | string[];
  backendParameters?: Record<string, unknown>;
  products?: Array<{
    id: string;
    name?: string;
    policy?: string;
    subscriptionRequired?: boolean;
    approvalRequired?: boolean;
    subscriptionsLimit?: number | null;
    state?: 'Published' | 'NotPublished';
    apis: string[];
  }>;
  apis?: Array<{
    id: string;
    name?: string;
    path: string;
    serviceUrl?: string;
    subscriptionRequired?: boolean;
    subscriptionKeyParameterNames?: { header?: string; query?: string };
    version?: string;
    revision?: string;
    protocols?: string[];
    policy?: string;
    /** OpenAPI 2/3 (JSON or YAML) or GraphQL SDL file: read by validate-content & co. */
    specification?: string;
    operations?: Array<{ id: string; name?: string; method: string; urlTemplate: string; policy?: string }>;
  }>;
  subscriptions?: SubscriptionDefinition[];
  mocks?: Record<string, unknown>;
  settings?: Record<string, unknown>;
  server?: ServerSettings;
  state?: StateSettings;
  apiops?: string;
  apiopsConfig?: string;
  backendUrls?: Record<string, string>;
}

/**
 * Reads a configuration file (JSON, schemas/config.schema.json) and every file it references, relative to the config
 * file's folder. Problems come back as diagnostics: schema errors with JSON path and line/column, unreadable files as
 * `io/unreadable`, cross-reference mistakes (a product listing an unknown API...) as `config/*`.
 */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const diagnostics: Diagnostic[] = [];
  const result: LoadedConfig = { definition: null, mocks: new Map(), server: {}, diagnostics, files: [displayPath(file)], referencedFiles: new Set() };
  const source = readSource(file, diagnostics);
  if (!source) return result;
  const parsed = parseJsonSource(source, diagnostics);
  if (!parsed) return result;
  const schemaErrors = validateConfigSchema(parsed.value, parsed.root, source);
  if (schemaErrors.length) {
    diagnostics.push(...schemaErrors);
    return result;
  }
  const raw = parsed.value as RawConfig;
  const root = parsed.root;
  const baseDir = path.dirname(path.resolve(file));
  const at = (pointer: string): Pick<Diagnostic, 'file' | 'line' | 'column' | 'jsonPath'> => {
    const r = resolvePointer(root, pointer);
    return { file: source.file, ...source.positionAt(r.node.offset), jsonPath: `$${r.path}` };
  };
  const err = (pointer: string, code: DiagnosticCode, message: string, hint?: string) =>
    diagnostics.push({ severity: 'error', code, message, ...(hint ? { hint } : {}), ...at(pointer) });

  const read = (rel: string, pointer: string): SourceText | undefined => {
    const abs = path.resolve(baseDir, rel);
    result.referencedFiles.add(abs);
    const s = readSource(abs, diagnostics, at(pointer));
    if (s) result.files.push(s.file);
    return s ?? undefined;
  };

  const namedValues: NamedValue[] = [];
  if (typeof raw.namedValues === 'string') {
    const abs = path.resolve(baseDir, raw.namedValues);
    result.referencedFiles.add(abs);
    const before = diagnostics.length;
    namedValues.push(...loadNamedValuesFile(abs, diagnostics, at('/namedValues')));
    if (diagnostics.length === before || !diagnostics.slice(before).some((d) => d.code.startsWith('io/'))) result.files.push(displayPath(abs));
  } else if (raw.namedValues) {
    namedValues.push(...namedValuesFromMap(raw.namedValues, member(root, 'namedValues')!, source, '$.namedValues', diagnostics, env));
  }

  const fragments: GatewayDefinition['fragments'] = [];
  for (const [id, rel] of Object.entries(raw.fragments ?? {})) {
    const s = read(rel, `/fragments/${escape(id)}`);
    if (s) fragments.push({ id, source: s });
  }

  const backendFiles: GatewayDefinition['backendFiles'] = [];
  const backendList = typeof raw.backends === 'string' ? [raw.backends] : (raw.backends ?? []);
  backendList.forEach((rel, i) => {
    const s = read(rel, typeof raw.backends === 'string' ? '/backends' : `/backends/${i}`);
    if (s) backendFiles.push({ file: s.file, text: s.text });
  });

  const apiIds = new Set<string>();
  const apiPaths = new Map<string, string>();
  const apis: ApiDefinition[] = [];
  (raw.apis ?? []).forEach((a, i) => {
    if (apiIds.has(a.id)) err(`/apis/${i}/id`, 'config/duplicate-id', `API id "${a.id}" is used twice`, 'API ids are unique');
    apiIds.add(a.id);
    const normPath = a.path.replace(/^\/+|\/+$/g, '').toLowerCase();
    // Version schemes (segment, header, query) are not emulated, so two APIs on one suffix could never both be reached.
    const pathKey = normPath;
    const other = apiPaths.get(pathKey);
    if (other !== undefined)
      err(
        `/apis/${i}/path`,
        'config/duplicate-path',
        `APIs "${other}" and "${a.id}" both use the URL suffix "${a.path}"`,
        'each API needs its own path (API version sets are not emulated)',
      );
    apiPaths.set(pathKey, a.id);
    const opIds = new Set<string>();
    const operations: OperationDefinition[] = [];
    (a.operations ?? []).forEach((o, j) => {
      if (opIds.has(o.id))
        err(
          `/apis/${i}/operations/${j}/id`,
          'config/duplicate-id',
          `operation id "${o.id}" is used twice in API "${a.id}"`,
          'operation ids are unique within an API',
        );
      opIds.add(o.id);
      const policy = o.policy !== undefined ? read(o.policy, `/apis/${i}/operations/${j}/policy`) : undefined;
      operations.push({
        id: o.id,
        ...(o.name ? { name: o.name } : {}),
        method: o.method.toUpperCase(),
        urlTemplate: o.urlTemplate,
        ...(policy ? { policy } : {}),
      });
    });
    const policy = a.policy !== undefined ? read(a.policy, `/apis/${i}/policy`) : undefined;
    const specification = a.specification !== undefined ? read(a.specification, `/apis/${i}/specification`) : undefined;
    apis.push({
      id: a.id,
      name: a.name ?? a.id,
      path: a.path,
      serviceUrl: a.serviceUrl ?? '',
      subscriptionRequired: a.subscriptionRequired ?? true,
      ...(a.subscriptionKeyParameterNames ? { subscriptionKeyParameterNames: a.subscriptionKeyParameterNames } : {}),
      ...(a.version !== undefined ? { version: a.version } : {}),
      ...(a.revision !== undefined ? { revision: a.revision } : {}),
      ...(a.protocols ? { protocols: a.protocols } : {}),
      ...(policy ? { policy } : {}),
      ...(specification ? { specification } : {}),
      operations,
    });
  });

  const productIds = new Set<string>();
  const products: ProductDefinition[] = [];
  (raw.products ?? []).forEach((p, i) => {
    if (productIds.has(p.id)) err(`/products/${i}/id`, 'config/duplicate-id', `product id "${p.id}" is used twice`, 'product ids are unique');
    productIds.add(p.id);
    p.apis.forEach((apiId, j) => {
      if (!apiIds.has(apiId))
        err(`/products/${i}/apis/${j}`, 'config/unknown-api', `product "${p.id}" lists API "${apiId}", which is not defined`, known('APIs', apiIds));
    });
    const policy = p.policy !== undefined ? read(p.policy, `/products/${i}/policy`) : undefined;
    products.push({
      id: p.id,
      name: p.name ?? p.id,
      subscriptionRequired: p.subscriptionRequired ?? true,
      ...(p.approvalRequired !== undefined ? { approvalRequired: p.approvalRequired } : {}),
      ...(p.subscriptionsLimit !== undefined ? { subscriptionsLimit: p.subscriptionsLimit } : {}),
      ...(p.state ? { state: p.state } : {}),
      ...(policy ? { policy } : {}),
      apis: p.apis,
    });
  });
  const openProducts = new Map<string, string>();
  for (const p of products) {
    if (p.subscriptionRequired) continue;
    for (const a of p.apis) {
      // APIM allows at most one open product per API (docs/apim-behaviour.md: Subscription keys).
      const prev = openProducts.get(a);
      if (prev)
        err(
          `/products/${products.indexOf(p)}/subscriptionRequired`,
          'config/open-products',
          `API "${a}" is in two open products ("${prev}" and "${p.id}")`,
          'an API can be in at most one product that needs no subscription',
        );
      openProducts.set(a, p.id);
    }
  }

  const subIds = new Set<string>();
  const keys = new Map<string, string>();
  (raw.subscriptions ?? []).forEach((s, i) => {
    if (subIds.has(s.id)) err(`/subscriptions/${i}/id`, 'config/duplicate-id', `subscription id "${s.id}" is used twice`, 'subscription ids are unique');
    subIds.add(s.id);
    const [kind, id] = s.scope === 'all' ? ['all', ''] : [s.scope.slice(0, s.scope.indexOf(':')), s.scope.slice(s.scope.indexOf(':') + 1)];
    if (kind === 'api' && !apiIds.has(id))
      err(`/subscriptions/${i}/scope`, 'config/unknown-api', `subscription "${s.id}" is scoped to API "${id}", which is not defined`, known('APIs', apiIds));
    if (kind === 'product' && !productIds.has(id))
      err(
        `/subscriptions/${i}/scope`,
        'config/unknown-product',
        `subscription "${s.id}" is scoped to product "${id}", which is not defined`,
        known('products', productIds),
      );
    for (const [k, field] of [
      [s.primaryKey, 'primaryKey'],
      [s.secondaryKey, 'secondaryKey'],
    ] as const) {
      if (k === undefined) continue;
      const owner = keys.get(k);
      if (owner && owner !== s.id)
        err(
          `/subscriptions/${i}/${field}`,
          'config/duplicate-key',
          `subscription "${s.id}" reuses the key of subscription "${owner}"`,
          'subscription keys are unique',
        );
      keys.set(k, s.id);
    }
  });

  for (const [backendId, script] of Object.entries(raw.mocks ?? {})) {
    const pointer = `/mocks/${escape(backendId)}`;
    const r = mockScriptFromJson(script, source.file, pathJoin('$.mocks', backendId));
    // The JSON form reports paths only; add the line/column of the script in the config file.
    const pos = at(pointer);
    diagnostics.push(...r.diagnostics.map((d) => (d.line === undefined ? { ...d, line: pos.line, column: pos.column } : d)));
    if (r.script) result.mocks.set(backendId, { script: r.script, origin: pos });
  }

  let globalPolicy = raw.globalPolicy !== undefined ? read(raw.globalPolicy, '/globalPolicy') : undefined;
  result.server = raw.server ?? {};
  if (raw.state) result.state = raw.state;
  if (raw.backendUrls) result.backendUrls = new Map(Object.entries(raw.backendUrls));
  if (raw.apiops !== undefined) {
    // The APIOps tree is the service; what the file lists is added to it (its named values win, docs/configuration.md).
    const tree = loadApiopsConfig({
      dir: path.resolve(baseDir, raw.apiops),
      ...(raw.apiopsConfig !== undefined ? { configuration: path.resolve(baseDir, raw.apiopsConfig) } : {}),
      givenNamedValues: namedValues.map((n) => n.name),
      subscriptionKeys: [],
    });
    diagnostics.push(...tree.diagnostics);
    result.files.push(...tree.files);
    for (const f of tree.referencedFiles) result.referencedFiles.add(f);
    result.examples = tree.examples;
    result.watchDirs = [path.resolve(baseDir, raw.apiops)];
    const t = tree.definition;
    if (!t) return result;
    globalPolicy ??= t.globalPolicy;
    const own = new Set(namedValues.map((n) => n.name.toLowerCase()));
    namedValues.unshift(...t.namedValues.filter((n) => !own.has(n.name.toLowerCase())));
    fragments.unshift(...t.fragments.filter((f) => !fragments.some((x) => x.id === f.id)));
    backendFiles.unshift(...t.backendFiles);
    apis.unshift(...t.apis);
    products.unshift(...t.products);
    (raw.subscriptions ??= []).unshift(...t.subscriptions);
  }
  result.definition = {
    service: { ...DEFAULT_SERVICE, ...raw.service },
    ...(globalPolicy ? { globalPolicy } : {}),
    fragments,
    namedValues,
    backendFiles,
    ...(raw.backendParameters ? { backendParameters: raw.backendParameters } : {}),
    products,
    apis,
    subscriptions: raw.subscriptions ?? [],
    // Relative paths inside settings (OpenID configurations, certificates) resolve against the config file's folder.
    settings: { configDir: baseDir, ...raw.settings },
  };
  return result;
}

/** Command-line flags of `serve` without --config: one API at a URL suffix, every method and path under it. */
export interface SimpleServeOptions {
  policy?: string;
  globalPolicy?: string;
  backends: string[];
  apiPath: string;
  serviceUrl?: string;
  fragments: Array<{ id: string; file: string }>;
  namedValuesFiles: string[];
  subscriptionKey?: string;
}

/** The simple case (no config file): the GatewayDefinition the flags describe. */
export function definitionFromOptions(o: SimpleServeOptions): LoadedConfig {
  const diagnostics: Diagnostic[] = [];
  const result: LoadedConfig = { definition: null, mocks: new Map(), server: {}, diagnostics, files: [], referencedFiles: new Set() };
  const read = (file: string, flag: string): SourceText | undefined => {
    const s = readSource(path.resolve(file), diagnostics, { file: displayPath(file), jsonPath: flag });
    if (s) result.files.push(s.file);
    return s ?? undefined;
  };
  const policy = o.policy ? read(o.policy, '--policy') : undefined;
  const globalPolicy = o.globalPolicy ? read(o.globalPolicy, '--global-policy') : undefined;
  const fragments: GatewayDefinition['fragments'] = [];
  for (const f of o.fragments) {
    const s = read(f.file, `--fragment ${f.id}`);
    if (s) fragments.push({ id: f.id, source: s });
  }
  const backendFiles: GatewayDefinition['backendFiles'] = [];
  for (const b of o.backends) {
    const s = read(b, '--backends');
    if (s) backendFiles.push({ file: s.file, text: s.text });
  }
  const namedValues: NamedValue[] = [];
  for (const f of o.namedValuesFiles) {
    namedValues.push(...loadNamedValuesFile(path.resolve(f), diagnostics, { file: displayPath(f), jsonPath: '--named-values' }));
    result.files.push(displayPath(f));
  }
  const apiPath = o.apiPath.replace(/^\/+|\/+$/g, '');
  result.definition = {
    service: { ...DEFAULT_SERVICE },
    ...(globalPolicy ? { globalPolicy } : {}),
    fragments,
    namedValues,
    backendFiles,
    products: [],
    apis: [
      {
        id: 'api',
        name: apiPath || 'api',
        path: apiPath,
        serviceUrl: o.serviceUrl ?? '',
        subscriptionRequired: o.subscriptionKey !== undefined,
        ...(policy ? { policy } : {}),
        operations: [],
      },
    ],
    subscriptions: o.subscriptionKey !== undefined ? [{ id: 'cli', name: 'command line', scope: 'all', primaryKey: o.subscriptionKey }] : [],
  };
  return result;
}

/** Named values given on the command line win over those from files (same name, case-insensitive). */
export function overrideNamedValues(def: GatewayDefinition, values: NamedValue[]): void {
  const names = new Set(values.map((v) => v.name.toLowerCase()));
  def.namedValues = [...def.namedValues.filter((v) => !names.has(v.name.toLowerCase())), ...values];
}

/** A definition ready to compile: lab placeholders substituted, backends loaded once to learn ids and urls. */
export interface PreparedDefinition {
  definition: GatewayDefinition;
  /** Single and pool backends as loaded (empty when the files have errors; Gateway.build reports those). */
  backends: BackendDefinition[];
  edits: PlaceholderEdits;
}

/**
 * Loads the backend files once to learn their `policyPlaceholders` (AI-Gateway lab convenience: `{backend-id}` and the
 * like, substituted textually in every policy document) and their top-level `namedValues` (used when the definition
 * does not define the name itself). Backend diagnostics are left to Gateway.build so they are reported once.
 */
export function prepareDefinition(def: GatewayDefinition): PreparedDefinition {
  const edits = new PlaceholderEdits();
  if (def.backendFiles.length === 0) return { definition: def, backends: [], edits };
  const loaded = loadBackends(def.backendFiles, { parameters: def.backendParameters ?? {} });
  const own = new Set(def.namedValues.map((n) => n.name.toLowerCase()));
  const fromFiles: NamedValue[] = Object.entries(loaded.namedValues)
    .filter(([name]) => !own.has(name.toLowerCase()))
    .map(([name, value]) => ({ name, value, secret: false }));
  const sub = <T extends SourceText | undefined>(s: T): T => (s ? (edits.apply(s, loaded.placeholders) as T) : s);
  const definition: GatewayDefinition = {
    ...def,
    namedValues: [...def.namedValues, ...fromFiles],
    ...(def.globalPolicy ? { globalPolicy: sub(def.globalPolicy) } : {}),
    fragments: def.fragments.map((f) => ({ id: f.id, source: sub(f.source) })),
    products: def.products.map((p) => ({ ...p, ...(p.policy ? { policy: sub(p.policy) } : {}) })),
    apis: def.apis.map((a) => ({
      ...a,
      ...(a.policy ? { policy: sub(a.policy) } : {}),
      operations: a.operations.map((o) => ({ ...o, ...(o.policy ? { policy: sub(o.policy) } : {}) })),
    })),
  };
  return { definition, backends: loaded.backends, edits };
}

/** Gateway.build with diagnostics pointing at the files as written (placeholder substitution undone). */
export function buildGateway(prepared: PreparedDefinition, deps: GatewayDeps): { gateway: Gateway | null; diagnostics: Diagnostic[] } {
  const files = deps.files ?? nodeSettingsFiles(settingsBaseDir(prepared.definition.settings));
  const r = Gateway.build(prepared.definition, { ...deps, files });
  return { gateway: r.gateway, diagnostics: r.diagnostics.map((d) => prepared.edits.remap(d)) };
}

/** Backend ids a mock names must exist; a mocked backend must be a single backend (pools have no url). */
export function checkMockTargets(mocks: Map<string, MockRequest>, backends: BackendDefinition[], diagnostics: Diagnostic[]): void {
  const byId = new Map(backends.map((b) => [b.id, b]));
  for (const [id, m] of mocks) {
    const b = byId.get(id);
    if (!b) {
      diagnostics.push({
        severity: 'error',
        code: 'config/unknown-backend',
        message: `mock for backend "${id}", which is not defined`,
        hint: known('backends', byId.keys()),
        ...m.origin,
      });
    } else if (b.type === 'Pool') {
      diagnostics.push({
        severity: 'error',
        code: 'config/mock-pool',
        message: `"${id}" is a pool; mock its member backends instead`,
        hint: `members: ${(b.pool?.members ?? []).map((x) => x.backendId).join(', ')}`,
        ...m.origin,
      });
    }
  }
}

function known(what: string, ids: Iterable<string>): string {
  const list = [...ids];
  return list.length ? `defined ${what}: ${list.join(', ')}` : `no ${what} are defined`;
}

function escape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

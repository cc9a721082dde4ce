import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { SourceText } from '../diagnostics/source.js';
import type { NamedValue } from '../engine/services.js';
import type { ApiDefinition, GatewayDefinition, OperationDefinition, ProductDefinition, SubscriptionDefinition } from '../gateway/definition.js';
import { parseJsonWithPositions, JsonSyntaxError } from '../source/json.js';
import { deepMerge, Overrides } from './overrides.js';
import { openApiOperations, wadlOperations, type SpecExample } from './specification.js';
import type { DiagnosticCode } from '../diagnostics/codes.js';

/** One file of an APIOps tree: its path relative to the root with `/` separators, and its text (named by display path). */
export interface ApiopsFile {
  rel: string;
  source: SourceText;
}

export interface ApiopsLoadOptions {
  /** The `configuration.<env>.yaml` override file (`--apiops-config`), already read. */
  overrides?: SourceText;
  /** Named values given outside the tree (`--named-value`, values files): a secret without a value is then no warning. */
  givenNamedValues?: readonly string[];
  /**
   * Subscription keys (`--subscription-key`): `{ key }` alone is an all-APIs subscription (APIM's built-in one, which
   * the extractor skips); `{ subscription, key }` gives the key of `subscriptions/<subscription>` (extracts carry none).
   */
  subscriptionKeys?: ReadonlyArray<{ subscription?: string; key: string }>;
}

/** APIOps extractor generation the tree looks like (docs/apiops.md, Layout generations). */
export type ApiopsLayout = 'v5' | 'v6' | 'v7';

export interface ApiopsLoadResult {
  definition: GatewayDefinition | null;
  diagnostics: Diagnostic[];
  layout: ApiopsLayout;
  /** Display paths of every file read. */
  files: string[];
  /** Per API id: operation id → the example APIM's mock-response would answer with (for `--mock-backends`). */
  examples: Map<string, Map<string, SpecExample>>;
}

/** Override keys the loader applies (docs/apiops.md, Override files); others are reported as not needed. */
const OVERRIDE_KINDS = ['namedValues', 'backends', 'apis', 'products', 'policies', 'policyFragments', 'subscriptions', 'versionSets'] as const;
const NOT_NEEDED_KINDS = new Map([
  ['tags', 'tags only group APIs and products in the portal'],
  ['groups', 'developer groups control portal visibility, not gateway traffic'],
  ['loggers', 'loggers send telemetry to Azure (the emulator logs locally)'],
  ['diagnostics', 'Application Insights / Azure Monitor diagnostics settings are not emulated (the emulator logs locally)'],
  ['gateways', 'self-hosted gateway assignments do not change how this gateway routes'],
  ['authorizationServers', 'authorization servers are portal settings'],
  ['identityProviders', 'identity providers are portal settings'],
  ['portalsettings', 'developer portal settings'],
]);

/**
 * Turns an extracted APIM service (an APIOps tree, any of the v5/v6/v7 layouts of docs/apiops.md) into a
 * GatewayDefinition. Pure: the caller reads the files. Every file is used or reported once as not needed (info);
 * what the emulator cannot do with a file it uses is a warning; inputs APIM would reject are errors.
 */
export function loadApiops(files: readonly ApiopsFile[], o: ApiopsLoadOptions = {}): ApiopsLoadResult {
  const diagnostics: Diagnostic[] = [];
  const examples = new Map<string, Map<string, SpecExample>>();
  const overrides = o.overrides ? Overrides.parse(o.overrides, diagnostics) : null;
  const info = (f: ApiopsFile, code: DiagnosticCode, message: string) => diagnostics.push({ severity: 'info', code, message, file: f.source.file });
  const warn = (f: ApiopsFile | SourceText, code: DiagnosticCode, message: string, hint?: string) =>
    diagnostics.push({ severity: 'warning', code, message, file: 'rel' in f ? f.source.file : f.file, line: 1, column: 1, ...(hint ? { hint } : {}) });
  const error = (f: ApiopsFile, code: DiagnosticCode, message: string, hint?: string) =>
    diagnostics.push({ severity: 'error', code, message, file: f.source.file, line: 1, column: 1, ...(hint ? { hint } : {}) });

  // Index the tree by path (resource names compare case-insensitively in APIM, docs/apiops.md, Paths and names; paths on disk are literal).
  const byRel = new Map<string, ApiopsFile>();
  for (const f of files) byRel.set(f.rel, f);
  const used = new Set<string>();
  const take = (rel: string): ApiopsFile | undefined => {
    const f = byRel.get(rel);
    if (f) used.add(rel);
    return f;
  };
  const children = (prefix: string): string[] => {
    const names = new Set<string>();
    for (const rel of byRel.keys()) if (rel.startsWith(prefix)) names.add(rel.slice(prefix.length).split('/')[0]!);
    return [...names].sort();
  };
  /** `{ properties }` of an information file, merged with its override; null (and a diagnostic) when unreadable. */
  const props = (f: ApiopsFile, chain?: Array<[string, string]>, drop: string[] = []): Record<string, unknown> | null => {
    const v = parseJson(f, diagnostics);
    if (v === null) return null;
    if (typeof v !== 'object' || Array.isArray(v)) {
      error(
        f,
        'apiops/info-shape',
        'an APIOps information file is a JSON object {"properties": {...}}',
        'the extractor writes the ARM resource\'s properties under "properties"',
      );
      return null;
    }
    let p = ((v as { properties?: unknown }).properties ?? {}) as Record<string, unknown>;
    const over = chain ? overrides?.find(chain) : undefined;
    if (over) {
      const o2 = { ...over };
      for (const k of drop) delete o2[k];
      p = deepMerge(p, o2) as Record<string, unknown>;
    }
    return p;
  };
  const policyOverride = (chain: Array<[string, string]>): string | undefined => {
    const over = overrides?.find([...chain, ['policies', 'policy']]);
    return typeof over?.value === 'string' ? over.value : undefined;
  };
  const policyFile = (rel: string, chain: Array<[string, string]>): SourceText | undefined => {
    const text = policyOverride(chain);
    const f = take(rel);
    if (text !== undefined) return new SourceText(`${o.overrides!.file} (${chain.map(([k, n]) => `${k}[${n}]`).join('.')}.policies[policy])`, text);
    return f?.source;
  };

  const layout = detectLayout(files);

  // Workspaces: not read (the gateway serves the service level); one clear warning per workspace.
  for (const ws of children('workspaces/')) {
    const inside = files.filter((f) => f.rel.startsWith(`workspaces/${ws}/`));
    for (const f of inside) used.add(f.rel);
    if (inside[0])
      warn(
        inside[0],
        'apiops/workspace-skipped',
        `workspace "${ws}" is skipped: its ${inside.length} file(s) (APIs, products, backends... of the workspace) are not loaded; only the service level is served`,
        'workspace gateways are not emulated; move what you need to test to the service level, or test it there',
      );
  }

  // Service policy and fragments.
  const globalPolicy = policyFile('policy.xml', []);
  const fragments: GatewayDefinition['fragments'] = [];
  for (const name of children('policy fragments/')) {
    const dir = `policy fragments/${name}/`;
    take(`${dir}policyFragmentInformation.json`);
    const over = overrides?.find([['policyFragments', name]]);
    const f = take(`${dir}policy.xml`);
    if (typeof over?.value === 'string') fragments.push({ id: name, source: new SourceText(`${o.overrides!.file} (policyFragments[${name}])`, over.value) });
    else if (f) fragments.push({ id: name, source: f.source });
    else {
      const any = byRel.get(`${dir}policyFragmentInformation.json`);
      if (any)
        error(
          any,
          'apiops/fragment-no-policy',
          `policy fragment "${name}" has no policy.xml`,
          'the extractor writes the fragment XML to policy fragments/<name>/policy.xml',
        );
    }
  }

  // Named values: {{x}} refers to the displayName (docs/apiops.md, Naming rules).
  const given = new Set((o.givenNamedValues ?? []).map((n) => n.toLowerCase()));
  const namedValues: NamedValue[] = [];
  for (const name of children('named values/')) {
    const f = take(`named values/${name}/namedValueInformation.json`);
    if (!f) continue;
    const p = props(f, [['namedValues', name]]);
    if (!p) continue;
    const display = typeof p.displayName === 'string' && p.displayName ? p.displayName : name;
    const secret = p.secret === true;
    if (typeof p.value === 'string') {
      namedValues.push({ name: display, value: p.value, secret });
      continue;
    }
    if (!given.has(display.toLowerCase())) {
      const kv = (p.keyVault as { secretIdentifier?: unknown } | undefined)?.secretIdentifier;
      const why =
        typeof kv === 'string'
          ? `is a Key Vault reference (${kv}), which cannot be read offline`
          : secret
            ? 'is a secret, and extracts carry no secret values'
            : 'has no value';
      warn(
        f,
        'apiops/named-value-unknown',
        `named value "${display}" ${why}; {{${display}}} stays as written`,
        `give it with --named-value ${display}=VALUE, a named values file, or a configuration.<env>.yaml override (namedValues: - name: ${name})`,
      );
    }
    // Left as its own token (docs/apiops.md, Information files: "leave the {{…}} token unresolved with a warning").
    namedValues.push({ name: display, value: `{{${display}}}`, secret });
  }

  // Backends: the information file is the resource's properties; the folder is its name.
  const backendFiles: GatewayDefinition['backendFiles'] = [];
  for (const name of children('backends/')) {
    const f = take(`backends/${name}/backendInformation.json`);
    if (!f) continue;
    const over = overrides?.find([['backends', name]]);
    if (over) {
      const p = props(f, [['backends', name]]);
      if (p) backendFiles.push({ file: f.source.file, text: JSON.stringify({ name, properties: p }, null, 2) });
    } else {
      backendFiles.push({ file: f.source.file, text: withName(f.source.text, name) });
    }
  }

  // Version sets: v6/v7 versionSetInformation.json, v5 apiVersionSetInformation.json.
  const versionSets = new Map<string, NonNullable<ApiDefinition['versionSet']>>();
  for (const name of children('version sets/')) {
    const f = take(`version sets/${name}/versionSetInformation.json`) ?? take(`version sets/${name}/apiVersionSetInformation.json`);
    if (!f) continue;
    const p = props(f, [['versionSets', name]]);
    if (!p) continue;
    const scheme = String(p.versioningScheme ?? 'Segment');
    const canonical = ['Segment', 'Header', 'Query'].find((s) => s.toLowerCase() === scheme.toLowerCase()) as 'Segment' | 'Header' | 'Query' | undefined;
    if (!canonical) {
      error(f, 'apiops/version-scheme', `version set "${name}" has versioningScheme "${scheme}"`, 'allowed: Segment, Header, Query');
      continue;
    }
    versionSets.set(name.toLowerCase(), {
      id: name,
      ...(typeof p.displayName === 'string' ? { name: p.displayName } : {}),
      scheme: canonical,
      ...(typeof p.versionHeaderName === 'string' ? { headerName: p.versionHeaderName } : {}),
      ...(typeof p.versionQueryName === 'string' ? { queryName: p.versionQueryName } : {}),
    });
  }

  // APIs: apis/<name> is the current revision, apis/<name>;rev=N a non-current one (docs/apiops.md, Naming rules).
  const apis: ApiDefinition[] = [];
  for (const folder of children('apis/')) {
    const dir = `apis/${folder}/`;
    const f = take(`${dir}apiInformation.json`);
    if (!f) {
      const first = files.find((x) => x.rel.startsWith(dir));
      if (first) {
        for (const x of files) if (x.rel.startsWith(dir)) used.add(x.rel);
        error(
          first,
          'apiops/api-no-information',
          `API folder "${folder}" has no apiInformation.json, so the API cannot be served`,
          'the extractor writes apis/<name>/apiInformation.json for every API',
        );
      }
      continue;
    }
    const revMatch = /^(.*);rev=(\d+)$/.exec(folder);
    const baseName = revMatch ? revMatch[1]! : folder;
    const p = props(f, [['apis', folder]], ['apiRevision', 'isCurrent']);
    if (!p) continue;
    const type = String(p.type ?? p.apiType ?? 'http').toLowerCase();
    const spec = ['yaml', 'yml', 'json', 'graphql', 'wadl', 'wsdl', 'xml'].map((ext) => take(`${dir}specification.${ext}`)).find(Boolean);
    let operations: OperationDefinition[] = [];
    const exampleMap = new Map<string, SpecExample>();
    if (spec && /\.(ya?ml|json)$/i.test(spec.rel) && type !== 'soap') {
      for (const op of openApiOperations(spec.source, diagnostics) ?? []) {
        operations.push({ id: op.id, ...(op.name ? { name: op.name } : {}), method: op.method, urlTemplate: op.urlTemplate });
        if (op.example) exampleMap.set(op.id, op.example);
      }
    } else if (spec && /\.wadl$/i.test(spec.rel)) {
      operations = (wadlOperations(spec.source, diagnostics) ?? []).map((op) => ({ id: op.id, method: op.method, urlTemplate: op.urlTemplate }));
      info(
        spec,
        'apiops/wadl',
        `WADL API "${folder}": ${operations.length} operation(s) read from specification.wadl (methods and paths); WADL parameter and representation checks are not emulated`,
      );
    } else if (type === 'graphql' || spec?.rel.endsWith('.graphql')) {
      // A pass-through GraphQL API takes queries by POST (and GET ?query=) on the API path.
      operations = [
        { id: 'graphql-post', name: 'GraphQL (POST)', method: 'POST', urlTemplate: '/' },
        { id: 'graphql-get', name: 'GraphQL (GET)', method: 'GET', urlTemplate: '/' },
      ];
      warn(
        spec ?? f,
        'apiops/graphql-partial',
        `GraphQL API "${folder}" is served as a pass-through: POST and GET on its path go to ${String(p.serviceUrl || 'its backend')}; its schema is given to validate-graphql-request; resolvers are not part of the extract`,
        'for a synthetic GraphQL API give its resolvers in settings["graphql.resolvers"] (docs/policies-graphql.md)',
      );
    } else if (type === 'soap' || spec?.rel.endsWith('.wsdl')) {
      warn(
        spec ?? f,
        'apiops/soap-partial',
        `SOAP API "${folder}" is served as a pass-through: every request under its path goes to ${String(p.serviceUrl || 'its backend')}; operations are not matched by SOAPAction${spec ? '' : ' (APIOps v7 does not export the WSDL)'}, and SOAP-to-REST translation is not emulated`,
        'test SOAPAction-specific operation policies against APIM',
      );
    } else if (type === 'websocket') {
      warn(
        f,
        'apiops/websocket',
        `WebSocket API "${folder}" cannot be served: the emulator does not proxy WebSocket upgrades (they are answered 501)`,
        'test WebSocket APIs against APIM',
      );
    } else if (!spec) {
      info(f, 'apiops/no-specification', `API "${folder}" has no specification file: it gets one catch-all operation (any method, any path)`);
    }
    // Operation folders: operations/<operationId>/policy.xml (no information file, docs/apiops.md, Naming rules).
    for (const opName of children(`${dir}operations/`)) {
      const rel = `${dir}operations/${opName}/policy.xml`;
      const policy = policyFile(rel, [
        ['apis', folder],
        ['operations', opName],
      ]);
      const op = operations.find((x) => x.id.toLowerCase() === opName.toLowerCase());
      const opFile = byRel.get(rel);
      for (const x of files) if (x.rel.startsWith(`${dir}operations/${opName}/`)) used.add(x.rel);
      if (!op) {
        if (opFile)
          warn(
            opFile,
            'apiops/operation-unknown',
            `operation folder "${opName}" names no operation of API "${folder}" (operationIds: ${operations.map((x) => x.id).join(', ') || 'none'}); its policy is not used`,
            "the folder name is the operationId in the API's specification",
          );
        continue;
      }
      if (policy) op.policy = policy;
    }
    for (const x of files) {
      if (!x.rel.startsWith(dir) || used.has(x.rel)) continue;
      const sub = x.rel.slice(dir.length).split('/')[0]!;
      if (sub === 'policy.xml') continue;
      used.add(x.rel);
      info(x, 'apiops/not-needed', notNeededReason(sub));
    }
    const policy = policyFile(`${dir}policy.xml`, [['apis', folder]]);
    const vsId = typeof p.apiVersionSetId === 'string' ? lastSegment(p.apiVersionSetId) : undefined;
    const versionSet = vsId ? versionSets.get(vsId.toLowerCase()) : undefined;
    if (vsId && !versionSet)
      error(
        f,
        'apiops/unknown-version-set',
        `API "${folder}" names version set "${vsId}", which is not in version sets/`,
        `version sets: ${[...versionSets.values()].map((v) => v.id).join(', ') || 'none'}`,
      );
    const keyNames = p.subscriptionKeyParameterNames as { header?: string; query?: string } | undefined;
    if (operations.length) examples.set(folder, exampleMap);
    apis.push({
      id: folder,
      name: typeof p.displayName === 'string' ? p.displayName : baseName,
      path: basePath(String(p.path ?? ''), versionSet, p.apiVersion),
      serviceUrl: typeof p.serviceUrl === 'string' ? p.serviceUrl : '',
      subscriptionRequired: p.subscriptionRequired !== false,
      ...(keyNames && typeof keyNames === 'object' ? { subscriptionKeyParameterNames: keyNames } : {}),
      ...(typeof p.apiVersion === 'string' ? { version: p.apiVersion } : {}),
      revision: revMatch ? revMatch[2]! : typeof p.apiRevision === 'string' ? p.apiRevision : '1',
      isCurrent: !revMatch,
      ...(Array.isArray(p.protocols) ? { protocols: p.protocols.map(String) } : {}),
      ...(policy ? { policy } : {}),
      type,
      // OpenAPI for the validation policies; a GraphQL schema for validate-graphql-request and synthetic resolvers.
      ...(spec && /\.(ya?ml|json|graphql)$/i.test(spec.rel) ? { specification: spec.source } : {}),
      ...(versionSet ? { versionSet } : {}),
      operations,
    });
  }
  // The current revision first: until routes know `;rev=N`, the first API on a path answers it.
  apis.sort((a, b) => Number(b.isCurrent) - Number(a.isCurrent));
  const apiIds = new Map(apis.filter((a) => a.isCurrent).map((a) => [a.id.toLowerCase(), a.id]));

  // Products, with their APIs from v6/v7 link folders or the v5 apis.json list.
  const products: ProductDefinition[] = [];
  for (const name of children('products/')) {
    const dir = `products/${name}/`;
    const f = take(`${dir}productInformation.json`);
    if (!f) continue;
    const p = props(f, [['products', name]]);
    if (!p) continue;
    const linked: string[] = [];
    for (const api of children(`${dir}apis/`)) {
      const link = take(`${dir}apis/${api}/productApiInformation.json`);
      if (link) linked.push(api);
    }
    const v5 = take(`${dir}apis.json`);
    if (v5) {
      const list = parseJson(v5, diagnostics);
      if (Array.isArray(list))
        for (const item of list) if (item && typeof (item as { name?: unknown }).name === 'string') linked.push((item as { name: string }).name);
    }
    const productApis: string[] = [];
    for (const api of linked) {
      const id = apiIds.get(api.toLowerCase());
      // A revision is the same API: it is in the products of its current revision (docs/apiops.md, Naming rules: the extractor
      // writes product links for the current revision only).
      if (id) productApis.push(id, ...apis.filter((x) => !x.isCurrent && x.id.toLowerCase().startsWith(`${id.toLowerCase()};rev=`)).map((x) => x.id));
      else warn(f, 'apiops/product-unknown-api', `product "${name}" lists API "${api}", which is not in apis/`, `APIs: ${[...apiIds.values()].join(', ')}`);
    }
    const policy = policyFile(`${dir}policy.xml`, [['products', name]]);
    for (const x of files) {
      if (!x.rel.startsWith(dir) || used.has(x.rel)) continue;
      used.add(x.rel);
      info(
        x,
        'apiops/not-needed',
        notNeededReason(
          x.rel
            .slice(dir.length)
            .split('/')[0]!
            .replace(/\.json$/, ''),
        ),
      );
    }
    const state = String(p.state ?? 'published').toLowerCase();
    products.push({
      id: name,
      name: typeof p.displayName === 'string' ? p.displayName : name,
      subscriptionRequired: p.subscriptionRequired !== false,
      ...(typeof p.approvalRequired === 'boolean' ? { approvalRequired: p.approvalRequired } : {}),
      ...(typeof p.subscriptionsLimit === 'number' ? { subscriptionsLimit: p.subscriptionsLimit } : {}),
      state: state === 'notpublished' ? 'NotPublished' : 'Published',
      ...(policy ? { policy } : {}),
      apis: productApis,
    });
  }

  // Subscriptions: the extract has scopes but no keys; keys come from --subscription-key.
  const subscriptions: SubscriptionDefinition[] = [];
  const keyFor = new Map<string, string>();
  for (const k of o.subscriptionKeys ?? []) if (k.subscription) keyFor.set(k.subscription.toLowerCase(), k.key);
  const productIds = new Set(products.map((p) => p.id.toLowerCase()));
  for (const name of children('subscriptions/')) {
    const f = take(`subscriptions/${name}/subscriptionInformation.json`);
    if (!f) continue;
    const p = props(f, [['subscriptions', name]]);
    if (!p) continue;
    const scope = scopeOf(String(p.scope ?? ''), productIds, apiIds);
    if (!scope) {
      error(
        f,
        'apiops/subscription-scope',
        `subscription "${name}" has scope "${String(p.scope ?? '')}", which names no product or API of the tree`,
        'scope is /products/<name>, /apis/<name> or /apis (all APIs)',
      );
      continue;
    }
    const display = typeof p.displayName === 'string' ? p.displayName : name;
    const key = keyFor.get(name.toLowerCase()) ?? keyFor.get(display.toLowerCase()) ?? (typeof p.primaryKey === 'string' ? p.primaryKey : undefined);
    keyFor.delete(name.toLowerCase());
    keyFor.delete(display.toLowerCase());
    if (!key) {
      info(
        f,
        'apiops/subscription-no-key',
        `subscription "${name}" (${scope}) has no key in the extract (APIOps does not export keys); give one with --subscription-key ${name}=KEY to call with it`,
      );
      continue;
    }
    const state = String(p.state ?? 'active').toLowerCase() as SubscriptionDefinition['state'];
    subscriptions.push({
      id: name,
      name: display,
      scope,
      primaryKey: key,
      ...(typeof p.secondaryKey === 'string' ? { secondaryKey: p.secondaryKey } : {}),
      state,
    });
  }
  for (const [name] of keyFor) {
    diagnostics.push({
      severity: 'error',
      code: 'apiops/unknown-subscription',
      message: `--subscription-key names subscription "${name}", which is not in subscriptions/`,
      hint: `subscriptions: ${children('subscriptions/').join(', ') || 'none'}; a key without NAME= is valid for all APIs`,
    });
  }
  for (const k of o.subscriptionKeys ?? []) {
    // APIM's built-in all-access subscription (the extractor skips it, docs/apiops.md, Naming rules).
    if (!k.subscription) subscriptions.push({ id: 'master', name: 'Built-in all-access subscription', scope: 'all', primaryKey: k.key });
  }

  // Everything else: configuration files, the not-needed kinds, and files outside the layout.
  for (const f of files) {
    if (used.has(f.rel)) continue;
    const top = f.rel.split('/')[0]!;
    if (/^configuration\..*\.ya?ml$/i.test(f.rel))
      info(
        f,
        'apiops/not-needed',
        o.overrides && o.overrides.file === f.source.file
          ? 'the override file in use (--apiops-config)'
          : 'APIOps override file: not applied unless given with --apiops-config',
      );
    else if (NOT_NEEDED_KINDS.has(top)) info(f, 'apiops/not-needed', `not needed by the emulator: ${NOT_NEEDED_KINDS.get(top)!}`);
    else if (
      top === 'version sets' ||
      top === 'named values' ||
      top === 'backends' ||
      top === 'products' ||
      top === 'subscriptions' ||
      top === 'policy fragments'
    )
      info(f, 'apiops/not-needed', `not part of the APIOps ${top} layout (expected ${top}/<name>/<kind>Information.json); not used`);
    else info(f, 'apiops/not-needed', 'not an APIOps extractor file; not used');
  }
  if (overrides) diagnostics.push(...overrides.unused(OVERRIDE_KINDS));

  const definition: GatewayDefinition = {
    service: { name: 'apim-emulator', region: 'West Europe', gatewayId: 'managed' },
    ...(globalPolicy ? { globalPolicy } : {}),
    fragments,
    namedValues,
    backendFiles,
    products,
    apis,
    subscriptions,
  };
  return {
    definition: diagnostics.some((d) => d.severity === 'error') ? null : definition,
    diagnostics,
    layout,
    files: files.map((f) => f.source.file),
    examples,
  };
}

/** v5: `apis.json` / `tags.json` lists; v6: per-item links under products and APIs or workspace info files; v7 otherwise. */
export function detectLayout(files: readonly ApiopsFile[]): ApiopsLayout {
  if (
    files.some((f) => /^products\/[^/]+\/apis\.json$/.test(f.rel) || /^apis\/[^/]+\/tags\.json$/.test(f.rel) || /\/apiVersionSetInformation\.json$/.test(f.rel))
  )
    return 'v5';
  if (
    files.some(
      (f) =>
        /^apis\/[^/]+\/tags\/[^/]+\/apiTagInformation\.json$/.test(f.rel) ||
        /^products\/[^/]+\/tags\//.test(f.rel) ||
        /^workspaces\/[^/]+\/workspaceInformation\.json$/.test(f.rel),
    )
  )
    return 'v6';
  if (files.some((f) => /\/(?:subscriptions\/[^/]+\/)?(?:resourceGroups|providers)\//i.test(f.source.text.slice(0, 4096)) && /Information\.json$/.test(f.rel)))
    return 'v6';
  return 'v7';
}

/** Subscription scope as the definition writes it: `/products/p` → product:p, `/apis/a` → api:a, `/apis` → all. Absolute ids too. */
function scopeOf(scope: string, products: Set<string>, apis: Map<string, string>): string | null {
  const parts = scope.split('/').filter(Boolean);
  const last = parts.at(-1) ?? '';
  const kind = parts.at(-2)?.toLowerCase();
  if (last.toLowerCase() === 'apis') return 'all';
  if (kind === 'products' && products.has(last.toLowerCase())) return `product:${last}`;
  if (kind === 'apis' && apis.has(last.toLowerCase())) return `api:${apis.get(last.toLowerCase())!}`;
  return null;
}

/**
 * The API's URL suffix without its version: APIOps writes Segment-versioned paths with the version already in them
 * (`versioned-api/v1`, docs/apiops.md, Naming rules) while the route table appends the version of a Segment version set
 * itself (src/gateway/routes.ts), so the trailing version segment is taken off here (docs/emulator-choices.md).
 */
function basePath(raw: string, versionSet: ApiDefinition['versionSet'] | undefined, version: unknown): string {
  const p = raw.replace(/^\/+|\/+$/g, '');
  if (versionSet?.scheme !== 'Segment' || typeof version !== 'string' || !version) return p;
  const segs = p.split('/');
  return segs.length > 0 && segs.at(-1)!.toLowerCase() === version.toLowerCase() ? segs.slice(0, -1).join('/') : p;
}

function lastSegment(id: string): string {
  return id.split('/').filter(Boolean).pop() ?? id;
}

function notNeededReason(kind: string): string {
  switch (kind) {
    case 'diagnostics':
      return 'not needed by the emulator: API diagnostics (Application Insights / Azure Monitor logging settings) are not emulated';
    case 'releases':
      return 'not needed by the emulator: API release notes do not change routing';
    case 'schemas':
      return 'not needed by the emulator: API schemas are used by validate-content only through the specification';
    case 'tags':
      return 'not needed by the emulator: tags only group APIs and products in the portal';
    case 'groups':
      return 'not needed by the emulator: developer groups control portal visibility, not gateway traffic';
    default:
      return 'not an APIOps extractor file; not used';
  }
}

function parseJson(f: ApiopsFile, diagnostics: Diagnostic[]): unknown {
  try {
    parseJsonWithPositions(f.source.text);
    return JSON.parse(f.source.text.replace(/^\uFEFF/, '')) as unknown;
  } catch (e) {
    const offset = e instanceof JsonSyntaxError ? e.offset : 0;
    diagnostics.push({
      severity: 'error',
      code: 'json/syntax',
      message: `invalid JSON: ${(e as Error).message}`,
      file: f.source.file,
      ...f.source.positionAt(offset),
      hint: 'APIOps information files are JSON objects {"properties": {...}}',
    });
    return null;
  }
}

/**
 * The backend information file with the folder name added as the resource name, on the first line only so that
 * every diagnostic of the backend loader keeps the line numbers of the file as written.
 */
function withName(text: string, name: string): string {
  const i = text.indexOf('{');
  if (i < 0) return text;
  return `${text.slice(0, i + 1)}"name":${JSON.stringify(name)},${text.slice(i + 1)}`;
}

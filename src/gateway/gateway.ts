import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { BackendRegistry, loadBackends } from '../backends/index.js';
import type { Clock } from '../clock.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { DiagnosticBag } from '../diagnostics/diagnostic.js';
import { SourceText } from '../diagnostics/source.js';
import { MessageBody } from '../engine/body.js';
import type { ApiInfo, DeploymentInfo, GatewayResponse, OperationInfo, ProductInfo, SubscriptionInfo, UserInfo } from '../engine/context.js';
import { GatewayContext } from '../engine/context.js';
import type { HeaderMap } from '../engine/headers.js';
import { createServices } from '../engine/services.js';
import type { MetricRecord, ResettableServices, RuntimeServices } from '../engine/services.js';
import type { Upstream } from '../engine/upstream.js';
import { QueryMap, RequestUrl } from '../engine/url.js';
import type { PolicyCatalog, PolicyExtensions, PreflightSpec } from '../engine/policy-sdk.js';
import { gatewayErrorResponse, PolicyError, toGatewayResponse } from '../engine/policy-sdk.js';
import type { SettingsFiles } from '../engine/settings.js';
import type { CompiledPipeline, ScopeDocuments } from '../pipeline/compiler.js';
import { hasInboundPolicy, PolicyCompiler, preflightDocuments, SectionCache } from '../pipeline/compiler.js';
import { parsePolicyDocument } from '../pipeline/document.js';
import type { PolicyDocument } from '../pipeline/document.js';
import { runPipeline } from '../pipeline/execute.js';
import { POLICY_CATALOG } from '../policies/registry.js';
import type { ApiDefinition, GatewayDefinition, OperationDefinition, ProductDefinition, SubscriptionDefinition } from './definition.js';
import type { CompiledTemplate } from './matching.js';
import { compileTemplate } from './matching.js';
import { RouteTable } from './routes.js';
import type { StateStore } from '../state/store.js';

export interface GatewayDeps {
  clock: Clock;
  /** How backends are called: the shell's (undici for serve, in-process mocks for test). Required: the engine opens no socket. */
  upstream: Upstream;
  emitMetric?: (m: MetricRecord) => void;
  log?: RuntimeServices['log'];
  /** Whether connection failures listed in errorReasons trip breakers (docs/backends.md); default true. */
  connectionFailuresTrip?: boolean;
  /** The policies the compiler knows; the full registry by default. */
  policies?: PolicyCatalog;
  /** File access for settings that name files (the shell's; without it such settings report an error). */
  files?: SettingsFiles;
  /** Random numbers for retry jitter (tests pin them). */
  random?: () => number;
  /** Code-level policy hooks (PolicyExtensions). */
  extensions?: PolicyExtensions;
  /** Where shareable counters live (src/state); default: in this gateway. */
  state?: StateStore;
  /** state.shareBreakers: circuit breakers live in `state` too, when it is shared (workers' primary, Redis). */
  shareBreakers?: boolean;
}

/** A request as the server hands it to the gateway (framework-free). */
export interface IncomingRequest {
  method: string;
  /** Path as received, percent-encoded, starting with "/". */
  path: string;
  /** Query string with or without the leading "?". */
  search: string;
  scheme: string;
  host: string;
  port: number;
  headers: HeaderMap;
  body: Readable | null;
  ip: string;
  /** Collect a trace for this request (Apim-Debug-Authorization): APIM's `context.Tracing` is true. */
  tracing: boolean;
  /**
   * Collect the typed trace events without APIM tracing (`context.Tracing` stays false): the web console is watching
   * and shows every request's counters and path, not only traced ones (src/console).
   */
  observed?: boolean;
}

export interface GatewayResult {
  /** null when the request never reached a pipeline (no API matched...). */
  context: GatewayContext | null;
  response: GatewayResponse;
  api: string | null;
  operation: string | null;
}

interface CompiledOperation {
  info: OperationInfo;
  template: CompiledTemplate;
  /** Pipelines by product id ('' = no product context). */
  pipelines: Map<string, CompiledPipeline>;
  /**
   * The chain reduced to the inbound statements of policies that answer requests on their own (PolicyDefinition.preflight:
   * a CORS preflight), when it has any. Used unless the operation itself is declared for the request's method.
   */
  preflight: CompiledPipeline | null;
}

interface CompiledApi {
  def: ApiDefinition;
  info: ApiInfo;
  prefix: string;
  operations: CompiledOperation[];
  /** Products that contain this API. */
  products: ProductDefinition[];
  /**
   * For a request that matches no operation: global and API policies, whose inbound raises OperationNotFound so that
   * on-error runs with it, as APIM does (docs/emulator-choices.md, "OperationNotFound").
   */
  notFound: CompiledPipeline;
}

const NOT_FOUND = { message: 'Resource not found' };

/** APIM's default global (all APIs) policy, used when the configuration gives none. */
export const DEFAULT_GLOBAL_POLICY = new SourceText(
  '(APIM default global policy)',
  '<policies><inbound /><backend><forward-request /></backend><outbound /><on-error /></policies>',
);
const MISSING_KEY = 'Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.';
const INVALID_KEY = 'Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.';

/**
 * The compiled gateway: APIs, operations, products and subscriptions with one precompiled pipeline per
 * (operation, product context). Knows nothing of HTTP frameworks: the server hands it IncomingRequests.
 */
export class Gateway {
  private constructor(
    private readonly apis: CompiledApi[],
    private readonly routes: RouteTable<CompiledApi, CompiledOperation>,
    private readonly subscriptions: SubscriptionDefinition[],
    private readonly productsById: Map<string, ProductDefinition>,
    readonly services: ResettableServices,
    readonly backends: BackendRegistry | null,
    private readonly def: GatewayDefinition,
    private readonly clock: Clock,
    private readonly preflights: readonly PreflightSpec[],
  ) {
    this.createdAt = clock.now();
    const svc = def.service;
    this.deployment = {
      gatewayId: svc.gatewayId,
      region: svc.region,
      serviceName: svc.name,
      serviceId: `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/emulator/providers/Microsoft.ApiManagement/service/${svc.name}`,
    };
  }

  /** `context.Deployment`: the same for every request, so built once (policies only read it). */
  private readonly deployment: DeploymentInfo;

  /** Clock time the gateway was built: the creation date of every configured subscription (stable across requests). */
  private readonly createdAt: number;

  /** Compiles a definition. Returns diagnostics; `gateway` is null when any error was found. */
  static build(def: GatewayDefinition, deps: GatewayDeps): { gateway: Gateway | null; diagnostics: Diagnostic[] } {
    const bag = new DiagnosticBag();
    const namedValues = new Map(def.namedValues.map((n) => [n.name.toLowerCase(), n]));

    let registry: BackendRegistry | null = null;
    if (def.backendFiles.length > 0) {
      const loaded = loadBackends(def.backendFiles, {
        parameters: def.backendParameters ?? {},
        namedValues: new Map([...namedValues].map(([k, v]) => [k, v.value])),
      });
      for (const d of loaded.diagnostics) bag.add(d);
      registry = new BackendRegistry(loaded.backends, deps.clock, {
        connectionFailuresTrip: deps.connectionFailuresTrip ?? true,
        ...(deps.shareBreakers && deps.state?.shared ? { sharedBreakers: deps.state } : {}),
      });
    }

    const parse = (src: SourceText | undefined, kind: 'policies' | 'fragment'): PolicyDocument | null => {
      if (!src) return null;
      const r = parsePolicyDocument(src);
      for (const d of r.diagnostics) bag.add(d);
      if (r.document && r.document.kind !== kind) {
        bag.error(
          src,
          r.document.root.start,
          'policy/bad-root',
          kind === 'fragment' ? 'a fragment must have <fragment> as its document element' : 'a policy fragment cannot be used as a scope policy',
          kind === 'fragment' ? 'write <fragment> ... </fragment>' : 'write <policies> with its sections',
        );
        return null;
      }
      return r.document;
    };

    const fragments = new Map<string, PolicyDocument>();
    for (const f of def.fragments) {
      const doc = parse(f.source, 'fragment');
      if (doc) fragments.set(f.id, doc);
    }
    const upstream = deps.upstream;
    const services = createServices({
      clock: deps.clock,
      upstream,
      backends: registry,
      namedValues: def.namedValues,
      fragmentIds: fragments.keys(),
      ...(deps.emitMetric ? { emitMetric: deps.emitMetric } : {}),
      ...(deps.log ? { log: deps.log } : {}),
      settings: def.settings ?? {},
      ...(deps.files ? { files: deps.files } : {}),
      ...(deps.random ? { random: deps.random } : {}),
      ...(deps.extensions ? { extensions: deps.extensions } : {}),
      ...(deps.state ? { state: deps.state } : {}),
    });
    const catalog = deps.policies ?? POLICY_CATALOG;
    const preflightPolicies = catalog.all().filter((d) => d.preflight);
    const preflightNames = new Set(preflightPolicies.map((d) => d.name));
    // One cache of compiled sections for the whole gateway: each distinct global + product + API (+ operation)
    // chain compiles once, however many operations and product contexts share it (src/pipeline/compiler.ts).
    const sections = new SectionCache();
    const compiler = new PolicyCompiler(catalog, services, fragments, bag, sections);
    // The OperationNotFound pipelines reuse the chains compiled above; any finding of theirs is already in `bag`.
    const quietCompiler = new PolicyCompiler(catalog, services, fragments, new DiagnosticBag(), sections);
    for (const doc of fragments.values()) compiler.checkFragment(doc);

    // Without a global policy APIM still has its default one, whose backend section forwards the request
    // (docs/policies.md): `<backend><base /></backend>` at API scope means "call the backend".
    const globalDoc = parse(def.globalPolicy ?? DEFAULT_GLOBAL_POLICY, 'policies');
    const productDocs = new Map<string, PolicyDocument | null>();
    for (const p of def.products) productDocs.set(p.id, parse(p.policy, 'policies'));

    const apis: CompiledApi[] = [];
    for (const api of def.apis) {
      const apiDoc = parse(api.policy, 'policies');
      const compileApi = { id: api.id, path: api.path.replace(/^\/+|\/+$/g, ''), specification: api.specification };
      const products = def.products.filter((p) => p.apis.includes(api.id));
      const info = apiInfo(api);
      const ops =
        api.operations.length > 0 ? api.operations : [{ id: `${api.id}-any`, name: 'Any', method: '*', urlTemplate: '/*' } satisfies OperationDefinition];
      const operations: CompiledOperation[] = [];
      for (const op of ops) {
        const opDoc = parse(op.policy, 'policies');
        const pipelines = new Map<string, CompiledPipeline>();
        const chain = (product: PolicyDocument | null): ScopeDocuments => ({ global: globalDoc, product, api: apiDoc, operation: opDoc });
        pipelines.set('', compiler.compilePipeline(chain(null), compileApi));
        for (const p of products) pipelines.set(p.id, compiler.compilePipeline(chain(productDocs.get(p.id) ?? null), compileApi));
        const preflight =
          preflightNames.size > 0 && hasInboundPolicy(chain(null), preflightNames) && op.method.toUpperCase() !== 'OPTIONS'
            ? compiler.compilePipeline(preflightDocuments(chain(null), preflightNames), compileApi)
            : null;
        operations.push({
          info: { id: op.id, name: op.name ?? op.id, method: op.method === '*' ? 'GET' : op.method.toUpperCase(), urlTemplate: op.urlTemplate },
          template: compileTemplate(op),
          pipelines,
          preflight,
        });
      }
      operations.sort((a, b) => b.template.specificity - a.template.specificity);
      const notFound = operationNotFound(quietCompiler.compilePipeline({ global: globalDoc, product: null, api: apiDoc, operation: null }, compileApi));
      apis.push({ def: api, info, prefix: api.path ? `/${api.path.replace(/^\/+|\/+$/g, '')}` : '', operations, products, notFound });
    }
    if (bag.hasErrors) return { gateway: null, diagnostics: bag.items };
    // Longest suffix first, version sets, revisions: src/gateway/routes.ts.
    const routes = new RouteTable(apis, (a) => a.operations);
    const gw = new Gateway(
      apis,
      routes,
      def.subscriptions,
      new Map(def.products.map((p) => [p.id, p])),
      services,
      registry,
      def,
      deps.clock,
      preflightPolicies.map((d) => d.preflight!),
    );
    return { gateway: gw, diagnostics: bag.items };
  }

  /**
   * Runs one request through matching, subscription checks and the pipeline. Never throws for request errors.
   * `abort` is aborted when the client goes away: a signal (linked to the request's own controller), or the caller's
   * controller itself, which then becomes `context.abort` (the server's path: no second controller, no listener).
   */
  async handle(req: IncomingRequest, abort?: AbortSignal | AbortController): Promise<GatewayResult> {
    const query = QueryMap.parse(req.search);
    const route = this.routes.match(req.path, { headers: req.headers, query });
    if (!route) return this.direct(404, NOT_FOUND.message, null, null);
    const api = route.api;
    const rel = route.rest;
    let op: CompiledOperation | undefined;
    let params: Map<string, string> | null = null;
    for (const o of route.operations) {
      params = o.template.match(req.method, rel, query);
      if (params) {
        op = o;
        break;
      }
    }
    // A CORS preflight reaches the cors policies of the API even when no operation takes OPTIONS, and needs no
    // subscription key (browsers send none on a preflight); emulator choice, docs/emulator-choices.md.
    const preflightOp = this.preflights.some((p) => p.matches(req)) ? (op?.preflight ? op : api.operations.find((o) => o.preflight)) : undefined;
    if (preflightOp?.preflight && (!op || op.template.method !== req.method.toUpperCase())) {
      return this.runPreflight(req, api, preflightOp, query, params ?? new Map());
    }
    if (!op || !params) {
      const ctx = this.createContext(
        req,
        api,
        { info: { id: '', name: '', method: req.method.toUpperCase(), urlTemplate: '' } },
        query,
        new Map(),
        { product: null, subscription: null, user: null },
        abort,
      );
      await runPipeline(api.notFound, ctx);
      return { context: ctx, response: ctx.response, api: api.def.id, operation: null };
    }

    const access = this.authorize(api, req.headers, query);
    if ('status' in access) return this.direct(access.status, access.message, api.def.id, op.info.id);

    const ctx = this.createContext(req, api, op, query, params, access, abort);
    const pipeline = op.pipelines.get(access.product?.id ?? '') ?? op.pipelines.get('')!;
    // Tested first: the event and its message are built only for a traced or observed request.
    if (ctx.tracing)
      ctx.trace({ kind: 'info', message: `matched API ${api.def.id}, operation ${op.info.id}${access.product ? `, product ${access.product.id}` : ''}` });
    await runPipeline(pipeline, ctx);
    return { context: ctx, response: ctx.response, api: api.def.id, operation: op.info.id };
  }

  private createContext(
    req: IncomingRequest,
    api: CompiledApi,
    op: Pick<CompiledOperation, 'info'>,
    query: QueryMap,
    params: Map<string, string>,
    access: { product: ProductDefinition | null; subscription: SubscriptionInfo | null; user: UserInfo | null },
    abort: AbortSignal | AbortController | undefined,
  ): GatewayContext {
    const url = new RequestUrl(req.scheme, req.host, req.port, req.path, query);
    const ctx = new GatewayContext({
      request: {
        method: req.method.toUpperCase(),
        url,
        originalUrl: url.clone(),
        headers: req.headers,
        body: req.body ? MessageBody.fromStream(req.body) : null,
        ipAddress: req.ip,
        matchedParameters: params,
      },
      api: api.info,
      operation: op.info,
      product: access.product ? productInfo(access.product) : null,
      subscription: access.subscription,
      user: access.user,
      deployment: this.deployment,
      clock: this.clock,
      requestId: randomUUID(),
      tracing: req.tracing,
      observed: req.observed === true,
      ...(abort instanceof AbortController ? { abort } : {}),
    });
    const signal = abort instanceof AbortController ? undefined : abort;
    if (signal) {
      if (signal.aborted) ctx.abort.abort(signal.reason);
      else signal.addEventListener('abort', () => ctx.abort.abort(signal.reason), { once: true });
    }
    return ctx;
  }

  private async runPreflight(
    req: IncomingRequest,
    api: CompiledApi,
    op: CompiledOperation,
    query: QueryMap,
    params: Map<string, string>,
  ): Promise<GatewayResult> {
    const ctx = this.createContext(req, api, op, query, params, { product: null, subscription: null, user: null }, undefined);
    ctx.trace({ kind: 'info', message: `preflight for API ${api.def.id}: only its preflight policies run` });
    await runPipeline(op.preflight!, ctx);
    return { context: ctx, response: ctx.response, api: api.def.id, operation: op.info.id };
  }

  /** Clears policy state (rate-limit counters, caches) and breakers: CI mode between tests. */
  reset(): void {
    this.services.reset();
  }

  listApis(): Array<{ id: string; path: string; operations: Array<{ id: string; method: string; urlTemplate: string }> }> {
    return this.apis.map((a) => ({
      id: a.def.id,
      path: a.def.path,
      operations: a.operations.map((o) => ({ id: o.info.id, method: o.template.method, urlTemplate: o.info.urlTemplate })),
    }));
  }

  async close(): Promise<void> {
    await this.services.upstream.close();
  }

  /**
   * Subscription rules (docs/configuration.md, subscriptions): a key (header first, then query) must belong to an active subscription
   * scoped to the API, a product containing it, or all APIs; without a key an open product (or an API that needs no
   * subscription) lets the request in. Product-scope policies apply only with a product context.
   */
  private authorize(
    api: CompiledApi,
    headers: HeaderMap,
    query: QueryMap,
  ): { status: number; message: string } | { product: ProductDefinition | null; subscription: SubscriptionInfo | null; user: UserInfo | null } {
    const headerName = api.info.subscriptionKeyParameterNames.header;
    const queryName = api.info.subscriptionKeyParameterNames.query;
    const key = headers.get(headerName)?.[0] ?? query.get(queryName)?.[0];
    if (key !== undefined) {
      for (const s of this.subscriptions) {
        if (s.primaryKey !== key && s.secondaryKey !== key) continue;
        if ((s.state ?? 'active') !== 'active') continue;
        const [kind, id] = s.scope.includes(':') ? (s.scope.split(':', 2) as [string, string]) : [s.scope, ''];
        let product: ProductDefinition | null = null;
        if (kind === 'product') {
          const p = this.productsById.get(id);
          if (!p || !p.apis.includes(api.def.id)) continue;
          product = p;
        } else if (kind === 'api') {
          if (id !== api.def.id) continue;
        } else if (kind !== 'all') continue;
        return { product, subscription: subscriptionInfo(s, key, this.createdAt), user: s.user ? userInfo(s.user) : null };
      }
      return { status: 401, message: INVALID_KEY };
    }
    const open = api.products.find((p) => !p.subscriptionRequired);
    if (open) return { product: open, subscription: null, user: null };
    if (api.def.subscriptionRequired) return { status: 401, message: MISSING_KEY };
    return { product: null, subscription: null, user: null };
  }

  private direct(status: number, message: string, api: string | null, operation: string | null): GatewayResult {
    return { context: null, response: toGatewayResponse(gatewayErrorResponse(status, message)), api, operation };
  }
}

/** The API's pipeline with an inbound that raises OperationNotFound (source configuration) at once. */
function operationNotFound(p: CompiledPipeline): CompiledPipeline {
  return {
    ...p,
    sections: {
      ...p.sections,
      inbound: () => {
        throw new PolicyError(
          'configuration',
          'OperationNotFound',
          'Unable to match incoming request to an operation.',
          gatewayErrorResponse(404, NOT_FOUND.message),
        );
      },
    },
  };
}

function apiInfo(api: ApiDefinition): ApiInfo {
  return {
    id: api.id,
    name: api.name,
    path: api.path.replace(/^\/+|\/+$/g, ''),
    revision: api.revision ?? '1',
    isCurrentRevision: api.isCurrent ?? true,
    version: api.version ?? '',
    serviceUrl: api.serviceUrl,
    protocols: api.protocols ?? ['https'],
    subscriptionKeyParameterNames: {
      header: api.subscriptionKeyParameterNames?.header ?? 'Ocp-Apim-Subscription-Key',
      query: api.subscriptionKeyParameterNames?.query ?? 'subscription-key',
    },
  };
}

function productInfo(p: ProductDefinition): ProductInfo {
  return {
    id: p.id,
    name: p.name,
    state: p.state ?? 'Published',
    subscriptionRequired: p.subscriptionRequired,
    approvalRequired: p.approvalRequired ?? false,
    subscriptionLimit: p.subscriptionsLimit ?? null,
    groups: [],
    apis: p.apis.map((id) => ({ id, name: id })),
  };
}

function subscriptionInfo(s: SubscriptionDefinition, key: string, now: number): SubscriptionInfo {
  return {
    id: s.id,
    name: s.name ?? s.id,
    key,
    primaryKey: s.primaryKey,
    secondaryKey: s.secondaryKey ?? '',
    createdDate: now,
    startDate: null,
    endDate: null,
  };
}

function userInfo(u: NonNullable<SubscriptionDefinition['user']>): UserInfo {
  return {
    id: u.id,
    email: u.email ?? '',
    firstName: u.firstName ?? '',
    lastName: u.lastName ?? '',
    note: '',
    registrationDate: 0,
    groups: [],
    identities: [{ id: u.id, provider: 'Basic' }],
  };
}

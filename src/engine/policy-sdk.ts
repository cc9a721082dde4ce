/**
 * The policy SDK: the one module a policy (src/policies/*) imports from the engine, besides `expressions` and `dotnet`.
 * It holds the engine's floor as policies see it: the request context, errors in APIM's LastError vocabulary, the
 * gateway's own error responses, the Flow a step returns, the compile-time API (CompileContext) and the shape of a
 * PolicyDefinition. The pipeline compiler and executor build on the same types; they never import a policy, and a
 * policy never imports them (docs/architecture.md).
 */
import type { DiagnosticBag } from '../diagnostics/diagnostic.js';
import type { SourceText, TextSpan } from '../diagnostics/source.js';
import type { XmlElement } from '../xml/types.js';
import { MessageBody } from './body.js';
import type { GatewayContext, GatewayRequest, GatewayResponse, LastError, PolicyScope, PolicySection } from './context.js';
import { HeaderMap } from './headers.js';
import type { RuntimeServices } from './services.js';
import type { SettingResult, SettingSpec } from './settings.js';

export { BodyConsumedError, MessageBody } from './body.js';
export { GatewayContext, StoredResponse } from './context.js';
export type {
  ApiInfo,
  BackendTarget,
  GraphQLFieldContext,
  DeploymentInfo,
  GatewayRequest,
  GatewayResponse,
  LastError,
  OperationInfo,
  PolicyScope,
  PolicySection,
  ProductInfo,
  SubscriptionInfo,
  UserInfo,
} from './context.js';
export type * from './trace.js';
export { HeaderMap } from './headers.js';
export { QueryMap, RequestUrl } from './url.js';
export { UpstreamError } from './upstream.js';
export type { Upstream, UpstreamRequest, UpstreamResponse } from './upstream.js';
export type { MetricRecord, NamedValue, RuntimeServices } from './services.js';
export { defineSetting } from './settings.js';
export type { SettingParseContext, SettingResult, SettingSpec, SettingsFiles } from './settings.js';
export type { Clock } from '../clock.js';
export type { BackendRegistry } from '../backends/index.js';
export { isPromise, StateUnavailableError, whenReady } from '../state/store.js';
export type { Awaitable, CheckResult, CounterCheck, FixedCheck, SlidingCheck, SlidingHit, StateStore, StoredEntry, TakeResult } from '../state/store.js';
export type { XmlAttribute, XmlElement, XmlNode } from '../xml/types.js';
/** Reads a standalone XML document a policy loads itself (a GraphQL resolver), with positioned diagnostics. */
export { readPolicyXml } from '../xml/read.js';
export type { DiagnosticBag } from '../diagnostics/diagnostic.js';
export { SourceText, TextSpan } from '../diagnostics/source.js';
export { editDistance } from '../diagnostics/edit-distance.js';
export { lazyLibrary } from '../lazy-library.js';

// ---------------------------------------------------------------------------------------------------------------
// Errors and the gateway's own responses

/** A response the gateway itself produces for an error (`{"statusCode","message"}`, docs/architecture.md "Errors"). */
export interface ErrorResponse {
  statusCode: number;
  statusReason: string;
  headers?: Record<string, string>;
  /** Serialised as JSON when an object. */
  body?: Record<string, unknown> | string;
}

/**
 * An error raised while running the pipeline, in APIM's vocabulary (`context.LastError`, docs/architecture.md "Errors").
 * Policies throw it with Source/Reason/Message and optionally the response APIM presets (429 for rate-limit, 503 for an
 * open breaker); the executor fills Scope, Section, Path and PolicyId from the statement that failed.
 */
export class PolicyError extends Error {
  scope: PolicyScope | '' = '';
  section: PolicySection | '' = '';
  path = '';
  policyId = '';
  located = false;
  /** Leave context.Response as it is (e.g. fail-on-error-status-code keeps the backend's response for on-error). */
  keepResponse = false;

  constructor(
    readonly source: string,
    readonly reason: string,
    message: string,
    readonly response?: ErrorResponse,
  ) {
    super(message);
    this.name = 'PolicyError';
  }

  toLastError(): LastError {
    return {
      source: this.source,
      reason: this.reason,
      message: this.message,
      scope: this.scope,
      section: this.section,
      path: this.path,
      policyId: this.policyId,
    };
  }
}

export const STATUS_REASONS: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  301: 'Moved Permanently',
  302: 'Found',
  304: 'Not Modified',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function reasonPhrase(status: number): string {
  return STATUS_REASONS[status] ?? '';
}

/** `{"statusCode":N,"message":"..."}`, the gateway's own error body. */
export function gatewayErrorResponse(statusCode: number, message: string, extra?: Record<string, unknown>, headers?: Record<string, string>): ErrorResponse {
  return {
    statusCode,
    statusReason: reasonPhrase(statusCode),
    body: { statusCode, message, ...extra },
    ...(headers ? { headers } : {}),
  };
}

/** Replaces context.Response with an error response (what on-error sees, and the client gets unless it changes it). */
export function applyErrorResponse(ctx: GatewayContext, r: ErrorResponse): void {
  // Drain a backend body we are replacing so its socket returns to the pool.
  ctx.response.body?.liveStream?.resume();
  ctx.response = toGatewayResponse(r);
}

/** The gateway's own error response as a GatewayResponse (JSON body when the body is an object). */
export function toGatewayResponse(r: ErrorResponse): GatewayResponse {
  const headers = new HeaderMap();
  let body: MessageBody | null = null;
  if (r.body !== undefined) {
    const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
    body = MessageBody.fromBuffer(text);
    if (typeof r.body !== 'string') headers.set('Content-Type', ['application/json; charset=utf-8']);
  }
  for (const [n, v] of Object.entries(r.headers ?? {})) headers.set(n, [v]);
  return { statusCode: r.statusCode, statusReason: r.statusReason, headers, body };
}

// ---------------------------------------------------------------------------------------------------------------
// Steps and flow

/**
 * What a compiled policy step returns:
 * - `continue`: go on with the next statement;
 * - `stop`: the pipeline ends here with context.Response (return-response, mock-response, a cors preflight answer);
 * - `skip-backend`: the request is answered without calling the backend, yet outbound still runs (a cache hit in
 *   inbound, as APIM does: docs/policies-ai-caching.md). Outside inbound it behaves as `stop`.
 * Errors are thrown as PolicyError.
 */
export type Flow = 'continue' | 'stop' | 'skip-backend';

/** A compiled statement. Synchronous policies return a Flow directly so the hot path avoids a promise per step. */
export type Step = (ctx: GatewayContext) => Flow | Promise<Flow>;

/** A getter compiled from an attribute or text: a constant, or a precompiled expression. */
export type ValueGetter<T> = (ctx: GatewayContext) => T;

// ---------------------------------------------------------------------------------------------------------------
// Policy definitions

export type AttributeKind = 'string' | 'bool' | 'int' | 'number' | 'enum';

export interface AttributeSpec {
  readonly name: string;
  readonly required?: boolean;
  /** Whether `@(...)` / `@{...}` is allowed (per APIM's policy reference). */
  readonly expressions: boolean;
  readonly kind?: AttributeKind;
  /** For kind 'enum' (compared case-insensitively, as APIM does). */
  readonly values?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  /** Documented default, shown in diagnostics and used when absent. */
  readonly default?: string;
}

/**
 * A child element that belongs to a policy's own syntax (set-header's `<value>`, choose's `<when>`, rate-limit's `<api>`),
 * as opposed to a nested policy statement.
 */
export interface ElementSpec {
  readonly name: string;
  readonly min?: number;
  readonly max?: number;
  readonly attributes?: readonly AttributeSpec[];
  /** Text content allowed (e.g. `<value>`), and whether it may be an expression. */
  readonly text?: { readonly expressions: boolean; readonly required?: boolean };
  /** Nested elements of this element. */
  readonly elements?: readonly ElementSpec[];
  /** This element holds policy statements (choose's `<when>`), optionally only the named ones. */
  readonly policies?: true | readonly string[];
  /**
   * The statements inside run as in this section (a resolver's `<http-response>` transforms a response, as outbound
   * does), whatever section the policy itself is in.
   */
  readonly section?: PolicySection;
  /**
   * Free-form XML the policy reads itself (xsl-transform's `<xsl:stylesheet>`, cross-domain's Flash policy):
   * its children and attributes are not checked against policy metadata.
   */
  readonly anyContent?: true;
}

/**
 * A policy that answers a kind of request on its own, before operation matching and instead of the operation's
 * pipeline (a CORS preflight: "only the cors policy is evaluated on the OPTIONS request during preflight"). The
 * gateway compiles, per operation, a pipeline holding only these policies' inbound statements (with `<base/>`), and
 * runs it for requests that `matches`, unless the matched operation is declared for the request's own method.
 */
export interface PreflightSpec {
  matches(request: Pick<GatewayRequest, 'method' | 'headers'>): boolean;
}

export interface PolicyDefinition {
  /** Element name, exactly as APIM spells it. */
  readonly name: string;
  /** Sections the policy may appear in (APIM's "Usage → Policy sections"). */
  readonly sections: readonly PolicySection[];
  /** Scopes the policy may appear in; all four when omitted. */
  readonly scopes?: readonly PolicyScope[];
  readonly attributes: readonly AttributeSpec[];
  /** Own child elements, in the order APIM requires them when `ordered` is set. */
  readonly elements?: readonly ElementSpec[];
  readonly ordered?: boolean;
  /** The policy's children are policy statements (retry, limit-concurrency), optionally only the named ones. */
  readonly policies?: true | readonly string[];
  /** Text content (e.g. set-body, set-method, set-url). */
  readonly text?: { readonly expressions: boolean; readonly required?: boolean };
  /** Attribute sets where exactly one / at least one must be present, e.g. set-backend-service base-url | backend-id. */
  readonly oneOf?: ReadonlyArray<readonly string[]>;
  /** Short note shown in diagnostics and in the supported-policies table. */
  readonly summary: string;
  /**
   * `full`: executed as APIM does. `approximate`: executed, with documented differences (docs/policies.md).
   * `unsupported`: recognised and validated, but load fails with "not supported by apim-emulator yet".
   */
  readonly support: 'full' | 'approximate' | 'unsupported';
  /** Settings (config file `settings.<key>`) this policy reads; parsed once at load, read with cx.setting(). */
  readonly settings?: ReadonlyArray<SettingSpec<unknown>>;
  /** Requests this policy answers before operation matching (see PreflightSpec). */
  readonly preflight?: PreflightSpec;
  /** Turns a validated element into a step. Not called for unsupported policies. */
  compile?(element: XmlElement, cx: CompileContext): Step;
}

/** The set of policies a pipeline compiler knows; injected into it (src/policies/registry.ts is the real one). */
export interface PolicyCatalog {
  get(name: string): PolicyDefinition | undefined;
  /** Every element name the catalogue accepts (for "did you mean" hints). */
  names(): string[];
  all(): PolicyDefinition[];
}

/** Everything a policy's compile() may use: value compilers, nested-policy compilation, diagnostics, services. */
/** The API a document is compiled for (validate-content & co. read its specification). */
export interface CompileApi {
  readonly id: string;
  /** The API's URL suffix, without slashes. */
  readonly path: string;
  /** OpenAPI 2/3 document as given (JSON or YAML). */
  readonly specification?: SourceText | undefined;
}

export interface CompileContext {
  /** The API being compiled; undefined when a document is checked on its own (validate of a single file). */
  readonly api?: CompileApi | undefined;
  readonly scope: PolicyScope;
  readonly section: PolicySection;
  readonly diagnostics: DiagnosticBag;
  readonly services: RuntimeServices;
  /** `choose[1]/when[2]` style path of the element being compiled (for LastError.Path and traces). */
  readonly path: string;

  /** The attribute's text after named-value substitution, or undefined when absent. */
  attributeSpan(element: XmlElement, name: string): TextSpan | undefined;
  /** A getter for an attribute (constant or expression) converted to a string; the spec's default when absent. */
  string(element: XmlElement, name: string): ValueGetter<string> | undefined;
  bool(element: XmlElement, name: string): ValueGetter<boolean> | undefined;
  int(element: XmlElement, name: string): ValueGetter<number> | undefined;
  number(element: XmlElement, name: string): ValueGetter<number> | undefined;
  /** A getter returning the raw expression value (or the literal string) — set-variable keeps types. */
  value(element: XmlElement, name: string): ValueGetter<unknown> | undefined;
  /** Text content of an element (or of the policy itself) as a getter of string. */
  text(element: XmlElement): ValueGetter<string> | undefined;
  /** Raw text-content value (expression result unconverted). */
  textValue(element: XmlElement): ValueGetter<unknown> | undefined;
  /** Compiles child policy statements of `element` (retry, when, otherwise...) into one step. */
  policies(element: XmlElement, pathPrefix?: string): Step;
  /** Compiles one child element that is itself a policy (send-request's set-header, return-response's set-status). */
  policy(element: XmlElement, pathPrefix?: string): Step;
  /** Marks that this section reads the request/response body, so the pipeline buffers it before the section runs. */
  needsBody(which: 'request' | 'response'): void;
  /** Attribute offset for diagnostics (falls back to the element). */
  offsetOf(element: XmlElement, attribute?: string): number;
  /** A unique id for per-policy runtime state (counters, caches) that is stable for this element. */
  readonly policyKey: string;
  /** The typed value of a setting this policy declares (undefined when absent); parsed once per gateway. */
  setting<T>(spec: SettingSpec<T>): SettingResult<T | undefined>;
}

/**
 * Code-level hooks for policies, given by the embedding program (tests, a future plugin loader), never by the config
 * file. Empty here: a policy that offers a hook declares it in its own file by augmenting this interface
 * (`declare module '../engine/policy-sdk.js' { interface PolicyExtensions { ... } }`), so the engine names no policy.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface PolicyExtensions {}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

/** Child elements of `el` with the given name. */
export function childElements(el: XmlElement, name?: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children) if (c.kind === 'element' && (name === undefined || c.name === name)) out.push(c);
  return out;
}

export function attributeText(el: XmlElement, name: string): string | undefined {
  return el.attributes.find((a) => a.name === name)?.value.text;
}

import type { Clock } from '../clock.js';
import type { MessageBody } from './body.js';
import { HeaderMap } from './headers.js';
import type { TraceEvent, TraceEventInput } from './trace.js';
import type { RequestUrl } from './url.js';

export type { TraceEvent } from './trace.js';

/**
 * The per-request state shared by the pipeline and by policy expressions. Field names follow APIM's `context`
 * object (docs/expressions.md) so that the expression runtime maps them one to one.
 */

export interface GatewayRequest {
  method: string;
  /** The URL as it will be sent to the backend: rewritten by rewrite-uri, set-query-parameter, set-backend-service. */
  url: RequestUrl;
  /** The URL the client called; never changes. */
  readonly originalUrl: RequestUrl;
  headers: HeaderMap;
  /** null when the request has no body. */
  body: MessageBody | null;
  ipAddress: string;
  /** URL template parameters of the matched operation. */
  matchedParameters: Map<string, string>;
}

export interface GatewayResponse {
  statusCode: number;
  statusReason: string;
  headers: HeaderMap;
  body: MessageBody | null;
}

/** `context.LastError` (docs/architecture.md, "Errors"). */
/** `context.GraphQL` of a resolver: Arguments and Parent (JObject values built by the resolver policy). */
export interface GraphQLFieldContext {
  readonly arguments: unknown;
  readonly parent: unknown;
}

export interface LastError {
  source: string;
  reason: string;
  message: string;
  scope: PolicyScope | '';
  section: PolicySection | '';
  path: string;
  policyId: string;
}

export type PolicyScope = 'global' | 'product' | 'api' | 'operation';
export type PolicySection = 'inbound' | 'backend' | 'outbound' | 'on-error';

export interface ApiInfo {
  id: string;
  name: string;
  /** URL suffix, without leading slash (e.g. "openai"). */
  path: string;
  revision: string;
  isCurrentRevision: boolean;
  version: string;
  /** The API's web service URL, or "" when none. */
  serviceUrl: string;
  protocols: string[];
  subscriptionKeyParameterNames: { header: string; query: string };
}

export interface OperationInfo {
  id: string;
  name: string;
  method: string;
  urlTemplate: string;
}

export interface ProductInfo {
  id: string;
  name: string;
  state: 'NotPublished' | 'Published';
  subscriptionRequired: boolean;
  approvalRequired: boolean;
  subscriptionLimit: number | null;
  groups: Array<{ id: string; name: string }>;
  apis: Array<{ id: string; name: string }>;
}

export interface SubscriptionInfo {
  id: string;
  name: string;
  /** The key the caller presented. */
  key: string;
  primaryKey: string;
  secondaryKey: string;
  createdDate: number;
  startDate: number | null;
  endDate: number | null;
}

export interface UserInfo {
  id: string;
  email: string;
  firstName: string;
  lastName: string;
  note: string;
  registrationDate: number;
  groups: Array<{ id: string; name: string }>;
  identities: Array<{ id: string; provider: string }>;
}

export interface DeploymentInfo {
  gatewayId: string;
  region: string;
  serviceName: string;
  serviceId: string;
}

/**
 * A response kept in a variable (send-request's response-variable-name, return-response's response-variable-name).
 * The expression runtime exposes it as IResponse when code casts `(IResponse)context.Variables["x"]`.
 */
export class StoredResponse implements GatewayResponse {
  constructor(
    public statusCode: number,
    public statusReason: string,
    public headers: HeaderMap,
    public body: MessageBody | null,
  ) {}
}

/** Where a request is sent by forward-request: chosen by set-backend-service, else the API's service URL. */
export type BackendTarget =
  { kind: 'url'; baseUrl: string } | { kind: 'backend'; backendId: string; /** Scope of the set-backend-service that chose it. */ scope?: PolicyScope };

export interface GatewayContextInit {
  request: GatewayRequest;
  api: ApiInfo;
  operation: OperationInfo;
  product: ProductInfo | null;
  subscription: SubscriptionInfo | null;
  user: UserInfo | null;
  deployment: DeploymentInfo;
  clock: Clock;
  requestId: string;
  /** APIM tracing was requested (Apim-Debug-Authorization): `context.Tracing`. */
  tracing: boolean;
  /** Collect trace events even without APIM tracing (the web console is watching). */
  observed?: boolean;
  /** The caller's controller, aborted when the client goes away; used as `abort` (one controller per request). */
  abort?: AbortController;
}

export class GatewayContext {
  readonly request: GatewayRequest;
  /** Starts as an empty 200 before the backend answers (APIM exposes a response object in inbound too). */
  response: GatewayResponse;
  /**
   * `context.Variables`: values in the expression runtime's representation (strings are JS strings,
   * booleans JS booleans; see src/expressions for numbers and objects).
   */
  readonly variables = new Map<string, unknown>();
  readonly api: ApiInfo;
  readonly operation: OperationInfo;
  readonly product: ProductInfo | null;
  readonly subscription: SubscriptionInfo | null;
  readonly user: UserInfo | null;
  readonly deployment: DeploymentInfo;
  readonly clock: Clock;
  readonly requestId: string;
  /** Clock time (epoch ms) when the request was received. */
  readonly timestamp: number;
  /**
   * Trace events are collected for this request: APIM tracing is on, or an observer (the web console) is watching.
   * Policies test this before building a trace event's data.
   */
  readonly tracing: boolean;
  /** `context.Tracing`: true only when APIM tracing was requested; an observer does not change what policies see. */
  readonly apimTracing: boolean;
  lastError: LastError | null = null;
  /**
   * `context.GraphQL` while a GraphQL resolver runs (http-data-source): the field's arguments and its parent object,
   * as the expression library's JObject values. Null outside resolvers.
   */
  graphql: GraphQLFieldContext | null = null;
  backendTarget: BackendTarget | null = null;
  /** Set when the breaker/pool chose a backend for the last forward-request (for traces and tests). */
  lastBackend: { backendId: string; memberId: string; url: string } | null = null;
  /** A streamed (unbuffered) request body was sent to a backend; it cannot be sent again. */
  requestBodySent = false;
  readonly traceEvents: TraceEvent[] = [];
  /** Aborted when the client disconnects; upstream calls and waits observe it. */
  readonly abort: AbortController;
  /**
   * Hooks of policies that act on the backend's response after inbound has run (token-limit policies read `usage`
   * here): run by the executor once, after the backend section and before outbound.
   */
  readonly beforeOutbound: Array<(ctx: GatewayContext) => void | Promise<void>> = [];
  /**
   * Hooks run once when the pipeline has finished (after outbound, or after on-error): postponed counter increments
   * (rate-limit-by-key increment-condition on context.Response) and response headers of throttling policies.
   */
  readonly completed: Array<(ctx: GatewayContext) => void | Promise<void>> = [];

  constructor(init: GatewayContextInit) {
    this.request = init.request;
    this.api = init.api;
    this.operation = init.operation;
    this.product = init.product;
    this.subscription = init.subscription;
    this.user = init.user;
    this.deployment = init.deployment;
    this.clock = init.clock;
    this.requestId = init.requestId;
    this.apimTracing = init.tracing;
    this.tracing = init.tracing || init.observed === true;
    this.timestamp = init.clock.now();
    this.abort = init.abort ?? new AbortController();
    this.response = { statusCode: 200, statusReason: 'OK', headers: new HeaderMap(), body: null };
  }

  /** `context.Elapsed` in milliseconds. */
  get elapsedMs(): number {
    return this.clock.now() - this.timestamp;
  }

  /** Appends a trace event; a no-op unless tracing is on, so the hot path pays one branch. */
  trace(event: TraceEventInput): void {
    if (this.tracing) this.traceEvents.push({ at: this.elapsedMs, ...event } as TraceEvent);
  }
}

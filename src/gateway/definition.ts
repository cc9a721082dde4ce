import type { SourceText } from '../diagnostics/source.js';
import type { BackendInputFile } from '../backends/index.js';
import type { NamedValue } from '../engine/services.js';

/**
 * Everything a gateway is built from, with file contents already read (I/O stays at the edges: the CLI and config
 * loader read files; the engine only compiles). Shapes follow APIM's own entities.
 */
export interface GatewayDefinition {
  service: { name: string; region: string; gatewayId: string };
  /** Global (all APIs) policy document. */
  globalPolicy?: SourceText;
  fragments: Array<{ id: string; source: SourceText }>;
  namedValues: NamedValue[];
  backendFiles: BackendInputFile[];
  /** Values for ARM template parameters in backend files. */
  backendParameters?: Record<string, unknown>;
  products: ProductDefinition[];
  apis: ApiDefinition[];
  subscriptions: SubscriptionDefinition[];
  /** Extra settings passed to policies (RuntimeServices.settings). */
  settings?: Record<string, unknown>;
}

export interface ProductDefinition {
  id: string;
  name: string;
  policy?: SourceText;
  subscriptionRequired: boolean;
  approvalRequired?: boolean;
  subscriptionsLimit?: number | null;
  state?: 'Published' | 'NotPublished';
  /** Ids of the APIs in this product. */
  apis: string[];
}

export interface ApiDefinition {
  id: string;
  name: string;
  /** URL suffix, e.g. "openai" ("" for the root). */
  path: string;
  serviceUrl: string;
  subscriptionRequired: boolean;
  subscriptionKeyParameterNames?: { header?: string; query?: string };
  version?: string;
  revision?: string;
  protocols?: string[];
  policy?: SourceText;
  /** API type as APIOps/ARM name it: `http` (default), `soap`, `graphql`, `websocket`. */
  type?: string;
  /** OpenAPI 2/3 document (JSON or YAML text): from config `specification` or an APIOps `specification.yaml|json`. */
  specification?: SourceText;
  /** APIM apiVersionSet: how a client picks this API's version; `version` holds this API's version name. */
  versionSet?: { id: string; name?: string; scheme: 'Segment' | 'Header' | 'Query'; headerName?: string; queryName?: string };
  /** With `revision` set: false for a revision that is not current, reachable only as `<path>;rev=<N>`. Default true. */
  isCurrent?: boolean;
  /** Operations; when empty the API gets one catch-all operation per method ("*" method, "/*" template). */
  operations: OperationDefinition[];
}

export interface OperationDefinition {
  id: string;
  name?: string;
  /** HTTP method, or "*" for any. */
  method: string;
  /** e.g. "/deployments/{deployment-id}/chat/completions?api-version={api-version}", or "/*" for any path. */
  urlTemplate: string;
  policy?: SourceText;
}

export interface SubscriptionDefinition {
  id: string;
  name?: string;
  /** "all" (all APIs), "api:<id>" or "product:<id>". */
  scope: string;
  primaryKey: string;
  secondaryKey?: string;
  state?: 'active' | 'suspended' | 'cancelled' | 'expired' | 'submitted' | 'rejected';
  /** Owner; `context.User` when set. */
  user?: { id: string; email?: string; firstName?: string; lastName?: string };
}

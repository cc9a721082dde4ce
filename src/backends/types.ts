/** The normalized backend model: every accepted input shape (ARM template, list, REST list) becomes these. */

export interface BackendInputFile {
  file: string;
  /** Raw JSON text; parsed here so diagnostics carry line/column. */
  text: string;
}

export interface LoadBackendsOptions {
  /** ARM template parameter values (command line); override the template's `defaultValue`s. */
  parameters?: Record<string, unknown>;
  /** Named values for `{{name}}` in credentials. When given, a missing name is a warning. */
  namedValues?: Map<string, string>;
}

export interface StatusCodeRange {
  min: number;
  max: number;
}

export interface CircuitBreakerRule {
  name: string;
  /** Exactly one of count / percentage is set. */
  count?: number;
  percentage?: number;
  /** Sliding window, ms. */
  intervalMs: number;
  /** Original ISO text, e.g. `PT1M`. */
  interval: string;
  tripDurationMs: number;
  tripDuration: string;
  statusCodeRanges: StatusCodeRange[];
  errorReasons: string[];
  acceptRetryAfter: boolean;
  /** Status returned while this breaker is open (2024-10-01-preview+); 503 otherwise. */
  failureResponseStatusCode?: number;
}

export interface BackendPoolMember {
  /** Name of the single backend (the last segment of the id as written). */
  backendId: string;
  /** As written, e.g. `/backends/foundry1` or a full ARM id. */
  rawId: string;
  /** null → treated as 0 (highest), see docs/backends.md. */
  priority: number | null;
  /** null → treated as 1. */
  weight: number | null;
}

export interface BackendCredentials {
  headers: Record<string, string[]>;
  query: Record<string, string[]>;
  authorization?: { scheme: string; parameter: string };
  /** `credentials.managedIdentity` as used by the AI-Gateway labs (not in the ARM schema table); kept for the gateway. */
  managedIdentity?: { resource?: string; clientId?: string };
  certificateIds?: string[];
  certificate?: string[];
}

export interface BackendDefinition {
  /** The backend id (name), as `set-backend-service backend-id` references it. */
  id: string;
  type: 'Single' | 'Pool';
  url?: string;
  protocol?: string;
  title?: string;
  description?: string;
  credentials: BackendCredentials;
  tls: { validateCertificateChain: boolean; validateCertificateName: boolean };
  proxy?: { url: string; username?: string; password?: string };
  /** At most one rule (ARM rejects more). */
  circuitBreaker?: CircuitBreakerRule;
  pool?: {
    members: BackendPoolMember[];
    /** Status returned when every member is open (2024-10-01-preview+); 503 otherwise. */
    failureResponseStatusCode?: number;
    /** `sessionAffinity.sessionId`: source is always `Cookie` (the only value ARM has); name is the cookie's name. */
    sessionAffinity?: { source: string; name: string };
  };
  /** apiVersion the definition was validated against (undefined: no apiVersion in the input, newest rules applied). */
  apiVersion?: string;
  file: string;
  jsonPath: string;
  line?: number;
  column?: number;
}

export type BreakerOutcome = { status: number; headers?: Record<string, string | string[] | undefined> } | { errorReason: string };

export interface SelectionCredentials {
  headers: Record<string, string[]>;
  query: Record<string, string[]>;
  authorization?: { scheme: string; parameter: string };
  managedIdentity?: { resource?: string; clientId?: string };
}

/**
 * The request as a pool with session affinity sees it: only its `Cookie` header is read, and only when the pool has
 * sessionAffinity. The gateway's HeaderMap fits as is.
 */
export interface SessionSource {
  get(name: string): readonly string[] | undefined;
}

/** The session cookie a selection from a pool with sessionAffinity asks the gateway to send back (every response). */
export interface SessionAssignment {
  /** `sessionAffinity.sessionId.name`. */
  cookieName: string;
  /** Opaque session id; decodes to the pinned member of this pool only. */
  value: string;
  /** True when this selection started a session or moved it to another member (the value differs from the request's). */
  changed: boolean;
  /** The full `Set-Cookie` header value: `<name>=<value>; Path=/; HttpOnly`. */
  setCookie: string;
}

export type BackendSelection =
  | {
      ok: true;
      /** The referenced id (pool or single). */
      backendId: string;
      /** The single backend chosen (equals backendId for a single backend). */
      memberId: string;
      url: string;
      credentials: SelectionCredentials;
      /** Human explanation for traces. */
      why: string;
      /** Pools with sessionAffinity only. */
      session?: SessionAssignment;
    }
  | { ok: false; backendId: string; statusCode: number; reason: 'BackendUnavailable'; message: string; why: string };

export type BreakerState = 'closed' | 'open';

export interface BreakerSnapshot {
  rule: string;
  state: BreakerState;
  /** ISO time the breaker closes again, while open. */
  openUntil?: string;
  failuresInWindow: number;
  totalInWindow: number;
  lastTripReason?: string;
  /** How many times it has opened since load or reset(). */
  trips: number;
}

export interface BackendStateSnapshot {
  id: string;
  type: 'Single' | 'Pool';
  url?: string;
  /** Times this single backend was chosen (directly or as a pool member). */
  selections: number;
  breaker?: BreakerSnapshot;
  /** Pools: members with their effective priority/weight, availability and how often the pool chose them. */
  members?: Array<{ backendId: string; priority: number; weight: number; available: boolean; selections: number }>;
  /** Pools: how many selections found every member open. */
  unavailable?: number;
  /** Pools with sessionAffinity: the cookie name and how selections used it since load or reset(). */
  sessionAffinity?: SessionAffinityCounts;
}

export interface SessionAffinityCounts {
  cookieName: string;
  /** Sessions started: the request had no session cookie, or one not issued for this pool (see unrecognized). */
  assigned: number;
  /** Selections that honoured the session cookie (its member was available). */
  pinned: number;
  /** Session cookies whose member was open: selection fell through and the session moved to another member (not in assigned). */
  repinned: number;
  /** Session cookies not issued for this pool (another pool's, tampered, malformed): a new session was started. */
  unrecognized: number;
}

export interface CircuitBreakerEvent {
  id: string;
  eventType: 'Microsoft.ApiManagement.CircuitBreaker.Opened' | 'Microsoft.ApiManagement.CircuitBreaker.Closed';
  /** `/backends/{name}/circuit-breaker/rules/{rule}` */
  subject: string;
  eventTime: string;
  dataVersion: string;
  metadataVersion: string;
  data: {
    backendName: string;
    circuitBreaker: { rules: Record<string, { tripDuration: string }> };
  };
}

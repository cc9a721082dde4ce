import type { LastError, PolicyScope, PolicySection } from './context.js';

/**
 * What a request's trace is made of: typed events, appended in order while the pipeline runs (only when tracing is
 * on). Scenarios, the admin API (`GET /_emulator/traces/:id`), metrics and the web console all read these same
 * events; nobody parses `message`, which is the human-readable line for logs and reports.
 *
 * Every event has:
 * - `at`: milliseconds since the request started, on the gateway's clock (virtual time under a VirtualClock);
 * - `kind`: which of the shapes below it is;
 * - `message`: one line of text saying the same thing;
 * - optionally `scope`, `section`, `policy` (element name) and `path` (`choose[1]/when[2]/set-header[1]`) of the
 *   statement it belongs to.
 *
 * | kind         | emitted by                      | says                                                            |
 * |--------------|---------------------------------|-----------------------------------------------------------------|
 * | `policy`     | the pipeline, per statement     | a policy statement starts: where it is written (`source`)       |
 * | `branch`     | choose                          | which `<when>` ran, or `<otherwise>` (taken false: none exists) |
 * | `expression` | set-variable                    | a value computed by an expression (preview of the value)        |
 * | `pool`       | forward-request                 | which backend a pool chose: priority group, weights, why         |
 * | `breaker`    | forward-request                 | a circuit breaker decision: a backend unavailable, or tripped   |
 * | `attempt`    | forward-request                 | one call to a backend: sent, then answered (status) or failed   |
 * | `retry`      | retry                           | another round of retry's children after a wait                  |
 * | `error`      | the pipeline                    | an error reached on-error (LastError), or a completion hook failed |
 * | `response`   | the pipeline, last              | the status the client gets                                      |
 * | `trace`      | the trace policy, context.Trace | the user's own trace message                                    |
 * | `info`       | gateway and policies            | anything else worth a line (cache hit, counter values, choices) |
 */
export type TraceEvent =
  | PolicyStepEvent
  | BranchEvent
  | ExpressionEvent
  | PoolChoiceEvent
  | BreakerEvent
  | AttemptEvent
  | RetryEvent
  | ErrorEvent
  | ResponseEvent
  | UserTraceEvent
  | InfoEvent;

/** An event as emitted (the context stamps `at`). */
export type TraceEventInput = TraceEvent extends infer E ? (E extends TraceEvent ? Omit<E, 'at'> : never) : never;

export type TraceKind = TraceEvent['kind'];

interface TraceBase {
  /** Milliseconds since the request started (clock time). */
  at: number;
  /** The line a person reads; never parsed. */
  message: string;
  scope?: PolicyScope;
  section?: PolicySection;
  /** Policy element name, e.g. "set-backend-service". */
  policy?: string;
  /** Path such as `choose[1]/when[2]/set-header[1]`. */
  path?: string;
}

/** Where a statement is written: file and 1-based line and column of its start tag. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

export interface PolicyStepEvent extends TraceBase {
  kind: 'policy';
  policy: string;
  path: string;
  scope: PolicyScope;
  section: PolicySection;
  /** `id` attribute of the statement, '' when none (LastError.PolicyId). */
  policyId: string;
  source: SourceLocation;
}

export interface BranchEvent extends TraceBase {
  kind: 'branch';
  policy: 'when' | 'otherwise';
  /** `choose[1]/when[2]` or `choose[1]/otherwise[1]`. */
  path: string;
  /** false for `otherwise` when the choose has none (nothing ran). */
  taken: boolean;
}

export interface ExpressionEvent extends TraceBase {
  kind: 'expression';
  /** What received the value, e.g. the variable name of set-variable. */
  name: string;
  /** The value as .NET's ToString() would show it, shortened for the trace. */
  value: string;
}

/** One member of a pool as the selection saw it. */
export interface PoolMemberView {
  backendId: string;
  priority: number;
  weight: number;
  /** Its circuit breaker was closed at selection time. */
  available: boolean;
}

export interface PoolChoiceEvent extends TraceBase {
  kind: 'pool';
  /** The pool. */
  backendId: string;
  /** Priority group the chosen member belongs to. */
  priority: number;
  /** Every member with priority, weight and availability at selection time. */
  members: PoolMemberView[];
  /** The member chosen. */
  chosen: string;
  /** Why: priority group, weighted round-robin or session affinity (same text as `message`). */
  why: string;
}

export interface BreakerEvent extends TraceBase {
  kind: 'breaker';
  /** `unavailable`: selection refused (open breaker or a pool with every member open); `opened`: this attempt tripped it. */
  decision: 'unavailable' | 'opened';
  /** The backend or pool referenced by the request. */
  backendId: string;
  /** The single backend whose breaker this is about (equals backendId for a single backend; '' for a whole pool). */
  memberId: string;
  /** Circuit breaker rule name, when one breaker decided. */
  rule?: string;
  /** ISO 8601 clock time the breaker closes again. */
  reopensAt?: string;
  /** Status the gateway answers while unavailable (the rule's failure response, else 503). */
  statusCode?: number;
}

export interface AttemptEvent extends TraceBase {
  kind: 'attempt';
  /** `sent` when the request leaves, then `answered` (response headers) or `failed`. */
  phase: 'sent' | 'answered' | 'failed';
  /** Referenced backend or pool id; '' for a plain URL. */
  backendId: string;
  /** Single backend actually called; '' for a plain URL. */
  memberId: string;
  method: string;
  url: string;
  /** phase `answered`: the backend's status. */
  status?: number;
  /** phase `failed`: APIM's LastError reason (BackendConnectionFailure, Timeout, ClientConnectionFailure...). */
  reason?: string;
  /** phase `answered`/`failed`: clock milliseconds since `sent`. */
  durationMs?: number;
}

export interface RetryEvent extends TraceBase {
  kind: 'retry';
  /** 1-based number of the retry about to run. */
  attempt: number;
  /** retry's `count`. */
  of: number;
  waitSeconds: number;
  /** What made the condition run: the error reason of the previous round, or null when it ended with a response. */
  afterError: string | null;
  /** Response status after the previous round. */
  status: number;
}

export interface ErrorEvent extends TraceBase {
  kind: 'error';
  /** `pipeline`: the error goes to on-error; `on-error`: on-error itself failed; `completion`: a hook after the response. */
  phase: 'pipeline' | 'on-error' | 'completion';
  /** context.LastError as on-error sees it; null for a completion hook failure. */
  lastError: LastError | null;
}

export interface ResponseEvent extends TraceBase {
  kind: 'response';
  statusCode: number;
}

export interface UserTraceEvent extends TraceBase {
  kind: 'trace';
  /** The trace policy's `source`, or 'context.Trace' for the expression method. */
  source: string;
  severity: 'verbose' | 'information' | 'error';
  metadata: Record<string, string>;
}

export interface InfoEvent extends TraceBase {
  kind: 'info';
  /** Policy-specific values (counters, cache keys, scores): shown by the console, not relied on by the engine. */
  data?: Readonly<Record<string, unknown>>;
}

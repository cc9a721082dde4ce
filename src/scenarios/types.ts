import type { MockScript } from '../mocks/index.js';
import type { SentKind } from './sinks.js';

/** Where something sits in a scenario file, for diagnostics and explanations. */
export interface Loc {
  file: string;
  jsonPath: string;
  line: number;
  column: number;
}

/** A scenario file after schema validation and normalisation (paths resolved, durations in ms, scripts parsed). */
export interface Scenario {
  /** Absolute path of the scenario file. */
  path: string;
  /** As shown in reports (relative to the working directory). */
  file: string;
  name: string;
  target: ScenarioTarget;
  /** Virtual clock start, epoch ms. */
  start: number;
  mocks: Map<string, { script: MockScript; loc: Loc }>;
  unmockedBackends: 'aoai' | 'error';
  /** Where `unmockedBackends` is set (for the diagnostic naming backends without a script). */
  unmockedLoc: Loc;
  snapshot: boolean;
  steps: ScenarioStep[];
}

export type ScenarioTarget =
  | { kind: 'config'; path: string; loc: Loc }
  | {
      kind: 'files';
      policy?: { path: string; loc: Loc };
      globalPolicy?: { path: string; loc: Loc };
      fragments: Array<{ id: string; path: string; loc: Loc }>;
      backends: Array<{ path: string; loc: Loc }>;
      namedValues: Record<string, string>;
      api: { id: string; path: string };
    };

export interface RequestSpec {
  method: string;
  /** Path and query as given. */
  path: string;
  headers: Array<[string, string[]]>;
  body: string | undefined;
}

/** An attempt named in `attempts`: a backend id, optionally with the status (or `error`) it answered. */
export interface AttemptSpec {
  backend: string;
  outcome?: number | 'error';
}

/** One `sent` item: messages of a kind (and target, payload) the checked requests sent; `count` exact, else at least one. */
export interface SentSpec {
  kind: SentKind;
  target?: string;
  /** A string: the exact text; anything else: the payload read as JSON deep-equals it. */
  payload?: unknown;
  payloadContains?: string;
  count?: number;
}

export interface Expectations {
  status?: number[];
  headers?: Array<[string, string | boolean | null]>;
  body?: Array<[string, unknown]>;
  bodyContains?: string;
  /** undefined: not checked; null: no backend was called. */
  backend?: string | null;
  attempts?: AttemptSpec[];
  attemptCount?: number;
  distribution?: Array<[string, number]>;
  tolerance: number;
  /** How many of the requests answered each status (statuses not listed: none). */
  statuses?: Array<[number, number]>;
  /** How many of the requests each backend served (last attempt; `none`: no backend called; others: none). */
  servedBy?: Array<[string, number]>;
  breakers?: Array<[string, 'open' | 'closed']>;
  mockRequests?: Array<[string, number]>;
  /** Messages the checked requests sent to local sinks (Service Bus, Dapr, one-way requests, Event Hubs). */
  sent?: SentSpec[];
  traceRan?: string[];
  traceNotRan?: string[];
  loc: Loc;
  /** Locations of individual expectation keys, for semantic diagnostics (unknown backend...). */
  keyLocs: Map<string, Loc>;
}

interface StepBase {
  /** 1-based. */
  index: number;
  name: string | undefined;
  loc: Loc;
  expect: Expectations | undefined;
}

/** One entry of a `concurrent` step: a request sent `repeat` times, all at once with the step's other requests. */
export interface ConcurrentEntry {
  request: RequestSpec;
  repeat: number;
  name: string | undefined;
  /** Per-request and aggregate expectations over this entry's requests only. */
  expect: Expectations | undefined;
  loc: Loc;
}

export type ScenarioStep =
  | (StepBase & { kind: 'send'; request: RequestSpec; repeat: number })
  | (StepBase & { kind: 'concurrent'; entries: ConcurrentEntry[] })
  | (StepBase & { kind: 'advance'; ms: number; text: string })
  | (StepBase & { kind: 'script'; scripts: Array<{ backendId: string; script: MockScript; loc: Loc }> })
  | (StepBase & { kind: 'check' });

/** Per-request expectations (the rest are aggregate or state expectations). */
export const PER_REQUEST_KEYS = ['status', 'headers', 'body', 'bodyContains', 'backend', 'attempts', 'attemptCount', 'trace'] as const;
/** Expectations over a step's requests together. */
export const AGGREGATE_KEYS = ['distribution', 'statuses', 'servedBy', 'sent'] as const;
/** Expectations on state after a step (never inside one entry of a concurrent step). */
export const STATE_KEYS = ['breakers', 'mockRequests'] as const;
/** In-flight requests one concurrent step may start (a bound on memory, not an APIM limit). */
export const MAX_CONCURRENT_REQUESTS = 1000;

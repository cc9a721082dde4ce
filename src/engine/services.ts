import type { BackendRegistry } from '../backends/index.js';
import type { Clock } from '../clock.js';
import { MemoryStateStore } from '../state/memory.js';
import type { StateStore } from '../state/store.js';
import { NO_SETTINGS_FILES, SettingsStore } from './settings.js';
import type { SettingResult, SettingSpec, SettingsFiles } from './settings.js';
import type { PolicyExtensions } from './policy-sdk.js';
import type { Upstream } from './upstream.js';

/** A named value (`{{name}}`); secret ones are masked in traces and logs. */
export interface NamedValue {
  name: string;
  value: string;
  secret: boolean;
}

/** A metric recorded by emit-metric / llm-emit-token-metric; the gateway exposes them on its Prometheus endpoint. */
export interface MetricRecord {
  name: string;
  namespace: string;
  value: number;
  dimensions: Record<string, string>;
}

/**
 * Long-lived services a compiled pipeline runs against. One instance per gateway; policies capture what they need
 * at compile time, so the request path does no lookups here.
 */
export interface RuntimeServices {
  readonly clock: Clock;
  readonly upstream: Upstream;
  /** null when no backends were loaded (then `backend-id` references are reported at load time). */
  readonly backends: BackendRegistry | null;
  readonly namedValues: ReadonlyMap<string, NamedValue>;
  /** Names of loaded fragments (for include-fragment cross-references). */
  readonly fragmentIds: ReadonlySet<string>;
  /**
   * Shared state of stateful policies (rate-limit counters, caches, token buckets): one object per key for the
   * life of the gateway; `reset()` clears them all (CI mode between tests).
   */
  store<T>(key: string, init: () => T): T;
  /** Counters that may be shared beyond this gateway (workers, Redis): src/state/store.ts. Default: this process. */
  readonly state: StateStore;
  /** Sink for metrics; the server wires it to Prometheus. */
  emitMetric(m: MetricRecord): void;
  /** Structured log lines from policies (trace policy, log-to-eventhub sinks). */
  log(entry: { level: 'info' | 'warn' | 'error'; source: string; message: string; data?: Record<string, unknown> }): void;
  /** A setting declared by a policy (config file `settings.<key>`), parsed once and typed by its spec. */
  setting<T>(spec: SettingSpec<T>): SettingResult<T | undefined>;
  /** Uniform random numbers in [0, 1) (retry jitter); injected so tests can pin them. */
  readonly random: () => number;
  /** File access for settings that name files (given by the shell; relative paths resolve against the config folder). */
  readonly files: SettingsFiles;
  /** Code-level policy hooks (see PolicyExtensions). */
  readonly extensions: Readonly<PolicyExtensions>;
}

export interface CreateServicesOptions {
  clock: Clock;
  upstream: Upstream;
  backends?: BackendRegistry | null;
  namedValues?: Iterable<NamedValue>;
  fragmentIds?: Iterable<string>;
  emitMetric?: (m: MetricRecord) => void;
  log?: RuntimeServices['log'];
  settings?: Record<string, unknown>;
  state?: StateStore;
  /** File access for settings that name files; the shell provides it (the engine reads no files). */
  files?: SettingsFiles;
  random?: () => number;
  extensions?: PolicyExtensions;
}

export interface ResettableServices extends RuntimeServices {
  /** Clears policy state (counters, caches) and backend breakers. */
  reset(): void;
  /**
   * Hot reload: takes over the policy state (rate-limit and quota counters, caches) of the services this one replaces.
   * Keys name the policy element by file and offset, so an edited file's counters start again (docs/emulator-choices.md).
   */
  adoptState(previous: ResettableServices): void;
  /** The per-gateway policy objects of store(), for adoptState. */
  readonly policyState: ReadonlyMap<string, unknown>;
}

export function createServices(o: CreateServicesOptions): ResettableServices {
  const stores = new Map<string, unknown>();
  const namedValues = new Map<string, NamedValue>();
  const settings = new SettingsStore(o.settings ?? {}, { files: o.files ?? NO_SETTINGS_FILES });
  for (const nv of o.namedValues ?? []) namedValues.set(nv.name.toLowerCase(), nv);
  const state = o.state ?? new MemoryStateStore();
  return {
    clock: o.clock,
    upstream: o.upstream,
    backends: o.backends ?? null,
    namedValues,
    fragmentIds: new Set(o.fragmentIds ?? []),
    store<T>(key: string, init: () => T): T {
      let v = stores.get(key) as T | undefined;
      if (v === undefined) {
        v = init();
        stores.set(key, v);
      }
      return v;
    },
    state,
    emitMetric: o.emitMetric ?? (() => undefined),
    log: o.log ?? (() => undefined),
    setting: (spec) => settings.get(spec),
    random: o.random ?? Math.random,
    extensions: o.extensions ?? {},
    files: o.files ?? NO_SETTINGS_FILES,
    reset() {
      stores.clear();
      // A remote store resets in the background; its failures are its own to report.
      const r = state.reset();
      if (r instanceof Promise) r.catch(() => undefined);
      o.backends?.reset();
    },
    policyState: stores,
    adoptState(previous: ResettableServices) {
      for (const [k, v] of previous.policyState) if (!stores.has(k)) stores.set(k, v);
    },
  };
}

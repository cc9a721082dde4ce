import type { RuntimeServices } from '../../engine/policy-sdk.js';
import { defineSetting } from '../../engine/policy-sdk.js';

/**
 * Local sinks for policies whose target is an Azure service the emulator cannot reach offline (Service Bus, Dapr
 * pub/sub and bindings, one-way requests, GraphQL subscription events): what would have been sent is recorded here, oldest first, and can be read
 * by tests, scenarios and the admin API. `sinks.keep` (setting) bounds each list; default 1000, like log-to-eventhub.
 */
export const SINK_KINDS = ['service-bus', 'dapr-pubsub', 'dapr-binding', 'one-way-request', 'graphql-event'] as const;
export type SinkKind = (typeof SINK_KINDS)[number];

export const SINK_KEEP_DEFAULT = 1000;

export interface SinkEntry {
  readonly kind: SinkKind;
  /** Queue or topic, pub/sub topic, binding name, URL, or GraphQL subscription id. */
  readonly target: string;
  readonly payload: string;
  readonly properties: Readonly<Record<string, string>>;
  /** Clock time (epoch ms). */
  readonly timestamp: number;
  readonly requestId: string;
}

/** `settings["sinks.keep"]`: how many recent messages the local sinks keep. */
export const SINKS_KEEP_SETTING = defineSetting<number>('sinks.keep', `recent messages kept by the local message sinks (default ${SINK_KEEP_DEFAULT})`, (v) =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0
    ? { ok: true, value: v }
    : { ok: false, message: `settings["sinks.keep"] is ${JSON.stringify(v)}; allowed: a whole number >= 0` },
);

interface Sink {
  keep: number;
  entries: SinkEntry[];
}

function sink(services: RuntimeServices): Sink {
  return services.store('policies:sinks', () => {
    const k = services.setting(SINKS_KEEP_SETTING);
    return { keep: k.ok && k.value !== undefined ? k.value : SINK_KEEP_DEFAULT, entries: [] };
  });
}

export function recordSink(services: RuntimeServices, entry: SinkEntry): void {
  const s = sink(services);
  if (s.keep === 0) return;
  s.entries.push(entry);
  if (s.entries.length > s.keep) s.entries.splice(0, s.entries.length - s.keep);
}

/** Recorded entries, oldest first, optionally of one kind. */
export function sinkEntries(services: RuntimeServices, kind?: SinkKind): SinkEntry[] {
  const all = sink(services).entries;
  return kind === undefined ? [...all] : all.filter((e) => e.kind === kind);
}

/** How many entries the sinks keep (`sinks.keep`). */
export function sinkLimit(services: RuntimeServices): number {
  return sink(services).keep;
}

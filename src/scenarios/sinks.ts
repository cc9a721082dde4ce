import type { RuntimeServices } from '../engine/services.js';
import { eventHubEntries } from '../policies/log-to-eventhub.js';
import { SINK_KINDS, sinkEntries } from '../policies/support/sinks.js';

/**
 * What policies "sent" to Azure services the emulator cannot reach offline, as one list the `sent` expectation reads:
 * the local sinks of send-service-bus-message, publish-to-dapr, invoke-dapr-binding, send-one-way-request and GraphQL
 * publish-event, and log-to-eventhub's own log (docs/scenarios.md, "Messages sent").
 */
export const SENT_KINDS = [...SINK_KINDS, 'eventhub'] as const;
export type SentKind = (typeof SENT_KINDS)[number];

export interface SentMessage {
  kind: SentKind;
  /** Queue or topic, pubsub/topic, binding name, URL, or the event hub logger id. */
  target: string;
  payload: string;
  /** The gateway request whose policy sent it. */
  requestId: string;
}

/** Every message recorded so far (each list is bounded by its policy's `keep` setting), oldest first per kind. */
export function sentMessages(services: RuntimeServices): SentMessage[] {
  const out: SentMessage[] = sinkEntries(services).map((e) => ({ kind: e.kind, target: e.target, payload: e.payload, requestId: e.requestId }));
  for (const e of eventHubEntries(services)) out.push({ kind: 'eventhub', target: e.loggerId, payload: e.message, requestId: e.requestId });
  return out;
}

import type { PolicyDefinition, RuntimeServices } from '../engine/policy-sdk.js';
import { attributeText, defineSetting } from '../engine/policy-sdk.js';
import { firstReport } from './support/once.js';

/** "A larger message will be automatically truncated to 200 KB before transfer to an event hub." */
export const EVENT_HUB_MAX_BYTES = 200 * 1024;
/** Entries kept for inspection (oldest dropped first); the setting `eventHub.keep` changes it. */
export const EVENT_HUB_KEEP_DEFAULT = 1000;

/** `settings["eventHub.keep"]`: how many recent entries the in-memory sink keeps. */
export const EVENT_HUB_KEEP_SETTING = defineSetting<number>('eventHub.keep', `recent log-to-eventhub entries kept (default ${EVENT_HUB_KEEP_DEFAULT})`, (v) =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0
    ? { ok: true, value: v }
    : { ok: false, message: `settings["eventHub.keep"] is ${JSON.stringify(v)}; allowed: a whole number >= 0` },
);

/** One message "sent" by log-to-eventhub. */
export interface EventHubEntry {
  loggerId: string;
  partitionId?: string;
  partitionKey?: string;
  message: string;
  /** The message was longer than 200 KB and was cut. */
  truncated: boolean;
  /** Clock time (epoch ms). */
  timestamp: number;
  requestId: string;
}

interface EventHubSink {
  keep: number;
  entries: EventHubEntry[];
}

function sink(services: RuntimeServices): EventHubSink {
  return services.store('log-to-eventhub:sink', () => {
    const k = services.setting(EVENT_HUB_KEEP_SETTING);
    return { keep: (k.ok ? k.value : undefined) ?? EVENT_HUB_KEEP_DEFAULT, entries: [] };
  });
}

/** The last messages logged through log-to-eventhub, oldest first, optionally of one logger (for tests and admin endpoints). */
export function eventHubEntries(services: RuntimeServices, loggerId?: string): EventHubEntry[] {
  const all = sink(services).entries;
  return loggerId === undefined ? [...all] : all.filter((e) => e.loggerId === loggerId);
}

/**
 * `<log-to-eventhub logger-id partition-id|partition-key>message</log-to-eventhub>` (docs/apim-behaviour.md: Access control, caching and observability), offline: the
 * message goes to the gateway's log (RuntimeServices.log, source "log-to-eventhub") and the last entries are kept in
 * memory (eventHubEntries). Loggers are not declared in the emulator, so any logger-id is accepted.
 */
export const logToEventHub: PolicyDefinition = {
  name: 'log-to-eventhub',
  summary: 'Appends the message to the gateway log and an in-memory list of recent entries (no Event Hub).',
  support: 'approximate',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  scopes: ['global', 'product', 'api', 'operation'],
  attributes: [
    { name: 'logger-id', required: true, expressions: false },
    { name: 'partition-id', expressions: false },
    { name: 'partition-key', expressions: true },
  ],
  text: { expressions: true, required: true },
  settings: [EVENT_HUB_KEEP_SETTING],
  compile(el, cx) {
    const keep = cx.setting(EVENT_HUB_KEEP_SETTING);
    if (!keep.ok && firstReport(el, 'keep')) cx.diagnostics.error(el.source, el.start, 'policy/bad-setting', keep.message);
    if (el.attributes.some((a) => a.name === 'partition-id') && el.attributes.some((a) => a.name === 'partition-key') && firstReport(el, 'partition')) {
      cx.diagnostics.error(
        el.source,
        cx.offsetOf(el, 'partition-key'),
        'policy/conflicting-attributes',
        '<log-to-eventhub> takes "partition-id" or "partition-key", not both',
      );
    }
    const loggerId = attributeText(el, 'logger-id') ?? '';
    const partitionId = cx.attributeSpan(el, 'partition-id')?.text;
    const partitionKey = cx.string(el, 'partition-key');
    const message = cx.text(el) ?? (() => '');
    const { services } = cx;
    return (ctx) => {
      const full = message(ctx);
      const { text, truncated } = truncateUtf8(full, EVENT_HUB_MAX_BYTES);
      const entry: EventHubEntry = {
        loggerId,
        ...(partitionId !== undefined ? { partitionId } : {}),
        ...(partitionKey ? { partitionKey: partitionKey(ctx) } : {}),
        message: text,
        truncated,
        timestamp: ctx.clock.now(),
        requestId: ctx.requestId,
      };
      const s = sink(services);
      if (s.keep > 0) {
        s.entries.push(entry);
        if (s.entries.length > s.keep) s.entries.splice(0, s.entries.length - s.keep);
      }
      services.log({
        level: 'info',
        source: 'log-to-eventhub',
        message: text,
        data: {
          loggerId,
          requestId: ctx.requestId,
          ...(entry.partitionId !== undefined ? { partitionId: entry.partitionId } : {}),
          ...(entry.partitionKey !== undefined ? { partitionKey: entry.partitionKey } : {}),
          ...(truncated ? { truncated } : {}),
        },
      });
      if (ctx.tracing)
        ctx.trace({
          kind: 'info',
          policy: 'log-to-eventhub',
          message: `logged ${Buffer.byteLength(text)} bytes to logger "${loggerId}"${truncated ? ' (truncated to 200 KB)' : ''}`,
        });
      return 'continue';
    };
  },
};

/** Cuts a string to at most `max` UTF-8 bytes without splitting a character. */
export function truncateUtf8(s: string, max: number): { text: string; truncated: boolean } {
  const buf = Buffer.from(s, 'utf8');
  if (buf.length <= max) return { text: s, truncated: false };
  let end = max;
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--; // back off continuation bytes
  return { text: buf.subarray(0, end).toString('utf8'), truncated: true };
}

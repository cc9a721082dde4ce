import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatDiagnosticLine } from '../../src/diagnostics/diagnostic.js';
import { loadScenario, runScenarioFile } from '../../src/scenarios/index.js';

/** The `sent` expectation: what policies sent to the local sinks (Service Bus, Event Hubs...), per request group. */

const dir = mkdtempSync(path.join(tmpdir(), 'apim-scenario-sinks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

write(
  'orders.xml',
  `<policies>
  <inbound>
    <send-service-bus-message queue-name="orders">
      <message-properties><message-property name="source">gateway</message-property></message-properties>
      <payload>@("{\\"id\\":\\"" + context.Request.Headers.GetValueOrDefault("x-order","") + "\\"}")</payload>
    </send-service-bus-message>
    <log-to-eventhub logger-id="audit">@("order " + context.Request.Headers.GetValueOrDefault("x-order",""))</log-to-eventhub>
    <return-response><set-status code="202" reason="Accepted" /></return-response>
  </inbound>
  <backend />
  <outbound />
  <on-error />
</policies>`,
);

function scenario(name: string, expectations: string): string {
  return write(
    name,
    `policy: orders.xml
snapshot: false
steps:
  - send: { path: /warm-up, headers: { x-order: w } }
  - concurrent:
      - send: { path: /orders, headers: { x-order: a } }
        expect:
          sent: [{ kind: service-bus, target: orders, payload: { id: a }, count: 1 }]
      - send: { path: /orders, headers: { x-order: b } }
        repeat: 2
${expectations}
`,
  );
}

describe('sent: messages recorded by the local sinks', () => {
  it('matches kind, target, JSON payload, text and count over the requests checked (not earlier ones)', async () => {
    const f = scenario(
      'ok.scenario.yaml',
      `    expect:
      status: 202
      sent:
        - { kind: service-bus, target: orders, count: 3 }
        - { kind: service-bus, payloadContains: '"b"', count: 2 }
        - { kind: eventhub, target: audit, payload: order a }`,
    );
    const r = await runScenarioFile(f);
    expect(r.failures.map((x) => x.message)).toEqual([]);
    expect(r.status).toBe('passed');
  });

  it('a message that was not sent fails with what was sent instead', async () => {
    const f = scenario(
      'wrong.scenario.yaml',
      `    expect:
      sent:
        - { kind: service-bus, target: orders, count: 4 }
        - { kind: dapr-pubsub }
        - { kind: eventhub, payload: order c }`,
    );
    const r = await runScenarioFile(f);
    expect(r.failures.map((x) => x.message)).toEqual([
      'step 2: concurrent: expected 4 service-bus messages to "orders" but 3 were sent by the 3 requests (6 messages in all)',
      'step 2: concurrent: expected at least one dapr-pubsub message but 0 were sent by the 3 requests (6 messages in all)',
      'step 2: concurrent: expected at least one eventhub message with payload "order c" but 0 were sent by the 3 requests (6 messages in all)',
    ]);
    expect(r.failures[0]!.details).toContain('service-bus orders: "{\\"id\\":\\"a\\"}"');
    expect(r.failures[0]!.details).toContain('eventhub audit: "order b"');
  });

  it('is about responses: a step that sends nothing cannot expect it, and kinds are checked by the schema', () => {
    const f = write(
      'invalid.scenario.yaml',
      `policy: orders.xml
steps:
  - advance: 1s
    expect: { sent: [{ kind: service-bus }] }
  - send: { path: /x }
    expect: { sent: [{ kind: kafka }] }
`,
    );
    expect(
      loadScenario(f).diagnostics.map((d) =>
        formatDiagnosticLine(d)
          .replace(/^.*?(\d+:\d+)/, '$1')
          .replace(/ \(.*\)$/, ''),
      ),
    ).toEqual([
      '6:30 $.steps[1].expect.sent[0].kind: error scenario/schema: "kafka" is not allowed',
      '4:15 $.steps[0].expect.sent: error scenario/expect: "sent" is about a response, but step 1 sends no request',
    ]);
  });
});

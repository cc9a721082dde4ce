import { describe, expect, it } from 'vitest';
import type { RuntimeServices } from '../../../src/engine/services.js';
import { EVENT_HUB_MAX_BYTES, eventHubEntries, truncateUtf8 } from '../../../src/policies/log-to-eventhub.js';
import { buildGateway, policies, send, tryBuildGateway } from '../../helpers/gateway.js';

/** log-to-eventhub offline: the gateway log plus the last entries kept in memory. */
type LogEntry = Parameters<RuntimeServices['log']>[0];

describe('log-to-eventhub', () => {
  it('appends the message to the log sink and keeps it observable, with logger and partition', async () => {
    const logged: LogEntry[] = [];
    const { gateway, clock } = buildGateway({
      deps: { log: (e) => logged.push(e) },
      api: policies({
        inbound: `<log-to-eventhub logger-id="contoso-logger" partition-key="@(context.Request.Headers.GetValueOrDefault(&quot;x-tenant&quot;, &quot;none&quot;))">
            @(string.Join(",", context.Request.Method, context.Request.Url.Path, context.Operation.Id))
          </log-to-eventhub>
          <return-response />`,
        onError: '<log-to-eventhub logger-id="errors" partition-id="1">@(context.LastError.Reason)</log-to-eventhub>',
      }),
    });
    clock.set(Date.UTC(2026, 0, 2, 3, 4, 5));
    const r = await send(gateway, '/api/orders', { headers: { 'x-tenant': 't1' } });
    expect(r.status).toBe(200);
    const entries = eventHubEntries(gateway.services);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      loggerId: 'contoso-logger',
      partitionKey: 't1',
      message: 'GET,/api/orders,test-api-any',
      truncated: false,
      timestamp: Date.UTC(2026, 0, 2, 3, 4, 5),
      requestId: r.context!.requestId,
    });
    expect(logged).toEqual([
      {
        level: 'info',
        source: 'log-to-eventhub',
        message: 'GET,/api/orders,test-api-any',
        data: { loggerId: 'contoso-logger', requestId: r.context!.requestId, partitionKey: 't1' },
      },
    ]);
    expect(eventHubEntries(gateway.services, 'errors')).toEqual([]);
  });

  it('runs in on-error with partition-id', async () => {
    const { gateway } = buildGateway({
      api: policies({
        inbound: '<rate-limit-by-key calls="0" renewal-period="60" counter-key="k" />',
        onError: '<log-to-eventhub logger-id="errors" partition-id="1">@(context.LastError.Reason)</log-to-eventhub>',
      }),
    });
    expect((await send(gateway, '/api/x')).status).toBe(429);
    expect(eventHubEntries(gateway.services, 'errors')).toMatchObject([{ loggerId: 'errors', partitionId: '1', message: 'RateLimitExceeded' }]);
  });

  it('truncates messages to 200 KB without splitting a character', async () => {
    const { gateway } = buildGateway({
      api: policies({ inbound: '<log-to-eventhub logger-id="l">@(new string(\'é\', 150000))</log-to-eventhub><return-response />' }),
    });
    await send(gateway, '/api/x');
    const [e] = eventHubEntries(gateway.services);
    expect(e!.truncated).toBe(true);
    expect(Buffer.byteLength(e!.message)).toBe(EVENT_HUB_MAX_BYTES); // 'é' is 2 bytes: 204800 is even
    expect(truncateUtf8('aé', 2)).toEqual({ text: 'a', truncated: true });
  });

  it('keeps the last eventHub.keep entries', async () => {
    const { gateway } = buildGateway({
      settings: { 'eventHub.keep': 2 },
      api: policies({ inbound: '<log-to-eventhub logger-id="l">@(context.Request.Url.Path)</log-to-eventhub><return-response />' }),
    });
    for (const p of ['/api/1', '/api/2', '/api/3']) await send(gateway, p);
    expect(eventHubEntries(gateway.services).map((e) => e.message)).toEqual(['/api/2', '/api/3']);
  });

  it('rejects partition-id with partition-key, a logger-id expression and a missing message', () => {
    const m = tryBuildGateway({
      api: policies({
        inbound: '<log-to-eventhub logger-id="@(&quot;l&quot;)" partition-id="1" partition-key="k">x</log-to-eventhub><log-to-eventhub logger-id="l" />',
      }),
    }).diagnostics.map((d) => d.message);
    expect(m).toContain('<log-to-eventhub> takes "partition-id" or "partition-key", not both');
    expect(m).toContain('attribute "logger-id" of <log-to-eventhub> does not accept policy expressions');
    expect(m).toContain('<log-to-eventhub> needs a value as its text');
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { buildGateway, policies } from '../../helpers/gateway.js';
import { closeAll, request, serve } from '../../server/support.js';

/** The local sinks read back through the admin API (`GET /_emulator/sinks`), over real HTTP on 127.0.0.1. */
afterEach(closeAll);

const API = policies({
  inbound: `<send-service-bus-message queue-name="orders"><message-properties><message-property name="Authorization">@(context.Request.Headers.GetValueOrDefault("Authorization",""))</message-property><message-property name="customer">c1</message-property></message-properties><payload>@("order " + context.Request.Headers.GetValueOrDefault("Authorization","") + " s3cret-value")</payload></send-service-bus-message>
<publish-to-dapr pubsub-name="pubsub" topic="new">@(context.Request.Url.Path)</publish-to-dapr>
<return-response><set-status code="202" reason="Accepted" /></return-response>`,
});

describe('GET /_emulator/sinks', () => {
  it('lists what the offline policies recorded, filters by kind, masks credentials and secrets, and needs no CSRF header', async () => {
    const { gateway, clock } = buildGateway({ apiPath: 'q', api: API });
    const s = await serve(gateway, clock, { secrets: ['s3cret-value'] });
    const sent = await request(`${s.url}/q/orders`, { method: 'POST', headers: { authorization: 'Bearer tok-123456' }, body: '{}' });
    expect(sent.status).toBe(202);

    const all = await request(`${s.url}/_emulator/sinks`);
    expect(all.status).toBe(200);
    const body = all.json() as { limit: number; entries: Array<{ kind: string; target: string; payload: string; properties: Record<string, string> }> };
    expect(body.limit).toBe(1000);
    expect(body.entries.map((e) => e.kind)).toEqual(['service-bus', 'dapr-pubsub']);
    const bus = body.entries[0]!;
    // The Authorization property is a credential: its value, and the token inside it, are masked wherever they appear.
    expect(bus.properties).toEqual({ Authorization: '***', customer: 'c1' });
    expect(bus.payload).toBe('order *** ***');
    expect(all.text).not.toContain('tok-123456');
    expect(all.text).not.toContain('s3cret-value');
    expect(body.entries[1]).toMatchObject({ target: 'pubsub/new', payload: '/q/orders' });

    const dapr = (await request(`${s.url}/_emulator/sinks?kind=dapr-pubsub`)).json() as { entries: Array<{ kind: string }> };
    expect(dapr.entries.map((e) => e.kind)).toEqual(['dapr-pubsub']);
    expect(((await request(`${s.url}/_emulator/sinks?kind=dapr-binding`)).json() as { entries: unknown[] }).entries).toEqual([]);
  });

  it('an unknown kind is a 400 naming the allowed kinds; POST is not allowed; reset empties the sinks', async () => {
    const { gateway, clock } = buildGateway({ apiPath: 'q', api: API });
    const s = await serve(gateway, clock);
    await request(`${s.url}/q/x`);
    const bad = await request(`${s.url}/_emulator/sinks?kind=eventhub`);
    expect(bad.status).toBe(400);
    expect(bad.json()).toMatchObject({ error: expect.stringContaining('service-bus, dapr-pubsub, dapr-binding, one-way-request, graphql-event') });
    expect((await request(`${s.url}/_emulator/sinks`, { method: 'POST', headers: { 'x-emulator-request': '1' } })).status).toBe(405);
    expect(((await request(`${s.url}/_emulator/sinks`)).json() as { entries: unknown[] }).entries).toHaveLength(2);
    expect((await request(`${s.url}/_emulator/reset`, { method: 'POST', headers: { 'x-emulator-request': '1' } })).status).toBe(200);
    expect(((await request(`${s.url}/_emulator/sinks`)).json() as { entries: unknown[] }).entries).toEqual([]);
  });
});

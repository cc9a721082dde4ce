import { afterEach, describe, expect, it } from 'vitest';
import { backendPool, buildGateway, policies, send } from '../helpers/gateway.js';

/**
 * "Only the cors policy is evaluated on the OPTIONS request during preflight" (docs/apim-behaviour.md: Access control, caching and observability): the gateway routes a
 * preflight to the chain's cors statements even when no operation takes OPTIONS, without a subscription key.
 */
const { backend, closeAll } = backendPool();
afterEach(closeAll);

const CORS = `<cors allow-credentials="false">
  <allowed-origins><origin>https://app.contoso.com</origin></allowed-origins>
  <allowed-methods><method>POST</method></allowed-methods>
  <allowed-headers><header>content-type</header></allowed-headers>
</cors>`;

/** A gateway with one POST operation behind a subscription key, the given inbound section, and a backend. */
async function corsGateway(inbound: string) {
  const b = await backend();
  const { gateway } = buildGateway({
    serviceUrl: b.url,
    subscriptionRequired: true,
    subscriptions: [{ id: 's', scope: 'all', primaryKey: 'k' }],
    operations: [{ id: 'chat', method: 'POST', urlTemplate: '/chat' }],
    api: policies({ inbound, backend: '<forward-request />' }),
  });
  return { gateway, b };
}

describe('CORS preflight', () => {
  it('answers the preflight from the cors policy alone: no other policy, no backend, no key', async () => {
    const { gateway, b } = await corsGateway(`<set-header name="x-before" exists-action="override"><value>ran</value></set-header>${CORS}`);
    const r = await send(gateway, '/api/chat', {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.contoso.com', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });
    expect(r.status).toBe(200);
    expect(r.header('access-control-allow-origin')).toBe('https://app.contoso.com');
    expect(r.header('access-control-allow-methods')).toContain('POST');
    expect(b.requests).toHaveLength(0);
    expect(r.context?.traceEvents.some((e) => e.policy === 'set-header')).toBe(false);
  });

  it('an ordinary request still needs its key and runs the whole pipeline', async () => {
    const { gateway, b } = await corsGateway(CORS);
    expect((await send(gateway, '/api/chat', { method: 'POST', body: '{}', headers: { Origin: 'https://app.contoso.com' } })).status).toBe(401);
    const ok = await send(gateway, '/api/chat', {
      method: 'POST',
      body: '{}',
      headers: { Origin: 'https://app.contoso.com', 'Ocp-Apim-Subscription-Key': 'k' },
    });
    expect(ok.status).toBe(200);
    expect(ok.header('access-control-allow-origin')).toBe('https://app.contoso.com');
    expect(b.requests).toHaveLength(1);
  });

  it('without a cors policy an OPTIONS request is an ordinary request (404 when no operation takes it)', async () => {
    const { gateway } = buildGateway({ operations: [{ id: 'chat', method: 'POST', urlTemplate: '/chat' }], api: policies({ inbound: '<return-response />' }) });
    const r = await send(gateway, '/api/chat', { method: 'OPTIONS', headers: { Origin: 'https://x.example', 'Access-Control-Request-Method': 'POST' } });
    expect(r.status).toBe(404);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { RedisStateStore } from '../../src/state/redis.js';
import { buildGateway, policies, send } from '../helpers/gateway.js';

/**
 * Every throttling policy on a shared store that cannot answer: fail-closed refuses the call with 503 (LastError
 * source = the policy), fail-open lets it through uncounted. No Redis runs: port 1 on loopback refuses connections.
 */
const stores: RedisStateStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

const POLICIES: Array<[string, string]> = [
  ['rate-limit-by-key', '<rate-limit-by-key calls="5" renewal-period="60" counter-key="k" />'],
  ['quota-by-key', '<quota-by-key calls="5" renewal-period="3600" counter-key="k" />'],
  ['llm-token-limit', '<llm-token-limit counter-key="k" tokens-per-minute="1000" estimate-prompt-tokens="false" />'],
];

describe('shared state unreachable', () => {
  for (const [name, xml] of POLICIES) {
    for (const failOpen of [false, true]) {
      it(`${name}, fail-${failOpen ? 'open' : 'closed'}`, async () => {
        const state = new RedisStateStore({ url: 'redis://127.0.0.1:1', failOpen, commandTimeoutMs: 200 });
        stores.push(state);
        const { gateway } = buildGateway({ api: policies({ inbound: `${xml}<return-response />` }), deps: { state } });
        const r = await send(gateway, '/api/x', { method: 'POST', body: '{"messages":[]}', headers: { 'content-type': 'application/json' } });
        if (failOpen) expect(r.status).toBe(200);
        else {
          expect([r.status, r.json()]).toEqual([503, { statusCode: 503, message: 'Rate limit state is unavailable. Try again later.' }]);
          expect(r.context?.lastError).toMatchObject({ source: name, reason: 'RateLimitStateUnavailable' });
        }
      });
    }
  }
});

import { afterEach, describe, expect, it } from 'vitest';
import { adminStartProblem } from '../../src/server/admin-security.js';
import { ServerStartError } from '../../src/server/index.js';
import { buildGateway, policies } from '../helpers/gateway.js';
import { closeAll, request, serve } from './support.js';

/** The admin API's guards, over real HTTP on 127.0.0.1 (SECURITY.md). */

afterEach(closeAll);

const TOKEN = 'test-admin-token-0123456789';

function gateway() {
  return buildGateway({ apiPath: 'x', api: policies({ inbound: '<return-response><set-status code="200" /></return-response>' }) });
}

describe('admin API security', () => {
  it('CSRF: a state-changing request must be JSON or carry X-Emulator-Request', async () => {
    const { gateway: g, clock } = gateway();
    const s = await serve(g, clock);
    // What a page on another site can send without a preflight: text/plain, or no body at all.
    const plain = await request(`${s.url}/_emulator/reset`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: 'http://evil.example' },
      body: 'x',
    });
    expect(plain.status).toBe(403);
    expect(plain.json()).toMatchObject({ error: expect.stringContaining('X-Emulator-Request') });
    const bare = await request(`${s.url}/_emulator/reset`, { method: 'POST' });
    expect(bare.status).toBe(403);
    const form = await request(`${s.url}/_emulator/mocks/m/script`, {
      method: 'PUT',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    });
    expect(form.status).toBe(403);
    // JSON, or the custom header, pass; reads need neither.
    expect((await request(`${s.url}/_emulator/reset`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(200);
    expect((await request(`${s.url}/_emulator/reset`, { method: 'POST', headers: { 'x-emulator-request': '1' } })).status).toBe(200);
    expect((await request(`${s.url}/_emulator/health`)).status).toBe(200);
  });

  it('DNS rebinding: a foreign Host name is refused; IP addresses, localhost and the bound host are answered', async () => {
    const { gateway: g, clock } = gateway();
    const s = await serve(g, clock);
    const foreign = await request(`${s.url}/_emulator/health`, { headers: { host: `attacker.example:${s.port}` } });
    expect(foreign.status).toBe(403);
    expect(foreign.json()).toMatchObject({ error: expect.stringContaining('attacker.example') });
    for (const host of [`127.0.0.1:${s.port}`, `localhost:${s.port}`, `app.localhost:${s.port}`, `[::1]:${s.port}`, '10.1.2.3']) {
      expect((await request(`${s.url}/_emulator/health`, { headers: { host } })).status, host).toBe(200);
    }
    // Gateway traffic is not the admin API's business: any Host reaches the gateway.
    expect((await request(`${s.url}/x`, { headers: { host: 'api.contoso.example' } })).status).toBe(200);
  });

  it('a token, when set, is required on every admin request and compared exactly', async () => {
    const { gateway: g, clock } = gateway();
    const s = await serve(g, clock, { admin: { token: TOKEN } });
    const none = await request(`${s.url}/_emulator/traces`);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect((await request(`${s.url}/_emulator/traces`, { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
    expect((await request(`${s.url}/_emulator/traces`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect(
      (await request(`${s.url}/_emulator/reset`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'x-emulator-request': '1' } })).status,
    ).toBe(200);
  });

  it('beyond loopback without a token the server refuses to start, naming the fixes', async () => {
    const { gateway: g, clock } = gateway();
    const err = await serve(g, clock, { host: '0.0.0.0', port: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServerStartError);
    expect((err as ServerStartError).message).toMatch(/--admin-token .*--admin-host 127\.0\.0\.1 --admin-port/);
    const short = await serve(g, clock, { admin: { token: 'short' } }).catch((e: unknown) => e);
    expect((short as ServerStartError).message).toMatch(/at least 16 characters/);
    // With the admin API on its own loopback listener the gateway may listen widely without a token (checked without
    // binding beyond loopback in a test).
    expect(adminStartProblem('127.0.0.1', undefined, true)).toBeNull();
    expect(adminStartProblem('0.0.0.0', undefined, true)).toMatch(/--admin-host 0\.0\.0\.0/);
    expect(adminStartProblem('0.0.0.0', TOKEN, true)).toBeNull();
  });

  it('a separate admin listener: /_emulator is served there only, and gateway traffic only on the gateway port', async () => {
    const { gateway: g, clock } = gateway();
    const s = await serve(g, clock, { admin: { port: 0 } });
    expect(s.adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.adminUrl).not.toBe(s.url);
    expect((await request(`${s.adminUrl}/_emulator/health`)).status).toBe(200);
    const onGateway = await request(`${s.url}/_emulator/health`);
    expect(onGateway.status).toBe(404);
    expect(onGateway.text).not.toContain(s.adminUrl);
    expect((await request(`${s.url}/x`)).status).toBe(200);
    expect((await request(`${s.adminUrl}/x`)).status).toBe(404);
  });
});

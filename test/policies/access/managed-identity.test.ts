import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/clock.js';
import { DEFAULT_MANAGED_IDENTITY_SECRET } from '../../../src/policies/support/managed-identity.js';
import { buildGateway, FORWARD, policies, send, startBackend, tryBuildGateway } from '../../helpers/gateway.js';
import type { TestBackend } from '../../helpers/gateway.js';

const START = Date.UTC(2025, 0, 1);
const ON_ERROR =
  '<set-header name="X-Reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header><set-header name="X-Source" exists-action="override"><value>@(context.LastError.Source)</value></set-header>';

/** Checks the HS256 signature with node:crypto and returns the payload. */
function verified(token: string, secret: string): Record<string, unknown> {
  const [h, p, s] = token.split('.') as [string, string, string];
  expect(createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url')).toBe(s);
  expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toMatchObject({ alg: 'HS256', typ: 'JWT' });
  return JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
}

let backend: TestBackend;
beforeAll(async () => {
  backend = await startBackend();
});
afterAll(async () => {
  await backend.close();
});

const bearer = (i: number): string => {
  const v = backend.requests[i]!.headers.authorization;
  expect(v).toMatch(/^Bearer /);
  return v!.slice(7);
};

describe('authentication-managed-identity', () => {
  it('sets Authorization: Bearer <locally signed token for the resource> on the backend request', async () => {
    const { gateway } = buildGateway({
      clock: new VirtualClock(START),
      serviceUrl: backend.url,
      api: policies({ inbound: '<authentication-managed-identity resource="https://cognitiveservices.azure.com" />', backend: FORWARD }),
    });
    const before = backend.requests.length;
    const r = await send(gateway, '/api/chat');
    expect(r.status).toBe(200);
    const claims = verified(bearer(before), DEFAULT_MANAGED_IDENTITY_SECRET);
    expect(claims).toMatchObject({
      aud: 'https://cognitiveservices.azure.com',
      iss: 'https://sts.windows.net/00000000-0000-0000-0000-000000000000/',
      idtyp: 'app',
      iat: START / 1000,
      exp: START / 1000 + 86_400,
    });
  });

  it('caches the token until it expires (on the virtual clock), per resource and client-id', async () => {
    const clock = new VirtualClock(START);
    const settings = { managedIdentity: { secret: 's3cret', lifetimeSeconds: 600, userAssignedClientIds: ['uami-1'] } };
    const { gateway } = buildGateway({
      clock,
      settings,
      serviceUrl: backend.url,
      api: policies({
        inbound: `<authentication-managed-identity resource="@(context.Request.Headers.GetValueOrDefault(&quot;X-Resource&quot;, &quot;https://a&quot;))" />`,
        backend: FORWARD,
      }),
      operation: policies({
        inbound:
          '<base /><authentication-managed-identity resource="https://b" client-id="uami-1" output-token-variable-name="t" /><set-header name="X-Uami" exists-action="override"><value>@((string)context.Variables["t"])</value></set-header>',
      }),
    });
    const n0 = backend.requests.length;
    await send(gateway, '/api/1');
    clock.advance(300_000);
    await send(gateway, '/api/2');
    expect(bearer(n0 + 1)).toBe(bearer(n0));
    clock.advance(300_000); // exactly at expiry: a new token
    await send(gateway, '/api/3');
    expect(bearer(n0 + 2)).not.toBe(bearer(n0));
    expect(verified(bearer(n0 + 2), 's3cret').iat).toBe(START / 1000 + 600);
    await send(gateway, '/api/4', { headers: { 'X-Resource': 'https://other' } });
    expect(verified(bearer(n0 + 3), 's3cret').aud).toBe('https://other');
    const uami = verified(backend.requests[n0]!.headers['x-uami'] as string, 's3cret');
    expect(uami).toMatchObject({ aud: 'https://b', appid: 'uami-1' });
  });

  it('output-token-variable-name stores the token as a string and leaves the Authorization header alone', async () => {
    const { gateway } = buildGateway({
      clock: new VirtualClock(START),
      api: policies({
        inbound:
          '<authentication-managed-identity resource="https://ai.azure.com" output-token-variable-name="managed-id-access-token" ignore-error="false" /><return-response><set-body>@("Bearer " + (string)context.Variables["managed-id-access-token"])</set-body></return-response>',
      }),
    });
    const r = await send(gateway, '/api/x', { headers: { Authorization: 'Bearer caller' } });
    expect(r.text).toMatch(/^Bearer ey/);
    expect(verified(r.text.slice(7), DEFAULT_MANAGED_IDENTITY_SECRET).aud).toBe('https://ai.azure.com');
    expect(r.context!.request.headers.get('Authorization')).toEqual(['Bearer caller']);
  });

  it('a failed acquisition raises into on-error (500) unless ignore-error="true"; fixed tokens come from settings', async () => {
    const settings = { managedIdentity: { unavailableResources: ['https://down'], tokens: { 'https://fixed': 'fixed-token' } } };
    const failing = buildGateway({
      settings,
      api: policies({ inbound: '<authentication-managed-identity resource="https://down" /><return-response />', onError: ON_ERROR }),
    }).gateway;
    const r = await send(failing, '/api/x');
    expect(r.status).toBe(500);
    expect(r.header('X-Reason')).toBe('ManagedIdentityTokenNotObtained');
    expect(r.header('X-Source')).toBe('authentication-managed-identity');
    const ignoring = buildGateway({
      settings,
      api: policies({
        inbound:
          '<authentication-managed-identity resource="https://down" ignore-error="true" /><authentication-managed-identity resource="https://fixed" output-token-variable-name="f" /><return-response><set-body>@((string)context.Variables["f"] + "|" + context.Request.Headers.GetValueOrDefault("Authorization", "none"))</set-body></return-response>',
      }),
    }).gateway;
    const ok = await send(ignoring, '/api/x');
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('fixed-token|none');
  });

  it('rejects malformed settings.managedIdentity at load time', () => {
    const r = tryBuildGateway({
      settings: { managedIdentity: { lifetimeSeconds: -5 } },
      api: policies({ inbound: '<authentication-managed-identity resource="https://a" />' }),
    });
    expect(r.gateway).toBeNull();
    const d = r.diagnostics.find((x) => x.code === 'settings/managed-identity');
    expect(d?.message).toBe('settings.managedIdentity.lifetimeSeconds must be a positive number of seconds');
    expect(d?.line).toBe(2);
  });
});

describe("send-request's <authentication-managed-identity>", () => {
  it('uses the same token source (and cache) as the policy', async () => {
    const { gateway } = buildGateway({
      clock: new VirtualClock(START),
      api: policies({
        inbound: `<authentication-managed-identity resource="https://cosmos.azure.com" output-token-variable-name="tok" />
          <send-request mode="new" response-variable-name="resp" timeout="5">
            <set-url>${backend.url}/side</set-url><set-method>GET</set-method>
            <authentication-managed-identity resource="https://cosmos.azure.com" />
          </send-request>
          <return-response><set-body>@((string)context.Variables["tok"])</set-body></return-response>`,
      }),
    });
    const n0 = backend.requests.length;
    const r = await send(gateway, '/api/x');
    expect(backend.requests[n0]!.url).toBe('/side');
    expect(bearer(n0)).toBe(r.text);
    expect(verified(r.text, DEFAULT_MANAGED_IDENTITY_SECRET).aud).toBe('https://cosmos.azure.com');
  });

  it('a failed acquisition inside send-request is a send-request error', async () => {
    const { gateway } = buildGateway({
      settings: { managedIdentity: { unavailableResources: ['https://down'] } },
      api: policies({
        inbound: `<send-request response-variable-name="r"><set-url>${backend.url}/x</set-url><authentication-managed-identity resource="https://down" /></send-request>`,
        onError: ON_ERROR,
      }),
    });
    const r = await send(gateway, '/api/x');
    expect(r.status).toBe(500);
    expect(r.header('X-Source')).toBe('send-request');
    expect(r.header('X-Reason')).toBe('ManagedIdentityTokenNotObtained');
  });
});

describe('get-authorization-context', () => {
  const RETURN =
    '<return-response><set-body>@(((Authorization)context.Variables.GetValueOrDefault("auth-context"))?.AccessToken ?? "null")</set-body></return-response>';

  it('without settings, issues a token for any connection (audience = provider-id, subject = authorization-id)', async () => {
    const { gateway } = buildGateway({
      clock: new VirtualClock(START),
      api: policies({
        inbound: `<get-authorization-context provider-id="@(context.Request.Headers[&quot;providerId&quot;][0])" authorization-id="@(context.Request.Headers[&quot;authorizationId&quot;][0])" context-variable-name="auth-context" identity-type="managed" ignore-error="false" />${RETURN}`,
      }),
    });
    const r = await send(gateway, '/api/x', { headers: { providerId: 'github', authorizationId: 'auth-01' } });
    expect(r.status).toBe(200);
    expect(verified(r.text, DEFAULT_MANAGED_IDENTITY_SECRET)).toMatchObject({ aud: 'github', sub: 'auth-01' });
  });

  it('with settings.authorizationConnections, returns the configured token and fails for unknown connections', async () => {
    const settings = { authorizationConnections: { 'github/auth-01': { accessToken: 'gho_123', claims: { scope: 'repo' } } } };
    const strict = buildGateway({
      settings,
      api: policies({
        inbound: `<get-authorization-context provider-id="github" authorization-id="@(context.Request.Headers.GetValueOrDefault(&quot;a&quot;, &quot;auth-01&quot;))" context-variable-name="auth-context" />${RETURN}`,
        onError: ON_ERROR,
      }),
    }).gateway;
    const ok = await send(strict, '/api/x');
    expect(ok.text).toBe('gho_123');
    const missing = await send(strict, '/api/x', { headers: { a: 'auth-02' } });
    expect(missing.status).toBe(500);
    expect(missing.header('X-Reason')).toBe('AuthorizationContextNotFound');
    const lenient = buildGateway({
      settings,
      api: policies({
        inbound: `<get-authorization-context provider-id="github" authorization-id="nope" context-variable-name="auth-context" ignore-error="true" />${RETURN}`,
      }),
    }).gateway;
    const nul = await send(lenient, '/api/x');
    expect(nul.status).toBe(200);
    expect(nul.text).toBe('null');
    expect(nul.context!.variables.get('auth-context')).toBeNull();
  });

  it('identity-type="jwt" needs a well-formed identity token', async () => {
    const { gateway } = buildGateway({
      api: policies({
        inbound: `<get-authorization-context provider-id="p" authorization-id="a" context-variable-name="auth-context" identity-type="jwt" identity="@(context.Request.Headers.GetValueOrDefault(&quot;Authorization&quot;, &quot;&quot;).Replace(&quot;Bearer &quot;, &quot;&quot;))" />${RETURN}`,
        onError: ON_ERROR,
      }),
    });
    expect((await send(gateway, '/api/x')).header('X-Reason')).toBe('AuthorizationContextNotFound');
    const tok = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"oid":"o"}').toString('base64url')}.`;
    expect((await send(gateway, '/api/x', { headers: { Authorization: `Bearer ${tok}` } })).status).toBe(200);
  });
});

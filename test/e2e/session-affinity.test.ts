import { UndiciUpstream } from '../../src/server/undici-upstream.js';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { formatDiagnosticLine } from '../../src/diagnostics/diagnostic.js';
import { SourceText } from '../../src/diagnostics/source.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { MockBackendSet } from '../../src/mocks/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { script } from '../helpers/mocks.js';

/**
 * Pool session affinity end to end over real HTTP: client → Express gateway → three mock Azure OpenAI backends on
 * 127.0.0.1, on a virtual clock. The pool is round-robin with `sessionAffinity.sessionId` (cookie `SessionId`); the
 * policy retries a 429 on another member, as the AI-Gateway labs do. Outbound copies the gateway's Set-Cookie into a
 * header, as Microsoft's cookie-handling sample reads it in outbound.
 */

const NAMES = ['foundry1', 'foundry2', 'foundry3'];

const POLICY = `<policies>
  <inbound>
    <base />
    <set-backend-service backend-id="sticky-pool" />
  </inbound>
  <backend>
    <retry count="2" interval="0" first-fast-retry="true" condition="@(context.Response.StatusCode == 429)">
      <forward-request buffer-request-body="true" />
    </retry>
  </backend>
  <outbound>
    <base />
    <set-header name="x-gateway-set-cookie" exists-action="override">
      <value>@(context.Response.Headers.GetValueOrDefault("Set-Cookie", "none"))</value>
    </set-header>
  </outbound>
  <on-error>
    <base />
  </on-error>
</policies>`;

function backendsJson(urls: Record<string, string>, apiVersion: string): string {
  const backends = [
    ...NAMES.map((n) => ({
      type: 'Microsoft.ApiManagement/service/backends',
      apiVersion,
      name: `apim/${n}`,
      properties: {
        url: `${urls[n]}/openai`,
        protocol: 'http',
        circuitBreaker: {
          rules: [
            {
              name: 'throttled',
              failureCondition: { count: 1, interval: 'PT1M', statusCodeRanges: [{ min: 429, max: 429 }] },
              tripDuration: 'PT1M',
              acceptRetryAfter: true,
            },
          ],
        },
      },
    })),
    {
      type: 'Microsoft.ApiManagement/service/backends',
      apiVersion,
      name: 'apim/sticky-pool',
      properties: {
        type: 'Pool',
        pool: {
          services: NAMES.map((n) => ({ id: `/backends/${n}` })),
          sessionAffinity: { sessionId: { source: 'Cookie', name: 'SessionId' } },
        },
      },
    },
  ];
  return JSON.stringify({ backends }, null, 2);
}

function build(backendsText: string, clock: VirtualClock) {
  return Gateway.build(
    {
      service: { name: 'apim', region: 'West Europe', gatewayId: 'managed' },
      fragments: [],
      namedValues: [],
      backendFiles: [{ file: 'backends.json', text: backendsText }],
      products: [],
      apis: [
        {
          id: 'aoai',
          name: 'Azure OpenAI',
          path: 'openai',
          serviceUrl: '',
          subscriptionRequired: false,
          policy: new SourceText('api.xml', POLICY),
          operations: [],
        },
      ],
      subscriptions: [],
    },
    { clock, upstream: new UndiciUpstream(clock) },
  );
}

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

interface Answer {
  status: number;
  backend: string | undefined;
  /** The Set-Cookie headers the client received. */
  setCookies: string[];
  /** What outbound saw in context.Response.Headers["Set-Cookie"]. */
  outboundSaw: string | undefined;
}

/** An HTTP client with an optional one-cookie jar: sends its cookie, stores the SessionId Set-Cookie it gets back. */
class Client {
  cookie: string | undefined;
  constructor(
    private readonly base: () => string,
    private readonly jar: boolean,
  ) {}

  async chat(): Promise<Answer> {
    const r = await request(`${this.base()}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(this.jar && this.cookie ? { cookie: `lang=en; ${this.cookie}` } : {}) },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
    });
    await r.body.text();
    const raw = r.headers['set-cookie'];
    const setCookies = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    const ours = setCookies.find((c) => c.startsWith('SessionId='));
    if (this.jar && ours) this.cookie = ours.split(';')[0];
    return { status: r.statusCode, backend: first(r.headers['x-mock-backend']), setCookies, outboundSaw: first(r.headers['x-gateway-set-cookie']) };
  }
}

describe('pool session affinity over HTTP', () => {
  const clock = new VirtualClock(Date.UTC(2025, 5, 1, 12, 0, 0));
  const mocks = new MockBackendSet();
  let server: RunningServer;
  let gateway: Gateway;
  const url = () => server.url;

  beforeAll(async () => {
    const urls: Record<string, string> = {};
    for (const n of NAMES) urls[n] = (await mocks.start(n, script('aoai'), clock)).url;
    const built = build(backendsJson(urls, '2025-03-01-preview'), clock);
    if (!built.gateway) throw new Error(built.diagnostics.map(formatDiagnosticLine).join('\n'));
    expect(built.diagnostics.map(formatDiagnosticLine)).toEqual([]);
    gateway = built.gateway;
    server = await startServer({ gateway, clock, mocks, logger: false });
  });

  afterAll(async () => {
    await server?.close();
    await mocks.closeAll();
  });

  const sticky = new Client(url, true);
  let pinned = '';

  it('a client that echoes the cookie stays on one member for 20 requests; a client without cookies round-robins', async () => {
    const a = await sticky.chat();
    expect(a.status).toBe(200);
    pinned = a.backend!;
    expect(NAMES).toContain(pinned);
    expect(a.setCookies).toHaveLength(1);
    expect(a.setCookies[0]).toMatch(/^SessionId=[A-Za-z0-9_-]{12,}; Path=\/; HttpOnly$/);
    expect(a.outboundSaw).toBe(a.setCookies[0]);
    const cookie = sticky.cookie;

    const anonymous = new Client(url, false);
    const roundRobin: string[] = [];
    const anonymousCookies = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const s = await sticky.chat();
      expect(s).toMatchObject({ status: 200, backend: pinned });
      // The same session cookie comes back on every response of the pool.
      expect(s.setCookies).toEqual([`${cookie}; Path=/; HttpOnly`]);
      const n = await anonymous.chat();
      expect(n.status).toBe(200);
      roundRobin.push(n.backend!);
      anonymousCookies.add(n.setCookies[0]!);
    }
    expect(sticky.cookie).toBe(cookie);
    // Round-robin over the three members, untouched by the pinned client's traffic.
    const start = NAMES.indexOf(roundRobin[0]!);
    expect(roundRobin).toEqual(Array.from({ length: 20 }, (_, i) => NAMES[(start + i) % 3]));
    // Without a cookie every request is a new session.
    expect(anonymousCookies.size).toBe(20);
    expect(mocks.get(pinned)!.requests.length).toBeGreaterThanOrEqual(21);

    const pool = gateway.backends!.state().find((b) => b.id === 'sticky-pool')!;
    expect(pool.sessionAffinity).toEqual({ cookieName: 'SessionId', assigned: 21, pinned: 20, repinned: 0, unrecognized: 0 });
  });

  it('when the pinned member trips on a 429 the retry lands on another member and the session moves with a new cookie', async () => {
    const before = sticky.cookie;
    mocks.get(pinned)!.setScript(script('429 retry-after=30; aoai'));
    const r = await sticky.chat();
    expect(r.status).toBe(200);
    expect(r.backend).not.toBe(pinned);
    expect(r.setCookies).toHaveLength(1);
    expect(sticky.cookie).not.toBe(before);
    expect(mocks.get(pinned)!.requests.at(-1)!.responseStatus).toBe(429);
    const moved = r.backend!;

    // The new pin holds, also once the old member is back 30 s later.
    for (let i = 0; i < 3; i++) expect((await sticky.chat()).backend).toBe(moved);
    clock.advance(30_000);
    expect(gateway.backends!.state().find((b) => b.id === pinned)!.breaker!.state).toBe('closed');
    for (let i = 0; i < 3; i++) expect((await sticky.chat()).backend).toBe(moved);
    expect(gateway.backends!.state().find((b) => b.id === 'sticky-pool')!.sessionAffinity).toMatchObject({ repinned: 1, pinned: 20 + 1 + 6 }); // the 429 attempt was pinned too;
  });

  it('a cookie the pool did not issue starts a new session', async () => {
    const c = new Client(url, true);
    c.cookie = 'SessionId=not-one-of-ours';
    const r = await c.chat();
    expect(r.status).toBe(200);
    expect(c.cookie).not.toBe('SessionId=not-one-of-ours');
    expect(gateway.backends!.state().find((b) => b.id === 'sticky-pool')!.sessionAffinity!.unrecognized).toBe(1);
  });
});

describe('sessionAffinity api-version gating', () => {
  it('before 2024-10-01-preview the pool is rejected with file, line, column and the version that has it', () => {
    const text = backendsJson({ foundry1: 'http://127.0.0.1:1', foundry2: 'http://127.0.0.1:2', foundry3: 'http://127.0.0.1:3' }, '2024-06-01-preview');
    const built = build(text, new VirtualClock());
    const gated = built.diagnostics.filter((d) => d.code === 'backend/not-in-api-version');
    expect(gated).toHaveLength(1);
    const d = gated[0]!;
    expect(d).toMatchObject({ severity: 'error', file: 'backends.json', jsonPath: '$.backends[3].properties.pool.sessionAffinity' });
    const lineOf = text.split('\n').findIndex((l) => l.includes('"sessionAffinity"')) + 1;
    expect(d.line).toBe(lineOf);
    expect(d.hint).toContain('2024-10-01-preview');
  });
});

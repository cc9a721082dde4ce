import type { TraceEvent } from '../../src/engine/trace.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SystemClock } from '../../src/clock.js';
import { GatewayTelemetry, ServerStartError, startServer } from '../../src/server/index.js';
import { buildGateway, policies, startBackend } from '../helpers/gateway.js';
import type { TestBackend } from '../helpers/gateway.js';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { closeAll, deferred, getJson, memoryLogger, request, serve } from './support.js';

const backends: TestBackend[] = [];
const rawServers: http.Server[] = [];
afterEach(async () => {
  await closeAll();
  await Promise.all(backends.splice(0).map((b) => b.close()));
  for (const s of rawServers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

async function backend(...args: Parameters<typeof startBackend>): Promise<TestBackend> {
  const b = await startBackend(...args);
  backends.push(b);
  return b;
}

/** A raw node:http backend for tests that need the request/response objects themselves. */
async function rawBackend(handler: http.RequestListener): Promise<string> {
  const s = http.createServer(handler);
  rawServers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

describe('a policy document served end to end over HTTP', () => {
  it('sends set-header values to the backend and returns response headers, repeated multi-value headers and the reason phrase', async () => {
    const b = await backend((_req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('X-Backend', 'yes');
      res.setHeader('Connection', 'keep-alive');
      res.end('{"ok":true}');
    });
    const { gateway, clock } = buildGateway({
      serviceUrl: b.url,
      api: policies({
        inbound: '<base /><set-header name="x-from-gateway" exists-action="override"><value>hello</value></set-header>',
        backend: '<forward-request />',
        outbound: `<base />
          <set-header name="Set-Cookie" exists-action="override"><value>a=1</value><value>b=2</value></set-header>
          <set-header name="x-outbound" exists-action="override"><value>@(context.Response.StatusCode.ToString())</value></set-header>
          <set-status code="201" reason="Made It" />`,
      }),
    });
    const s = await serve(gateway, clock);
    const r = await request(`${s.url}/api/items/7?x=%2F1`, { headers: { 'x-client': 'c' } });
    expect(r.status).toBe(201);
    expect(r.statusMessage).toBe('Made It');
    expect(r.json()).toEqual({ ok: true });
    expect(r.headers['x-backend']).toBe('yes');
    expect(r.headers['x-outbound']).toBe('200');
    // Repeated on the wire, not joined.
    expect(r.rawHeaders.filter((_, i, a) => i % 2 === 0 && a[i]!.toLowerCase() === 'set-cookie').length).toBe(2);
    expect(r.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    const seen = b.requests[0]!;
    expect(seen.url).toBe('/items/7?x=%2F1');
    expect(seen.headers['x-from-gateway']).toBe('hello');
    expect(seen.headers['x-client']).toBe('c');
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('forwards a request body and reports the client host and port to policies', async () => {
    const b = await backend();
    const { gateway, clock } = buildGateway({
      serviceUrl: b.url,
      api: policies({
        inbound:
          '<base /><set-header name="x-host" exists-action="override"><value>@(context.Request.OriginalUrl.Host + ":" + context.Request.OriginalUrl.Port)</value></set-header>',
        backend: '<forward-request />',
      }),
    });
    const s = await serve(gateway, clock);
    const r = await request(`${s.url}/api/echo`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'payload-123' });
    expect(r.status).toBe(200);
    const echoed = r.json() as { body: string; headers: Record<string, string> };
    expect(echoed.body).toBe('payload-123');
    expect(echoed.headers['x-host']).toBe(`127.0.0.1:${s.port}`);
  });

  it("answers an unknown path with APIM's 404 body, without calling any backend", async () => {
    const b = await backend();
    const { gateway, clock } = buildGateway({ serviceUrl: b.url, api: policies({ backend: '<forward-request />' }) });
    const s = await serve(gateway, clock);
    const r = await request(`${s.url}/nothing-here`);
    expect(r.status).toBe(404);
    expect(r.json()).toEqual({ statusCode: 404, message: 'Resource not found' });
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(b.requests).toHaveLength(0);
  });

  it('401 for a missing and for an invalid subscription key; a valid key passes', async () => {
    const b = await backend();
    const { gateway, clock } = buildGateway({
      serviceUrl: b.url,
      subscriptionRequired: true,
      subscriptions: [{ id: 'sub1', scope: 'all', primaryKey: 'k-primary' }],
      api: policies({ backend: '<forward-request />' }),
    });
    const s = await serve(gateway, clock);
    const missing = await request(`${s.url}/api/x`);
    expect(missing.status).toBe(401);
    expect(missing.json()).toEqual({
      statusCode: 401,
      message: 'Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.',
    });
    const invalid = await request(`${s.url}/api/x`, { headers: { 'Ocp-Apim-Subscription-Key': 'wrong' } });
    expect(invalid.status).toBe(401);
    expect((invalid.json() as { message: string }).message).toMatch(/invalid subscription key/);
    const ok = await request(`${s.url}/api/x?subscription-key=k-primary`);
    expect(ok.status).toBe(200);
    expect(b.requests).toHaveLength(1);
  });

  it('a HEAD request gets the headers and no body', async () => {
    const b = await backend((_req, res) => {
      res.setHeader('Content-Length', '42');
      res.end();
    });
    const { gateway, clock } = buildGateway({ serviceUrl: b.url, api: policies({ backend: '<forward-request />' }) });
    const s = await serve(gateway, clock);
    const r = await request(`${s.url}/api/x`, { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe('42');
    expect(r.text).toBe('');
  });
});

describe('streaming', () => {
  it('delivers server-sent events chunk by chunk while the backend still holds the next one', async () => {
    const release = deferred();
    const secondSent = deferred();
    const url = await rawBackend((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      res.write('data: {"n":1}\n\n');
      void release.promise.then(() => {
        res.write('data: {"n":2}\n\n');
        secondSent.resolve();
        res.end('data: [DONE]\n\n');
      });
    });
    const { gateway, clock } = buildGateway({ serviceUrl: url, api: policies({ backend: '<forward-request />' }) });
    const s = await serve(gateway, clock);

    const received: string[] = [];
    let backendHeldSecond: boolean | undefined;
    let secondWasSent = false;
    void secondSent.promise.then(() => (secondWasSent = true));
    const done = new Promise<void>((resolve, reject) => {
      http
        .get(`${s.url}/api/stream`, { agent: false }, (res) => {
          expect(res.headers['content-type']).toBe('text/event-stream');
          expect(res.headers['content-length']).toBeUndefined();
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            received.push(chunk);
            if (received.length === 1) {
              backendHeldSecond = !secondWasSent;
              release.resolve();
            }
          });
          res.on('end', resolve);
          res.on('error', reject);
        })
        .on('error', reject);
    });
    await done;
    expect(received[0]).toBe('data: {"n":1}\n\n');
    expect(backendHeldSecond).toBe(true);
    expect(received.join('')).toBe('data: {"n":1}\n\ndata: {"n":2}\n\ndata: [DONE]\n\n');
  });

  it('the same through the Express catch-all (routeGatewayThroughExpress)', async () => {
    const release = deferred();
    const url = await rawBackend((req, res) => {
      if (req.url === '/plain') return void res.end('plain');
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write('data: 1\n\n');
      void release.promise.then(() => res.end('data: 2\n\n'));
    });
    const { gateway, clock } = buildGateway({ serviceUrl: url, api: policies({ backend: '<forward-request />' }) });
    const s = await serve(gateway, clock, { routeGatewayThroughExpress: true });
    expect((await request(`${s.url}/api/plain`)).text).toBe('plain');
    const chunks: string[] = [];
    await new Promise<void>((resolve, reject) => {
      http
        .get(`${s.url}/api/sse`, { agent: false }, (res) => {
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            chunks.push(c);
            if (chunks.length === 1) release.resolve();
          });
          res.on('end', resolve);
        })
        .on('error', reject);
    });
    expect(chunks).toEqual(['data: 1\n\n', 'data: 2\n\n']);
    expect((await request(`${s.url}/_emulator/health`)).status).toBe(200);
  });

  it.each(['virtual', 'system'] as const)('a client disconnect aborts the upstream call (the backend sees its request closed), %s clock', async (kind) => {
    const arrived = deferred();
    const backendSawClose = deferred<boolean>();
    const url = await rawBackend((req, res) => {
      res.on('close', () => backendSawClose.resolve(!res.writableFinished));
      arrived.resolve();
      // never answers
      void req;
    });
    const built = buildGateway({
      serviceUrl: url,
      api: policies({ backend: '<forward-request timeout="600" />' }),
      ...(kind === 'system' ? { deps: { clock: new SystemClock() } } : {}),
    });
    const { gateway } = built;
    const clock = kind === 'system' ? new SystemClock() : built.clock;
    const logged = deferred<Record<string, unknown>>();
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          for (const l of chunk
            .toString('utf8')
            .split('\n')
            .filter((x) => x.trim() !== '')) {
            const line = JSON.parse(l) as Record<string, unknown>;
            if (line.msg === 'request') logged.resolve(line);
          }
          cb();
        },
      }),
    );
    const s = await serve(gateway, clock, { logger });
    const client = http.get(`${s.url}/api/slow`, { agent: false });
    client.on('error', () => undefined);
    await arrived.promise;
    client.destroy();
    expect(await backendSawClose.promise).toBe(true);
    // The request is still accounted for: one log line with the client-closed status.
    const line = await logged.promise;
    expect(line.status).toBe(499);
    expect(line.outcome).toBe('aborted');
  });

  it('a backend dying mid-stream ends the client response abruptly and the server keeps serving', async () => {
    let calls = 0;
    const url = await rawBackend((_req, res) => {
      calls++;
      if (calls === 1) {
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.write('data: first\n\n', () => setImmediate(() => res.socket?.destroy()));
        return;
      }
      res.end('fine');
    });
    const { gateway, clock } = buildGateway({ serviceUrl: url, api: policies({ backend: '<forward-request />' }) });
    const s = await serve(gateway, clock);
    const outcome = await new Promise<{ data: string; error: string | null; complete: boolean }>((resolve) => {
      let data = '';
      http
        .get(`${s.url}/api/stream`, { agent: false }, (res) => {
          res.setEncoding('utf8');
          res.on('data', (c: string) => (data += c));
          res.on('error', (e) => resolve({ data, error: e.message, complete: res.complete }));
          res.on('end', () => resolve({ data, error: null, complete: res.complete }));
        })
        .on('error', (e) => resolve({ data, error: e.message, complete: false }));
    });
    expect(outcome.data).toBe('data: first\n\n');
    expect(outcome.complete).toBe(false);
    const next = await request(`${s.url}/api/again`);
    expect(next.status).toBe(200);
    expect(next.text).toBe('fine');
  });
});

describe('tracing', () => {
  it('Apim-Debug-Authorization gets an Apim-Trace-Id whose trace lists the policies, the backend and masks secrets', async () => {
    const b = await backend();
    const { gateway, clock } = buildGateway({
      serviceUrl: b.url,
      api: policies({
        inbound:
          '<base /><set-header name="api-key" exists-action="override"><value>s3cret-value</value></set-header><set-variable name="v" value="@(1 + 2)" />',
        backend: '<forward-request />',
      }),
    });
    const s = await serve(gateway, clock, { secrets: ['s3cret-value'] });
    const r = await request(`${s.url}/api/traced?code=s3cret-value`, { headers: { 'Apim-Debug-Authorization': 'anything' } });
    expect(r.status).toBe(200);
    const traceId = r.headers['apim-trace-id'];
    expect(typeof traceId).toBe('string');
    // The debug credential is not forwarded.
    expect(b.requests[0]!.headers['apim-debug-authorization']).toBeUndefined();
    expect(b.requests[0]!.headers['api-key']).toBe('s3cret-value');

    const t = await getJson<{ id: string; api: string; backend: { url: string }; events: TraceEvent[]; outcome: string; response: { status: number } }>(
      `${s.url}/_emulator/traces/${traceId as string}`,
    );
    expect(t.id).toBe(traceId);
    expect(t.api).toBe('test-api');
    expect(t.response.status).toBe(200);
    expect(t.backend.url).toBe(`${b.url}/traced?code=***`);
    const policyEvents = t.events.filter((e) => e.kind === 'policy');
    expect(policyEvents.map((e) => e.policy)).toEqual(expect.arrayContaining(['set-header', 'set-variable']));
    expect(policyEvents.find((e) => e.policy === 'set-header')).toMatchObject({
      section: 'inbound',
      scope: 'api',
      source: { file: 'api.xml', line: expect.any(Number), column: expect.any(Number) },
    });
    expect(t.events.filter((e) => e.kind === 'attempt').map((e) => e.phase)).toEqual(['sent', 'answered']);
    expect(t.events.at(-1)).toMatchObject({ kind: 'response', statusCode: 200 });
    const text = JSON.stringify(t);
    expect(text).not.toContain('s3cret-value');
    expect(text).toContain('***');

    const list = await getJson<{ traces: Array<{ id: string; status: number }> }>(`${s.url}/_emulator/traces`);
    expect(list.traces.map((x) => x.id)).toEqual([traceId]);

    // Without the header: no trace.
    const plain = await request(`${s.url}/api/untraced`);
    expect(plain.headers['apim-trace-id']).toBeUndefined();
    expect((await getJson<{ traces: unknown[] }>(`${s.url}/_emulator/traces`)).traces).toHaveLength(1);
  });

  it('with a configured debug token only that token traces; unknown trace ids are 404', async () => {
    const b = await backend();
    const { gateway, clock } = buildGateway({ serviceUrl: b.url, api: policies({ backend: '<forward-request />' }) });
    const s = await serve(gateway, clock, { debugToken: 'tok-1' });
    const wrong = await request(`${s.url}/api/x`, { headers: { 'Apim-Debug-Authorization': 'nope' } });
    expect(wrong.headers['apim-trace-id']).toBeUndefined();
    const right = await request(`${s.url}/api/x`, { headers: { 'Apim-Debug-Authorization': 'tok-1' } });
    expect(right.headers['apim-trace-id']).toBeDefined();
    const missing = await request(`${s.url}/_emulator/traces/does-not-exist`);
    expect(missing.status).toBe(404);
    expect((missing.json() as { error: string }).error).toMatch(/no trace with id "does-not-exist"/);
  });

  it('keeps only the last N traces', async () => {
    const b = await backend();
    const { gateway, clock } = buildGateway({ serviceUrl: b.url, api: policies({ backend: '<forward-request />' }) });
    const s = await serve(gateway, clock, { traceLimit: 2 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await request(`${s.url}/api/${i}`, { headers: { 'Apim-Debug-Authorization': 'x' } })).headers['apim-trace-id'] as string);
    const list = await getJson<{ limit: number; traces: Array<{ id: string; url: string }> }>(`${s.url}/_emulator/traces`);
    expect(list.limit).toBe(2);
    expect(list.traces.map((t) => t.id)).toEqual([ids[2], ids[1]]);
    expect((await request(`${s.url}/_emulator/traces/${ids[0]!}`)).status).toBe(404);
  });

  it('a request that matched no API is traced too', async () => {
    const { gateway, clock } = buildGateway({ api: policies({}) });
    const s = await serve(gateway, clock);
    const r = await request(`${s.url}/elsewhere`, { headers: { 'Apim-Debug-Authorization': 'x' } });
    expect(r.status).toBe(404);
    const t = await getJson<{ events: Array<{ message: string }> }>(`${s.url}/_emulator/traces/${r.headers['apim-trace-id'] as string}`);
    expect(t.events[0]!.message).toMatch(/no API matched/);
  });
});

describe('logs and metrics', () => {
  it('writes one log line per request with API, operation, status, backend and duration, masking secrets', async () => {
    const b = await backend();
    const { gateway, clock } = buildGateway({ serviceUrl: b.url, api: policies({ backend: '<forward-request />' }) });
    const log = memoryLogger();
    const s = await serve(gateway, clock, { logger: log.logger, secrets: ['tok-abcdef'] });
    await request(`${s.url}/api/users/tok-abcdef?key=tok-abcdef`);
    const lines = log.lines().filter((l) => l.msg === 'request');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ method: 'GET', path: '/api/users/***', api: 'test-api', operation: 'test-api-any', status: 200, backend: b.url });
    expect(typeof lines[0]!.durationMs).toBe('number');
    expect(JSON.stringify(log.lines())).not.toContain('tok-abcdef');
  });

  it('counts requests by API, operation, backend and status on /_emulator/metrics', async () => {
    const b = await backend((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    const { gateway, clock } = buildGateway({ serviceUrl: b.url, api: policies({ backend: '<forward-request />' }) });
    const s = await serve(gateway, clock);
    await request(`${s.url}/api/a`);
    await request(`${s.url}/api/b`);
    await request(`${s.url}/missing`);
    const m = await request(`${s.url}/_emulator/metrics`);
    expect(m.status).toBe(200);
    expect(m.headers['content-type']).toMatch(/^text\/plain/);
    expect(m.text).toContain(`apim_requests_total{api="test-api",operation="test-api-any",backend="${b.url}",status="503"} 2`);
    expect(m.text).toContain('apim_requests_total{api="",operation="",backend="",status="404"} 1');
    expect(m.text).toMatch(/apim_request_duration_seconds_count\{api="test-api",operation="test-api-any"\} 2/);
  });

  it('metrics emitted by policies become counters with their dimensions as labels (via GatewayTelemetry)', async () => {
    const telemetry = new GatewayTelemetry();
    const { gateway, clock } = buildGateway({ api: policies({}), deps: telemetry.deps });
    const s = await serve(gateway, clock, { telemetry });
    gateway.services.emitMetric({ name: 'Total Tokens', namespace: 'openai', value: 30, dimensions: { 'API ID': 'aoai', Region: 'westeurope' } });
    gateway.services.emitMetric({ name: 'Total Tokens', namespace: 'openai', value: 12, dimensions: { 'API ID': 'aoai', Region: 'westeurope' } });
    gateway.services.emitMetric({
      name: 'Total Tokens',
      namespace: 'openai',
      value: 5,
      dimensions: { 'API ID': 'aoai', Region: 'westeurope', Deployment: 'gpt-4o' },
    });
    const m = await request(`${s.url}/_emulator/metrics`);
    expect(m.text).toContain('# TYPE apim_policy_total_tokens_total counter');
    expect(m.text).toContain('apim_policy_total_tokens_total{namespace="openai",api_id="aoai",region="westeurope"} 42');
    expect(m.text).toContain('apim_policy_total_tokens_total{namespace="openai",api_id="aoai",region="westeurope",deployment="gpt-4o"} 5');
    await s.close();
    // After close the sink is detached: emitting is harmless.
    gateway.services.emitMetric({ name: 'Total Tokens', namespace: 'openai', value: 1, dimensions: {} });
  });
});

describe('policy metrics and logs', () => {
  it('emit-metric in a policy reaches /_emulator/metrics without any wiring by the caller', async () => {
    const { gateway, clock } = buildGateway({
      api: policies({
        inbound: `<base />
          <emit-metric name="Calls By Team" namespace="apim-test" value="2"><dimension name="Team" value="blue" /></emit-metric>
          <return-response><set-status code="200" reason="OK" /></return-response>`,
      }),
    });
    const s = await serve(gateway, clock);
    await request(`${s.url}/api/a`);
    await request(`${s.url}/api/b`);
    const m = await request(`${s.url}/_emulator/metrics`);
    expect(m.text).toMatch(/apim_policy_calls_by_team_total\{namespace="apim-test",team="blue"[^}]*\} 4/);
  });

  it('with GatewayTelemetry the trace policy writes to the server log, secrets masked', async () => {
    const telemetry = new GatewayTelemetry();
    const { gateway, clock } = buildGateway({
      api: policies({
        inbound: `<base />
          <trace source="team-policy" severity="information"><message>token is hush-hush-123</message><metadata name="k" value="hush-hush-123" /></trace>
          <return-response><set-status code="204" reason="No Content" /></return-response>`,
      }),
      deps: telemetry.deps,
    });
    const log = memoryLogger();
    const s = await serve(gateway, clock, { telemetry, logger: log.logger, secrets: ['hush-hush-123'] });
    expect((await request(`${s.url}/api/x`)).status).toBe(204);
    const line = log.lines().find((l) => l.source === 'team-policy');
    expect(line).toMatchObject({ msg: 'token is ***', level: 30 });
    expect(JSON.stringify(log.lines())).not.toContain('hush-hush-123');
  });
});

describe('lifecycle', () => {
  it('a port in use gives ServerStartError EADDRINUSE with one clear line', async () => {
    const { gateway, clock } = buildGateway({ api: policies({}) });
    const first = await serve(gateway, clock);
    const { gateway: g2 } = buildGateway({ api: policies({}) });
    const err = await startServer({ gateway: g2, clock, port: first.port, logger: false }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ServerStartError);
    expect((err as ServerStartError).code).toBe('EADDRINUSE');
    expect((err as ServerStartError).message).toBe(`port ${first.port} is already in use on 127.0.0.1`);
    await g2.close();
  });

  it('a WebSocket upgrade request gets a clear 501 instead of a dropped connection', async () => {
    const { gateway, clock } = buildGateway({ api: policies({}) });
    const s = await serve(gateway, clock);
    const r = await request(`${s.url}/api/ws`, { headers: { Connection: 'Upgrade', Upgrade: 'websocket' } });
    expect(r.status).toBe(501);
    expect((r.json() as { message: string }).message).toMatch(/WebSocket APIs are not emulated/);
  });

  it('rejects a bad trace limit before listening', async () => {
    const { gateway, clock } = buildGateway({ api: policies({}) });
    await expect(startServer({ gateway, clock, traceLimit: 0, logger: false })).rejects.toThrow('traceLimit must be a positive integer, got 0');
    await gateway.close();
  });

  it('close() ends promptly with an idle keep-alive client connected, and closes that connection', async () => {
    const b = await backend();
    const { gateway, clock } = buildGateway({ serviceUrl: b.url, api: policies({ backend: '<forward-request />' }) });
    // A long in-flight bound: close() must not be waiting on the idle connection.
    const s = await startServer({ gateway, clock, logger: false, shutdownTimeoutMs: 600_000 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const socketClosed = deferred();
    await new Promise<void>((resolve, reject) => {
      const req = http.get(`${s.url}/api/x`, { agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('socket', (sock) => sock.once('close', () => socketClosed.resolve()));
      req.on('error', reject);
    });
    expect(Object.values(agent.freeSockets).flat()).toHaveLength(1);
    await s.close();
    await socketClosed.promise;
    agent.destroy();
    const after = await request(`${s.url}/api/x`).then(
      () => 'answered',
      (e: NodeJS.ErrnoException) => e.code,
    );
    expect(after).toBe('ECONNREFUSED');
  });

  it('close() waits for an in-flight request to finish', async () => {
    const release = deferred();
    const arrived = deferred();
    const url = await rawBackend((_req, res) => {
      arrived.resolve();
      void release.promise.then(() => res.end('late'));
    });
    const { gateway, clock } = buildGateway({ serviceUrl: url, api: policies({ backend: '<forward-request />' }) });
    const s = await startServer({ gateway, clock, logger: false, shutdownTimeoutMs: 600_000 });
    const pending = request(`${s.url}/api/x`);
    await arrived.promise;
    let closed = false;
    const closing = s.close().then(() => (closed = true));
    // A new connection is refused, so closing has begun (a loopback round trip later); it still waits for the request.
    expect(
      await request(`${s.url}/api/x`).then(
        () => 'answered',
        (e: NodeJS.ErrnoException) => e.code,
      ),
    ).toBe('ECONNREFUSED');
    expect(closed).toBe(false);
    release.resolve();
    const r = await pending;
    expect(r.text).toBe('late');
    expect(r.headers.connection).toBe('close');
    await closing;
    expect(closed).toBe(true);
  });

  // Deliberately on wall time: the SystemClock path of `serve` (timers, not the virtual clock) is what is under test.
  it('on the system clock a short forward-request timeout fires (30 ms, wall time)', async () => {
    const arrived = deferred();
    const url = await rawBackend(() => arrived.resolve());
    const clock = new SystemClock();
    const { gateway } = buildGateway({ serviceUrl: url, api: policies({ backend: '<forward-request timeout-ms="30" />' }), deps: { clock } });
    const s = await serve(gateway, clock);
    const r = await request(`${s.url}/api/x`, { headers: { 'Apim-Debug-Authorization': '1' } });
    await arrived.promise;
    expect(r.status).toBeGreaterThanOrEqual(500);
    const t = await getJson<{ lastError: { reason: string; source: string } }>(`${s.url}/_emulator/traces/${r.headers['apim-trace-id'] as string}`);
    expect(t.lastError).toMatchObject({ source: 'forward-request', reason: 'Timeout' });
  });

  it('works on the system clock too: forwarding with the default timeout, and the clock endpoint', async () => {
    const b = await backend();
    const clock = new SystemClock();
    const { gateway } = buildGateway({ serviceUrl: b.url, api: policies({ backend: '<forward-request />' }), deps: { clock } });
    const s = await serve(gateway, clock);
    const r = await request(`${s.url}/api/sys`, { method: 'POST', body: 'hi' });
    expect(r.status).toBe(200);
    expect((r.json() as { body: string }).body).toBe('hi');
    const c = await getJson<{ virtual: boolean; epochMs: number }>(`${s.url}/_emulator/clock`);
    expect(c.virtual).toBe(false);
    expect(typeof c.epochMs).toBe('number');
  });
});

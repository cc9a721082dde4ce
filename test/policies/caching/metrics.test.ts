import { readFileSync } from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { HeaderMap } from '../../../src/engine/headers.js';
import type { MetricRecord } from '../../../src/engine/services.js';
import { startServer } from '../../../src/server/index.js';
import { ServerMetrics } from '../../../src/server/metrics.js';
import { CORPUS_DIR, CORPUS_PRESENT, fillPlaceholders } from '../../helpers/corpus.js';
import { buildGateway, FORWARD, policies, send, startBackend, tryBuildGateway } from '../../helpers/gateway.js';
import type { TestBackend } from '../../helpers/gateway.js';

/** emit-metric and llm-/azure-openai-emit-token-metric (docs/apim-behaviour.md: LLM policies): metrics with their dimensions. */
const backends: TestBackend[] = [];
afterEach(async () => {
  await Promise.all(backends.splice(0).map((b) => b.close()));
});

function recorder(): { metrics: MetricRecord[]; deps: { emitMetric: (m: MetricRecord) => void } } {
  const metrics: MetricRecord[] = [];
  return { metrics, deps: { emitMetric: (m) => metrics.push(m) } };
}

/** A backend answering every request with these server-sent events (objects as JSON), then `[DONE]`. */
async function sseBackend(events: unknown[]): Promise<TestBackend> {
  const b = await startBackend((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    for (const e of events) res.write(`data: ${JSON.stringify(e)}\n\n`);
    res.end('data: [DONE]\n\n');
  });
  backends.push(b);
  return b;
}

const SUBSCRIPTIONS = [{ id: 'sub-1', scope: 'all', primaryKey: 'key-1', user: { id: 'user-1' } }];
const WITH_KEY = { headers: { 'Ocp-Apim-Subscription-Key': 'key-1' } };

describe('emit-metric', () => {
  it('records the value with default and custom dimensions', async () => {
    const r = recorder();
    const { gateway } = buildGateway({
      deps: r.deps,
      subscriptionRequired: true,
      subscriptions: SUBSCRIPTIONS,
      api: policies({
        inbound: `<emit-metric name="Request" value="@(2.5 * 2)" namespace="my-metrics">
            <dimension name="API ID" /><dimension name="Operation ID" /><dimension name="User ID" /><dimension name="Subscription ID" />
            <dimension name="Location" /><dimension name="Gateway ID" /><dimension name="Product ID" />
            <dimension name="Client IP" value="@(context.Request.IpAddress)" />
          </emit-metric>
          <return-response />`,
      }),
    });
    expect((await send(gateway, '/api/x', WITH_KEY)).status).toBe(200);
    expect(r.metrics).toEqual([
      {
        name: 'Request',
        namespace: 'my-metrics',
        value: 5,
        dimensions: {
          'API ID': 'test-api',
          'Operation ID': 'test-api-any',
          'User ID': 'user-1',
          'Subscription ID': 'sub-1',
          Location: 'West Europe',
          'Gateway ID': 'managed',
          'Product ID': '',
          'Client IP': '127.0.0.1',
        },
      },
    ]);
  });

  it('defaults to value 1 and namespace "API Management", and shows the metric in the trace', async () => {
    const r = recorder();
    const { gateway } = buildGateway({
      deps: r.deps,
      api: policies({ inbound: '<emit-metric name="Hits"><dimension name="api id" /></emit-metric><return-response />' }),
    });
    const res = await send(gateway, '/api/x');
    expect(r.metrics).toEqual([{ name: 'Hits', namespace: 'API Management', value: 1, dimensions: { 'api id': 'test-api' } }]);
    expect(res.context?.traceEvents.some((e) => e.policy === 'emit-metric' && e.message === 'metric "Hits" = 1')).toBe(true);
  });

  it('reaches the Prometheus endpoint as a counter labelled by namespace and dimensions', async () => {
    const prom = new ServerMetrics();
    const { gateway } = buildGateway({
      deps: { emitMetric: (m) => prom.policyMetric(m) },
      api: policies({ inbound: '<emit-metric name="Request" value="3"><dimension name="API ID" /></emit-metric><return-response />' }),
    });
    await send(gateway, '/api/x');
    await send(gateway, '/api/x');
    const { body } = await prom.render();
    expect(body).toContain('apim_policy_request_total{namespace="API Management",api_id="test-api"} 6');
  });

  it('reports a dimension without value that is not a default dimension, at its position', () => {
    const { diagnostics } = tryBuildGateway({ api: policies({ inbound: '<emit-metric name="m"><dimension name="Client IP" /></emit-metric>' }) });
    const d = diagnostics.find((x) => x.message.includes('Client IP'));
    expect(d).toMatchObject({ severity: 'error', line: 2, column: 45 });
    expect(d?.hint).toContain('API ID, Operation ID, Product ID, User ID, Subscription ID, Location, Gateway ID');
  });

  it('reports it once although the API document is compiled for every operation', () => {
    const { diagnostics } = tryBuildGateway({
      operations: [
        { id: 'a', method: 'GET', urlTemplate: '/a' },
        { id: 'b', method: 'GET', urlTemplate: '/b' },
      ],
      api: policies({ inbound: '<emit-metric name="m"><dimension name="Client IP" /></emit-metric>' }),
    });
    expect(diagnostics.filter((x) => x.message.includes('Client IP'))).toHaveLength(1);
  });

  it('needs a name (no expression) and at least one dimension', () => {
    const m = tryBuildGateway({ api: policies({ inbound: '<emit-metric name="@(&quot;x&quot;)" /><emit-metric />' }) }).diagnostics.map((d) => d.message);
    expect(m).toContain('attribute "name" of <emit-metric> does not accept policy expressions');
    expect(m).toContain('<emit-metric> needs a <dimension> element');
    expect(m).toContain('<emit-metric> is missing the required attribute "name"');
  });
});

const CHAT = JSON.stringify({
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Say hello to the world in one word.' },
  ],
});

describe('llm-emit-token-metric / azure-openai-emit-token-metric', () => {
  it('emits Total, Prompt and Completion Tokens from the JSON usage, with Backend ID of the backend that answered', async () => {
    const b = await startBackend((_req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ choices: [{ message: { content: 'Hello' } }], usage: { prompt_tokens: 21, completion_tokens: 4, total_tokens: 25 } }));
    });
    backends.push(b);
    const r = recorder();
    const { gateway } = buildGateway({
      deps: r.deps,
      backends: [[{ name: 'openai-1', properties: { url: b.url, protocol: 'http' } }]],
      api: policies({
        inbound:
          '<set-backend-service backend-id="openai-1" /><azure-openai-emit-token-metric namespace="openai"><dimension name="API ID" /><dimension name="Backend ID" /><dimension name="Client" value="@(context.Request.Headers.GetValueOrDefault(&quot;x-client&quot;, &quot;none&quot;))" /></azure-openai-emit-token-metric>',
        backend: FORWARD,
      }),
    });
    const res = await send(gateway, '/api/chat', { method: 'POST', body: CHAT, headers: { 'Content-Type': 'application/json', 'x-client': 'c1' } });
    expect(res.json()).toMatchObject({ usage: { total_tokens: 25 } });
    const dims = { 'API ID': 'test-api', 'Backend ID': 'openai-1', Client: 'c1' };
    expect(r.metrics).toEqual([
      { name: 'Total Tokens', namespace: 'openai', value: 25, dimensions: dims },
      { name: 'Prompt Tokens', namespace: 'openai', value: 21, dimensions: dims },
      { name: 'Completion Tokens', namespace: 'openai', value: 4, dimensions: dims },
    ]);
  });

  it('emits nothing when the answer reports no usage (an error answer)', async () => {
    const b = await startBackend((_req, res) => {
      res.statusCode = 429;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ error: { code: '429', message: 'slow down' } }));
    });
    backends.push(b);
    const r = recorder();
    const { gateway } = buildGateway({
      deps: r.deps,
      serviceUrl: b.url,
      api: policies({ inbound: '<llm-emit-token-metric><dimension name="API ID" /></llm-emit-token-metric>', backend: FORWARD }),
    });
    const res = await send(gateway, '/api/chat', { method: 'POST', body: CHAT });
    expect(res.status).toBe(429);
    expect(r.metrics).toEqual([]);
  });

  it('observes a streamed answer chunk by chunk (the client gets chunks before the stream ends) and emits the usage of the final chunk', async () => {
    let finish: (() => void) | undefined;
    const b = await startBackend((_req, res: http.ServerResponse) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ choices: [{ delta: { content: 'Hel' } }] })}\n\n`);
      finish = () => {
        res.write(`data: ${JSON.stringify({ choices: [{ delta: { content: 'lo' } }] })}\n\n`);
        res.write(`data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 30, completion_tokens: 2, total_tokens: 32 } })}\n\n`);
        res.end('data: [DONE]\n\n');
      };
    });
    backends.push(b);
    const r = recorder();
    const { gateway } = buildGateway({
      deps: r.deps,
      serviceUrl: b.url,
      api: policies({ inbound: '<llm-emit-token-metric namespace="llm"><dimension name="API ID" /></llm-emit-token-metric>', backend: FORWARD }),
    });
    const body = JSON.stringify({ stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Say hello' }] });
    const result = await gateway.handle({
      method: 'POST',
      path: '/api/chat',
      search: '',
      scheme: 'http',
      host: '127.0.0.1',
      port: 80,
      headers: new HeaderMap([
        ['Content-Type', 'application/json'],
        ['Content-Length', String(Buffer.byteLength(body))],
      ]),
      body: Readable.from([Buffer.from(body)]),
      ip: '127.0.0.1',
      tracing: true,
    });
    const stream = result.response.body?.liveStream;
    expect(stream).toBeTruthy(); // not buffered by the policy
    const it = stream![Symbol.asyncIterator]();
    const first = await it.next();
    expect(String(first.value)).toContain('Hel');
    expect(r.metrics).toEqual([]); // the stream has not ended yet
    finish!();
    let rest = '';
    for (let n = await it.next(); !n.done; n = await it.next()) rest += String(n.value);
    expect(rest).toContain('[DONE]');
    expect(r.metrics.map((m) => [m.name, m.value])).toEqual([
      ['Total Tokens', 32],
      ['Prompt Tokens', 30],
      ['Completion Tokens', 2],
    ]);
    expect(r.metrics[0]!.dimensions).toEqual({ 'API ID': 'test-api' });
  });

  it('token limit and token metrics on one stream both read its usage (they share one observer)', async () => {
    const b = await sseBackend([
      { choices: [{ delta: { content: 'Hi' } }] },
      { choices: [], usage: { prompt_tokens: 30, completion_tokens: 2, total_tokens: 32 } },
    ]);
    const r = recorder();
    const { gateway } = buildGateway({
      deps: r.deps,
      serviceUrl: b.url,
      api: policies({
        inbound:
          '<llm-token-limit counter-key="all" tokens-per-minute="30" estimate-prompt-tokens="false" />' +
          '<llm-emit-token-metric namespace="llm"><dimension name="API ID" /></llm-emit-token-metric>',
        backend: FORWARD,
      }),
    });
    const body = JSON.stringify({ stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] });
    const first = await send(gateway, '/api/chat', { method: 'POST', body });
    expect(first.status).toBe(200);
    expect(first.text).toContain('[DONE]');
    // The metrics policy heard the end of the stream...
    expect(r.metrics.map((m) => [m.name, m.value])).toEqual([
      ['Total Tokens', 32],
      ['Prompt Tokens', 30],
      ['Completion Tokens', 2],
    ]);
    // ...and so did the token limit: the 32 streamed tokens used up the 30 a minute.
    const second = await send(gateway, '/api/chat', { method: 'POST', body });
    expect(second.status).toBe(429);
  });

  it('estimates a stream that reports no usage: prompt from the request, completion from the streamed text', async () => {
    const b = await sseBackend(['The', ' quick', ' brown', ' fox'].map((w) => ({ choices: [{ delta: { content: w } }] })));
    const r = recorder();
    const { gateway } = buildGateway({
      deps: r.deps,
      serviceUrl: b.url,
      api: policies({ inbound: '<llm-emit-token-metric><dimension name="API ID" /></llm-emit-token-metric>', backend: FORWARD }),
    });
    const res = await send(gateway, '/api/chat', {
      method: 'POST',
      body: JSON.stringify({ stream: true, model: 'gpt-4', messages: [{ role: 'user', content: 'Say hello' }] }),
    });
    expect(res.text).toContain('fox');
    const byName = Object.fromEntries(r.metrics.map((m) => [m.name, m.value]));
    // cl100k_base: "The quick brown fox" is 4 tokens; the prompt is 3 (message) + 1 ("user") + 2 ("Say hello") + 3 (reply priming).
    expect(byName['Completion Tokens']).toBe(4);
    expect(byName['Prompt Tokens']).toBe(9);
    expect(byName['Total Tokens']).toBe(13);
  });

  it('through the real server: a streamed call through the gateway shows up on /_emulator/metrics', async () => {
    const b = await sseBackend([
      { choices: [{ delta: { content: 'Hi' } }] },
      { choices: [], usage: { prompt_tokens: 7, completion_tokens: 1, total_tokens: 8 } },
    ]);
    const { gateway, clock } = buildGateway({
      serviceUrl: b.url,
      api: policies({
        inbound: '<azure-openai-emit-token-metric namespace="openai"><dimension name="API ID" /></azure-openai-emit-token-metric>',
        backend: FORWARD,
      }),
    });
    const server = await startServer({ gateway, clock, logger: false });
    try {
      const res = await fetch(`${server.url}/api/chat`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      expect(await res.text()).toContain('[DONE]');
      const metrics = await (await fetch(`${server.url}/_emulator/metrics`)).text();
      expect(metrics).toContain('apim_policy_total_tokens_total{namespace="openai",api_id="test-api"} 8');
      expect(metrics).toContain('apim_policy_prompt_tokens_total{namespace="openai",api_id="test-api"} 7');
      expect(metrics).toContain('apim_policy_completion_tokens_total{namespace="openai",api_id="test-api"} 1');
    } finally {
      await server.close();
    }
  });

  it('is inbound only and allows at most 5 dimensions', () => {
    const six = Array.from({ length: 6 }, (_, i) => `<dimension name="d${i}" value="v" />`).join('');
    const m = tryBuildGateway({
      api: policies({
        inbound: `<llm-emit-token-metric>${six}</llm-emit-token-metric>`,
        outbound: '<azure-openai-emit-token-metric><dimension name="API ID" /></azure-openai-emit-token-metric>',
      }),
    }).diagnostics.map((d) => d.message);
    expect(m).toContain('<llm-emit-token-metric> allows at most 5 <dimension> elements');
    expect(m).toContain('<azure-openai-emit-token-metric> is not allowed in the outbound section');
  });
});

describe.skipIf(!CORPUS_PRESENT)('corpus: the token-metrics-emitting lab', () => {
  it("emits the three token metrics with the lab's dimensions for a call to its backend", async () => {
    const b = await startBackend((_req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ choices: [{ message: { content: 'ok' } }], usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 } }));
    });
    backends.push(b);
    const backendsJson = readFileSync(path.join(CORPUS_DIR, 'token-metrics-emitting__backends.json'), 'utf8').split('https://foundry1.example.com').join(b.url);
    const placeholders = (JSON.parse(backendsJson) as { policyPlaceholders: Record<string, string> }).policyPlaceholders;
    const api = fillPlaceholders(readFileSync(path.join(CORPUS_DIR, 'token-metrics-emitting__policy.xml'), 'utf8'), placeholders);
    const r = recorder();
    const { gateway } = buildGateway({
      api,
      global: policies({ backend: FORWARD }),
      backends: [backendsJson],
      deps: r.deps,
      subscriptionRequired: true,
      subscriptions: SUBSCRIPTIONS,
    });
    const res = await send(gateway, '/api/deployments/gpt-4o/chat/completions?api-version=2024-10-21', {
      method: 'POST',
      body: CHAT,
      headers: { ...WITH_KEY.headers, 'x-user-id': 'u-42' },
    });
    expect(res.status).toBe(200);
    const dims = { 'Subscription ID': 'sub-1', 'Client IP': '127.0.0.1', 'API ID': 'test-api', 'User ID': 'u-42' };
    expect(r.metrics).toEqual([
      { name: 'Total Tokens', namespace: 'openai', value: 15, dimensions: dims },
      { name: 'Prompt Tokens', namespace: 'openai', value: 12, dimensions: dims },
      { name: 'Completion Tokens', namespace: 'openai', value: 3, dimensions: dims },
    ]);
  });
});

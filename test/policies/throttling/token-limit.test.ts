import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/clock.js';
import { HeaderMap } from '../../../src/engine/headers.js';
import { buildGateway, FORWARD, policies, send, startBackend, tryBuildGateway } from '../../helpers/gateway.js';
import type { TestBackend } from '../../helpers/gateway.js';

/**
 * llm-token-limit / azure-openai-token-limit against docs/apim-behaviour.md (LLM policies): tokens-per-minute (429) and token-quota (403),
 * estimated prompts (cl100k_base: "Hello, world!" is 4 tokens, 11 as a one-message chat prompt), usage read from JSON
 * and from the final chunk of a real SSE stream.
 */
const backends: TestBackend[] = [];
afterEach(async () => {
  await Promise.all(backends.splice(0).map((b) => b.close()));
});

const CHAT = JSON.stringify({ messages: [{ role: 'user', content: 'Hello, world!' }] });
const CHAT_STREAM = JSON.stringify({ messages: [{ role: 'user', content: 'Hello, world!' }], stream: true, stream_options: { include_usage: true } });
const POST = (body: string) => ({ method: 'POST', body, headers: { 'Content-Type': 'application/json' } });

/** An Azure OpenAI-like backend answering JSON chat completions with the given total usage. */
async function jsonBackend(total: number): Promise<TestBackend> {
  const b = await startBackend((_req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(
      JSON.stringify({
        id: 'c1',
        object: 'chat.completion',
        choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' } }],
        usage: { prompt_tokens: total - 2, completion_tokens: 2, total_tokens: total },
      }),
    );
  });
  backends.push(b);
  return b;
}

const SSE_EVENTS = (usage: boolean) => [
  'data: {"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n',
  'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hello"}}]}\n\n',
  'data: {"id":"c1","choices":[{"index":0,"delta":{"content":", world!"}}]}\n\n',
  ...(usage ? ['data: {"id":"c1","choices":[],"usage":{"prompt_tokens":30,"completion_tokens":12,"total_tokens":42}}\n\n'] : []),
  'data: [DONE]\n\n',
];

/** A real SSE backend on 127.0.0.1 writing one event per chunk; the last data chunk carries usage when asked. */
async function sseBackend(usage: boolean): Promise<TestBackend> {
  const b = await startBackend(async (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    for (const e of SSE_EVENTS(usage)) {
      res.write(e);
      await new Promise((r) => setImmediate(r));
    }
    res.end();
  });
  backends.push(b);
  return b;
}

const limit = (attrs: string, name = 'llm-token-limit') => policies({ inbound: `<${name} counter-key="k" ${attrs} />`, backend: FORWARD });

describe('llm-token-limit: tokens-per-minute', () => {
  it('without estimation, counts reported usage; an overshooting call is let through and later ones wait for the window', async () => {
    const b = await jsonBackend(60);
    const { gateway, clock } = buildGateway({
      serviceUrl: b.url,
      api: limit(
        'tokens-per-minute="100" estimate-prompt-tokens="false" remaining-tokens-variable-name="left" tokens-consumed-header-name="x-consumed" tokens-consumed-variable-name="consumed"',
      ),
    });
    const a = await send(gateway, '/api/chat', POST(CHAT));
    expect(a.status).toBe(200);
    expect(a.header('x-consumed')).toBe('60');
    expect(a.context?.variables.get('consumed')).toBe(60);
    expect(a.context?.variables.get('left')).toBe(100);
    clock.advance(10_000);
    const second = await send(gateway, '/api/chat', POST(CHAT)); // 60 < 100: allowed, ends at 120
    expect(second.status).toBe(200);
    expect(second.context?.variables.get('left')).toBe(40);
    clock.advance(10_000);
    const r = await send(gateway, '/api/chat', POST(CHAT));
    expect(r.status).toBe(429);
    // The first 60 tokens leave the window 60 s after they were counted, 40 s from now.
    expect(r.json()).toEqual({ statusCode: 429, message: 'Token limit is exceeded. Try again in 40 seconds.' });
    expect(r.header('Retry-After')).toBe('40');
    expect(r.context?.lastError).toMatchObject({ source: 'llm-token-limit', reason: 'TokenLimitExceeded' });
    expect(b.requests).toHaveLength(2);
    clock.advance(40_000);
    expect((await send(gateway, '/api/chat', POST(CHAT))).status).toBe(200);
  });

  it('with estimation, blocks before the backend when the prompt does not fit', async () => {
    const b = await jsonBackend(15);
    const { gateway } = buildGateway({
      serviceUrl: b.url,
      api: limit(
        'tokens-per-minute="25" estimate-prompt-tokens="true" remaining-tokens-header-name="x-left" tokens-consumed-variable-name="consumed" retry-after-variable-name="wait"',
      ),
    });
    const a = await send(gateway, '/api/chat', POST(CHAT));
    expect(a.status).toBe(200);
    expect(a.header('x-left')).toBe('14'); // 25 - 11 estimated
    expect(a.context?.variables.get('consumed')).toBe(15); // updated with the reported usage
    const r = await send(gateway, '/api/chat', POST(CHAT)); // 15 used + 11 estimated > 25
    expect(r.status).toBe(429);
    expect(r.header('Retry-After')).toBe('60');
    expect(r.context?.variables.get('wait')).toBe(60);
    expect(b.requests).toHaveLength(1);
  });

  it('counts the usage of the final SSE chunk once the stream has passed through unchanged', async () => {
    const b = await sseBackend(true);
    const { gateway } = buildGateway({
      serviceUrl: b.url,
      api: limit('tokens-per-minute="1000" estimate-prompt-tokens="false" remaining-tokens-variable-name="left" tokens-consumed-variable-name="consumed"'),
    });
    const a = await send(gateway, '/api/chat', POST(CHAT_STREAM));
    expect(a.status).toBe(200);
    expect(a.text).toBe(SSE_EVENTS(true).join(''));
    expect(a.context?.variables.get('consumed')).toBe(42);
    expect(a.context?.variables.get('left')).toBe(1000 - 11); // streaming: the prompt is always estimated
    const next = await send(gateway, '/api/chat', POST(CHAT_STREAM));
    expect(next.context?.variables.get('left')).toBe(1000 - 42 - 11);
  });

  it('estimates prompt and completion of a stream that reports no usage', async () => {
    const b = await sseBackend(false);
    const { gateway } = buildGateway({
      serviceUrl: b.url,
      api: limit(
        'tokens-per-minute="1000" estimate-prompt-tokens="false" remaining-tokens-variable-name="left" tokens-consumed-variable-name="consumed"',
        'azure-openai-token-limit',
      ),
    });
    const a = await send(gateway, '/api/chat', POST(CHAT_STREAM));
    expect(a.status).toBe(200);
    expect(a.context?.variables.get('consumed')).toBe(11 + 4); // "Hello, world!" generated
    const next = await send(gateway, '/api/chat', POST(CHAT_STREAM));
    expect(next.context?.variables.get('left')).toBe(1000 - 15 - 11);
  });
});

describe('llm-token-limit: response handling', () => {
  it('updates tokens-consumed before outbound runs, so outbound policies see the reported usage', async () => {
    const b = await jsonBackend(33);
    const doc = policies({
      inbound: '<llm-token-limit counter-key="k" tokens-per-minute="1000" estimate-prompt-tokens="true" tokens-consumed-variable-name="consumed" />',
      backend:
        '<set-header name="x-seen-in-backend" exists-action="override"><value>@(context.Variables["consumed"].ToString())</value></set-header><forward-request />',
      outbound: '<set-header name="x-seen-in-outbound" exists-action="override"><value>@(context.Variables["consumed"].ToString())</value></set-header>',
    });
    const { gateway } = buildGateway({ serviceUrl: b.url, api: doc });
    const r = await send(gateway, '/api/chat', POST(CHAT));
    expect(b.requests[0]!.headers['x-seen-in-backend']).toBe('11'); // the estimate, in the backend section
    expect(r.header('x-seen-in-outbound')).toBe('33'); // the reported usage, in outbound
  });

  it('leaves a streamed response unbuffered: the gateway hands back the live stream', async () => {
    const b = await sseBackend(true);
    const { gateway } = buildGateway({
      serviceUrl: b.url,
      api: limit('tokens-per-minute="1000" estimate-prompt-tokens="false" tokens-consumed-variable-name="consumed"'),
    });
    const result = await gateway.handle({
      method: 'POST',
      path: '/api/chat',
      search: '',
      scheme: 'http',
      host: '127.0.0.1',
      port: 80,
      headers: new HeaderMap([
        ['Content-Type', 'application/json'],
        ['Content-Length', String(Buffer.byteLength(CHAT_STREAM))],
      ]),
      body: Readable.from([Buffer.from(CHAT_STREAM)]),
      ip: '127.0.0.1',
      tracing: false,
    });
    const body = result.response.body!;
    expect(body.isBuffered).toBe(false);
    expect(result.context?.variables.get('consumed')).toBe(11); // usage not seen yet: the stream has not been read
    const chunks: string[] = [];
    for await (const c of body.toStream()) chunks.push(String(c));
    expect(chunks.join('')).toBe(SSE_EVENTS(true).join(''));
    expect(result.context?.variables.get('consumed')).toBe(42);
  });
});

describe('llm-token-limit: token-quota', () => {
  it('answers 403 once the quota of the period is used, until the next period', async () => {
    const b = await jsonBackend(30);
    const clock = new VirtualClock(Date.UTC(2025, 0, 1, 23, 0, 0));
    const { gateway } = buildGateway({
      clock,
      serviceUrl: b.url,
      api: limit(
        'token-quota="50" token-quota-period="Daily" estimate-prompt-tokens="false" remaining-quota-tokens-variable-name="quotaLeft" remaining-quota-tokens-header-name="x-quota-left"',
      ),
    });
    const a = await send(gateway, '/api/chat', POST(CHAT));
    expect(a.header('x-quota-left')).toBe('50');
    expect((await send(gateway, '/api/chat', POST(CHAT))).context?.variables.get('quotaLeft')).toBe(20);
    const r = await send(gateway, '/api/chat', POST(CHAT));
    expect(r.status).toBe(403);
    expect(r.json()).toEqual({ statusCode: 403, message: 'Token quota is exceeded. Try again in 3600 seconds.' });
    expect(r.header('Retry-After')).toBe('3600');
    expect(r.context?.lastError).toMatchObject({ reason: 'TokenQuotaExceeded' });
    clock.advance(3_600_000);
    expect((await send(gateway, '/api/chat', POST(CHAT))).status).toBe(200);
  });

  it('checks quota (403) and rate (429) together', async () => {
    const b = await jsonBackend(30);
    const { gateway, clock } = buildGateway({
      serviceUrl: b.url,
      api: limit('tokens-per-minute="40" token-quota="70" token-quota-period="Hourly" estimate-prompt-tokens="false"'),
    });
    expect((await send(gateway, '/api/chat', POST(CHAT))).status).toBe(200);
    expect((await send(gateway, '/api/chat', POST(CHAT))).status).toBe(200); // 60 > 40 now (overshoot)
    expect((await send(gateway, '/api/chat', POST(CHAT))).status).toBe(429);
    clock.advance(60_000);
    expect((await send(gateway, '/api/chat', POST(CHAT))).status).toBe(200); // 90 in the hour
    clock.advance(60_000);
    expect((await send(gateway, '/api/chat', POST(CHAT))).status).toBe(403);
  });
});

describe('token-limit validation', () => {
  it('requires estimate-prompt-tokens and a limit, and pairs token-quota with its period', () => {
    const m = (xml: string) => tryBuildGateway({ api: policies({ inbound: xml }) }).diagnostics.map((d) => d.message);
    expect(m('<llm-token-limit counter-key="k" tokens-per-minute="10" />')).toContain(
      '<llm-token-limit> is missing the required attribute "estimate-prompt-tokens"',
    );
    expect(m('<llm-token-limit counter-key="k" estimate-prompt-tokens="false" />')).toContain(
      '<llm-token-limit> needs "tokens-per-minute", or "token-quota" with "token-quota-period", or both',
    );
    expect(m('<azure-openai-token-limit counter-key="k" token-quota="10" estimate-prompt-tokens="false" />')).toContain(
      '<azure-openai-token-limit> sets "token-quota" without "token-quota-period"',
    );
    expect(m('<llm-token-limit counter-key="k" token-quota="10" token-quota-period="Fortnightly" estimate-prompt-tokens="false" />')).toContain(
      'attribute "token-quota-period" of <llm-token-limit> does not accept "Fortnightly"',
    );
    expect(m('<llm-token-limit counter-key="k" tokens-per-minute="10" estimate-prompt-tokens="false" />')).toEqual([]);
  });
});

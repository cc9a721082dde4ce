import { AzureOpenAI, RateLimitError } from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { serveExample } from '../helpers/example.js';
import type { BackendStateSnapshot } from '../../src/backends/index.js';
import { VirtualClock } from '../../src/clock.js';
import type { TraceEvent } from '../../src/engine/context.js';
import { formatMockScript, MockBackend, mockScriptFromJson, parseMockScript, type MockBackendSet, type MockScript } from '../../src/mocks/index.js';
import { attemptsFromTrace, describeAttempt } from '../../src/scenarios/index.js';
import { type RunningServer } from '../../src/server/index.js';
import { mockTracker, script } from '../helpers/mocks.js';

/**
 * The Azure OpenAI quota simulator: per-deployment TPM/RPM on the mock, over real HTTP on 127.0.0.1, time moved only
 * by VirtualClock.advance. Token counts follow the mock's documented approximation (ceil(chars / 4)): the prompt
 * "Hello" is 2 tokens, `completion-tokens=20` makes every answer 20 tokens, so a request's actual usage is 22 and its
 * admission estimate is 2 + max_tokens.
 */

const { track, closeAll } = mockTracker();
afterEach(closeAll);

async function mock(s: string | MockScript, clock: VirtualClock, name = 'aoai-quota'): Promise<MockBackend> {
  const b = await MockBackend.start({ name, script: typeof s === 'string' ? script(s) : s, clock });
  track(b);
  return b;
}

interface Answer {
  status: number;
  headers: Headers;
  body: { error?: { code: string; message: string }; usage?: { total_tokens: number } };
}

async function chat(b: MockBackend, opts: { deployment?: string; maxTokens?: number; stream?: boolean } = {}): Promise<Answer> {
  const res = await fetch(`${b.url}/openai/deployments/${opts.deployment ?? 'gpt-4o-mini'}/chat/completions?api-version=2024-10-21`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      messages: [{ role: 'user', content: 'Hello' }],
      ...(opts.maxTokens !== undefined ? { max_tokens: opts.maxTokens } : {}),
      ...(opts.stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: opts.stream && res.status === 200 ? {} : (JSON.parse(text) as Answer['body']) };
}

const remaining = (a: Answer) => ({ requests: a.headers.get('x-ratelimit-remaining-requests'), tokens: a.headers.get('x-ratelimit-remaining-tokens') });

describe('tokens per minute', () => {
  it('throttles with Retry-After equal to the seconds until enough tokens leave the 60 s window, and recovers', async () => {
    const clock = new VirtualClock(Date.UTC(2025, 0, 1));
    const b = await mock('aoai tpm=100 rpm=600 completion-tokens=20', clock);

    // Remaining tokens count the actual usage (22), not the admission estimate (2 + 30).
    const seen: Array<string | null> = [];
    for (const at of [0, 15_000, 5_000, 5_000]) {
      clock.advance(at);
      const a = await chat(b, { maxTokens: 30 });
      expect(a.status).toBe(200);
      expect(a.body.usage!.total_tokens).toBe(22);
      seen.push(remaining(a).tokens);
    }
    expect(seen).toEqual(['78', '56', '34', '12']);

    // t = 30 s: 88 tokens used, the estimate 32 does not fit; the first request (t = 0, 22 tokens) leaves at t = 60 s.
    clock.advance(5_000);
    const throttled = await chat(b, { maxTokens: 30 });
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('30');
    expect(throttled.headers.get('retry-after-ms')).toBe('30000');
    expect(remaining(throttled)).toEqual({ requests: '99', tokens: '12' });
    expect(throttled.headers.get('x-ratelimit-limit-tokens')).toBe('100');
    expect(throttled.headers.get('x-mock-backend')).toBe('aoai-quota');
    expect(throttled.body.error).toEqual({
      code: '429',
      message:
        'Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current ' +
        'OpenAI S0 pricing tier. Please retry after 30 seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.',
    });

    clock.advance(29_999);
    const stillThrottled = await chat(b, { maxTokens: 30 });
    expect(stillThrottled.status).toBe(429);
    expect(stillThrottled.headers.get('retry-after')).toBe('1');
    expect(stillThrottled.headers.get('retry-after-ms')).toBe('1');

    clock.advance(1);
    const recovered = await chat(b, { maxTokens: 30 });
    expect(recovered.status).toBe(200);
    // Window now: t = 15, 20, 25 s and this one (22 each).
    expect(remaining(recovered).tokens).toBe('12');
    expect(b.requests.map((r) => r.responseStatus)).toEqual([200, 200, 200, 200, 429, 429, 200]);
  });

  it('admission reserves the estimate (prompt + max_tokens); a small request fits where a large one does not', async () => {
    const clock = new VirtualClock(0);
    const b = await mock('aoai tpm=100 rpm=600 completion-tokens=20', clock);
    for (const at of [0, 15_000, 5_000, 5_000]) {
      clock.advance(at);
      expect((await chat(b, { maxTokens: 30 })).status).toBe(200);
    }
    clock.advance(5_000);
    expect((await chat(b, { maxTokens: 30 })).status).toBe(429);
    // Estimate 2 + 10 = 12 fits the 12 left (max_tokens also cuts its completion to 10 tokens: actual usage 12).
    const small = await chat(b, { maxTokens: 10 });
    expect(small.status).toBe(200);
    expect(remaining(small).tokens).toBe('0');
    // At t = 59.999 s 100 tokens are in the window: 32 more fit once the t = 0 and t = 15 s requests have left (t = 75 s).
    clock.advance(29_999);
    const throttled = await chat(b, { maxTokens: 30 });
    expect(throttled.headers.get('retry-after-ms')).toBe('15001');
    expect(throttled.headers.get('retry-after')).toBe('16');
    clock.advance(15_000);
    expect((await chat(b, { maxTokens: 30 })).status).toBe(429);
    clock.advance(1);
    const back = await chat(b, { maxTokens: 30 });
    expect(back.status).toBe(200);
    // t = 20 s, 25 s (22 each), the small one (12) and this one (22).
    expect(remaining(back).tokens).toBe('22');
  });

  it('a request whose estimate alone exceeds the limit gets 429 with a full window, and is not counted', async () => {
    const clock = new VirtualClock(0);
    const b = await mock('aoai tpm=100 completion-tokens=20', clock);
    const a = await chat(b, { maxTokens: 200 });
    expect(a.status).toBe(429);
    expect(a.headers.get('retry-after')).toBe('60');
    expect(remaining(a)).toEqual({ requests: '1', tokens: '100' });
    expect((await chat(b, { maxTokens: 20 })).status).toBe(200);
  });

  it('streamed answers count their actual usage', async () => {
    const clock = new VirtualClock(0);
    const b = await mock('aoai tpm=1000 rpm=600 completion-tokens=7', clock);
    const a = await chat(b, { maxTokens: 100, stream: true });
    expect(a.status).toBe(200);
    expect(a.headers.get('content-type')).toContain('text/event-stream');
    expect(remaining(a).tokens).toBe(String(1000 - (2 + 7)));
  });
});

describe('requests per minute', () => {
  it('allows RPM/6 requests per sliding 10 s window; the next gets 429 "call rate limit" until the oldest leaves', async () => {
    const clock = new VirtualClock(0);
    const b = await mock('aoai rpm=12', clock);
    const first = await chat(b);
    expect(remaining(first)).toEqual({ requests: '1', tokens: null });
    expect(first.headers.get('x-ratelimit-limit-requests')).toBe('2');
    clock.advance(3_000);
    expect(remaining(await chat(b))).toEqual({ requests: '0', tokens: null });
    clock.advance(1_000);
    const throttled = await chat(b);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('6');
    expect(throttled.headers.get('retry-after-ms')).toBe('6000');
    expect(throttled.body.error!.message).toContain('have exceeded call rate limit of your current OpenAI S0 pricing tier. Please retry after 6 seconds.');
    clock.advance(6_000);
    const again = await chat(b);
    expect(again.status).toBe(200);
    expect(remaining(again).requests).toBe('0');
  });

  it('derives RPM from TPM (6 per 1000) when only TPM is given', async () => {
    const clock = new VirtualClock(0);
    const b = await mock('aoai tpm=1000', clock);
    const first = await chat(b);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit-requests')).toBe('1');
    const second = await chat(b);
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('10');
  });
});

describe('per deployment', () => {
  it('counts two deployments separately, with per-deployment limits from the text form', async () => {
    const clock = new VirtualClock(0);
    const b = await mock('aoai tpm=50 rpm=600 tpm=gpt-4o:100 rpm=gpt-4o:600 completion-tokens=20', clock);
    expect((await chat(b, { deployment: 'gpt-4o-mini', maxTokens: 20 })).status).toBe(200);
    expect(remaining(await chat(b, { deployment: 'gpt-4o-mini', maxTokens: 20 })).tokens).toBe('6');
    expect((await chat(b, { deployment: 'gpt-4o-mini', maxTokens: 20 })).status).toBe(429);

    const other = await chat(b, { deployment: 'gpt-4o', maxTokens: 20 });
    expect(other.status).toBe(200);
    expect(remaining(other)).toEqual({ requests: '99', tokens: '78' });
    // A third deployment has the top-level limits and its own, untouched, window.
    expect(remaining(await chat(b, { deployment: 'embeddings-large', maxTokens: 20 })).tokens).toBe('28');
  });

  it('JSON form: a deployments map; a deployment without an entry (and no top-level limits) is not limited', async () => {
    const r = mockScriptFromJson(
      { steps: [{ times: 'forever', aoai: { completionTokens: 20, quota: { deployments: { 'gpt-4o': { tpm: 30 } } } } }] },
      'quota.json',
    );
    expect(r.diagnostics).toEqual([]);
    const clock = new VirtualClock(0);
    const b = await mock(r.script!, clock);
    expect((await chat(b, { deployment: 'gpt-4o', maxTokens: 20 })).status).toBe(200);
    expect((await chat(b, { deployment: 'gpt-4o', maxTokens: 20 })).status).toBe(429);
    for (let i = 0; i < 3; i++) {
      const free = await chat(b, { deployment: 'gpt-4o-mini', maxTokens: 20 });
      expect(free.status).toBe(200);
      expect(remaining(free)).toEqual({ requests: null, tokens: null });
    }
  });

  it('reset() clears the usage; setScript keeps it (the quota belongs to the deployment, not to the script)', async () => {
    const clock = new VirtualClock(0);
    const b = await mock('aoai tpm=30 rpm=600 completion-tokens=20', clock);
    expect((await chat(b, { maxTokens: 20 })).status).toBe(200);
    b.setScript(script('aoai tpm=30 rpm=600 completion-tokens=20'));
    expect((await chat(b, { maxTokens: 20 })).status).toBe(429);
    b.reset();
    expect((await chat(b, { maxTokens: 20 })).status).toBe(200);
  });
});

describe('script forms', () => {
  it('text form round-trips and reports bad values at their column', () => {
    const text = 'aoai completion-tokens=20 tpm=1000 rpm=6 tpm=gpt-4o:5000';
    const s = script(text);
    expect(s.steps[0]!.aoai!.quota).toEqual({ tpm: 1000, rpm: 6, deployments: { 'gpt-4o': { tpm: 5000 } } });
    expect(formatMockScript(s)).toBe(text);
    expect(script(formatMockScript(s))).toEqual(s);

    const bad = parseMockScript('aoai tpm=0 rpm=a/b:3 tpm=9 tpm=2');
    expect(bad.script).toBeUndefined();
    expect(bad.diagnostics.map((d) => [d.column, d.message])).toEqual([
      [10, 'invalid tpm "0"'],
      [16, 'invalid deployment name "a/b" in rpm='],
      [28, 'tpm is given twice in this step'],
    ]);
  });

  it('a quota on a step that answers an error by script is reported as unused', () => {
    const r = parseMockScript('429 aoai tpm=1000');
    expect(r.diagnostics).toMatchObject([{ severity: 'warning', message: 'step 1 answers 429 by script, so its quota is never consulted' }]);
  });

  it('JSON form errors carry JSON paths and what is allowed', () => {
    const r = mockScriptFromJson({ steps: [{ aoai: { quota: { tpm: 0, deployments: { 'a b': {}, x: { rpm: 'q' } } } } }] }, 'c.json');
    expect(r.diagnostics.map((d) => `${d.jsonPath}: ${d.message}`)).toEqual([
      '$.steps[0].aoai.quota.tpm: tpm must be >= 1 (got 0)',
      '$.steps[0].aoai.quota.deployments["a b"]: invalid deployment name "a b"',
      '$.steps[0].aoai.quota.deployments.x.rpm: rpm must be integer, not string "q"',
    ]);
    expect(mockScriptFromJson({ steps: [{ aoai: { quota: {} } }] }).diagnostics).toMatchObject([
      { jsonPath: '$.steps[0].aoai.quota', message: 'quota is empty' },
    ]);
  });
});

describe('the official openai client', () => {
  it('surfaces the quota 429 as RateLimitError with the retry-after headers', async () => {
    const clock = new VirtualClock(0);
    const b = await mock('aoai tpm=1000 rpm=60', clock);
    const client = new AzureOpenAI({ endpoint: b.url, apiKey: 'k', apiVersion: '2024-10-21', deployment: 'gpt-4o', maxRetries: 0 });
    const ask = () => client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 990 });
    const ok = await ask().withResponse();
    expect(ok.response.headers.get('x-ratelimit-remaining-tokens')).toBe(String(1000 - ok.data.usage!.total_tokens));
    clock.advance(20_000);
    const err = await ask().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    const e = err as RateLimitError;
    expect(e.status).toBe(429);
    expect(e.code).toBe('429');
    expect(e.headers?.get('retry-after')).toBe('40');
    expect(e.headers?.get('retry-after-ms')).toBe('40000');
    expect(e.message).toContain('exceeded token rate limit');
  });
});

describe('PTU → PAYG spillover with the bundled example (real policy, pool and breakers)', () => {
  const clock = new VirtualClock(Date.UTC(2025, 0, 1), 'advance');
  let server: RunningServer;
  let mocks: MockBackendSet;

  beforeAll(async () => {
    // foundry1 stands for a provisioned (PTU-like) deployment with a small TPM; the others keep the default mock.
    ({ server, mocks } = await serveExample(clock, new Map([['foundry1', script('aoai tpm=50 rpm=600 completion-tokens=20')]])));
  });
  afterAll(async () => {
    await server?.close();
    await mocks?.closeAll();
  });

  async function send(): Promise<{ status: number; attempts: string[]; remainingTokens: string | null }> {
    const res = await fetch(`${server.url}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21`, {
      method: 'POST',
      headers: { 'api-key': 'example-key', 'content-type': 'application/json', 'Apim-Debug-Authorization': 'quota' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Hello' }], max_tokens: 20 }),
    });
    await res.text();
    const trace = (await (await fetch(`${server.url}/_emulator/traces/${res.headers.get('apim-trace-id')}`)).json()) as { events: TraceEvent[] };
    return {
      status: res.status,
      attempts: attemptsFromTrace(trace.events).map(describeAttempt),
      remainingTokens: res.headers.get('x-ratelimit-remaining-tokens'),
    };
  }

  async function breaker(id: string): Promise<{ state: string | undefined; openUntil: string | null | undefined }> {
    const r = (await (await fetch(`${server.url}/_emulator/backends`)).json()) as { backends: BackendStateSnapshot[] };
    const b = r.backends.find((x) => x.id === id)?.breaker;
    return { state: b?.state, openUntil: b?.openUntil };
  }

  it('foundry1 serves until its TPM is used, then its 429 trips the breaker for Retry-After and priority 2 takes over', async () => {
    const first = await send();
    expect(first).toEqual({ status: 200, attempts: ['foundry1 200'], remainingTokens: '28' });
    clock.advance(10_000);
    expect(await send()).toEqual({ status: 200, attempts: ['foundry1 200'], remainingTokens: '6' });

    // 44 of 50 tokens used; the next estimate (22) does not fit until the t = 0 request leaves the window (50 s).
    const spilled = await send();
    expect(spilled.status).toBe(200);
    expect(spilled.attempts).toEqual(['foundry1 429', 'foundry2 200']);
    expect(await breaker('foundry1')).toEqual({ state: 'open', openUntil: '2025-01-01T00:01:00.000Z' });
    expect(mocks.get('foundry1')!.requests.at(-1)!.responseStatus).toBe(429);

    const whileOpen = await send();
    expect(whileOpen.attempts).toEqual(['foundry3 200']);
  });

  it('foundry1 comes back when the window has moved on: the breaker closes and its quota has room again', async () => {
    clock.advance(49_999);
    expect((await breaker('foundry1')).state).toBe('open');
    expect((await send()).attempts).toEqual(['foundry2 200']);
    clock.advance(1);
    expect((await breaker('foundry1')).state).toBe('closed');
    // The t = 10 s request (22 tokens) is still in foundry1's window; the t = 0 one has left it.
    expect(await send()).toEqual({ status: 200, attempts: ['foundry1 200'], remainingTokens: '6' });
    expect(mocks.get('foundry1')!.requests.map((r) => r.responseStatus)).toEqual([200, 200, 429, 200]);
  });
});

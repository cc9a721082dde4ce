import { Agent, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { AZURE_OPENAI_MOCK, MockBackend, MockBackendSet, LOG_BODY_LIMIT, type MockScript } from '../../src/mocks/index.js';
import { mockTracker, script } from '../helpers/mocks.js';

const { track, closeAll } = mockTracker();
afterEach(closeAll);

async function mock(text: string | MockScript, clock = new VirtualClock(), name = 'mock-1'): Promise<MockBackend> {
  const b = await MockBackend.start({ name, script: typeof text === 'string' ? script(text) : text, clock });
  track(b);
  return b;
}

/** Polls a condition across tiny real waits (socket events), never asserting on time. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const CHAT = '/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21';

function postJson(url: string, body: unknown, signal?: AbortSignal) {
  return request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...(signal ? { signal } : {}) });
}

/** SSE `data:` payloads as they arrive, one at a time. */
async function* sseData(body: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  let buf = '';
  for await (const chunk of body) {
    buf += chunk.toString();
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const event = buf.slice(0, i);
      buf = buf.slice(i + 2);
      expect(event.startsWith('data: ')).toBe(true);
      yield event.slice(6);
    }
  }
}

describe('scripted steps', () => {
  it('answers 429 with Retry-After for calls 1-3, then 200 for every further call, naming itself', async () => {
    const b = await mock('429x3 retry-after=7; 200', new VirtualClock(), 'aoai-east');
    const seen: Array<[number, string | undefined, string | undefined]> = [];
    for (let i = 0; i < 5; i++) {
      const r = await request(`${b.url}/x?i=${i}`);
      const body = (await r.body.json()) as Record<string, unknown>;
      seen.push([r.statusCode, r.headers['retry-after'] as string | undefined, r.headers['x-mock-backend'] as string]);
      if (r.statusCode === 429) expect(body).toEqual({ error: { code: '429', message: 'Scripted 429 from mock backend aoai-east.' } });
      else expect(body).toMatchObject({ backend: 'aoai-east', status: 200, seq: i + 1 });
    }
    expect(seen).toEqual([
      [429, '7', 'aoai-east'],
      [429, '7', 'aoai-east'],
      [429, '7', 'aoai-east'],
      [200, undefined, 'aoai-east'],
      [200, undefined, 'aoai-east'],
    ]);
    expect(b.requests.map((r) => [r.seq, r.stepIndex, r.responseStatus, r.query, r.outcome])).toEqual([
      [1, 0, 429, 'i=0', 'answered'],
      [2, 0, 429, 'i=1', 'answered'],
      [3, 0, 429, 'i=2', 'answered'],
      [4, 1, 200, 'i=3', 'answered'],
      [5, 1, 200, 'i=4', 'answered'],
    ]);
  });

  it('then=<status> answers the rest with that status; then=cycle starts over', async () => {
    const a = await mock('200x2; then=404');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await request(a.url)).statusCode);
    expect(statuses).toEqual([200, 200, 404, 404]);
    expect(a.requests.map((r) => r.stepIndex)).toEqual([0, 0, null, null]);

    const c = await mock('500; 200; then=cycle', new VirtualClock(), 'cyc');
    const cs: number[] = [];
    for (let i = 0; i < 5; i++) cs.push((await request(c.url)).statusCode);
    expect(cs).toEqual([500, 200, 500, 200, 500]);
  });

  it('sends scripted headers and text/JSON bodies; 204 has none', async () => {
    const b = await mock(`201 header="x-ms-region: East US" header=x-a:1 header=x-a:2 body="plain text"; 202 json='{"ok":true}'; 204`);
    const r1 = await request(b.url);
    expect(r1.statusCode).toBe(201);
    expect(r1.headers['x-ms-region']).toBe('East US');
    expect(r1.headers['x-a']).toEqual(['1', '2']);
    expect(r1.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(await r1.body.text()).toBe('plain text');
    const r2 = await request(b.url);
    expect(r2.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(await r2.body.json()).toEqual({ ok: true });
    const r3 = await request(b.url);
    expect(r3.statusCode).toBe(204);
    expect(await r3.body.text()).toBe('');
  });

  it('logs method, path, query, headers and the body cut at 64 KB', async () => {
    const b = await mock('200');
    const big = 'x'.repeat(LOG_BODY_LIMIT + 100);
    await (await request(`${b.url}/a/b?c=1&d=2`, { method: 'PUT', headers: { 'x-test': 'yes' }, body: big })).body.dump();
    await (await request(`${b.url}/small`, { method: 'POST', body: 'hi' })).body.dump();
    const [e1, e2] = b.requests;
    expect(e1).toMatchObject({ seq: 1, method: 'PUT', path: '/a/b', query: 'c=1&d=2', bodyTruncated: true, responseStatus: 200, stepIndex: 0 });
    expect(e1!.headers['x-test']).toBe('yes');
    expect(e1!.body.length).toBe(LOG_BODY_LIMIT);
    expect(e2).toMatchObject({ seq: 2, method: 'POST', path: '/small', query: '', body: 'hi', bodyTruncated: false });
  });
});

describe('request log bounds (serve --mock-log-entries / --mock-log-body-bytes, config server.mockLog)', () => {
  it('keeps only the most recent N entries and cuts bodies at the given bytes; requestCount still counts every call', async () => {
    const set = new MockBackendSet({ entries: 2, bodyBytes: 3 });
    const b = await set.start('bounded', script('200'), new VirtualClock());
    track(b);
    for (const body of ['first', 'second', 'third']) await (await request(b.url, { method: 'POST', body })).body.dump();
    expect(b.requests.map((r) => [r.seq, r.body, r.bodyTruncated])).toEqual([
      [2, 'sec', true],
      [3, 'thi', true],
    ]);
    expect(b.describe().requestCount).toBe(3);
  });

  it('0 entries keeps no log at all', async () => {
    const set = new MockBackendSet({ entries: 0 });
    const b = await set.start('silent', script('200'), new VirtualClock());
    track(b);
    expect((await request(b.url, { method: 'POST', body: 'x' })).statusCode).toBe(200);
    expect(b.requests).toHaveLength(0);
  });
});

describe('latency, hangs and resets on the injected clock', () => {
  it('latency moves a VirtualClock forward by exactly the latency, at no wall-clock cost', async () => {
    const clock = new VirtualClock(Date.UTC(2025, 0, 1));
    const b = await mock('200 latency=150ms; 200 latency=40s', clock);
    const t0 = clock.now();
    expect((await request(b.url)).statusCode).toBe(200);
    expect(clock.now() - t0).toBe(150);
    expect((await request(b.url)).statusCode).toBe(200);
    expect(clock.now() - t0).toBe(40_150);
    expect(b.requests.map((r) => r.time - t0)).toEqual([0, 150]);
  });

  it("a 40 s backend loses the race against a gateway's 30 s deadline on the same clock", async () => {
    const clock = new VirtualClock();
    const b = await mock('200 latency=40s', clock);
    const abort = new AbortController();
    const call = request(b.url, { signal: abort.signal }).then(
      (r) => r.statusCode,
      () => 'aborted' as const,
    );
    const deadline = clock.deadline(30_000).then(() => 'timeout' as const);
    expect(await Promise.race([call, deadline])).toBe('timeout');
    abort.abort();
    await call;
    expect(clock.now()).toBe(Date.UTC(2025, 0, 1) + 40_000);
  });

  it('reset destroys the connection without a response: the client sees a socket error', async () => {
    const b = await mock('reset; 200');
    const err = await request(b.url).then(
      () => undefined,
      (e: unknown) => e as { code?: string; cause?: { code?: string } },
    );
    expect(err).toBeDefined();
    expect([err!.code, err!.cause?.code]).toEqual(expect.arrayContaining([expect.stringMatching(/ECONNRESET|UND_ERR_SOCKET/)]));
    expect(b.requests[0]).toMatchObject({ outcome: 'reset', responseStatus: null });
    // The next call gets the next step on a fresh connection.
    expect((await request(b.url)).statusCode).toBe(200);
  });

  it('hang keeps the request open until the client aborts it', async () => {
    const b = await mock('hang; 200');
    const abort = new AbortController();
    const call = request(b.url, { signal: abort.signal }).then(
      () => 'answered',
      (e: unknown) => (e as Error).name,
    );
    await until(() => b.requests.length === 1, 'the request to reach the mock');
    expect(b.requests[0]!.outcome).toBe('pending');
    abort.abort();
    expect(await call).toBe('AbortError');
    await until(() => b.requests[0]!.outcome === 'aborted', 'the mock to see the abort');
    expect(b.requests[0]!.responseStatus).toBeNull();
  });

  it('hang with a latency answers only when somebody advances the clock past it', async () => {
    const clock = new VirtualClock();
    const b = await mock('hang latency=5s status=504', clock);
    let status: number | undefined;
    const call = request(b.url).then((r) => (status = r.statusCode));
    await until(() => clock.pendingSleeps === 1, 'the mock to park on the clock');
    clock.advance(4_999);
    expect(clock.pendingSleeps).toBe(1);
    expect(status).toBeUndefined();
    clock.advance(1);
    await call;
    expect(status).toBe(504);
  });

  it('close() ends idle keep-alive connections and hanging requests promptly', async () => {
    const clock = new VirtualClock();
    const b = await MockBackend.start({ name: 'closing', script: script('200; hang'), clock });
    const agent = new Agent({ keepAliveTimeout: 60_000 });
    await (await request(b.url, { dispatcher: agent })).body.dump();
    const hung = request(b.url, { dispatcher: agent }).then(
      () => 'answered',
      () => 'socket error',
    );
    await until(() => b.requests.length === 2, 'the hanging request');
    await b.close();
    expect(await hung).toBe('socket error');
    await agent.close();
  });
});

describe('server-sent events', () => {
  it('streams an Azure OpenAI chat completion chunk by chunk, with usage in the final chunk when include_usage', async () => {
    // In `wait` mode each chunk delay parks on the clock, so the test decides when the next event may go out.
    const clock = new VirtualClock(Date.UTC(2025, 0, 1), 'wait');
    const b = await mock('aoai chunk-delay=10ms content="one two three"', clock, 'aoai-west');
    const res = await postJson(`${b.url}${CHAT}`, {
      messages: [{ role: 'user', content: 'Say three words, please.' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(res.headers['x-mock-backend']).toBe('aoai-west');
    const events: string[] = [];
    const it = sseData(res.body)[Symbol.asyncIterator]();
    for (;;) {
      const next = await it.next();
      if (next.done) break;
      events.push(next.value);
      if (next.value === '[DONE]') continue;
      // The mock is now parked before the next event: nothing more has been sent yet.
      await until(() => clock.pendingSleeps === 1 || b.requests[0]!.outcome === 'answered', 'the mock to wait for the next chunk');
      if (clock.pendingSleeps === 1) {
        expect(b.requests[0]!.outcome).toBe('pending');
        clock.advance(10);
      }
    }
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as Record<string, any>); // any: test reads loosely shaped chunks
    // role, 3 content pieces, finish, usage
    expect(chunks).toHaveLength(6);
    expect(chunks[0]!.choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(
      chunks
        .slice(1, 4)
        .map((c) => c.choices[0].delta.content)
        .join(''),
    ).toBe('one two three');
    expect(chunks[4]!.choices[0].finish_reason).toBe('stop');
    expect(chunks.slice(0, 5).every((c) => c.usage === null && c.object === 'chat.completion.chunk' && c.id === 'chatcmpl-aoai-west-1')).toBe(true);
    // 'Say three words, please.' = 24 chars → 6 tokens; 'one two three' = 13 chars → 4 tokens.
    expect(chunks[5]).toMatchObject({ choices: [], usage: { prompt_tokens: 6, completion_tokens: 4, total_tokens: 10 } });
    // 7 events (role, 3 pieces, finish, usage, [DONE]) → 6 delays of 10 ms of clock time.
    expect(clock.now() - Date.UTC(2025, 0, 1)).toBe(60);
  });

  it('omits the usage chunk without include_usage', async () => {
    const b = await mock('aoai content="a b"');
    const res = await postJson(`${b.url}${CHAT}`, { messages: [{ role: 'user', content: 'x' }], stream: true });
    const events: string[] = [];
    for await (const e of sseData(res.body)) events.push(e);
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as Record<string, unknown>);
    expect(chunks.some((c) => 'usage' in c)).toBe(false);
    expect(chunks).toHaveLength(4);
  });

  it('fails mid-stream after N events: the client gets them, then a socket error and no [DONE]', async () => {
    const b = await mock('aoai stream-fail-after=3 content="alpha beta gamma delta"');
    const res = await postJson(`${b.url}${CHAT}`, { messages: [{ role: 'user', content: 'x' }], stream: true });
    expect(res.statusCode).toBe(200);
    const events: string[] = [];
    const failure = await (async () => {
      try {
        for await (const e of sseData(res.body)) events.push(e);
        return undefined;
      } catch (e) {
        return e as Error;
      }
    })();
    expect(failure).toBeInstanceOf(Error);
    expect(events).toHaveLength(3);
    expect(events).not.toContain('[DONE]');
    expect(b.requests[0]).toMatchObject({ outcome: 'failed-mid-body', responseStatus: 200 });
  });

  it('streams generic sse events from a JSON script', async () => {
    const b = await mock({ steps: [{ times: 1, sse: ['hello', { n: 1 }, '[DONE]'] }] });
    const res = await request(b.url);
    const events: string[] = [];
    for await (const e of sseData(res.body)) events.push(e);
    expect(events).toEqual(['hello', '{"n":1}', '[DONE]']);
  });

  it('cuts a non-streamed body halfway when asked to fail mid-body', async () => {
    const b = await mock(`200 json='{"padding":"${'p'.repeat(200)}"}' stream-fail-after=1`);
    const res = await request(b.url);
    expect(res.statusCode).toBe(200);
    await expect(res.body.text()).rejects.toThrow();
  });
});

describe('Azure OpenAI answers', () => {
  it('answers chat completions in the Azure OpenAI shape with usage and x-ratelimit headers', async () => {
    const clock = new VirtualClock();
    const b = await mock(AZURE_OPENAI_MOCK, clock, 'aoai-1');
    const r = await postJson(`${b.url}${CHAT}`, {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'hello there' }] },
      ],
    });
    expect(r.statusCode).toBe(200);
    const body = (await r.body.json()) as Record<string, any>; // any: asserting the wire shape field by field
    expect(body).toMatchObject({ id: 'chatcmpl-aoai-1-1', object: 'chat.completion', model: 'gpt-4o', created: Math.floor(clock.now() / 1000) });
    expect(body.choices).toEqual([
      {
        index: 0,
        message: { role: 'assistant', content: 'Mock completion from backend aoai-1 (request 1).', refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ]);
    // 'Be brief.' + 'hello there' = 20 chars → 5 tokens; the content is 48 chars → 12 tokens.
    expect(body.usage).toEqual({ prompt_tokens: 5, completion_tokens: 12, total_tokens: 17 });
    expect(r.headers['x-ratelimit-remaining-requests']).toBe('999');
    expect(r.headers['x-ratelimit-remaining-tokens']).toBe(String(100_000 - 17));

    const r2 = await postJson(`${b.url}${CHAT}`, { messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });
    const body2 = (await r2.body.json()) as Record<string, any>; // any: as above
    expect(body2.choices[0]).toMatchObject({ finish_reason: 'length', message: { content: 'Mock com' } });
    expect(body2.usage).toEqual({ prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 });
    expect(r2.headers['x-ratelimit-remaining-requests']).toBe('998');
    expect(r2.headers['x-ratelimit-remaining-tokens']).toBe(String(100_000 - 20));

    clock.advance(60_000); // a new rate-limit minute
    const r3 = await postJson(`${b.url}${CHAT}`, { messages: [{ role: 'user', content: 'hi' }] });
    await r3.body.dump();
    expect(r3.headers['x-ratelimit-remaining-requests']).toBe('999');
  });

  it('answers completions and embeddings (float and base64), honours model, completionTokens and region', async () => {
    const b = await mock('aoai model=gpt-35-turbo-instruct completion-tokens=7 region=swedencentral; aoai');
    const c = await postJson(`${b.url}/openai/deployments/instruct/completions?api-version=x`, { prompt: 'abcdefgh' });
    expect(c.headers['x-ms-region']).toBe('swedencentral');
    const cb = (await c.body.json()) as Record<string, any>; // any: wire shape
    expect(cb).toMatchObject({ object: 'text_completion', model: 'gpt-35-turbo-instruct', usage: { prompt_tokens: 2, completion_tokens: 7, total_tokens: 9 } });
    expect(cb.choices[0].text).toHaveLength(28);

    const s201 = await mock('201 aoai', new VirtualClock(), 'created');
    const r201 = await postJson(`${s201.url}${CHAT}`, { messages: [] });
    expect(r201.statusCode).toBe(201);
    expect(((await r201.body.json()) as { object: string }).object).toBe('chat.completion');

    const e = await postJson(`${b.url}/openai/deployments/emb/embeddings?api-version=x`, { input: ['same', 'same', 'other'], dimensions: 8 });
    const eb = (await e.body.json()) as { object: string; model: string; data: Array<{ index: number; embedding: number[] }>; usage: unknown };
    expect(eb.object).toBe('list');
    expect(eb.model).toBe('emb');
    expect(eb.usage).toEqual({ prompt_tokens: 4, total_tokens: 4 });
    expect(eb.data.map((d) => d.index)).toEqual([0, 1, 2]);
    expect(eb.data[0]!.embedding).toHaveLength(8);
    expect(eb.data[0]!.embedding).toEqual(eb.data[1]!.embedding);
    expect(eb.data[0]!.embedding).not.toEqual(eb.data[2]!.embedding);
    expect(Math.hypot(...eb.data[0]!.embedding)).toBeCloseTo(1, 5);

    const e64 = await postJson(`${b.url}/openai/deployments/emb/embeddings`, { input: 'same', dimensions: 8, encoding_format: 'base64' });
    const b64 = ((await e64.body.json()) as { data: Array<{ embedding: string }> }).data[0]!.embedding;
    const floats = new Float32Array(Uint8Array.from(Buffer.from(b64, 'base64')).buffer);
    expect(Array.from(floats).map((x) => x.toFixed(5))).toEqual(eb.data[0]!.embedding.map((x) => x.toFixed(5)));
  });

  it('answers errors in the Azure OpenAI error shape', async () => {
    const b = await mock('429 aoai retry-after=12; aoai');
    const r = await postJson(`${b.url}${CHAT}`, { messages: [] });
    expect(r.statusCode).toBe(429);
    expect(r.headers['retry-after']).toBe('12');
    const body = (await r.body.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('429');
    expect(body.error.message).toContain('Please retry after 12 seconds');

    const nf = await postJson(`${b.url}/openai/deployments/x/images/generations`, { size: '1x1' });
    expect(nf.statusCode).toBe(404);
    await nf.body.dump();
    const bad = await request(`${b.url}${CHAT}`, { method: 'POST', body: '{not json' });
    expect(bad.statusCode).toBe(400);
    expect(((await bad.body.json()) as { error: { code: string } }).error.code).toBe('BadRequest');
    expect(b.requests.map((x) => x.responseStatus)).toEqual([429, 404, 400]);
  });
});

describe('admin operations', () => {
  it('setScript restarts the steps and keeps the log; reset clears log and position; describe reports state', async () => {
    const b = await mock('500; 200');
    expect((await request(b.url)).statusCode).toBe(500);
    b.setScript(script('418x2; 201'));
    expect(b.script.steps[0]!.status).toBe(418);
    expect((await request(b.url)).statusCode).toBe(418);
    expect(b.requests.map((r) => r.responseStatus)).toEqual([500, 418]);
    expect(b.describe()).toMatchObject({ name: 'mock-1', url: b.url, scriptText: '418x2; 201', requestCount: 2, nextCall: 1 });
    b.reset();
    expect(b.requests).toEqual([]);
    expect((await request(b.url)).statusCode).toBe(418);
    expect(b.requests[0]!.seq).toBe(1);
  });

  it('MockBackendSet starts named backends on distinct ports, resets and closes them all', async () => {
    const set = new MockBackendSet();
    const clock = new VirtualClock();
    const a = await set.start('a', script('200'), clock);
    const c = await set.start('c', AZURE_OPENAI_MOCK, clock);
    await expect(set.start('a', script('200'), clock)).rejects.toThrow('"a" is already running');
    expect(a.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(a.url).not.toBe(c.url);
    expect(set.get('c')).toBe(c);
    expect(set.all().map((x) => x.name)).toEqual(['a', 'c']);
    await (await request(a.url)).body.dump();
    set.resetAll();
    expect(a.requests).toHaveLength(0);
    await set.closeAll();
    expect(set.all()).toEqual([]);
    await expect(request(a.url)).rejects.toThrow();
  });
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CORPUS_DIR, CORPUS_PRESENT, fillPlaceholders } from '../../helpers/corpus.js';
import { buildGateway, FORWARD, policies, send, startBackend, tryBuildGateway } from '../../helpers/gateway.js';
import type { TestBackend, TestGatewayOptions } from '../../helpers/gateway.js';

/** azure-openai-/llm-semantic-cache-lookup and -store (docs/apim-behaviour.md: LLM policies), offline: prompts compared as text. */
const backends: TestBackend[] = [];
afterEach(async () => {
  await Promise.all(backends.splice(0).map((b) => b.close()));
});

/** An LLM backend that numbers its answers and echoes the last message. */
async function llmBackend(status = 200): Promise<TestBackend> {
  const b = await startBackend((req, res, i) => {
    const body = JSON.parse(req.body || '{}') as { messages?: Array<{ content: string }> };
    res.statusCode = status;
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ n: i + 1, choices: [{ message: { role: 'assistant', content: `re: ${body.messages?.at(-1)?.content ?? ''}` } }] }));
  });
  backends.push(b);
  return b;
}

function chat(...messages: Array<[string, string]>): { method: string; body: string; headers: Record<string, string> } {
  return {
    method: 'POST',
    body: JSON.stringify({ messages: messages.map(([role, content]) => ({ role, content })) }),
    headers: { 'Content-Type': 'application/json' },
  };
}

const lookup = (attrs = '', inner = '', name = 'llm-semantic-cache-lookup') =>
  `<${name} score-threshold="0.05" embeddings-backend-id="embeddings" embeddings-backend-auth="system-assigned"${attrs}>${inner}</${name}>`;
const store = (duration = 60, name = 'llm-semantic-cache-store') => `<${name} duration="${duration}" />`;

function gatewayFor(
  b: TestBackend,
  o: { attrs?: string; inner?: string; duration?: number; settings?: Record<string, unknown>; deps?: TestGatewayOptions['deps'] } = {},
) {
  return buildGateway({
    serviceUrl: b.url,
    settings: o.settings ?? {},
    deps: o.deps ?? {},
    api: policies({ inbound: lookup(o.attrs, o.inner), backend: FORWARD, outbound: store(o.duration) }),
  });
}

const n = (r: { json: () => unknown }) => (r.json() as { n: number }).n;

describe('semantic cache (exact match after normalisation, the default)', () => {
  it('answers the same prompt from the cache, ignoring case and spacing, and calls the backend for a new one', async () => {
    const b = await llmBackend();
    const { gateway } = gatewayFor(b);
    expect(n(await send(gateway, '/api/chat', chat(['user', 'What is the capital of France?'])))).toBe(1);
    const hit = await send(gateway, '/api/chat', chat(['user', '  what is   the capital of FRANCE? ']));
    expect(n(hit)).toBe(1);
    expect(hit.context?.traceEvents.some((e) => e.policy === 'llm-semantic-cache-lookup' && e.message.startsWith('semantic cache hit'))).toBe(true);
    expect(n(await send(gateway, '/api/chat', chat(['user', 'What is the capital of Spain?'])))).toBe(2);
    expect(b.requests).toHaveLength(2);
  });

  it('forgets entries after duration seconds of clock time', async () => {
    const b = await llmBackend();
    const { gateway, clock } = gatewayFor(b, { duration: 120 });
    await send(gateway, '/api/chat', chat(['user', 'hi']));
    clock.advance(119_999);
    expect(n(await send(gateway, '/api/chat', chat(['user', 'hi'])))).toBe(1);
    clock.advance(1);
    expect(n(await send(gateway, '/api/chat', chat(['user', 'hi'])))).toBe(2);
  });

  it('partitions by the vary-by values', async () => {
    const b = await llmBackend();
    const { gateway } = gatewayFor(b, { inner: '<vary-by>@(context.Request.Headers.GetValueOrDefault("x-tenant", ""))</vary-by>' });
    const as = (tenant: string) => ({ ...chat(['user', 'hi']), headers: { 'Content-Type': 'application/json', 'x-tenant': tenant } });
    expect(n(await send(gateway, '/api/chat', as('a')))).toBe(1);
    expect(n(await send(gateway, '/api/chat', as('b')))).toBe(2);
    expect(n(await send(gateway, '/api/chat', as('a')))).toBe(1);
  });

  it('ignore-system-messages compares the dialog without system messages', async () => {
    const b = await llmBackend();
    const { gateway } = gatewayFor(b, { attrs: ' ignore-system-messages="true"' });
    await send(gateway, '/api/chat', chat(['system', 'Be terse.'], ['user', 'hi']));
    expect(n(await send(gateway, '/api/chat', chat(['system', 'Be verbose.'], ['user', 'hi'])))).toBe(1);

    const b2 = await llmBackend();
    const g2 = gatewayFor(b2).gateway;
    await send(g2, '/api/chat', chat(['system', 'Be terse.'], ['user', 'hi']));
    expect(n(await send(g2, '/api/chat', chat(['system', 'Be verbose.'], ['user', 'hi'])))).toBe(2);
  });

  it('skips dialogs longer than max-message-count, streamed requests and non-200 answers', async () => {
    const b = await llmBackend();
    const { gateway } = gatewayFor(b, { attrs: ' max-message-count="2"' });
    const long = chat(['user', 'a'], ['assistant', 'b'], ['user', 'c']);
    await send(gateway, '/api/chat', long);
    expect(n(await send(gateway, '/api/chat', long))).toBe(2);
    const streamed = { ...chat(['user', 'x']), body: JSON.stringify({ stream: true, messages: [{ role: 'user', content: 'x' }] }) };
    await send(gateway, '/api/chat', streamed);
    expect(n(await send(gateway, '/api/chat', streamed))).toBe(4);

    const failing = await llmBackend(500);
    const g2 = gatewayFor(failing).gateway;
    await send(g2, '/api/chat', chat(['user', 'y']));
    expect(n(await send(g2, '/api/chat', chat(['user', 'y'])))).toBe(2);
  });

  it('works under the azure-openai-* names too', async () => {
    const b = await llmBackend();
    const { gateway } = buildGateway({
      serviceUrl: b.url,
      api: policies({
        inbound: lookup('', '', 'azure-openai-semantic-cache-lookup'),
        backend: FORWARD,
        outbound: store(60, 'azure-openai-semantic-cache-store'),
      }),
    });
    await send(gateway, '/api/chat', chat(['user', 'hi']));
    expect(n(await send(gateway, '/api/chat', chat(['user', 'hi'])))).toBe(1);
  });
});

describe('semantic cache with a similarity', () => {
  it('token-cosine: a hit when 1 - similarity is within score-threshold', async () => {
    // "tell me the capital of france" vs "what is the capital of france" (with the "user:" role word): 5 of 7 words
    // shared, cosine 5/7 = 0.714, score 0.286.
    const settings = { 'semanticCache.similarity': 'token-cosine' };
    const b = await llmBackend();
    const loose = buildGateway({
      serviceUrl: b.url,
      settings,
      api: policies({ inbound: lookup().replace('0.05', '0.3'), backend: FORWARD, outbound: store() }),
    }).gateway;
    await send(loose, '/api/chat', chat(['user', 'tell me the capital of France']));
    const hit = await send(loose, '/api/chat', chat(['user', 'what is the capital of France']));
    expect(n(hit)).toBe(1);
    const ev = hit.context?.traceEvents.find((e) => e.kind === 'info' && e.message.startsWith('semantic cache hit'));
    expect(ev?.kind === 'info' ? ev.data?.score : undefined).toBeCloseTo(1 - 5 / 7, 6);

    const b2 = await llmBackend();
    const strict = buildGateway({
      serviceUrl: b2.url,
      settings,
      api: policies({ inbound: lookup().replace('0.05', '0.2'), backend: FORWARD, outbound: store() }),
    }).gateway;
    await send(strict, '/api/chat', chat(['user', 'tell me the capital of France']));
    expect(n(await send(strict, '/api/chat', chat(['user', 'what is the capital of France'])))).toBe(2);
  });

  it('a similarity function from the settings decides, and the closest entry wins', async () => {
    const calls: Array<[string, string]> = [];
    const lengthSimilarity = (a: string, c: string) => {
      calls.push([a, c]);
      return 1 - Math.abs(a.length - c.length) / Math.max(a.length, c.length);
    };
    const b = await llmBackend();
    const { gateway } = gatewayFor(b, { deps: { extensions: { semanticSimilarity: lengthSimilarity } }, attrs: '' });
    // threshold 0.05: within 5 % of the length.
    await send(gateway, '/api/chat', chat(['user', 'a'.repeat(100)]));
    await send(gateway, '/api/chat', chat(['user', 'b'.repeat(200)]));
    const r = await send(gateway, '/api/chat', chat(['user', 'c'.repeat(196)]));
    expect(r.json()).toMatchObject({ n: 2 });
    expect(calls.some(([a]) => a === `user: ${'c'.repeat(196)}`)).toBe(true);
    expect(b.requests).toHaveLength(2);
  });

  it('reports a bad similarity setting at load time', () => {
    const { diagnostics } = tryBuildGateway({ settings: { 'semanticCache.similarity': 'embeddings' }, api: policies({ inbound: lookup() }) });
    expect(diagnostics.find((d) => d.code === 'policy/bad-setting')?.message).toContain('allowed: "exact", "token-cosine"');
  });
});

describe('semantic cache validation', () => {
  it('checks the documented attributes', () => {
    const m = tryBuildGateway({
      api: policies({
        inbound:
          '<llm-semantic-cache-lookup score-threshold="1.5" embeddings-backend-id="e" embeddings-backend-auth="user-assigned" /><azure-openai-semantic-cache-lookup embeddings-backend-id="e" embeddings-backend-auth="system-assigned" />',
        outbound: '<llm-semantic-cache-store />',
      }),
    }).diagnostics.map((d) => d.message);
    expect(m).toContain('attribute "score-threshold" of <llm-semantic-cache-lookup> is 1.5, outside the allowed range');
    expect(m).toContain('attribute "embeddings-backend-auth" of <llm-semantic-cache-lookup> does not accept "user-assigned"');
    expect(m).toContain('<azure-openai-semantic-cache-lookup> is missing the required attribute "score-threshold"');
    expect(m).toContain('<llm-semantic-cache-store> is missing the required attribute "duration"');
  });

  it('warns (only) when the embeddings backend is not defined, since it is never called', () => {
    const { gateway, diagnostics } = tryBuildGateway({
      backends: [[{ name: 'other', properties: { url: 'http://127.0.0.1:9', protocol: 'http' } }]],
      api: policies({ inbound: lookup() }),
    });
    expect(gateway).not.toBeNull();
    expect(diagnostics.find((d) => d.code === 'policy/unknown-backend')).toMatchObject({ severity: 'warning', line: 2, column: 62 });
  });
});

describe.skipIf(!CORPUS_PRESENT)('corpus: the semantic-caching lab', () => {
  it('runs with its backends: the second identical prompt is served from the cache', async () => {
    const b = await llmBackend();
    const backendsJson = readFileSync(path.join(CORPUS_DIR, 'semantic-caching__backends.json'), 'utf8').split('https://foundry1.example.com').join(b.url);
    const placeholders = (JSON.parse(backendsJson) as { policyPlaceholders: Record<string, string> }).policyPlaceholders;
    const api = fillPlaceholders(readFileSync(path.join(CORPUS_DIR, 'semantic-caching__policy.xml'), 'utf8'), placeholders);
    const { gateway } = buildGateway({ api, global: policies({ backend: FORWARD }), backends: [backendsJson] });
    const first = await send(gateway, '/api/deployments/gpt-4o/chat/completions?api-version=2024-10-21', chat(['user', 'How to make coffee?']));
    expect(first.status).toBe(200);
    expect(n(await send(gateway, '/api/deployments/gpt-4o/chat/completions?api-version=2024-10-21', chat(['user', 'How to make coffee?'])))).toBe(1);
    expect(b.requests).toHaveLength(1);
    expect(b.requests[0]!.url).toBe('/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21');
  });
});

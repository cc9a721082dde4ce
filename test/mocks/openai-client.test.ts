import { AzureOpenAI } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { AZURE_OPENAI_MOCK, MockBackend } from '../../src/mocks/index.js';
import { readChatStream } from '../helpers/openai.js';

// The official client is the judge of whether the mock's answers have the shape real clients expect.
describe('the official openai client against the mock Azure OpenAI backend', () => {
  let backend: MockBackend;
  let client: AzureOpenAI;

  beforeAll(async () => {
    backend = await MockBackend.start({ name: 'aoai-mock', script: AZURE_OPENAI_MOCK, clock: new VirtualClock() });
    client = new AzureOpenAI({ endpoint: backend.url, apiKey: 'any-key', apiVersion: '2024-10-21', deployment: 'gpt-4o', maxRetries: 0 });
  });
  afterAll(async () => {
    await backend.close();
  });

  it('chat completion', async () => {
    const r = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello there' }] });
    expect(r.choices[0]!.message.content).toContain('aoai-mock');
    expect(r.usage).toEqual({ prompt_tokens: 3, completion_tokens: r.usage!.completion_tokens, total_tokens: 3 + r.usage!.completion_tokens });
    expect(r.usage!.completion_tokens).toBeGreaterThan(0);
    const logged = backend.requests.at(-1)!;
    expect(logged.path).toBe('/openai/deployments/gpt-4o/chat/completions');
    expect(logged.query).toBe('api-version=2024-10-21');
    expect(logged.headers['api-key']).toBe('any-key');
  });

  it('streamed chat completion with usage', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'stream please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const { chunks, text, totalTokens } = await readChatStream(stream);
    expect(chunks).toBeGreaterThan(3);
    expect(text).toMatch(/^Mock completion from backend aoai-mock \(request \d+\)\.$/);
    expect(totalTokens).toBe(Math.ceil('stream please'.length / 4) + Math.ceil(text.length / 4));
  });

  it('embeddings (the client asks for base64 and decodes it)', async () => {
    const r = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'], dimensions: 16 });
    expect(r.data).toHaveLength(2);
    expect(r.data[0]!.embedding).toHaveLength(16);
    expect(Math.hypot(...r.data[0]!.embedding)).toBeCloseTo(1, 4);
    expect(r.usage.prompt_tokens).toBe(2);
  });

  it('a scripted 429 surfaces as the client rate-limit error', async () => {
    const b = await MockBackend.start({
      name: 'busy',
      script: { steps: [{ times: 'forever', status: 429, retryAfter: 30, aoai: {} }] },
      clock: new VirtualClock(),
    });
    try {
      const c = new AzureOpenAI({ endpoint: b.url, apiKey: 'k', apiVersion: '2024-10-21', deployment: 'gpt-4o', maxRetries: 0 });
      const err = await c.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 429, code: '429' });
      expect((err as { headers: Headers }).headers.get('retry-after')).toBe('30');
    } finally {
      await b.close();
    }
  });
});

import { AzureOpenAI } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { AZURE_OPENAI_MOCK, MockBackend } from '../../src/mocks/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { buildGateway, policies } from '../helpers/gateway.js';
import { serve, closeAll } from './support.js';
import { readChatStream } from '../helpers/openai.js';

// The official client, unchanged, talks to the emulator as if it were Azure OpenAI behind APIM.
describe('the official openai AzureOpenAI client through the emulator', () => {
  let backend: MockBackend;
  let server: RunningServer;
  let client: AzureOpenAI;

  beforeAll(async () => {
    const clock = new VirtualClock();
    backend = await MockBackend.start({ name: 'aoai-1', script: AZURE_OPENAI_MOCK, clock });
    const { gateway } = buildGateway({
      clock,
      apiPath: 'openai',
      api: policies({
        inbound: `<base /><set-backend-service base-url="${backend.url}/openai" /><set-header name="x-via" exists-action="override"><value>apim-emulator</value></set-header>`,
        backend: '<forward-request />',
      }),
    });
    server = await serve(gateway, clock);
    client = new AzureOpenAI({ endpoint: server.url, apiKey: 'client-key', apiVersion: '2024-10-21', deployment: 'gpt-4o', maxRetries: 0 });
  });
  afterAll(async () => {
    await closeAll();
    await backend.close();
  });

  it('chat completion', async () => {
    const r = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello there' }] });
    expect(r.choices[0]!.message.content).toContain('aoai-1');
    expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + r.usage!.completion_tokens);
    const seen = backend.requests.at(-1)!;
    expect(seen.path).toBe('/openai/deployments/gpt-4o/chat/completions');
    expect(seen.query).toBe('api-version=2024-10-21');
    expect(seen.headers['api-key']).toBe('client-key');
    expect(seen.headers['x-via']).toBe('apim-emulator');
  });

  it('streamed chat completion arrives as many chunks with usage', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'stream please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const { chunks, text, totalTokens: total } = await readChatStream(stream);
    expect(chunks).toBeGreaterThan(3);
    expect(text).toMatch(/^Mock completion from backend aoai-1 \(request \d+\)\.$/);
    expect(total).toBeGreaterThan(0);
  });
});

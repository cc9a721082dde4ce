import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  countTokens,
  encodingForModel,
  estimatePromptTokens,
  loadEncoding,
  parseJsonBody,
  SseUsageObserver,
  usageFromJson,
} from '../../../src/policies/support/tokens.js';
import type { StreamOutcome } from '../../../src/policies/support/tokens.js';

describe('tokenizer', () => {
  it('counts known strings with the bundled vocabularies', async () => {
    const cl = await loadEncoding('cl100k_base');
    expect(countTokens(cl, 'Hello, world!')).toBe(4);
    expect(cl.encode('Hello, world!')).toEqual([9906, 11, 1917, 0]);
    expect(countTokens(cl, '')).toBe(0);
    // Special-token text is ordinary prompt text, never an error.
    expect(countTokens(cl, '<|endoftext|>')).toBeGreaterThan(1);
    const o2 = await loadEncoding('o200k_base');
    expect(countTokens(o2, 'Hello, world!')).toBe(4);
  });

  it('picks the vocabulary from the model or deployment name', () => {
    expect(encodingForModel('gpt-4o')).toBe('o200k_base');
    expect(encodingForModel('gpt-4o-mini-deployment')).toBe('o200k_base');
    expect(encodingForModel('gpt-4.1-nano')).toBe('o200k_base');
    expect(encodingForModel('o3-mini')).toBe('o200k_base');
    expect(encodingForModel('gpt-35-turbo')).toBe('cl100k_base');
    expect(encodingForModel('gpt-4')).toBe('cl100k_base');
    expect(encodingForModel('text-embedding-ada-002')).toBe('cl100k_base');
    expect(encodingForModel(undefined)).toBe('cl100k_base');
    expect(encodingForModel('DeepSeek-R1')).toBe('cl100k_base');
  });

  it('estimates chat prompts with the per-message overhead', async () => {
    const cl = await loadEncoding('cl100k_base');
    const body = { messages: [{ role: 'user', content: 'Hello, world!' }] };
    // 3 (message) + 1 ("user") + 4 (content) + 3 (reply priming)
    expect(estimatePromptTokens(cl, body)).toBe(11);
    const two = {
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Hello, world!', name: 'bob' },
      ],
    };
    const expected = 3 + countTokens(cl, 'system') + countTokens(cl, 'You are terse.') + 3 + countTokens(cl, 'user') + 4 + countTokens(cl, 'bob') + 1 + 3;
    expect(estimatePromptTokens(cl, two)).toBe(expected);
    const parts = {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Hello, world!' },
            { type: 'image_url', image_url: { url: 'data:' } },
          ],
        },
      ],
    };
    expect(estimatePromptTokens(cl, parts)).toBe(11 + 85);
  });

  it('estimates completions, embeddings and Responses API inputs', async () => {
    const cl = await loadEncoding('cl100k_base');
    expect(estimatePromptTokens(cl, { prompt: 'Hello, world!' })).toBe(4);
    expect(estimatePromptTokens(cl, { input: ['Hello, world!', 'Hello, world!'] })).toBe(8);
    expect(estimatePromptTokens(cl, { input: [1, 2, 3] })).toBe(3);
    expect(estimatePromptTokens(cl, { input: 'Hello, world!', instructions: 'Hello, world!' })).toBe(8);
    expect(estimatePromptTokens(cl, 'not an object')).toBe(0);
  });
});

describe('usage', () => {
  it('reads usage from OpenAI and Responses/Anthropic JSON', () => {
    expect(usageFromJson({ usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } })).toEqual({ prompt: 10, completion: 5, total: 15 });
    expect(usageFromJson({ usage: { input_tokens: 7, output_tokens: 3 } })).toEqual({ prompt: 7, completion: 3, total: 10 });
    expect(usageFromJson({ usage: { prompt_tokens: 8, total_tokens: 8 } })).toEqual({ prompt: 8, completion: 0, total: 8 });
    expect(usageFromJson({ choices: [] })).toBeUndefined();
    expect(usageFromJson({ usage: null })).toBeUndefined();
  });

  it('observes SSE chunks split anywhere, passing them through unchanged', async () => {
    const events = [
      'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n',
      'data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n',
      'data: {"choices":[{"index":0,"delta":{"content":"lo ✓"}}]}\n\n',
      'data: {"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}\n\n',
      'data: [DONE]\n\n',
    ];
    const all = Buffer.from(events.join(''));
    // Split into 7-byte pieces: lines and the multi-byte ✓ are cut across chunks.
    const pieces: Buffer[] = [];
    for (let i = 0; i < all.length; i += 7) pieces.push(all.subarray(i, i + 7));
    let outcome: StreamOutcome | undefined;
    const observer = new SseUsageObserver((o) => {
      outcome = o;
    });
    const out: Buffer[] = [];
    for await (const c of Readable.from(pieces).pipe(observer)) out.push(c as Buffer);
    expect(Buffer.concat(out).equals(all)).toBe(true);
    expect(outcome?.usage).toEqual({ prompt: 12, completion: 3, total: 15 });
    expect(outcome?.completionText).toBe('Hello ✓');
  });

  it('parses a body once for every policy that reads it, and a rewritten body anew', () => {
    const raw = Buffer.from('{"stream":true,"messages":[]}');
    const first = parseJsonBody(raw);
    expect(first).toEqual({ stream: true, messages: [] });
    expect(parseJsonBody(raw)).toBe(first);
    expect(parseJsonBody(Buffer.from('{"stream":true,"messages":[]}'))).not.toBe(first);
    const bad = Buffer.from('{not json');
    expect(parseJsonBody(bad)).toBeUndefined();
    expect(parseJsonBody(bad)).toBeUndefined();
  });

  it('tells every subscriber the outcome, one that joins after the end at once, even when another throws', async () => {
    const heard: string[] = [];
    const observer = new SseUsageObserver(() => {
      heard.push('first');
      throw new Error('first subscriber failed');
    });
    observer.subscribe((o) => heard.push(`second ${o.usage?.total}`));
    const failed = new Promise<Error>((resolve) => observer.on('error', resolve));
    observer.resume();
    observer.end(`data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } })}\n\n`);
    expect((await failed).message).toBe('first subscriber failed');
    expect(heard).toEqual(['first', 'second 3']);
    observer.subscribe((o) => heard.push(`late ${o.usage?.total}`));
    expect(heard).toEqual(['first', 'second 3', 'late 3']);
  });

  it('gathers text without usage, and reads Responses and Anthropic stream usage', () => {
    const noUsage = SseUsageObserver.parse('data: {"choices":[{"delta":{"content":"Hello, world!"}}]}\n\ndata: [DONE]\n\n');
    expect(noUsage.usage).toBeUndefined();
    expect(noUsage.completionText).toBe('Hello, world!');
    const responses = SseUsageObserver.parse(
      'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"Hi"}\n\nevent: response.completed\ndata: {"type":"response.completed","response":{"usage":{"input_tokens":9,"output_tokens":1,"total_tokens":10}}}\n\n',
    );
    expect(responses).toEqual({ usage: { prompt: 9, completion: 1, total: 10 }, completionText: 'Hi' });
    const anthropic = SseUsageObserver.parse(
      'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":20,"output_tokens":1}}}\n\ndata: {"type":"content_block_delta","delta":{"type":"text_delta","text":"Yo"}}\n\ndata: {"type":"message_delta","usage":{"output_tokens":6}}\n\n',
    );
    expect(anthropic.usage).toEqual({ prompt: 20, completion: 6, total: 26 });
    expect(anthropic.completionText).toBe('Yo');
  });
});

import type { AoaiOptions } from './script.js';

/**
 * Azure OpenAI-shaped responses generated from the request, for the mock backends. Token counts use a documented
 * approximation, not a tokenizer: tokens(text) = ceil(characters / 4), summed over the prompt's text parts (message
 * contents / prompt strings / embedding inputs); token-array inputs count one token per element.
 */
export function approxTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export type AoaiOperation = 'chat' | 'completions' | 'embeddings';

export interface AoaiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** What the mock will send: either a JSON body or a list of SSE events (each already JSON text, `[DONE]` last). */
export type AoaiAnswer =
  { kind: 'json'; status: number; body: unknown; usage?: AoaiUsage } | { kind: 'stream'; status: 200; events: string[]; usage: AoaiUsage };

export interface AoaiRequestInfo {
  path: string;
  bodyText: string;
  backendName: string;
  seq: number;
  nowMs: number;
}

export function aoaiOperation(path: string, body: Record<string, unknown> | undefined): AoaiOperation | undefined {
  const p = path.replace(/\/+$/, '').toLowerCase();
  if (p.endsWith('/chat/completions')) return 'chat';
  if (p.endsWith('/embeddings')) return 'embeddings';
  if (p.endsWith('/completions')) return 'completions';
  if (body) {
    if (Array.isArray(body.messages)) return 'chat';
    if (body.input !== undefined) return 'embeddings';
    if (body.prompt !== undefined) return 'completions';
  }
  return undefined;
}

export function aoaiError(status: number, code: string, message: string): unknown {
  return { error: { code, message, type: status === 429 ? 'rate_limit_exceeded' : 'invalid_request_error', param: null } };
}

/** A status ≥ 400 on an aoai step: the error body Azure OpenAI would send for it. */
export function aoaiErrorFor(status: number, retryAfter: number | undefined, backendName: string): unknown {
  if (status === 429) {
    const wait = retryAfter ?? 60;
    return aoaiError(
      429,
      '429',
      `Requests to the ChatCompletions_Create Operation under Azure OpenAI API have exceeded token rate limit of your current pricing tier. Please retry after ${wait} seconds. (mock backend ${backendName})`,
    );
  }
  if (status === 404) return aoaiError(404, 'DeploymentNotFound', `The API deployment for this resource does not exist. (mock backend ${backendName})`);
  if (status === 400) return aoaiError(400, 'BadRequest', `Bad request. (mock backend ${backendName})`);
  if (status === 401) return aoaiError(401, '401', `Access denied due to invalid subscription key or wrong API endpoint. (mock backend ${backendName})`);
  return aoaiError(status, String(status), `Scripted ${status} from mock backend ${backendName}.`);
}

/** What Azure OpenAI's quota admission looks at: the deployment and the estimated max tokens of the request. */
export interface AoaiEstimate {
  operation: AoaiOperation;
  /** From the path (`/deployments/{name}/`), else the body's `model`, else ''. */
  deployment: string;
  promptTokens: number;
  /** `max_completion_tokens` / `max_tokens` when given (0 for embeddings). */
  maxTokens: number | undefined;
  /** Prompt tokens + max tokens: the reservation Azure makes at admission. */
  estimate: number;
}

/**
 * The admission estimate for a request, with the same token approximation as the answers (so an answer's prompt_tokens
 * equals the estimate's). Undefined for requests the mock answers with 400/404 (not JSON, unknown operation, bad input).
 */
export function estimateAoaiRequest(path: string, bodyText: string): AoaiEstimate | undefined {
  let body: Record<string, unknown> = {};
  if (bodyText.trim() !== '') {
    try {
      const parsed = JSON.parse(bodyText) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
      body = parsed as Record<string, unknown>;
    } catch {
      return undefined;
    }
  }
  const operation = aoaiOperation(path, body);
  if (!operation) return undefined;
  const fromPath = /\/deployments\/([^/]+)\//i.exec(path)?.[1];
  const deployment = fromPath ? decodeURIComponent(fromPath) : typeof body.model === 'string' ? body.model : '';
  let promptTokens: number;
  let maxTokens: number | undefined;
  if (operation === 'embeddings') {
    const input = body.input;
    if (typeof input === 'string') promptTokens = approxTokens(input);
    else if (Array.isArray(input) && input.every((x) => typeof x === 'number')) promptTokens = input.length;
    else if (Array.isArray(input) && input.every((x) => typeof x === 'string' || (Array.isArray(x) && x.every((y) => typeof y === 'number')))) {
      promptTokens = (input as Array<string | number[]>).reduce((n, x) => n + (typeof x === 'string' ? approxTokens(x) : x.length), 0);
    } else return undefined;
  } else {
    promptTokens = approxTokens(operation === 'chat' ? chatPromptText(body.messages) : promptText(body.prompt));
    maxTokens = numberField(body.max_completion_tokens) ?? numberField(body.max_tokens);
  }
  return { operation, deployment, promptTokens, maxTokens, estimate: promptTokens + (maxTokens ?? 0) };
}

export function generateAoai(opts: AoaiOptions, req: AoaiRequestInfo): AoaiAnswer {
  let body: Record<string, unknown> | undefined;
  if (req.bodyText.trim() !== '') {
    try {
      const parsed = JSON.parse(req.bodyText) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        return { kind: 'json', status: 400, body: aoaiError(400, 'BadRequest', 'The request body must be a JSON object.') };
      }
      body = parsed as Record<string, unknown>;
    } catch (e) {
      return { kind: 'json', status: 400, body: aoaiError(400, 'BadRequest', `The request body is not valid JSON: ${(e as Error).message}`) };
    }
  }
  const op = aoaiOperation(req.path, body);
  if (!op) {
    return {
      kind: 'json',
      status: 404,
      body: aoaiError(
        404,
        '404',
        `Resource not found: the mock Azure OpenAI backend ${req.backendName} serves .../chat/completions, .../completions and .../embeddings.`,
      ),
    };
  }
  body ??= {};
  const deployment = /\/deployments\/([^/]+)\//i.exec(req.path)?.[1];
  const model = opts.model ?? (typeof body.model === 'string' ? body.model : undefined) ?? (deployment ? decodeURIComponent(deployment) : 'gpt-4o-mini');
  const created = Math.floor(req.nowMs / 1000);
  const tag = `${sanitizeId(req.backendName)}-${req.seq}`;

  if (op === 'embeddings') return embeddings(body, model, tag);

  const promptChars = op === 'chat' ? chatPromptText(body.messages) : promptText(body.prompt);
  const prompt_tokens = approxTokens(promptChars);
  let content = opts.content ?? `Mock completion from backend ${req.backendName} (request ${req.seq}).`;
  if (opts.completionTokens !== undefined) content = fitToTokens(content, opts.completionTokens);
  let finish_reason = 'stop';
  const maxTokens = numberField(body.max_completion_tokens) ?? numberField(body.max_tokens);
  if (maxTokens !== undefined && approxTokens(content) > maxTokens) {
    content = content.slice(0, maxTokens * 4);
    finish_reason = 'length';
  }
  const completion_tokens = approxTokens(content);
  const usage: AoaiUsage = { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens };
  const common = { created, model, system_fingerprint: `mock-${sanitizeId(req.backendName)}` };

  if (body.stream === true) {
    const includeUsage = (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    const usageField = includeUsage ? { usage: null } : {};
    const pieces = splitForStreaming(content);
    const events: string[] = [];
    if (op === 'chat') {
      const id = `chatcmpl-${tag}`;
      const chunk = (delta: Record<string, unknown>, fr: string | null) =>
        JSON.stringify({ id, object: 'chat.completion.chunk', ...common, choices: [{ index: 0, delta, logprobs: null, finish_reason: fr }], ...usageField });
      events.push(chunk({ role: 'assistant', content: '' }, null));
      for (const p of pieces) events.push(chunk({ content: p }, null));
      events.push(chunk({}, finish_reason));
      if (includeUsage) events.push(JSON.stringify({ id, object: 'chat.completion.chunk', ...common, choices: [], usage }));
    } else {
      const id = `cmpl-${tag}`;
      const chunk = (text: string, fr: string | null) =>
        JSON.stringify({ id, object: 'text_completion', ...common, choices: [{ index: 0, text, logprobs: null, finish_reason: fr }], ...usageField });
      for (const p of pieces) events.push(chunk(p, null));
      events.push(chunk('', finish_reason));
      if (includeUsage) events.push(JSON.stringify({ id, object: 'text_completion', ...common, choices: [], usage }));
    }
    events.push('[DONE]');
    return { kind: 'stream', status: 200, events, usage };
  }

  if (op === 'chat') {
    return {
      kind: 'json',
      status: 200,
      usage,
      body: {
        id: `chatcmpl-${tag}`,
        object: 'chat.completion',
        ...common,
        choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason }],
        usage,
      },
    };
  }
  return {
    kind: 'json',
    status: 200,
    usage,
    body: { id: `cmpl-${tag}`, object: 'text_completion', ...common, choices: [{ index: 0, text: content, logprobs: null, finish_reason }], usage },
  };
}

function embeddings(body: Record<string, unknown>, model: string, tag: string): AoaiAnswer {
  const input = body.input;
  let inputs: Array<string | number[]>;
  if (typeof input === 'string') inputs = [input];
  else if (Array.isArray(input) && input.every((x) => typeof x === 'number')) inputs = [input as number[]];
  else if (Array.isArray(input) && input.every((x) => typeof x === 'string' || (Array.isArray(x) && x.every((y) => typeof y === 'number')))) {
    inputs = input as Array<string | number[]>;
  } else {
    return { kind: 'json', status: 400, body: aoaiError(400, 'BadRequest', "'input' must be a string, an array of strings or an array of token arrays.") };
  }
  const dims = numberField(body.dimensions) ?? 1536;
  const base64 = body.encoding_format === 'base64';
  let prompt_tokens = 0;
  const data = inputs.map((x, index) => {
    const text = typeof x === 'string' ? x : x.join(',');
    prompt_tokens += typeof x === 'string' ? approxTokens(x) : x.length;
    const vec = pseudoEmbedding(text, dims);
    return { object: 'embedding', index, embedding: base64 ? Buffer.from(vec.buffer, vec.byteOffset, vec.byteLength).toString('base64') : Array.from(vec) };
  });
  const usage: AoaiUsage = { prompt_tokens, completion_tokens: 0, total_tokens: prompt_tokens };
  return { kind: 'json', status: 200, usage, body: { object: 'list', data, model, usage: { prompt_tokens, total_tokens: prompt_tokens }, id: `emb-${tag}` } };
}

/** Deterministic unit vector from the text (FNV-1a seed, xorshift), so equal inputs get equal embeddings. */
export function pseudoEmbedding(text: string, dims: number): Float32Array {
  let seed = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) seed = Math.imul(seed ^ text.charCodeAt(i), 0x01000193) >>> 0;
  let s = seed || 1;
  const v = new Float32Array(dims);
  let norm = 0;
  for (let i = 0; i < dims; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    const x = s / 0xffffffff - 0.5;
    v[i] = x;
    norm += x * x;
  }
  const n = Math.sqrt(norm) || 1;
  for (let i = 0; i < dims; i++) v[i] = v[i]! / n;
  return v;
}

function chatPromptText(messages: unknown): string {
  if (!Array.isArray(messages)) return '';
  let out = '';
  for (const m of messages) {
    const c = (m as { content?: unknown } | null)?.content;
    if (typeof c === 'string') out += c;
    else if (Array.isArray(c)) for (const part of c) if (typeof (part as { text?: unknown })?.text === 'string') out += (part as { text: string }).text;
  }
  return out;
}

function promptText(prompt: unknown): string {
  if (typeof prompt === 'string') return prompt;
  if (Array.isArray(prompt)) return prompt.filter((p): p is string => typeof p === 'string').join('');
  return '';
}

function numberField(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : undefined;
}

/** Exactly `tokens × 4` characters (so approxTokens gives back `tokens`), starting with the given text. */
function fitToTokens(content: string, tokens: number): string {
  const want = tokens * 4;
  let s = content;
  while (s.length < want) s += ' lorem ipsum dolor sit amet';
  return s.slice(0, want);
}

/** Word-sized pieces, each keeping its trailing space, as real streams deliver roughly one token per chunk. */
function splitForStreaming(content: string): string[] {
  if (content === '') return [];
  return content.match(/\S+\s*|\s+/g) ?? [content];
}

function sanitizeId(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}

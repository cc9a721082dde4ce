import { StringDecoder } from 'node:string_decoder';
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import type { Tiktoken, TiktokenBPE, TiktokenModel } from 'js-tiktoken/lite';
import type { CompileContext, GatewayContext } from '../../engine/policy-sdk.js';
import { MessageBody, defineSetting, lazyLibrary } from '../../engine/policy-sdk.js';

// The tokenizer library loads when a token policy first needs it, its vocabularies on first use (src/lazy-library.ts).
const tiktoken = lazyLibrary<typeof import('js-tiktoken/lite')>('js-tiktoken/lite');

/**
 * Token counting for the token-limit policies: a real BPE tokenizer (js-tiktoken with the vocabularies it ships, so
 * nothing is downloaded at run time), prompt estimation over the request shapes LLM APIs use, and the reported
 * `usage` read from JSON bodies and from server-sent events as they stream past.
 */

export type EncodingName = 'cl100k_base' | 'o200k_base';

/** `settings["tokenizer.encoding"]`: forces one tokenizer for every model (else chosen per model). */
export const TOKENIZER_ENCODING_SETTING = defineSetting<EncodingName>('tokenizer.encoding', 'forced tokenizer: cl100k_base or o200k_base', (v) =>
  v === 'cl100k_base' || v === 'o200k_base'
    ? { ok: true, value: v }
    : { ok: false, message: `settings["tokenizer.encoding"] is ${JSON.stringify(v)}; allowed: "cl100k_base", "o200k_base"` },
);

/** The forced encoding, reporting a bad setting at the policy element. */
export function forcedEncoding(
  cx: CompileContext,
  el: { source: import('../../engine/policy-sdk.js').XmlElement['source']; start: number },
): EncodingName | undefined {
  const r = cx.setting(TOKENIZER_ENCODING_SETTING);
  if (!r.ok) {
    cx.diagnostics.error(el.source, el.start, 'policy/bad-setting', r.message);
    return undefined;
  }
  return r.value;
}

const encodings = new Map<EncodingName, Promise<Tiktoken>>();

/** Loads a vocabulary once per process (cl100k_base ~0.3 s, o200k_base ~0.5 s), on first use. */
export function loadEncoding(name: EncodingName): Promise<Tiktoken> {
  let p = encodings.get(name);
  if (!p) {
    p = (name === 'o200k_base' ? import('js-tiktoken/ranks/o200k_base') : import('js-tiktoken/ranks/cl100k_base')).then(
      (m: { default: TiktokenBPE }) => new (tiktoken().Tiktoken)(m.default),
    );
    encodings.set(name, p);
  }
  return p;
}

/** Encodings already loaded, so that later requests tokenize synchronously. */
const loadedEncodings = new Map<EncodingName, Tiktoken>();

/** The encoding when it has been loaded already, else undefined. */
export function loadedEncoding(name: EncodingName): Tiktoken | undefined {
  return loadedEncodings.get(name);
}

/** Runs `then` with the encoding: synchronously once it is loaded, else after loading it (first use in the process). */
export function withEncoding<R>(name: EncodingName, then: (enc: Tiktoken) => R): R | Promise<R> {
  const loaded = loadedEncodings.get(name);
  if (loaded) return then(loaded);
  return loadEncoding(name).then((enc) => {
    loadedEncodings.set(name, enc);
    return then(enc);
  });
}

/**
 * The encoding for a request: the `tokenizer.encoding` setting when set, else by the body's `model`, else by the
 * deployment name of an Azure OpenAI path (`/deployments/{name}/…`), which stands in for the model.
 */
export function requestEncoding(info: PromptInfo, path: string, forced: EncodingName | undefined): EncodingName {
  if (forced) return forced;
  const m = /\/deployments\/([^/]+)/i.exec(path);
  return encodingForModel(info.model ?? (m ? decodeURIComponent(m[1]!) : undefined));
}

/**
 * The vocabulary a model uses: tiktoken's own model table, else o200k_base for the gpt-4o / gpt-4.1 / gpt-5 / o-series
 * families and cl100k_base for everything else (gpt-4, gpt-35-turbo, text-embedding-*, non-OpenAI models, unknown).
 */
export function encodingForModel(model: string | undefined): EncodingName {
  if (!model) return 'cl100k_base';
  const m = model.trim().toLowerCase();
  try {
    const name = tiktoken().getEncodingNameForModel(m as TiktokenModel);
    if (name === 'o200k_base' || name === 'cl100k_base') return name;
  } catch {
    // not in tiktoken's table: fall through to the family rules
  }
  if (/gpt-?4o|gpt-?4\.[15]|gpt-?5|(^|[^a-z0-9])o[1-9](-|$)|chatgpt-4o/.test(m)) return 'o200k_base';
  return 'cl100k_base';
}

export function countTokens(enc: Tiktoken, text: string): number {
  if (text.length === 0) return 0;
  // Special-token text such as "<|endoftext|>" in a prompt is ordinary text to the gateway: never throw on it.
  return enc.encode(text, [], []).length;
}

/** Completion tokens of streamed text: tokenized when an encoding is at hand, else about 4 characters a token. */
export function completionTokens(enc: Tiktoken | undefined, text: string): number {
  return enc ? countTokens(enc, text) : Math.ceil(text.length / 4);
}

/** A request body as JSON, undefined when it is empty or not JSON (the prompt then counts nothing). */
export function parseJsonBody(raw: Buffer | null | undefined): unknown {
  if (!raw || raw.length === 0) return undefined;
  // Token limit and token metrics on one request read the same bytes: parsed once, shared, never mutated by readers.
  if (parsedBodies.has(raw)) return parsedBodies.get(raw);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  parsedBodies.set(raw, parsed);
  return parsed;
}

/** Request bodies already parsed, by the very Buffer (a policy that rewrites the body makes a new one). */
const parsedBodies = new WeakMap<Buffer, unknown>();

/** What the request body says about the prompt. */
export interface PromptInfo {
  /** `"stream": true` in the body. */
  stream: boolean;
  /** `model` in the body, when present. */
  model: string | undefined;
}

export function promptInfo(body: unknown): PromptInfo {
  if (!isRecord(body)) return { stream: false, model: undefined };
  return { stream: body.stream === true, model: typeof body.model === 'string' ? body.model : undefined };
}

/** Tokens an image part costs in the estimate (OpenAI's "low detail" price); the real cost depends on its size. */
const IMAGE_TOKENS = 85;

/**
 * Estimated prompt tokens of a request body, by API shape:
 * - chat completions (`messages`): OpenAI's counting recipe for chat models, 3 tokens per message plus its role, content
 *   and name (+1 for a name), plus 3 priming the reply; text parts of multi-part content are counted, image parts cost
 *   a flat 85; tool calls and `tools`/`functions` definitions are counted as their JSON text;
 * - Responses API (`input` + `instructions`), Anthropic Messages (`system` + `messages`);
 * - completions (`prompt`) and embeddings (`input`): the text, or the length of token arrays.
 */
export function estimatePromptTokens(enc: Tiktoken, body: unknown): number {
  if (!isRecord(body)) return 0;
  let n = 0;
  if (Array.isArray(body.messages)) {
    for (const msg of body.messages) {
      n += 3;
      if (!isRecord(msg)) continue;
      for (const [k, v] of Object.entries(msg)) {
        if (k === 'content') n += contentTokens(enc, v);
        else if (typeof v === 'string') n += countTokens(enc, v) + (k === 'name' ? 1 : 0);
        else if (v !== null && v !== undefined && k !== 'role') n += countTokens(enc, JSON.stringify(v));
      }
    }
    n += 3;
    if (typeof body.system === 'string' || Array.isArray(body.system)) n += contentTokens(enc, body.system);
  } else if (body.input !== undefined && (body.instructions !== undefined || isResponsesInput(body.input))) {
    if (typeof body.instructions === 'string') n += countTokens(enc, body.instructions);
    n += responsesInputTokens(enc, body.input);
  } else if (body.prompt !== undefined) {
    n += textOrTokens(enc, body.prompt);
  } else if (body.input !== undefined) {
    n += textOrTokens(enc, body.input);
  }
  for (const key of ['tools', 'functions'] as const) {
    if (Array.isArray(body[key]) && (body[key] as unknown[]).length > 0) n += countTokens(enc, JSON.stringify(body[key]));
  }
  return n;
}

function contentTokens(enc: Tiktoken, content: unknown): number {
  if (typeof content === 'string') return countTokens(enc, content);
  if (!Array.isArray(content)) return content === null || content === undefined ? 0 : countTokens(enc, JSON.stringify(content));
  let n = 0;
  for (const part of content) {
    if (typeof part === 'string') n += countTokens(enc, part);
    else if (isRecord(part)) {
      if (typeof part.text === 'string') n += countTokens(enc, part.text);
      else if (typeof part.type === 'string' && part.type.includes('image')) n += IMAGE_TOKENS;
    }
  }
  return n;
}

function isResponsesInput(input: unknown): boolean {
  return Array.isArray(input) && input.some((i) => isRecord(i) && (i.role !== undefined || i.type === 'message'));
}

function responsesInputTokens(enc: Tiktoken, input: unknown): number {
  if (typeof input === 'string') return countTokens(enc, input);
  if (!Array.isArray(input)) return 0;
  let n = 0;
  for (const item of input) {
    if (typeof item === 'string') n += countTokens(enc, item);
    else if (isRecord(item)) {
      n += 3;
      if (typeof item.role === 'string') n += countTokens(enc, item.role);
      if (item.content !== undefined) n += contentTokens(enc, item.content);
      else if (typeof item.output === 'string') n += countTokens(enc, item.output);
    }
  }
  return n;
}

/** A string, an array of strings, a token array, or an array of token arrays. */
function textOrTokens(enc: Tiktoken, v: unknown): number {
  if (typeof v === 'string') return countTokens(enc, v);
  if (!Array.isArray(v)) return 0;
  let n = 0;
  for (const item of v) {
    if (typeof item === 'string') n += countTokens(enc, item);
    else if (typeof item === 'number') n += 1;
    else if (Array.isArray(item)) n += item.length;
  }
  return n;
}

/** Token usage as a backend reports it. */
export interface TokenUsage {
  prompt: number;
  completion: number;
  total: number;
}

/**
 * `usage` of a JSON response: OpenAI chat/completions/embeddings (`prompt_tokens`, `completion_tokens`, `total_tokens`),
 * Responses API and Anthropic (`input_tokens`, `output_tokens`). Undefined when the body reports none.
 */
export function usageFromJson(body: unknown): TokenUsage | undefined {
  if (!isRecord(body)) return undefined;
  const u = isRecord(body.usage) ? body.usage : isRecord(body.response) && isRecord(body.response.usage) ? body.response.usage : undefined;
  if (!u) return undefined;
  const prompt = num(u.prompt_tokens) ?? num(u.input_tokens);
  const completion = num(u.completion_tokens) ?? num(u.output_tokens);
  const total = num(u.total_tokens) ?? (prompt !== undefined || completion !== undefined ? (prompt ?? 0) + (completion ?? 0) : undefined);
  if (total === undefined) return undefined;
  return { prompt: prompt ?? 0, completion: completion ?? Math.max(0, total - (prompt ?? 0)), total };
}

/** What a streamed (SSE) response told us once it ended. */
export interface StreamOutcome {
  /** Usage from the stream (the final chunk of `stream_options.include_usage`, `response.completed`, Anthropic events). */
  usage: TokenUsage | undefined;
  /** The generated text gathered from the deltas, for estimating completion tokens when no usage was sent. */
  completionText: string;
}

/** What a token policy does with the usage of the backend's answer (readResponseUsage). */
export interface UsageHandlers {
  /** The answer is a server-sent event stream: called at once; returns what to run when the stream has ended. */
  stream(): (outcome: StreamOutcome) => void;
  /**
   * The answer is JSON: its `usage`, undefined when it reports none (an error answer) or is not JSON after all. A
   * promise returned (a shared store's write) is waited for before outbound.
   */
  json(usage: TokenUsage | undefined): void | Promise<unknown>;
}

/**
 * Reads the usage of the backend's answer (run before outbound). An SSE answer (`text/event-stream`, or a streamed
 * request answered without a JSON type) is observed chunk by chunk as it goes to the client, never held back, or parsed
 * at once when a policy buffered it already; a JSON answer is read into memory. Other answers are left alone.
 */
export async function readResponseUsage(c: GatewayContext, requestStreams: boolean, on: UsageHandlers): Promise<void> {
  const res = c.response.body;
  if (!res) return;
  const type = c.response.headers.getJoined('Content-Type')?.toLowerCase() ?? '';
  if (type.includes('text/event-stream') || (requestStreams && !type.includes('json'))) {
    const finish = on.stream();
    if (res.liveStream) {
      // Token limit and token metrics on one API read the same stream: the second joins the first one's observer
      // (one JSON parse per event, one stream stage) instead of adding its own.
      const shared = observedBodies.get(res);
      if (shared) return shared.subscribe(finish);
      const observer = new SseUsageObserver(finish);
      const source = res.toStream();
      source.on('error', (e) => observer.destroy(e));
      const observed = MessageBody.fromStream(source.pipe(observer));
      observedBodies.set(observed, observer);
      c.response.body = observed;
    } else finish(SseUsageObserver.parse((res.peek() ?? Buffer.alloc(0)).toString('utf8')));
    return;
  }
  if (!type.includes('json')) return;
  const usage = usageFromJson(parseJsonBody(await res.buffer()));
  const written = on.json(usage);
  if (written) await written;
}

/** Live response bodies that already pass through an observer (readResponseUsage), so another policy can join it. */
const observedBodies = new WeakMap<MessageBody, SseUsageObserver>();

/**
 * Reads server-sent events as they pass without holding them back: each chunk is forwarded at once; complete `data:`
 * lines are parsed for usage and delta text. Each subscriber (`onEnd`, then subscribe()) runs once when the stream
 * has ended (not when it was aborted).
 */
export class SseUsageObserver extends Transform {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private readonly texts: string[] = [];
  private usage: TokenUsage | undefined;
  private anthropicInput: number | undefined;
  private readonly onEnd: Array<(outcome: StreamOutcome) => void>;
  /** Set once the stream has ended: a subscriber that joins later is told at once. */
  private ended: StreamOutcome | undefined;

  constructor(onEnd: (outcome: StreamOutcome) => void) {
    super();
    this.onEnd = [onEnd];
  }

  /** Another reader of the same stream's outcome. */
  subscribe(onEnd: (outcome: StreamOutcome) => void): void {
    if (this.ended) onEnd(this.ended);
    else this.onEnd.push(onEnd);
  }

  override _transform(chunk: Buffer | string, _enc: BufferEncoding, cb: TransformCallback): void {
    this.observe(typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.observe(this.decoder.end() + '\n');
    const outcome = (this.ended = this.outcome());
    // Every subscriber hears the end, even when an earlier one throws; the first error then fails the stream.
    let failure: Error | undefined;
    for (const f of this.onEnd) {
      try {
        f(outcome);
      } catch (e) {
        failure ??= e instanceof Error ? e : new Error(String(e));
      }
    }
    cb(failure);
  }

  /** Parses a whole SSE text at once (a response some policy had already buffered). */
  static parse(text: string): StreamOutcome {
    const o = new SseUsageObserver(() => undefined);
    o.observe(`${text}\n`);
    return o.outcome();
  }

  private outcome(): StreamOutcome {
    return { usage: this.usage, completionText: this.texts.join('') };
  }

  private observe(text: string): void {
    // One pass over the new text by index (no string per skipped line): this runs for every chunk of every stream.
    const buf = this.pending.length > 0 ? this.pending + text : text;
    let start = 0;
    let nl: number;
    while ((nl = buf.indexOf('\n', start)) >= 0) {
      if (buf.startsWith('data:', start)) this.data(buf.slice(start + 5, buf.charCodeAt(nl - 1) === 13 ? nl - 1 : nl).trim());
      start = nl + 1;
    }
    this.pending = start === 0 ? buf : buf.slice(start);
  }

  private data(payload: string): void {
    if (payload === '' || payload === '[DONE]' || (payload[0] !== '{' && payload[0] !== '[')) return;
    let ev: unknown;
    try {
      ev = JSON.parse(payload);
    } catch {
      return; // not JSON: nothing to count
    }
    if (!isRecord(ev)) return;
    // Anthropic: input tokens come in message_start, output tokens in message_delta.
    if (isRecord(ev.message) && isRecord(ev.message.usage)) this.anthropicInput = num(ev.message.usage.input_tokens) ?? this.anthropicInput;
    const u = usageFromJson(ev);
    if (u) {
      if (ev.type === 'message_delta' && this.anthropicInput !== undefined && num((ev.usage as Record<string, unknown>).input_tokens) === undefined) {
        this.usage = { prompt: this.anthropicInput, completion: u.completion, total: this.anthropicInput + u.completion };
      } else this.usage = u;
    }
    if (Array.isArray(ev.choices)) {
      for (const c of ev.choices) {
        if (!isRecord(c)) continue;
        if (isRecord(c.delta)) {
          if (typeof c.delta.content === 'string') this.texts.push(c.delta.content);
          if (Array.isArray(c.delta.tool_calls)) this.texts.push(JSON.stringify(c.delta.tool_calls));
        } else if (typeof c.text === 'string') this.texts.push(c.text);
      }
    } else if (ev.type === 'response.output_text.delta' && typeof ev.delta === 'string') this.texts.push(ev.delta);
    else if (isRecord(ev.delta) && typeof ev.delta.text === 'string') this.texts.push(ev.delta.text);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { AoaiQuota } from './quota.js';

/**
 * What a scripted mock backend does, request by request. Scripts come from configuration (JSON, validated by
 * schemas/mock-script.schema.json) or from the CLI (`--mock BACKEND_ID="429x3 retry-after=7; 200"`, see text-form.ts).
 */
export interface MockScript {
  steps: MockStep[];
  /**
   * What happens once every step has used up its `times`:
   * - `repeat-last` (default): the last step answers every further request;
   * - `cycle`: start again at the first step;
   * - a status code: every further request gets that status with the default body.
   */
  then?: MockScriptEnd;
}

export type MockScriptEnd = 'repeat-last' | 'cycle' | number;

export interface MockStep {
  /** How many consecutive requests this step answers (default 1); `forever` only on the last step. */
  times: number | 'forever';
  /** Response status (default 200). */
  status?: number;
  /** Extra response headers. */
  headers?: Record<string, string | string[]>;
  /** Response body: a string is sent as text/plain, anything else as JSON. Default: a small JSON body naming the backend. */
  body?: unknown;
  /** A generic server-sent-event stream: each item becomes one `data:` event (objects as JSON). */
  sse?: Array<string | Record<string, unknown> | unknown[]>;
  /** An Azure OpenAI-shaped answer generated from the request (chat completions, completions, embeddings). */
  aoai?: AoaiOptions;
  /** Clock time to wait before answering (on a VirtualClock in `advance` mode the clock jumps by this much). */
  latencyMs?: number;
  /** Clock time between SSE events (default 0). */
  chunkDelayMs?: number;
  /** Destroy the connection (TCP reset) instead of answering. */
  reset?: boolean;
  /**
   * Accept the request and never answer until the client aborts. With `latencyMs`, answer after that much clock
   * time, waiting as a deadline: a VirtualClock is not pushed forward, somebody else has to advance it.
   */
  hang?: boolean;
  /**
   * Streamed responses: send this many SSE events, then destroy the socket (mid-stream failure).
   * Non-streamed responses: send the headers and the first half of the body, then destroy the socket.
   */
  sseFailAfterChunks?: number;
  /** Shorthand for a `Retry-After: <seconds>` header. */
  retryAfter?: number;
  /** Adds x-ratelimit-remaining-requests / -tokens headers computed against these per-minute limits. */
  rateLimitHeaders?: RateLimitSpec;
}

export interface AoaiOptions {
  /** Response `model`; default: the request body's `model`, else the deployment name from the path, else `gpt-4o-mini`. */
  model?: string;
  /** Assistant text; default `Mock completion from backend <name> (request <seq>).` */
  content?: string;
  /** Make the completion exactly this many (approximate) tokens long: content padded or cut to 4×N characters. */
  completionTokens?: number;
  /** Value of the `x-ms-region` response header, as real Azure OpenAI sends it. */
  region?: string;
  /**
   * Per-deployment TPM / RPM limits enforced like Azure OpenAI: over the limit the mock answers 429 with Retry-After
   * by itself; every answer carries x-ratelimit-remaining-requests / -tokens (see quota.ts and docs/mocks.md).
   */
  quota?: AoaiQuota;
}

export interface RateLimitSpec {
  /** Requests per minute (default 1000). */
  requests?: number;
  /** Tokens per minute (default 100000). */
  tokens?: number;
}

export const DEFAULT_RATE_LIMIT = { requests: 1000, tokens: 100_000 } as const;

/** The built-in "always answer like Azure OpenAI" script used for the example's mock AOAI backends. */
export const AZURE_OPENAI_MOCK: MockScript = Object.freeze({
  steps: [{ times: 'forever', aoai: {}, rateLimitHeaders: { ...DEFAULT_RATE_LIMIT } }],
}) as MockScript;

/** Statuses that must not carry a body (RFC 9110). */
export const BODYLESS_STATUSES = new Set([204, 304]);

/** Where a semantic problem sits: the text form points at an offset, the JSON form at a JSON path. */
/**
 * Size limits of a mock script (docs/limits.md): a script is a handful of steps; a megabyte of them blocked the event
 * loop for seconds when PUT through the admin API and answered with tens of megabytes of diagnostics.
 */
export const MOCK_SCRIPT_LIMITS = { textChars: 64 * 1024, steps: 1_000 } as const;

export type StepLocator = (stepIndex: number, field?: keyof MockStep) => Pick<Diagnostic, 'file' | 'line' | 'column' | 'jsonPath'>;

/**
 * Checks that hold for both forms (the JSON schema and the text grammar check shapes; these check combinations).
 */
export function checkScript(
  script: MockScript,
  locate: StepLocator,
  locateThen: () => Pick<Diagnostic, 'file' | 'line' | 'column' | 'jsonPath'>,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const err = (i: number, field: keyof MockStep | undefined, message: string, hint?: string) =>
    out.push({ severity: 'error', code: 'mock/conflict', message, ...(hint ? { hint } : {}), ...locate(i, field) });
  const warn = (i: number, field: keyof MockStep | undefined, message: string, hint?: string) =>
    out.push({ severity: 'warning', code: 'mock/unused', message, ...(hint ? { hint } : {}), ...locate(i, field) });

  if (script.steps.length === 0) {
    out.push({
      severity: 'error',
      code: 'mock/empty',
      message: 'a mock script needs at least one step',
      hint: 'e.g. "200" or "429x3 retry-after=7; 200"',
      ...locateThen(),
    });
  }
  script.steps.forEach((s, i) => {
    const n = i + 1;
    if (s.times === 'forever' && i < script.steps.length - 1) {
      err(
        i,
        'times',
        `step ${n} repeats forever, so the ${script.steps.length - 1 - i} step(s) after it are never reached`,
        'only the last step may use "forever"',
      );
    }
    const answers = [s.body !== undefined && 'body', s.aoai !== undefined && 'aoai', s.sse !== undefined && 'sse'].filter(Boolean) as string[];
    if (answers.length > 1) err(i, answers[1] as keyof MockStep, `step ${n} gives both ${answers.join(' and ')}`, 'choose one of body, aoai, sse');
    if (s.reset) {
      const extra = (
        ['status', 'headers', 'body', 'aoai', 'sse', 'hang', 'sseFailAfterChunks', 'retryAfter', 'rateLimitHeaders', 'chunkDelayMs'] as const
      ).filter((k) => s[k] !== undefined && s[k] !== false);
      if (extra.length)
        err(i, extra[0], `step ${n} resets the connection, so it never sends ${extra.join(', ')}`, 'reset combines only with times and latency');
    }
    if (s.hang && s.latencyMs === undefined) {
      const extra = (['status', 'headers', 'body', 'aoai', 'sse', 'sseFailAfterChunks', 'retryAfter', 'rateLimitHeaders', 'chunkDelayMs'] as const).filter(
        (k) => s[k] !== undefined,
      );
      if (extra.length)
        warn(i, extra[0], `step ${n} hangs without a latency, so it never answers and ${extra.join(', ')} is unused`, 'add latency to answer after a while');
    }
    if (s.status !== undefined && BODYLESS_STATUSES.has(s.status) && (s.body !== undefined || s.sse !== undefined || s.aoai !== undefined)) {
      err(i, 'body', `status ${s.status} cannot carry a body`, 'drop the body or use another status');
    }
    if (s.aoai?.quota && s.status !== undefined && s.status >= 400) {
      warn(
        i,
        'aoai',
        `step ${n} answers ${s.status} by script, so its quota is never consulted`,
        'quota applies to steps that answer like Azure OpenAI (status 2xx)',
      );
    }
    if (s.chunkDelayMs !== undefined && s.aoai === undefined && s.sse === undefined) {
      warn(i, 'chunkDelayMs', `step ${n} sets a chunk delay but sends no event stream`, 'chunk delay applies to aoai streaming and sse steps');
    }
  });
  return out;
}

/** Index of the step that answers call number `call` (0-based), or a status for `then: <status>`. */
export function stepForCall(script: MockScript, call: number): { index: number } | { thenStatus: number } {
  let remaining = call;
  const total = script.steps.reduce((sum, s) => (s.times === 'forever' ? Infinity : sum + s.times), 0);
  if (script.then === 'cycle' && Number.isFinite(total) && total > 0) remaining = call % total;
  for (let i = 0; i < script.steps.length; i++) {
    const t = script.steps[i]!.times;
    if (t === 'forever' || remaining < t) return { index: i };
    remaining -= t;
  }
  if (typeof script.then === 'number') return { thenStatus: script.then };
  return { index: script.steps.length - 1 };
}

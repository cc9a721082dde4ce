import type { RuntimeServices } from '../../engine/policy-sdk.js';
import { defineSetting } from '../../engine/policy-sdk.js';
import type { CachedResponse } from './cache.js';
import { ExpiringCache } from './cache.js';

/**
 * The offline stand-in for APIM's semantic cache (an embeddings backend + a vector index in Azure Cache for Redis):
 * prompts are compared as text. Entries live in an in-memory cache on the clock, partitioned by the API and the
 * `vary-by` values.
 *
 * Score: APIM's score-threshold is a vector *distance* ("lower values require higher semantic similarity"), a hit
 * being a cached prompt whose distance to the new one is at most the threshold. The emulator computes
 * distance = 1 - similarity(prompt, cached prompt) with a similarity in [0, 1] chosen by the setting
 * `semanticCache.similarity`:
 * - `"exact"` (default): 1 when the normalised prompts are equal, else 0 — any threshold then means "same prompt";
 * - `"token-cosine"`: cosine similarity of the bag of lowercase words (a lexical stand-in for embeddings);
 * - a function `(a: string, b: string) => number` given programmatically (e.g. real embeddings in a test harness).
 */

export type Similarity = (a: string, b: string) => number;

export interface SemanticEntry {
  partition: string;
  prompt: string;
  response: CachedResponse;
}

export function semanticCache(services: RuntimeServices): ExpiringCache<SemanticEntry> {
  return services.store('cache:internal:semantic', () => new ExpiringCache<SemanticEntry>(services.clock));
}

/** Case, surrounding and repeated whitespace do not make two prompts different. */
export function normalisePrompt(text: string): string {
  return text.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

export const exactSimilarity: Similarity = (a, b) => (a === b ? 1 : 0);

export const tokenCosineSimilarity: Similarity = (a, b) => {
  if (a === b) return 1;
  const va = vector(a);
  const vb = vector(b);
  if (va.norm === 0 || vb.norm === 0) return 0;
  const [small, large] = va.bag.size <= vb.bag.size ? [va.bag, vb.bag] : [vb.bag, va.bag];
  let dot = 0;
  for (const [w, n] of small) {
    const m = large.get(w);
    if (m) dot += n * m;
  }
  return dot / (va.norm * vb.norm);
};

interface WordVector {
  bag: Map<string, number>;
  norm: number;
}

/** Word vectors of recent prompts: a lookup compares one prompt with every stored one, so each is counted once. */
const vectors = new Map<string, WordVector>();
const MAX_VECTORS = 20_000;

function vector(text: string): WordVector {
  let v = vectors.get(text);
  if (v) return v;
  const bag = new Map<string, number>();
  for (const w of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) bag.set(w, (bag.get(w) ?? 0) + 1);
  let sq = 0;
  for (const n of bag.values()) sq += n * n;
  v = { bag, norm: Math.sqrt(sq) };
  if (vectors.size >= MAX_VECTORS) vectors.clear();
  vectors.set(text, v);
  return v;
}

declare module '../../engine/policy-sdk.js' {
  interface PolicyExtensions {
    /** A similarity function (a, b) => [0, 1] used by the semantic cache lookups instead of the setting's choice. */
    semanticSimilarity?: Similarity;
  }
}

/** `settings["semanticCache.similarity"]`: which built-in similarity the semantic cache lookups use. */
export const SEMANTIC_SIMILARITY_SETTING = defineSetting<'exact' | 'token-cosine'>(
  'semanticCache.similarity',
  'semantic cache similarity: "exact" (default) or "token-cosine"',
  (s) =>
    s === 'exact' || s === 'token-cosine'
      ? { ok: true, value: s }
      : {
          ok: false,
          message: `setting "semanticCache.similarity" is ${JSON.stringify(s)}; allowed: "exact", "token-cosine" (or a function given as the semanticSimilarity extension)`,
        },
);

/** The similarity the extension or the settings ask for; a problem is returned as text for a load-time diagnostic. */
export function similarityFromSettings(services: RuntimeServices): { similarity: Similarity; name: string } | { error: string } {
  const hook = services.extensions.semanticSimilarity;
  if (hook) return { similarity: hook, name: 'custom' };
  const s = services.setting(SEMANTIC_SIMILARITY_SETTING);
  if (!s.ok) return { error: s.message };
  return s.value === 'token-cosine' ? { similarity: tokenCosineSimilarity, name: 'token-cosine' } : { similarity: exactSimilarity, name: 'exact' };
}

/** The prompt of an LLM request body, as compared by the cache. */
export interface PromptText {
  text: string;
  /** Messages left after ignore-system-messages (for max-message-count); undefined when the body has no messages. */
  messageCount: number | undefined;
}

const SYSTEM_ROLES = new Set(['system', 'developer']);

/**
 * The text of the prompt: chat `messages` as `role: content` lines (system/developer messages dropped when asked),
 * a completion `prompt`, or a Responses/embeddings `input`. undefined when the body is not an LLM request.
 */
export function promptText(body: unknown, ignoreSystemMessages: boolean): PromptText | undefined {
  if (!isRecord(body)) return undefined;
  if (Array.isArray(body.messages)) {
    const lines: string[] = [];
    let count = 0;
    for (const m of body.messages) {
      if (!isRecord(m)) continue;
      const role = typeof m.role === 'string' ? m.role : '';
      if (ignoreSystemMessages && SYSTEM_ROLES.has(role.toLowerCase())) continue;
      count++;
      lines.push(`${role}: ${contentText(m.content)}`);
    }
    return { text: lines.join('\n'), messageCount: count };
  }
  if (body.prompt !== undefined) return { text: contentText(body.prompt), messageCount: undefined };
  if (body.input !== undefined) return { text: contentText(body.input), messageCount: undefined };
  return undefined;
}

function contentText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v))
    return v
      .map((p) =>
        isRecord(p)
          ? typeof p.text === 'string'
            ? p.text
            : isRecord(p.content) || Array.isArray(p.content) || typeof p.content === 'string'
              ? contentText(p.content)
              : ''
          : contentText(p),
      )
      .join('\n');
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

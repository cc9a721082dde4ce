import type { AoaiOperation } from './aoai.js';

/**
 * Per-deployment Azure OpenAI quota for the mock backends: tokens per minute (TPM) and requests per minute (RPM),
 * enforced the way Azure OpenAI documents it, on the injected clock.
 *
 * - TPM: a sliding 60 s window. At admission a request reserves its estimate (prompt tokens + max_tokens); once the
 *   mock has generated the answer the reservation becomes the actual `usage.total_tokens`.
 * - RPM: Azure evaluates the request rate over short windows (1 s or 10 s) rather than over a minute. The mock uses a
 *   sliding 10 s window allowing RPM/6 requests (RPM 6 → one request per 10 s); when RPM/6 is below 1 it falls back to
 *   a 60 s window allowing RPM requests.
 * - A limit that is not given is not enforced; RPM defaults to 6 per 1000 TPM (Microsoft's ratio) when only TPM is given.
 */
export interface QuotaLimits {
  /** Tokens per minute. */
  tpm?: number;
  /** Requests per minute; default 6 per 1000 TPM when `tpm` is given. */
  rpm?: number;
}

export interface AoaiQuota extends QuotaLimits {
  /**
   * Limits for named deployments (the `{name}` in `/openai/deployments/{name}/...`, or the body's `model` on paths
   * without one). An entry replaces the top-level limits for that deployment entirely; deployments without an entry
   * use the top-level ones, or are unlimited when there are none.
   */
  deployments?: Record<string, QuotaLimits>;
}

export const TPM_WINDOW_MS = 60_000;
/** Azure evaluates RPM over 1 s or 10 s windows; the mock uses 10 s (RPM/6 requests per window). */
export const RPM_WINDOW_MS = 10_000;
/** Microsoft's ratio for standard deployments: 6 RPM per 1000 TPM. */
export const RPM_PER_1000_TPM = 6;

/** The limits that apply to one deployment, with RPM resolved to a window. Undefined when nothing is limited. */
export interface EffectiveLimits {
  tpm?: number;
  requests?: { perWindow: number; windowMs: number; rpm: number };
}

export function effectiveLimits(quota: AoaiQuota, deployment: string): EffectiveLimits | undefined {
  const own = lookupDeployment(quota.deployments, deployment);
  const limits: QuotaLimits = own ?? { ...(quota.tpm !== undefined ? { tpm: quota.tpm } : {}), ...(quota.rpm !== undefined ? { rpm: quota.rpm } : {}) };
  const rpm = limits.rpm ?? (limits.tpm !== undefined ? Math.max(1, Math.floor((limits.tpm * RPM_PER_1000_TPM) / 1000)) : undefined);
  if (limits.tpm === undefined && rpm === undefined) return undefined;
  const out: EffectiveLimits = {};
  if (limits.tpm !== undefined) out.tpm = limits.tpm;
  if (rpm !== undefined) {
    const per10s = Math.floor(rpm / (60_000 / RPM_WINDOW_MS));
    out.requests = per10s >= 1 ? { perWindow: per10s, windowMs: RPM_WINDOW_MS, rpm } : { perWindow: rpm, windowMs: 60_000, rpm };
  }
  return out;
}

/** Exact name first, then case-insensitively (Azure resolves deployment names without regard to case). */
function lookupDeployment(map: Record<string, QuotaLimits> | undefined, name: string): QuotaLimits | undefined {
  if (!map) return undefined;
  if (Object.hasOwn(map, name)) return map[name];
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(map)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

export interface QuotaRemaining {
  /** Requests left in the current RPM window; undefined when RPM is not limited. */
  requests?: number;
  /** Tokens left in the current 60 s window; undefined when TPM is not limited. */
  tokens?: number;
}

export type QuotaDecision =
  | { admitted: true; reservation: QuotaReservation; remaining: QuotaRemaining }
  | { admitted: false; limit: 'requests' | 'tokens'; retryAfterMs: number; remaining: QuotaRemaining; tooLarge?: boolean };

interface TokenEntry {
  time: number;
  tokens: number;
}

interface DeploymentUsage {
  requests: number[];
  tokens: TokenEntry[];
}

/** A request's hold on the TPM window; `settle` replaces the estimate with the actual usage. */
export interface QuotaReservation {
  readonly deployment: string;
  readonly limits: EffectiveLimits;
  entry?: TokenEntry;
}

/** The usage of every deployment of one mock backend. Rejected requests count neither requests nor tokens. */
export class QuotaTracker {
  private readonly usage = new Map<string, DeploymentUsage>();

  constructor(private readonly now: () => number) {}

  admit(deployment: string, limits: EffectiveLimits, estimatedTokens: number): QuotaDecision {
    const now = this.now();
    const u = this.prune(deployment, limits, now);
    if (limits.requests && u.requests.length >= limits.requests.perWindow) {
      // The oldest request in the window leaves it first; then one more fits.
      const oldest = u.requests[u.requests.length - limits.requests.perWindow]!;
      return { admitted: false, limit: 'requests', retryAfterMs: oldest + limits.requests.windowMs - now, remaining: this.remainingOf(u, limits) };
    }
    if (limits.tpm !== undefined) {
      const used = sum(u.tokens);
      if (estimatedTokens > limits.tpm) {
        // No amount of waiting makes this request fit; Azure still answers 429 (emulator choice: a full window).
        return { admitted: false, limit: 'tokens', retryAfterMs: TPM_WINDOW_MS, remaining: this.remainingOf(u, limits), tooLarge: true };
      }
      if (used + estimatedTokens > limits.tpm) {
        let freed = 0;
        let at = now + TPM_WINDOW_MS;
        for (const e of u.tokens) {
          freed += e.tokens;
          if (used - freed + estimatedTokens <= limits.tpm) {
            at = e.time + TPM_WINDOW_MS;
            break;
          }
        }
        return { admitted: false, limit: 'tokens', retryAfterMs: at - now, remaining: this.remainingOf(u, limits) };
      }
    }
    if (limits.requests) u.requests.push(now);
    const reservation: QuotaReservation = { deployment, limits };
    if (limits.tpm !== undefined) {
      reservation.entry = { time: now, tokens: estimatedTokens };
      u.tokens.push(reservation.entry);
    }
    return { admitted: true, reservation, remaining: this.remainingOf(u, limits) };
  }

  /** The request finished: its tokens are the actual usage from now on (the window position stays its admission time). */
  settle(reservation: QuotaReservation, actualTokens: number): QuotaRemaining {
    if (reservation.entry) reservation.entry.tokens = actualTokens;
    return this.remaining(reservation.deployment, reservation.limits);
  }

  remaining(deployment: string, limits: EffectiveLimits): QuotaRemaining {
    return this.remainingOf(this.prune(deployment, limits, this.now()), limits);
  }

  reset(): void {
    this.usage.clear();
  }

  private remainingOf(u: DeploymentUsage, limits: EffectiveLimits): QuotaRemaining {
    const out: QuotaRemaining = {};
    if (limits.requests) out.requests = Math.max(0, limits.requests.perWindow - u.requests.length);
    if (limits.tpm !== undefined) out.tokens = Math.max(0, limits.tpm - sum(u.tokens));
    return out;
  }

  private prune(deployment: string, limits: EffectiveLimits, now: number): DeploymentUsage {
    let u = this.usage.get(deployment);
    if (!u) {
      u = { requests: [], tokens: [] };
      this.usage.set(deployment, u);
    }
    // Entries count while now - time < window; the window for requests depends on the current limits.
    const reqWindow = limits.requests?.windowMs ?? 60_000;
    while (u.requests.length && now - u.requests[0]! >= reqWindow) u.requests.shift();
    while (u.tokens.length && now - u.tokens[0]!.time >= TPM_WINDOW_MS) u.tokens.shift();
    return u;
  }
}

function sum(entries: TokenEntry[]): number {
  let s = 0;
  for (const e of entries) s += e.tokens;
  return s;
}

const OPERATION_NAMES: Record<AoaiOperation, string> = {
  chat: 'ChatCompletions_Create',
  completions: 'Completions_Create',
  embeddings: 'Embeddings_Create',
};

/**
 * Azure OpenAI's 429 body for an exhausted quota. Wording as observed in Azure OpenAI answers quoted in public issue
 * threads (token rate: microsoft/sample-app-aoai-chatGPT#406, DmitryKatson/bc-code-interpreter#2; call rate: the
 * message of langchain-ai/langchain#12986). Newer deployments use a reworded message ("Your requests to <model> for
 * <deployment> in <region> have exceeded the token rate limit ..."); clients and APIM read only the status and headers.
 */
export function quotaExceededBody(op: AoaiOperation, apiVersion: string | undefined, limit: 'requests' | 'tokens', retryAfterSeconds: number): unknown {
  const version = apiVersion ? ` version ${apiVersion}` : '';
  const what = limit === 'tokens' ? 'token rate limit' : 'call rate limit';
  return {
    error: {
      code: '429',
      message:
        `Requests to the ${OPERATION_NAMES[op]} Operation under Azure OpenAI API${version} have exceeded ${what} of your current OpenAI S0 pricing tier. ` +
        `Please retry after ${retryAfterSeconds} seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.`,
    },
  };
}

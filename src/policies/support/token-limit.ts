import type { Awaitable, CounterCheck, Flow, GatewayContext, PolicyDefinition } from '../../engine/policy-sdk.js';
import { isPromise, PolicyError, gatewayErrorResponse } from '../../engine/policy-sdk.js';
import { addHeadersWhenDone, inBackground, literal, literalInt, nameAttr, takeCounters } from './throttle.js';
import type { EncodingName, StreamOutcome } from './tokens.js';
import {
  completionTokens,
  forcedEncoding as forcedEncodingSetting,
  TOKENIZER_ENCODING_SETTING,
  estimatePromptTokens,
  loadedEncoding,
  parseJsonBody,
  promptInfo,
  readResponseUsage,
  requestEncoding,
  withEncoding,
} from './tokens.js';
import type { CalendarPeriod } from './windows.js';
import { calendarPeriod, retryAfterSeconds } from './windows.js';

const MINUTE_MS = 60_000;
const PERIODS = ['Hourly', 'Daily', 'Weekly', 'Monthly', 'Yearly'] as const;

/**
 * The shared definition of `llm-token-limit` and `azure-openai-token-limit` (docs/apim-behaviour.md: LLM policies). Per counter-key value,
 * in the state store (this process, the primary of `serve --workers`, or Redis):
 *
 * - tokens-per-minute: a 60 s sliding window of tokens. Exceeded → 429 `{"statusCode":429,"message":"Token limit is
 *   exceeded. Try again in N seconds."}` + Retry-After N (text mirrors rate-limit: unverified).
 * - token-quota + token-quota-period: a fixed calendar window (UTC). Exceeded → 403 `{"statusCode":403,"message":
 *   "Token quota is exceeded. Try again in N seconds."}` + Retry-After N = seconds until the period ends (unverified).
 * - estimate-prompt-tokens="true", or `"stream": true` in the request: the prompt is tokenized (js-tiktoken) before the
 *   backend call; the request is rejected when used + prompt exceeds a limit, else the prompt tokens are reserved.
 *   estimate-prompt-tokens="false": rejected only once the limit is used up (one request may overshoot, later ones
 *   are blocked "until the token limit frees up").
 * - After the backend answers (before outbound), the reported `usage.total_tokens` replaces the reservation. A JSON
 *   response is read for `usage`; a streamed (SSE) one is observed chunk by chunk without buffering, and its usage
 *   (final chunk) or, when it sends none, the prompt estimate + the tokenized completion text is counted when the
 *   stream ends.
 */
export function tokenLimitDefinition(name: 'llm-token-limit' | 'azure-openai-token-limit', summary: string): PolicyDefinition {
  return {
    name,
    summary,
    support: 'approximate',
    sections: ['inbound'],
    settings: [TOKENIZER_ENCODING_SETTING],
    attributes: [
      { name: 'counter-key', required: true, expressions: true },
      { name: 'tokens-per-minute', expressions: true, kind: 'int', min: 0 },
      { name: 'token-quota', expressions: false, kind: 'int', min: 0 },
      { name: 'token-quota-period', expressions: false, kind: 'enum', values: PERIODS },
      { name: 'estimate-prompt-tokens', required: true, expressions: false, kind: 'bool' },
      nameAttr('retry-after-header-name', 'Retry-After'),
      nameAttr('retry-after-variable-name'),
      nameAttr('remaining-quota-tokens-header-name'),
      nameAttr('remaining-quota-tokens-variable-name'),
      nameAttr('remaining-tokens-header-name'),
      nameAttr('remaining-tokens-variable-name'),
      nameAttr('tokens-consumed-header-name'),
      nameAttr('tokens-consumed-variable-name'),
    ],
    compile(el, cx) {
      const has = (a: string) => el.attributes.some((x) => x.name === a);
      if (!has('tokens-per-minute') && !has('token-quota') && !has('token-quota-period')) {
        cx.diagnostics.error(
          el.source,
          el.start,
          'policy/missing-attribute',
          `<${name}> needs "tokens-per-minute", or "token-quota" with "token-quota-period", or both`,
          'tokens-per-minute: tokens per minute; token-quota + token-quota-period: tokens per Hourly, Daily, Weekly, Monthly or Yearly period',
        );
      } else if (has('token-quota') !== has('token-quota-period')) {
        const [present, missing] = has('token-quota') ? ['token-quota', 'token-quota-period'] : ['token-quota-period', 'token-quota'];
        cx.diagnostics.error(
          el.source,
          cx.offsetOf(el, present),
          'policy/missing-attribute',
          `<${name}> sets "${present}" without "${missing}"`,
          'token-quota and token-quota-period go together',
        );
      }
      // The request body is read on every call: "stream": true forces prompt estimation whatever the attribute says.
      cx.needsBody('request');
      const counterKey = cx.string(el, 'counter-key') ?? (() => '');
      const tpm = has('tokens-per-minute') ? cx.int(el, 'tokens-per-minute') : undefined;
      const quota = literalInt(el, cx, 'token-quota');
      const periodText = literal(el, cx, 'token-quota-period');
      const period = periodText ? (periodText.toLowerCase() as CalendarPeriod) : undefined;
      const estimateAttr = literal(el, cx, 'estimate-prompt-tokens')?.toLowerCase() === 'true';
      const out = {
        retryHeader: literal(el, cx, 'retry-after-header-name') ?? 'Retry-After',
        retryVariable: literal(el, cx, 'retry-after-variable-name'),
        remainingQuotaHeader: literal(el, cx, 'remaining-quota-tokens-header-name'),
        remainingQuotaVariable: literal(el, cx, 'remaining-quota-tokens-variable-name'),
        remainingHeader: literal(el, cx, 'remaining-tokens-header-name'),
        remainingVariable: literal(el, cx, 'remaining-tokens-variable-name'),
        consumedHeader: literal(el, cx, 'tokens-consumed-header-name'),
        consumedVariable: literal(el, cx, 'tokens-consumed-variable-name'),
      };
      const forcedEncoding = forcedEncodingSetting(cx, el);
      const { services, path } = cx;
      const { state } = services;

      const run = (ctx: GatewayContext, prompt: number, estimated: boolean, stream: boolean, encoding: EncodingName | undefined): Flow | Promise<Flow> => {
        const key = counterKey(ctx);
        const minuteKey = `${name}:${key}:minute`;
        const quotaKey = `${name}:${key}:quota`;
        const now = ctx.clock.now();
        const need = Math.max(prompt, 1);
        const limitPerMinute = tpm?.(ctx);
        const quotaPeriod = quota !== undefined && period ? calendarPeriod(now, period) : undefined;
        // Quota first (403), then the minute (429); the estimated prompt is reserved in both when both fit.
        const checks: CounterCheck[] = [];
        if (quotaPeriod)
          checks.push({
            kind: 'fixed',
            key: quotaKey,
            periodStart: quotaPeriod.start,
            expiresAt: quotaPeriod.end,
            callsNeed: 0,
            amountLimit: quota,
            amountNeed: need,
            addCalls: 0,
            addAmount: prompt,
          });
        const minuteAt = checks.length;
        if (limitPerMinute !== undefined) checks.push({ kind: 'sliding', key: minuteKey, windowMs: MINUTE_MS, limit: limitPerMinute, need, add: prompt });
        return takeCounters(state, now, checks, name, (r) => {
          if (!r.allowed) {
            const found = r.results[r.failed]!;
            if (r.failed !== minuteAt) {
              const retryAfter = retryAfterSeconds(quotaPeriod!.end - now);
              throw exceeded(ctx, 403, 'TokenQuotaExceeded', `Token quota is exceeded. Try again in ${retryAfter} seconds.`, retryAfter, {
                key,
                used: found.amount,
                quota,
                prompt,
              });
            }
            const retryAfter = retryAfterSeconds(found.waitMs);
            throw exceeded(ctx, 429, 'TokenLimitExceeded', `Token limit is exceeded. Try again in ${retryAfter} seconds.`, retryAfter, {
              key,
              used: found.used,
              tokensPerMinute: limitPerMinute,
              prompt,
            });
          }
          const usedPerMinute = limitPerMinute !== undefined ? r.results[minuteAt]!.used : 0;
          // The reservation's id in the minute window, corrected with the reported usage when the backend answers.
          const reservation = limitPerMinute !== undefined ? r.results[minuteAt]!.entry : 0;
          const quotaUsed = quotaPeriod ? r.results[0]!.amount + prompt : 0;
          return reserved(ctx, key, {
            prompt,
            estimated,
            stream,
            encoding,
            now,
            usedPerMinute,
            limitPerMinute,
            reservation,
            quotaUsed,
            quotaPeriod,
            minuteKey,
            quotaKey,
          });
        });
      };

      const reserved = (
        ctx: GatewayContext,
        key: string,
        o: {
          prompt: number;
          estimated: boolean;
          stream: boolean;
          encoding: EncodingName | undefined;
          now: number;
          usedPerMinute: number;
          limitPerMinute: number | undefined;
          reservation: number;
          quotaUsed: number;
          quotaPeriod: { start: number; end: number } | undefined;
          minuteKey: string;
          quotaKey: string;
        },
      ): Flow => {
        const { prompt, estimated, stream, encoding, limitPerMinute, quotaPeriod } = o;
        const remaining = limitPerMinute === undefined ? undefined : Math.max(0, limitPerMinute - o.usedPerMinute - prompt);
        const remainingQuota = quota === undefined ? undefined : Math.max(0, quota - o.quotaUsed);
        if (out.remainingVariable && remaining !== undefined) ctx.variables.set(out.remainingVariable, remaining);
        if (out.remainingQuotaVariable && remainingQuota !== undefined) ctx.variables.set(out.remainingQuotaVariable, remainingQuota);
        if (out.consumedVariable) ctx.variables.set(out.consumedVariable, estimated ? prompt : 0);
        const headers: Array<[string, string]> = [];
        if (out.remainingHeader && remaining !== undefined) headers.push([out.remainingHeader, String(remaining)]);
        if (out.remainingQuotaHeader && remainingQuota !== undefined) headers.push([out.remainingQuotaHeader, String(remainingQuota)]);
        addHeadersWhenDone(ctx, headers);
        if (ctx.tracing)
          ctx.trace({
            kind: 'info',
            policy: name,
            path,
            message: `key "${key}": ${estimated ? `prompt estimated at ${prompt} tokens, ` : ''}${remaining !== undefined ? `${remaining} tokens left this minute` : ''}${remainingQuota !== undefined ? `${remaining !== undefined ? ', ' : ''}${remainingQuota} tokens left of the ${periodText} quota` : ''}`,
            data: { key, prompt, estimated, stream, remaining, remainingQuota },
          });

        /**
         * Counts the tokens consumed. A shared store's writes are returned so that a JSON answer waits for them before
         * outbound: the next request, on any gateway, then sees this one's usage (a stream counts when it ends).
         */
        const account = (total: number, how: string): Promise<unknown> | undefined => {
          const at = ctx.clock.now();
          const writes: Array<Awaitable<void>> = [];
          if (o.reservation) writes.push(state.correct(o.minuteKey, o.reservation, o.now, total, at, MINUTE_MS));
          else if (total > 0 && limitPerMinute !== undefined) writes.push(state.add(o.minuteKey, at, MINUTE_MS, total));
          if (quotaPeriod) writes.push(state.addFixed(o.quotaKey, quotaPeriod.start, quotaPeriod.end, at, 0, total - prompt, false));
          if (ctx.tracing)
            ctx.trace({ kind: 'info', policy: name, path, message: `key "${key}": ${total} tokens consumed (${how})`, data: { key, total, how } });
          const pending = writes.filter(isPromise);
          return pending.length ? Promise.all(pending).catch(() => undefined) : undefined;
        };

        ctx.beforeOutbound.push((c) =>
          readResponseUsage(c, stream, {
            stream: () => {
              if (out.consumedHeader) c.response.headers.set(out.consumedHeader, [String(prompt)]);
              return (o) => {
                const total = streamedTotal(o, prompt, encoding);
                inBackground(account(total.tokens, total.how));
                if (out.consumedVariable) c.variables.set(out.consumedVariable, total.tokens);
              };
            },
            json: (usage) => {
              if (!usage) return; // no usage reported (an error answer): the estimate, if any, stands
              if (out.consumedVariable) c.variables.set(out.consumedVariable, usage.total);
              if (out.consumedHeader) c.response.headers.set(out.consumedHeader, [String(usage.total)]);
              return account(usage.total, 'usage reported by the backend');
            },
          }),
        );
        return 'continue';
      };

      /** Tokens of a finished stream: its usage, else the prompt estimate plus the tokenized completion text. */
      const streamedTotal = (o: StreamOutcome, prompt: number, encoding: EncodingName | undefined): { tokens: number; how: string } => {
        if (o.usage) return { tokens: o.usage.total, how: 'usage in the stream' };
        const completion = completionTokens(encoding ? loadedEncoding(encoding) : undefined, o.completionText);
        return { tokens: prompt + completion, how: 'prompt and completion estimated from the stream' };
      };

      const exceeded = (
        ctx: GatewayContext,
        status: 403 | 429,
        reason: string,
        message: string,
        retryAfter: number,
        data: Record<string, unknown>,
      ): PolicyError => {
        if (out.retryVariable) ctx.variables.set(out.retryVariable, retryAfter);
        if (ctx.tracing) ctx.trace({ kind: 'info', policy: name, path, message, data });
        return new PolicyError(name, reason, message, gatewayErrorResponse(status, message, undefined, { [out.retryHeader]: String(retryAfter) }));
      };

      return (ctx) => {
        const body = parseJsonBody(ctx.request.body?.peek());
        const info = promptInfo(body);
        const estimate = estimateAttr || info.stream;
        if (!estimate) return run(ctx, 0, false, info.stream, undefined);
        const encoding = requestEncoding(info, ctx.request.url.path, forcedEncoding);
        return withEncoding(encoding, (enc) => run(ctx, estimatePromptTokens(enc, body), true, info.stream, encoding)) as Flow | Promise<Flow>; // a promise of a promise flattens
      };
    },
  };
}

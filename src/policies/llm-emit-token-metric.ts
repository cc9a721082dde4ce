import type { Tiktoken } from 'js-tiktoken/lite';
import type { Flow, GatewayContext, PolicyDefinition } from '../engine/policy-sdk.js';
import { attributeText } from '../engine/policy-sdk.js';
import { DEFAULT_METRIC_NAMESPACE } from './emit-metric.js';
import { compileDimensions, dimensionElement, TOKEN_METRIC_DEFAULTS } from './support/dimensions.js';
import type { EncodingName, StreamOutcome, TokenUsage } from './support/tokens.js';
import {
  completionTokens,
  forcedEncoding as forcedEncodingSetting,
  TOKENIZER_ENCODING_SETTING,
  estimatePromptTokens,
  parseJsonBody,
  promptInfo,
  readResponseUsage,
  requestEncoding,
  withEncoding,
} from './support/tokens.js';

/** Metric names APIM sends to Application Insights ("Token count metrics include: Total Tokens, Prompt Tokens, and Completion Tokens"). */
export const TOKEN_METRICS = { total: 'Total Tokens', prompt: 'Prompt Tokens', completion: 'Completion Tokens' } as const;

/**
 * `<llm-emit-token-metric namespace>` / `<azure-openai-emit-token-metric namespace>` with 1..5 `<dimension>`
 * (docs/apim-behaviour.md: LLM policies): once the backend has answered, emits the three token metrics (Total, Prompt, Completion Tokens)
 * with the dimensions through RuntimeServices.emitMetric (Prometheus endpoint) and the trace.
 *
 * - JSON answers: the `usage` of the body (read into memory; nothing is emitted when the body reports none, e.g. an
 *   error answer).
 * - Streamed (SSE) answers: the stream is observed chunk by chunk as it goes to the client, never held back. APIM
 *   estimates streamed tokens; the emulator uses the usage the stream itself reports (the final chunk with
 *   `stream_options.include_usage`) and otherwise estimates: prompt tokens from the request with a real tokenizer,
 *   completion tokens from the streamed text. The metrics are emitted when the stream ends.
 * Re-audited against learn.microsoft.com/azure/api-management/llm-emit-token-metric-policy and
 * azure-openai-emit-token-metric-policy (read 2026-12-02): namespace; 1 to 5 dimensions, value optional only for
 * default dimensions.
 */
export function tokenMetricDefinition(name: 'llm-emit-token-metric' | 'azure-openai-emit-token-metric'): PolicyDefinition {
  return {
    name,
    summary: 'Emits Total/Prompt/Completion Tokens metrics from the response usage (streams observed, not buffered).',
    support: 'approximate',
    sections: ['inbound'],
    settings: [TOKENIZER_ENCODING_SETTING],
    attributes: [{ name: 'namespace', expressions: false, default: DEFAULT_METRIC_NAMESPACE }],
    elements: [dimensionElement(5)],
    compile(el, cx) {
      const namespace = attributeText(el, 'namespace') ?? DEFAULT_METRIC_NAMESPACE;
      const dimensions = compileDimensions(el, cx, name, TOKEN_METRIC_DEFAULTS);
      // The prompt is read only to estimate a stream that reports no usage.
      cx.needsBody('request');
      const forcedEncoding = forcedEncodingSetting(cx, el);
      const { services, path } = cx;

      /** Dimensions are evaluated once the backend has answered (Backend ID is known), before a stream ends. */
      const emit = (ctx: GatewayContext, usage: TokenUsage, how: string, dims: Record<string, string>): void => {
        services.emitMetric({ name: TOKEN_METRICS.total, namespace, value: usage.total, dimensions: dims });
        services.emitMetric({ name: TOKEN_METRICS.prompt, namespace, value: usage.prompt, dimensions: dims });
        services.emitMetric({ name: TOKEN_METRICS.completion, namespace, value: usage.completion, dimensions: dims });
        if (ctx.tracing)
          ctx.trace({
            kind: 'info',
            policy: name,
            path,
            message: `token metrics: ${usage.total} total, ${usage.prompt} prompt, ${usage.completion} completion (${how})`,
            data: { namespace, dimensions: dims, ...usage },
          });
      };

      const observe = (ctx: GatewayContext, body: unknown, enc: Tiktoken | undefined): Flow => {
        ctx.beforeOutbound.push((c) =>
          readResponseUsage(c, promptInfo(body).stream, {
            stream: () => {
              const dims = dimensions(c);
              return (o) => {
                const usage = o.usage ?? estimateStream(body, o, enc);
                // The request's trace may be delivered before a long stream ends; the event is recorded all the same.
                emit(c, usage, o.usage ? 'usage in the stream' : 'estimated from the streamed request and text', dims);
              };
            },
            json: (usage) => {
              if (usage) emit(c, usage, 'usage reported by the backend', dimensions(c));
              else if (c.tracing) c.trace({ kind: 'info', policy: name, path, message: 'no usage in the response: no token metrics emitted' });
            },
          }),
        );
        return 'continue';
      };

      return (ctx) => {
        const body = parseJsonBody(ctx.request.body?.peek());
        const info = promptInfo(body);
        if (!info.stream) return observe(ctx, body, undefined);
        // A stream may report no usage: have the tokenizer ready before the backend answers.
        return withEncoding(requestEncoding(info, ctx.request.url.path, forcedEncoding), (enc) => observe(ctx, body, enc));
      };
    },
  };
}

export const llmEmitTokenMetric = tokenMetricDefinition('llm-emit-token-metric');
export const azureOpenAiEmitTokenMetric = tokenMetricDefinition('azure-openai-emit-token-metric');

function estimateStream(body: unknown, o: StreamOutcome, enc: Tiktoken | undefined): TokenUsage {
  const prompt = enc ? estimatePromptTokens(enc, body) : 0;
  const completion = completionTokens(enc, o.completionText);
  return { prompt, completion, total: prompt + completion };
}

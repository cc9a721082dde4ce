import type { Tiktoken } from 'js-tiktoken/lite';
import { MessageBody } from '../engine/body.js';
import type { GatewayContext } from '../engine/context.js';
import { DEFAULT_METRIC_NAMESPACE } from './emit-metric.js';
import { compileDimensions, dimensionElement, TOKEN_METRIC_DEFAULTS } from './support/dimensions.js';
import type { EncodingName, StreamOutcome, TokenUsage } from './support/tokens.js';
import { countTokens, encodingForModel, estimatePromptTokens, loadEncoding, promptInfo, SseUsageObserver, usageFromJson } from './support/tokens.js';
import type { Flow, PolicyDefinition } from './types.js';
import { attributeText } from './types.js';

/** Metric names APIM sends to Application Insights ("Token count metrics include: Total Tokens, Prompt Tokens, and Completion Tokens"). */
export const TOKEN_METRICS = { total: 'Total Tokens', prompt: 'Prompt Tokens', completion: 'Completion Tokens' } as const;

/**
 * `<llm-emit-token-metric namespace>` / `<azure-openai-emit-token-metric namespace>` with 1..5 `<dimension>`
 * (reference §4.6): once the backend has answered, emits the three token metrics (Total, Prompt, Completion Tokens)
 * with the dimensions through RuntimeServices.emitMetric (Prometheus endpoint) and the trace.
 *
 * - JSON answers: the `usage` of the body (read into memory; nothing is emitted when the body reports none, e.g. an
 *   error answer).
 * - Streamed (SSE) answers: the stream is observed chunk by chunk as it goes to the client, never held back. APIM
 *   estimates streamed tokens; the emulator uses the usage the stream itself reports (the final chunk with
 *   `stream_options.include_usage`) and otherwise estimates: prompt tokens from the request with a real tokenizer,
 *   completion tokens from the streamed text. The metrics are emitted when the stream ends.
 */
export function tokenMetricDefinition(name: 'llm-emit-token-metric' | 'azure-openai-emit-token-metric'): PolicyDefinition {
  return {
    name,
    summary: 'Emits Total/Prompt/Completion Tokens metrics from the response usage (streams observed, not buffered).',
    support: 'approximate',
    sections: ['inbound'],
    attributes: [{ name: 'namespace', expressions: false, default: DEFAULT_METRIC_NAMESPACE }],
    elements: [dimensionElement(5)],
    compile(el, cx) {
      const namespace = attributeText(el, 'namespace') ?? DEFAULT_METRIC_NAMESPACE;
      const dimensions = compileDimensions(el, cx, name, TOKEN_METRIC_DEFAULTS);
      // The prompt is read only to estimate a stream that reports no usage.
      cx.needsBody('request');
      const forcedEncoding = cx.services.settings.get('tokenizer.encoding') as EncodingName | undefined;
      const { services, path } = cx;

      /** Dimensions are evaluated once the backend has answered (Backend ID is known), before a stream ends. */
      const emit = (ctx: GatewayContext, usage: TokenUsage, how: string, dims: Record<string, string>): void => {
        services.emitMetric({ name: TOKEN_METRICS.total, namespace, value: usage.total, dimensions: dims });
        services.emitMetric({ name: TOKEN_METRICS.prompt, namespace, value: usage.prompt, dimensions: dims });
        services.emitMetric({ name: TOKEN_METRICS.completion, namespace, value: usage.completion, dimensions: dims });
        if (ctx.tracing) ctx.trace({ kind: 'info', policy: name, path, message: `token metrics: ${usage.total} total, ${usage.prompt} prompt, ${usage.completion} completion (${how})`, data: { namespace, dimensions: dims, ...usage } });
      };

      const observe = (ctx: GatewayContext, body: unknown, enc: Tiktoken | undefined): Flow => {
        const stream = promptInfo(body).stream;
        ctx.beforeOutbound.push(async (c) => {
          const res = c.response.body;
          if (!res) return;
          const type = c.response.headers.getJoined('Content-Type')?.toLowerCase() ?? '';
          const isSse = type.includes('text/event-stream') || (stream && !type.includes('json'));
          if (isSse) {
            const dims = dimensions(c);
            const finish = (o: StreamOutcome): void => {
              const usage = o.usage ?? estimateStream(body, o, enc);
              // The request's trace may be delivered before a long stream ends; the event is recorded all the same.
              emit(c, usage, o.usage ? 'usage in the stream' : 'estimated from the streamed request and text', dims);
            };
            const live = res.liveStream;
            if (live) {
              const observer = new SseUsageObserver(finish);
              const source = res.toStream();
              source.on('error', (e) => observer.destroy(e));
              c.response.body = MessageBody.fromStream(source.pipe(observer));
            } else finish(SseUsageObserver.parse((res.peek() ?? Buffer.alloc(0)).toString('utf8')));
            return;
          }
          if (!type.includes('json')) return;
          let usage: TokenUsage | undefined;
          try {
            usage = usageFromJson(JSON.parse((await res.buffer()).toString('utf8')));
          } catch {
            usage = undefined;
          }
          if (usage) emit(c, usage, 'usage reported by the backend', dimensions(c));
          else if (c.tracing) c.trace({ kind: 'info', policy: name, path, message: 'no usage in the response: no token metrics emitted' });
        });
        return 'continue';
      };

      return (ctx) => {
        const body = parseJson(ctx.request.body?.peek());
        const info = promptInfo(body);
        if (!info.stream) return observe(ctx, body, undefined);
        // A stream may report no usage: have the tokenizer ready before the backend answers.
        const encoding = forcedEncoding ?? encodingForModel(info.model ?? deploymentOf(ctx.request.url.path));
        const loaded = loadedEncodings.get(encoding);
        if (loaded) return observe(ctx, body, loaded);
        return loadEncoding(encoding).then((enc) => {
          loadedEncodings.set(encoding, enc);
          return observe(ctx, body, enc);
        });
      };
    },
  };
}

export const llmEmitTokenMetric = tokenMetricDefinition('llm-emit-token-metric');
export const azureOpenAiEmitTokenMetric = tokenMetricDefinition('azure-openai-emit-token-metric');

const loadedEncodings = new Map<EncodingName, Tiktoken>();

function estimateStream(body: unknown, o: StreamOutcome, enc: Tiktoken | undefined): TokenUsage {
  const prompt = enc ? estimatePromptTokens(enc, body) : 0;
  const completion = enc ? countTokens(enc, o.completionText) : Math.ceil(o.completionText.length / 4);
  return { prompt, completion, total: prompt + completion };
}

function parseJson(raw: Buffer | null | undefined): unknown {
  if (!raw || raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The deployment name of an Azure OpenAI path (`/deployments/{name}/…`), standing in for the model. */
function deploymentOf(path: string): string | undefined {
  const m = /\/deployments\/([^/]+)/i.exec(path);
  return m ? decodeURIComponent(m[1]!) : undefined;
}

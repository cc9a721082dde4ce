import { DiagnosticBag, formatDiagnosticLine } from '../../src/diagnostics/diagnostic.js';
import { SourceText, TextSpan } from '../../src/diagnostics/source.js';
import { VirtualClock } from '../../src/clock.js';
import { MessageBody } from '../../src/engine/body.js';
import { GatewayContext } from '../../src/engine/context.js';
import { HeaderMap } from '../../src/engine/headers.js';
import { RequestUrl } from '../../src/engine/url.js';
import { compileExpression, type CompiledExpression } from '../../src/expressions/index.js';

export interface CtxOptions {
  body?: string | null;
  responseBody?: string | null;
  headers?: Array<[string, string | string[]]>;
  url?: string;
  method?: string;
  variables?: Record<string, unknown>;
  clock?: VirtualClock;
}

/** A realistic request context on a virtual clock (2025-01-01T00:00:00Z). */
export function makeContext(o: CtxOptions = {}): GatewayContext {
  const url = o.url ?? 'https://gw.example.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-02-01&tag=a&tag=b';
  const ctx = new GatewayContext({
    request: {
      method: o.method ?? 'POST',
      url: RequestUrl.parse(url),
      originalUrl: RequestUrl.parse(url),
      headers: new HeaderMap(
        o.headers ?? [
          ['Api-Key', 'secret-1'],
          ['Content-Type', 'application/json'],
          ['Accept', ['text/plain', 'application/json']],
        ],
      ),
      body:
        o.body === null
          ? null
          : MessageBody.fromBuffer(
              o.body ??
                '{"model":"gpt-4o","stream":false,"max_tokens":100,"temperature":0.5,"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hello"}]}',
            ),
      ipAddress: '10.1.2.3',
      matchedParameters: new Map([['deployment-id', 'gpt-4o']]),
    },
    api: {
      id: 'openai-api',
      name: 'OpenAI',
      path: 'openai',
      revision: '1',
      isCurrentRevision: true,
      version: 'v1',
      serviceUrl: 'https://backend.example.com/openai',
      protocols: ['https'],
      subscriptionKeyParameterNames: { header: 'api-key', query: 'subscription-key' },
    },
    operation: { id: 'chat', name: 'Chat', method: 'POST', urlTemplate: '/deployments/{deployment-id}/chat/completions' },
    product: {
      id: 'starter',
      name: 'Starter',
      state: 'Published',
      subscriptionRequired: true,
      approvalRequired: false,
      subscriptionLimit: 1,
      groups: [],
      apis: [],
    },
    subscription: {
      id: 'sub-1',
      name: 'Team A',
      key: 'k',
      primaryKey: 'pk',
      secondaryKey: 'sk',
      createdDate: Date.UTC(2024, 0, 1),
      startDate: null,
      endDate: null,
    },
    user: {
      id: 'u1',
      email: 'a@example.com',
      firstName: 'Ada',
      lastName: 'Lovelace',
      note: '',
      registrationDate: Date.UTC(2024, 0, 1),
      groups: [],
      identities: [],
    },
    deployment: { gatewayId: 'managed', region: 'West Europe', serviceName: 'apim-test', serviceId: 'id' },
    clock: o.clock ?? new VirtualClock(Date.UTC(2025, 0, 1)),
    requestId: '6f1c0e2a-1111-4222-8333-944455556666',
    tracing: true,
  });
  if (o.responseBody !== undefined) {
    ctx.response = {
      statusCode: 429,
      statusReason: 'Too Many Requests',
      headers: new HeaderMap([['Retry-After', '7']]),
      body: o.responseBody === null ? null : MessageBody.fromBuffer(o.responseBody),
    };
  }
  for (const [k, v] of Object.entries(o.variables ?? {})) ctx.variables.set(k, v);
  return ctx;
}

export function compile(text: string, file = 'policy.xml'): { expr: CompiledExpression | null; errors: string[] } {
  const source = new SourceText(file, text);
  const bag = new DiagnosticBag();
  const expr = compileExpression(TextSpan.verbatim(source, 0, text.length), bag);
  return { expr, errors: bag.items.map(formatDiagnosticLine) };
}

/** Compiles (failing loudly on diagnostics) and evaluates against a context. */
export function run(text: string, ctx: GatewayContext = makeContext()): unknown {
  const { expr, errors } = compile(text);
  if (!expr) throw new Error(`did not compile: ${text}\n${errors.join('\n')}`);
  return expr.evaluate(ctx);
}

/**
 * Evaluations per second of compiled policy expressions (typical corpus shapes).
 * Run: npx tsx bench/expressions.bench.ts
 */
import { DiagnosticBag, formatDiagnosticLine } from '../src/diagnostics/diagnostic.js';
import { SourceText, TextSpan } from '../src/diagnostics/source.js';
import { VirtualClock } from '../src/clock.js';
import { MessageBody } from '../src/engine/body.js';
import { GatewayContext } from '../src/engine/context.js';
import { HeaderMap } from '../src/engine/headers.js';
import { RequestUrl } from '../src/engine/url.js';
import { compileExpression } from '../src/expressions/index.js';
import { JArray } from '../src/dotnet/json.js';

const ctx = new GatewayContext({
  request: {
    method: 'POST',
    url: RequestUrl.parse('https://gw.example.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-02-01'),
    originalUrl: RequestUrl.parse('https://gw.example.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-02-01'),
    headers: new HeaderMap([
      ['Api-Key', 'secret'],
      ['Content-Type', 'application/json'],
      ['User-Agent', 'bench'],
    ]),
    body: MessageBody.fromBuffer('{"model":"gpt-4o","messages":[{"role":"user","content":"hello"}],"stream":false}'),
    ipAddress: '10.0.0.1',
    matchedParameters: new Map(),
  },
  api: {
    id: 'api',
    name: 'api',
    path: 'openai',
    revision: '1',
    isCurrentRevision: true,
    version: '',
    serviceUrl: '',
    protocols: ['https'],
    subscriptionKeyParameterNames: { header: 'api-key', query: 'subscription-key' },
  },
  operation: { id: 'op', name: 'op', method: 'POST', urlTemplate: '/' },
  product: null,
  subscription: null,
  user: null,
  deployment: { gatewayId: 'managed', region: 'r', serviceName: 's', serviceId: 'i' },
  clock: new VirtualClock(),
  requestId: '00000000-0000-0000-0000-000000000001',
  tracing: false,
});
ctx.response = { statusCode: 429, statusReason: 'Too Many Requests', headers: new HeaderMap([['Retry-After', '10']]), body: null };
ctx.variables.set('model', 'gpt-4o');
ctx.variables.set('remainingBackends', 2);
ctx.variables.set(
  'listBackends',
  JArray.Parse(
    '[{"name":"b1","priority":1,"isThrottling":false},{"name":"b2","priority":2,"isThrottling":true},{"name":"b3","priority":2,"isThrottling":false}]',
  ),
);

const cases: Array<[string, string]> = [
  ['header read', '@(context.Request.Headers.GetValueOrDefault("api-key",""))'],
  ['variable cast', '@((string)context.Variables["model"])'],
  ['status condition', '@(context.Response.StatusCode == 429 || context.Response.StatusCode >= 500)'],
  ['GetValueOrDefault<int> compare', '@(context.Variables.GetValueOrDefault<int>("remainingBackends") > 0)'],
  ['concat + cast', '@("Bearer " + (string)context.Variables["model"])'],
  ['interpolation', '@($"{context.Request.Url.Host}/{context.Variables["model"]}?v={context.Request.Url.Query.GetValueOrDefault("api-version", "")}")'],
  ['JObject body read (parses JSON)', '@(context.Request.Body.As<JObject>(preserveContent: true)["model"].ToString())'],
  [
    'block: loop over JArray backends',
    '@{ JArray backends = (JArray)context.Variables["listBackends"]; int remaining = 0; for (int i = 0; i < backends.Count; i++) { JObject b = (JObject)backends[i]; if (!b.Value<bool>("isThrottling")) { remaining++; } } return remaining; }',
  ],
  ['block: += in a 1,000-iteration loop', '@{ int s = 0; for (int i = 0; i < 1000; i++) { s += i % 7; } return s; }'],
  ['LINQ over headers', '@(context.Request.Headers.Any(h => h.Key.StartsWith("X-", StringComparison.OrdinalIgnoreCase)))'],
];

for (const [name, text] of cases) {
  const bag = new DiagnosticBag();
  const expr = compileExpression(TextSpan.verbatim(new SourceText('bench.xml', text), 0, text.length), bag);
  if (!expr) throw new Error(bag.items.map(formatDiagnosticLine).join('\n'));
  for (let i = 0; i < 20_000; i++) expr.evaluate(ctx); // warm-up
  let n = 0;
  const start = process.hrtime.bigint();
  const budgetNs = 400_000_000n;
  let elapsed = 0n;
  while (elapsed < budgetNs) {
    for (let i = 0; i < 10_000; i++) expr.evaluate(ctx);
    n += 10_000;
    elapsed = process.hrtime.bigint() - start;
  }
  const perSec = (n / Number(elapsed)) * 1e9;
  console.log(`${name.padEnd(36)} ${Math.round(perSec).toLocaleString('en-US').padStart(12)} evaluations/s`);
}

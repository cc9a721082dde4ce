/**
 * CPU time per request through the throttling and cache policies in-process (Gateway.handle, no sockets), to check that
 * moving their counters onto the state store (src/state) costs nothing with the default memory store, and to show
 * the cost of a shared store (Redis) when one is given.
 * Run: npx tsx bench/throttling.bench.ts [--requests=N] [--rounds=N] [--root=DIR] [--redis=redis://127.0.0.1:6379]
 * `--root` runs another checkout's sources (e.g. main) with the same cases, for a before/after table.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const REQUESTS = Number(args.get('requests') ?? 20_000);
const ROUNDS = Number(args.get('rounds') ?? 3);
const ROOT = path.resolve(args.get('root') ?? path.join(import.meta.dirname, '..'));
const REDIS = args.get('redis');

const load = async <T>(rel: string): Promise<T> => (await import(pathToFileURL(path.join(ROOT, rel)).href)) as T;
const { Gateway } = await load<typeof import('../src/gateway/gateway.js')>('src/gateway/gateway.ts');
const { VirtualClock } = await load<typeof import('../src/clock.js')>('src/clock.ts');
const { SourceText } = await load<typeof import('../src/diagnostics/source.js')>('src/diagnostics/source.ts');
const { HeaderMap } = await load<typeof import('../src/engine/headers.js')>('src/engine/headers.ts');

const wrap = (inbound: string) => `<policies><inbound>${inbound}<return-response /></inbound><backend /><outbound /><on-error /></policies>`;
const CASES: Array<[string, string]> = [
  ['no policy (baseline)', ''],
  ['rate-limit-by-key', '<rate-limit-by-key calls="100000000" renewal-period="60" counter-key="@(context.Request.IpAddress)" />'],
  ['quota-by-key', '<quota-by-key calls="100000000" renewal-period="3600" counter-key="@(context.Request.IpAddress)" />'],
  [
    'llm-token-limit (no estimate)',
    '<llm-token-limit counter-key="k" tokens-per-minute="2000000000" token-quota="2000000000" token-quota-period="Hourly" estimate-prompt-tokens="false" />',
  ],
  ['cache-lookup-value + cache-store-value', '<cache-lookup-value key="k" variable-name="v" /><cache-store-value key="k" value="x" duration="60" />'],
];

async function run(name: string, inbound: string, state: unknown): Promise<number> {
  const clock = new VirtualClock(Date.UTC(2030, 0, 1));
  const def = {
    service: { name: 'bench', region: 'r', gatewayId: 'managed' },
    globalPolicy: new SourceText('global.xml', '<policies><inbound /><backend /><outbound /><on-error /></policies>'),
    fragments: [],
    namedValues: [],
    backendFiles: [],
    products: [],
    apis: [
      { id: 'api', name: 'api', path: 'api', serviceUrl: '', subscriptionRequired: false, policy: new SourceText('api.xml', wrap(inbound)), operations: [] },
    ],
    subscriptions: [],
  };
  const upstream = { send: () => Promise.reject(new Error('no backend in this bench')) };
  const built = Gateway.build(def as never, { clock, upstream, ...(state ? { state } : {}) } as never);
  if (!built.gateway) throw new Error(`${name}: ${JSON.stringify(built.diagnostics)}`);
  const gateway = built.gateway;
  const request = () => ({
    method: 'POST',
    path: '/api/x',
    search: '',
    scheme: 'http',
    host: '127.0.0.1',
    port: 8080,
    headers: new HeaderMap([['Content-Type', 'application/json']]),
    body: null,
    ip: '10.0.0.1',
    tracing: false,
  });
  // CPU time rather than wall time: on a shared machine other processes' load inflates wall time, far less CPU time.
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < ROUNDS; round++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < REQUESTS; i++) {
      const r = await gateway.handle(request() as never);
      if (r.response.statusCode !== 200) throw new Error(`${name}: status ${r.response.statusCode}`);
    }
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / REQUESTS);
  }
  return best;
}

let redisStore: { close(): Promise<void>; reset(): unknown } | undefined;
if (REDIS) {
  const { RedisStateStore } = await load<typeof import('../src/state/redis.js')>('src/state/redis.ts');
  const s = new RedisStateStore({ url: REDIS, prefix: 'bench:' });
  await s.ready();
  redisStore = s;
}
console.log(`root ${ROOT}; ${REQUESTS} requests x ${ROUNDS} rounds, best round, CPU microseconds per request`);
console.log('| Policy | memory store µs CPU/request |' + (redisStore ? ' Redis store µs CPU/request |' : ''));
console.log('|---|---|' + (redisStore ? '---|' : ''));
for (const [name, inbound] of CASES) {
  const mem = await run(name, inbound, undefined);
  let red = '';
  if (redisStore) {
    await redisStore.reset();
    red = ` ${(await run(name, inbound, redisStore)).toFixed(2)} |`;
  }
  console.log(`| ${name} | ${mem.toFixed(2)} |${red}`);
}
await redisStore?.close();

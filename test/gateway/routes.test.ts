import { NO_UPSTREAM as NO_UPSTREAM_FOR_TESTS } from '../../src/engine/upstream.js';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { SourceText } from '../../src/diagnostics/source.js';
import { HeaderMap } from '../../src/engine/headers.js';
import type { ApiDefinition, GatewayDefinition } from '../../src/gateway/definition.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { compileTemplate } from '../../src/gateway/matching.js';
import { OperationIndex } from '../../src/gateway/routes.js';

/** Each API answers with its own id and the matched operation, so a test reads which route a path took. */
const answer = (id: string) =>
  new SourceText(
    `${id}.xml`,
    `<policies><inbound><return-response><set-status code="200" /><set-body>@("${id} " + context.Operation.Id + " rev" + context.Api.Revision + (context.Api.IsCurrentRevision ? " current" : ""))</set-body></return-response></inbound><backend /><outbound /><on-error /></policies>`,
  );

function api(id: string, path: string, extra: Partial<ApiDefinition> = {}): ApiDefinition {
  return { id, name: id, path, serviceUrl: '', subscriptionRequired: false, policy: answer(id), operations: [], ...extra };
}

function build(apis: ApiDefinition[]): Gateway {
  const def: GatewayDefinition = {
    service: { name: 's', region: 'r', gatewayId: 'managed' },
    fragments: [],
    namedValues: [],
    backendFiles: [],
    products: [],
    apis,
    subscriptions: [],
  };
  const built = Gateway.build(def, { clock: new VirtualClock(), upstream: NO_UPSTREAM_FOR_TESTS });
  if (!built.gateway) throw new Error(built.diagnostics.map((d) => d.message).join('\n'));
  return built.gateway;
}

async function call(gw: Gateway, target: string, headers: Record<string, string> = {}, method = 'GET'): Promise<string> {
  const q = target.indexOf('?');
  const r = await gw.handle({
    method,
    path: q < 0 ? target : target.slice(0, q),
    search: q < 0 ? '' : target.slice(q),
    scheme: 'http',
    host: 'localhost',
    port: 80,
    headers: HeaderMap.fromRaw(Object.entries(headers).flat()),
    body: null,
    ip: '127.0.0.1',
    tracing: false,
  });
  const body = r.response.body ? Buffer.from(await r.response.body.buffer()).toString() : '';
  return r.response.statusCode === 200 ? body : String(r.response.statusCode);
}

describe('route table', () => {
  it('picks the longest API suffix, segment by segment and case-insensitively', async () => {
    const gw = build([api('root', ''), api('openai', 'openai'), api('openai-v2', 'openai/v2'), api('openaix', 'openaiX')]);
    expect(await call(gw, '/openai/chat')).toBe('openai openai-any rev1 current');
    expect(await call(gw, '/OpenAI/V2/chat')).toBe('openai-v2 openai-v2-any rev1 current');
    expect(await call(gw, '/openai/v2')).toBe('openai-v2 openai-v2-any rev1 current');
    // A suffix matches whole segments only: /openai/v2x is the openai API, /openaix its own API.
    expect(await call(gw, '/openai/v2x/chat')).toBe('openai openai-any rev1 current');
    expect(await call(gw, '/openaix/a')).toBe('openaix openaix-any rev1 current');
    expect(await call(gw, '/other')).toBe('root root-any rev1 current');
  });

  it('answers 404 when no API suffix matches', async () => {
    const gw = build([api('a', 'a'), api('b', 'b/c')]);
    expect(await call(gw, '/b')).toBe('404');
    expect(await call(gw, '/b/d')).toBe('404');
    expect(await call(gw, '/b/c/d')).toBe('b b-any rev1 current');
  });

  it('tries only the templates that can match, most specific first', async () => {
    const ops = [
      { id: 'any-deployment', method: 'POST', urlTemplate: '/deployments/{id}/chat/completions' },
      { id: 'gpt4o', method: 'POST', urlTemplate: '/deployments/gpt-4o/chat/completions' },
      { id: 'param-first', method: 'GET', urlTemplate: '/{resource}/status' },
      { id: 'models', method: 'GET', urlTemplate: '/models' },
      { id: 'root', method: 'GET', urlTemplate: '/' },
    ];
    const gw = build([api('openai', 'openai', { operations: ops })]);
    expect(await call(gw, '/openai/deployments/gpt-4o/chat/completions', {}, 'POST')).toBe('openai gpt4o rev1 current');
    expect(await call(gw, '/openai/Deployments/other/chat/completions', {}, 'POST')).toBe('openai any-deployment rev1 current');
    expect(await call(gw, '/openai/models')).toBe('openai models rev1 current');
    expect(await call(gw, '/openai/models/status')).toBe('openai param-first rev1 current');
    expect(await call(gw, '/openai/deployments/status')).toBe('openai param-first rev1 current');
    expect(await call(gw, '/openai')).toBe('openai root rev1 current');
    expect(await call(gw, '/openai/nothing')).toBe('404');
  });

  it('routes version sets by path segment, header and query; the unnamed version answers when none is given', async () => {
    const seg = { id: 'vs-seg', scheme: 'Segment' as const };
    const hdr = { id: 'vs-hdr', scheme: 'Header' as const, headerName: 'x-version' };
    const qry = { id: 'vs-qry', scheme: 'Query' as const, queryName: 'v' };
    const gw = build([
      api('seg-original', 'seg', { versionSet: seg, version: '' }),
      api('seg-v1', 'seg', { versionSet: seg, version: 'v1' }),
      api('seg-v2', 'seg', { versionSet: seg, version: 'v2' }),
      api('hdr-v1', 'hdr', { versionSet: hdr, version: 'v1' }),
      api('hdr-v2', 'hdr', { versionSet: hdr, version: 'v2' }),
      api('qry-original', 'qry', { versionSet: qry, version: '' }),
      api('qry-2024', 'qry', { versionSet: qry, version: '2024-01-01' }),
    ]);
    expect(await call(gw, '/seg/v1/x')).toBe('seg-v1 seg-v1-any rev1 current');
    expect(await call(gw, '/seg/V2')).toBe('seg-v2 seg-v2-any rev1 current');
    expect(await call(gw, '/seg/v3/x')).toBe('seg-original seg-original-any rev1 current');
    expect(await call(gw, '/hdr/x', { 'X-Version': 'v2' })).toBe('hdr-v2 hdr-v2-any rev1 current');
    expect(await call(gw, '/hdr/x', { 'x-version': 'v1' })).toBe('hdr-v1 hdr-v1-any rev1 current');
    // Header scheme without an unnamed version: no header, or an unknown one, reaches no API.
    expect(await call(gw, '/hdr/x')).toBe('404');
    expect(await call(gw, '/hdr/x', { 'x-version': 'v9' })).toBe('404');
    expect(await call(gw, '/qry/x?v=2024-01-01')).toBe('qry-2024 qry-2024-any rev1 current');
    expect(await call(gw, '/qry/x')).toBe('qry-original qry-original-any rev1 current');
  });

  it('reaches a revision by ;rev=N; without it only the current revision answers', async () => {
    const gw = build([
      api('orders', 'orders', { revision: '1', isCurrent: true }),
      api('orders-rev2', 'orders', { revision: '2', isCurrent: false }),
      api('v-seg', 'v', { versionSet: { id: 'vs', scheme: 'Segment' }, version: 'v1', revision: '3', isCurrent: false }),
      api('v-seg-current', 'v', { versionSet: { id: 'vs', scheme: 'Segment' }, version: 'v1', revision: '2' }),
    ]);
    expect(await call(gw, '/orders/list')).toBe('orders orders-any rev1 current');
    expect(await call(gw, '/orders;rev=2/list')).toBe('orders-rev2 orders-rev2-any rev2');
    expect(await call(gw, '/orders;rev=1/list')).toBe('orders orders-any rev1 current');
    expect(await call(gw, '/orders;rev=7/list')).toBe('404');
    expect(await call(gw, '/v/v1/x')).toBe('v-seg-current v-seg-current-any rev2 current');
    expect(await call(gw, '/v/v1;rev=3/x')).toBe('v-seg v-seg-any rev3');
  });

  it('keeps the index flat: 2,000 operations, a request tries only its bucket', () => {
    const ops = Array.from({ length: 2_000 }, (_, i) => ({ template: compileTemplate({ id: `op${i}`, method: 'GET', urlTemplate: `/resource${i}/{id}` }) }));
    const open = { template: compileTemplate({ id: 'open', method: 'GET', urlTemplate: '/{any}/x' }) };
    const index = new OperationIndex([...ops, open]);
    const c = index.candidates('/RESOURCE1711/abc');
    expect(c.map((o) => o.template.template)).toEqual(['/resource1711/{id}', '/{any}/x']);
    expect(index.candidates('/unknown/x').map((o) => o.template.template)).toEqual(['/{any}/x']);
  });
});

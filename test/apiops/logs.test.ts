import { UndiciUpstream } from '../../src/server/undici-upstream.js';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { formatPrettyLine } from '../../src/cli/log-format.js';
import { SystemClock } from '../../src/clock.js';
import { SourceText } from '../../src/diagnostics/source.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { startServer } from '../../src/server/index.js';

/** A failing request's log line says why at the default level (LastError + policy position); pretty form for terminals. */
describe('request log lines', () => {
  it('a policy error logs its LastError reason and position; an unmatched path logs why; pretty shows both on one line', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    const policy = new SourceText(
      'policy.xml',
      '<policies><inbound><base /><ip-filter action="allow"><address>10.0.0.1</address></ip-filter></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>',
    );
    const built = Gateway.build(
      {
        service: { name: 's', region: 'r', gatewayId: 'managed' },
        fragments: [],
        namedValues: [],
        backendFiles: [],
        products: [],
        apis: [{ id: 'api', name: 'api', path: 'shop', serviceUrl: 'http://127.0.0.1:9', subscriptionRequired: false, policy, operations: [] }],
        subscriptions: [],
      },
      { clock: new SystemClock(), upstream: new UndiciUpstream(new SystemClock(), { wallClock: true }) },
    );
    const server = await startServer({ gateway: built.gateway!, clock: new SystemClock(), logger: pino({ level: 'info', base: null }, sink) });
    try {
      expect((await fetch(`${server.url}/shop/items`)).status).toBe(403);
      expect((await fetch(`${server.url}/elsewhere`)).status).toBe(404);
    } finally {
      await server.close();
    }
    const requests = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request');
    expect(requests[0]).toMatchObject({
      level: 30,
      status: 403,
      lastError: { source: 'ip-filter', reason: 'CallerIpNotAllowed', scope: 'api', section: 'inbound', path: 'ip-filter[1]' },
    });
    expect(requests[1]).toMatchObject({ status: 404, why: 'no API matched the request path: 404' });
    const pretty = formatPrettyLine(JSON.stringify(requests[0]));
    expect(pretty).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}GET \/shop\/items -> 403 api\/api-any [\d.]+ms .*why: CallerIpNotAllowed at ip-filter \(api inbound ip-filter\[1\]\): /,
    );
    expect(pretty.endsWith('\n')).toBe(true);
  });
});

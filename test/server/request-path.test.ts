import { describe, expect, it } from 'vitest';
import { HeaderMap } from '../../src/engine/headers.js';
import { originOf } from '../../src/server/undici-upstream.js';
import { buildGateway, policies } from '../helpers/gateway.js';

// Seams introduced to keep the served request path cheap (docs/performance.md, "Request path CPU, round 2").
describe('request path seams', () => {
  it('names a backend origin without building a URL object, credentials left out', () => {
    expect(originOf('http://127.0.0.1:4010/openai/chat?x=1')).toBe('http://127.0.0.1:4010');
    expect(originOf('HTTPS://Example.COM')).toBe('https://example.com');
    expect(originOf('https://user:secret@example.com:8443?q')).toBe('https://example.com:8443');
    expect(originOf('http://[::1]:81#frag')).toBe('http://[::1]:81');
    expect(originOf('not a url')).toBe('');
  });

  it('clones and copies header maps independently of the original', () => {
    const h = new HeaderMap([
      ['X-One', ['a']],
      ['x-two', ['b', 'c']],
    ]);
    const c = h.clone();
    c.append('x-one', ['z']);
    c.set('X-Three', ['d']);
    expect(h.get('x-one')).toEqual(['a']);
    expect(h.has('x-three')).toBe(false);
    expect(c.names()).toEqual(['X-One', 'x-two', 'X-Three']);
    const r = h.toRecord();
    r['x-two']!.push('mutated');
    expect(r).toEqual({ 'X-One': ['a'], 'x-two': ['b', 'c', 'mutated'] });
    expect(h.get('X-TWO')).toEqual(['b', 'c']);
  });

  it("uses the caller's AbortController as context.abort, and still links a bare signal", async () => {
    const { gateway } = buildGateway({ api: policies({ inbound: '<return-response><set-status code="200" /></return-response>' }) });
    const request = () => ({
      method: 'GET',
      path: '/api/x',
      search: '',
      scheme: 'http',
      host: 'localhost',
      port: 80,
      headers: new HeaderMap(),
      body: null,
      ip: '127.0.0.1',
      tracing: false,
    });
    const own = new AbortController();
    const r1 = await gateway.handle(request(), own);
    expect(r1.context!.abort).toBe(own);
    const linked = new AbortController();
    const r2 = await gateway.handle(request(), linked.signal);
    expect(r2.context!.abort).not.toBe(linked);
    linked.abort(new Error('client gone'));
    expect(r2.context!.abort.signal.aborted).toBe(true);
    expect((r2.context!.abort.signal.reason as Error).message).toBe('client gone');
  });
});

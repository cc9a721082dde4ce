import { describe, expect, it } from 'vitest';
import { isAdminPath } from '../../src/server/admin.js';
import { ServerMetrics } from '../../src/server/metrics.js';
import { clientIp, parseHostHeader, splitTarget } from '../../src/server/request.js';
import { RingBuffer } from '../../src/server/ring.js';
import { SecretMasker } from '../../src/server/secrets.js';

describe('request target and host parsing', () => {
  it('splits path and query keeping percent-encoding; absolute-form loses its origin', () => {
    expect(splitTarget('/a%2Fb/c?x=%20y&z')).toEqual({ path: '/a%2Fb/c', search: '?x=%20y&z' });
    expect(splitTarget('/plain')).toEqual({ path: '/plain', search: '' });
    expect(splitTarget('http://example.com:81/p?q=1')).toEqual({ path: '/p', search: '?q=1' });
    expect(splitTarget('http://example.com')).toEqual({ path: '/', search: '' });
    expect(splitTarget('*')).toEqual({ path: '/', search: '' });
  });

  it('reads host and port from the Host header, IPv6 included', () => {
    expect(parseHostHeader('api.example.com', 80)).toEqual({ host: 'api.example.com', port: 80 });
    expect(parseHostHeader('localhost:8080', 80)).toEqual({ host: 'localhost', port: 8080 });
    expect(parseHostHeader('[::1]:9000', 80)).toEqual({ host: '::1', port: 9000 });
    expect(parseHostHeader('[::1]', 80)).toEqual({ host: '::1', port: 80 });
    expect(parseHostHeader('host:notaport', 80)).toBeNull();
    expect(parseHostHeader('[::1', 80)).toBeNull();
    expect(parseHostHeader(undefined, 80)).toBeNull();
  });

  it('strips the IPv4-mapped prefix from client addresses', () => {
    expect(clientIp('::ffff:10.0.0.5')).toBe('10.0.0.5');
    expect(clientIp('::1')).toBe('::1');
    expect(clientIp(undefined)).toBe('');
  });

  it('recognises the admin prefix only as a whole path segment', () => {
    expect(isAdminPath('/_emulator')).toBe(true);
    expect(isAdminPath('/_emulator/health')).toBe(true);
    expect(isAdminPath('/_Emulator/traces?x=1')).toBe(true);
    expect(isAdminPath('/_emulator?x')).toBe(true);
    expect(isAdminPath('/_emulatorx')).toBe(false);
    expect(isAdminPath('/api/_emulator/health')).toBe(false);
    expect(isAdminPath('/')).toBe(false);
  });
});

describe('ring buffer', () => {
  it('keeps the newest items in order and reports what it evicts', () => {
    const r = new RingBuffer<number>(3);
    expect([1, 2, 3].map((n) => r.push(n))).toEqual([undefined, undefined, undefined]);
    expect(r.push(4)).toBe(1);
    expect(r.push(5)).toBe(2);
    expect(r.toArray()).toEqual([3, 4, 5]);
    r.clear();
    expect(r.toArray()).toEqual([]);
    expect(() => new RingBuffer(0)).toThrow(/positive integer/);
  });
});

describe('secret masking', () => {
  it('masks raw and percent-encoded secrets in text and nested values, longest first', () => {
    const m = new SecretMasker(['abc', 'abcdef', 'p@ss word', 'x']);
    expect(m.mask('key=abcdef and abc')).toBe('key=*** and ***');
    expect(m.mask('/u/p%40ss%20word')).toBe('/u/***');
    // One-character values are not masked (they would garble everything).
    expect(m.mask('x marks')).toBe('x marks');
    expect(m.maskValue({ headers: { 'api-key': ['abcdef'] }, list: ['ok', 'abc'], n: 3, abc: true })).toEqual({
      headers: { 'api-key': ['***'] },
      list: ['ok', '***'],
      n: 3,
      '***': true,
    });
  });
});

describe('request metrics in the Prometheus text format', () => {
  it('counts per label set, accumulates histogram buckets and escapes label values', async () => {
    const m = new ServerMetrics();
    m.requestStarted();
    m.requestStarted();
    m.requestFinished({ api: 'a"1', operation: 'op\\x', backend: 'line\nbreak', status: 200, seconds: 0.0007 });
    m.requestFinished({ api: 'a"1', operation: 'op\\x', backend: 'line\nbreak', status: 200, seconds: 3 });
    m.requestStarted();
    const { contentType, body } = await m.render();
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const lines = body.split('\n');
    expect(lines).toContain('apim_requests_total{api="a\\"1",operation="op\\\\x",backend="line\\nbreak",status="200"} 2');
    // 0.0007 s falls in le=0.001 and above; 3 s only from le=5 on (buckets are cumulative).
    expect(lines).toContain('apim_request_duration_seconds_bucket{le="0.0005",api="a\\"1",operation="op\\\\x"} 0');
    expect(lines).toContain('apim_request_duration_seconds_bucket{le="0.001",api="a\\"1",operation="op\\\\x"} 1');
    expect(lines).toContain('apim_request_duration_seconds_bucket{le="2.5",api="a\\"1",operation="op\\\\x"} 1');
    expect(lines).toContain('apim_request_duration_seconds_bucket{le="5",api="a\\"1",operation="op\\\\x"} 2');
    expect(lines).toContain('apim_request_duration_seconds_bucket{le="+Inf",api="a\\"1",operation="op\\\\x"} 2');
    expect(lines).toContain('apim_request_duration_seconds_count{api="a\\"1",operation="op\\\\x"} 2');
    expect(lines).toContain('apim_request_duration_seconds_sum{api="a\\"1",operation="op\\\\x"} 3.0007');
    expect(lines).toContain('apim_requests_in_flight 1');
    expect(lines).toContain('# TYPE apim_request_duration_seconds histogram');
  });
});

describe('policy metrics', () => {
  it('ignores negative values with one warning', async () => {
    const warnings: string[] = [];
    const m = new ServerMetrics({ warn: (w) => warnings.push(w) });
    m.policyMetric({ name: 'x', namespace: 'n', value: -1, dimensions: {} });
    m.policyMetric({ name: 'x', namespace: 'n', value: -2, dimensions: {} });
    m.policyMetric({ name: 'x', namespace: 'n', value: 2, dimensions: {} });
    expect(warnings).toHaveLength(1);
    expect((await m.render()).body).toContain('apim_policy_x_total{namespace="n"} 2');
  });
});

import { describe, expect, it } from 'vitest';
import { isBackendDocument, loadBackends } from '../../src/backends/index.js';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';
import { formatDiagnosticLine } from '../../src/diagnostics/diagnostic.js';

type Json = Record<string, unknown>;

const single = (name: string, extra: Json = {}, apiVersion = '2024-06-01-preview'): Json => ({
  type: 'Microsoft.ApiManagement/service/backends',
  apiVersion,
  name,
  properties: { url: `https://${name}.example.com/openai`, protocol: 'http', ...extra },
});

const rule = (fc: Json = {}, extra: Json = {}): Json => ({
  circuitBreaker: {
    rules: [
      {
        name: 'r1',
        failureCondition: { count: 3, interval: 'PT1M', statusCodeRanges: [{ min: 500, max: 599 }], ...fc },
        tripDuration: 'PT1M',
        ...extra,
      },
    ],
  },
});

/** Loads `{ backends: [...] }` as pretty JSON; returns the text too, so positions can be checked against it. */
function load(backends: Json[], file = 'backends.json') {
  const text = JSON.stringify({ backends }, null, 2);
  return { text, ...loadBackends([{ file, text }]) };
}

/** 1-based line/column of the n-th occurrence of `needle` in `text`. */
function pos(text: string, needle: string, nth = 0): { line: number; column: number } {
  let i = -1;
  for (let k = 0; k <= nth; k++) {
    i = text.indexOf(needle, i + 1);
    if (i < 0) throw new Error(`${needle} not found`);
  }
  const before = text.slice(0, i).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

function only(diags: Diagnostic[], code: string): Diagnostic {
  const matching = diags.filter((d) => d.code === code);
  expect(matching, diags.map(formatDiagnosticLine).join('\n')).toHaveLength(1);
  return matching[0]!;
}

describe('backend definitions: semantic checks, each with file, JSON path, line and column', () => {
  it('url / protocol on a pool', () => {
    const r = load([single('a'), { name: 'p', properties: { type: 'Pool', url: 'http://google.com', pool: { services: [{ id: '/backends/a' }] } } }]);
    const d = only(r.diagnostics, 'backend/pool-url');
    expect(d).toMatchObject({ file: 'backends.json', jsonPath: '$.backends[1].properties.url', ...pos(r.text, '"url": "http://google.com"') });
    expect(d.message).toContain('Url is not supported for backend pool');
    expect(r.backends.map((b) => b.id)).toEqual(['a']);
  });

  it('nested pools', () => {
    const r = load([
      single('a'),
      { name: 'inner', properties: { type: 'Pool', pool: { services: [{ id: '/backends/a' }] } } },
      { name: 'outer', properties: { type: 'Pool', pool: { services: [{ id: '/backends/inner' }] } } },
    ]);
    const d = only(r.diagnostics, 'backend/pool-nested');
    expect(d).toMatchObject({ jsonPath: '$.backends[2].properties.pool.services[0].id', ...pos(r.text, '"/backends/inner"') });
    expect(d.message).toMatch(/'inner', which is itself a pool/);
  });

  it('members that do not exist, with the defined ones listed', () => {
    const r = load([single('a'), { name: 'p', properties: { type: 'Pool', pool: { services: [{ id: '/backends/a' }, { id: 'missing-one' }] } } }]);
    const d = only(r.diagnostics, 'backend/pool-member-missing');
    expect(d).toMatchObject({ jsonPath: '$.backends[1].properties.pool.services[1].id', ...pos(r.text, '"missing-one"') });
    expect(d.hint).toContain('a');
  });

  it('more than 30 members', () => {
    const singles = Array.from({ length: 31 }, (_, i) => single(`b${i}`));
    const r = load([...singles, { name: 'p', properties: { type: 'Pool', pool: { services: singles.map((s) => ({ id: `/backends/${String(s.name)}` })) } } }]);
    const d = only(r.diagnostics, 'backend/pool-too-many-members');
    expect(d.message).toContain('31 members');
    expect(d.jsonPath).toBe('$.backends[31].properties.pool.services');
  });

  it('priority and weight outside 0-100', () => {
    const r = load([
      single('a'),
      single('b'),
      {
        name: 'p',
        properties: {
          type: 'Pool',
          pool: {
            services: [
              { id: 'a', priority: 101 },
              { id: 'b', weight: -1 },
            ],
          },
        },
      },
    ]);
    const p = only(r.diagnostics, 'backend/pool-priority-range');
    expect(p).toMatchObject({ jsonPath: '$.backends[2].properties.pool.services[0].priority', ...pos(r.text, '101') });
    expect(p.hint).toContain('0-100');
    const w = only(r.diagnostics, 'backend/pool-weight-range');
    expect(w).toMatchObject({ jsonPath: '$.backends[2].properties.pool.services[1].weight', ...pos(r.text, '-1') });
  });

  it('bad ISO-8601 durations', () => {
    const r = load([single('a', rule({ interval: '1h' }))]);
    const d = only(r.diagnostics, 'backend/duration');
    expect(d).toMatchObject({ jsonPath: '$.backends[0].properties.circuitBreaker.rules[0].failureCondition.interval', ...pos(r.text, '"1h"') });
    expect(d.hint).toContain('PT1M');
    const t = load([single('a', rule({}, { tripDuration: 'PT' }))]);
    expect(only(t.diagnostics, 'backend/duration').jsonPath).toBe('$.backends[0].properties.circuitBreaker.rules[0].tripDuration');
  });

  it('more than one breaker rule (ARM text)', () => {
    const two = rule();
    const rules = (two.circuitBreaker as { rules: Json[] }).rules;
    rules.push({ ...rules[0]!, name: 'r2' });
    const r = load([single('a', two)]);
    const d = only(r.diagnostics, 'backend/breaker-rules-count');
    expect(d.message).toContain('Currently, only one rule can be configured for the circuit breaker.');
    expect(d).toMatchObject({ jsonPath: '$.backends[0].properties.circuitBreaker.rules[1]' });
  });

  it('both count and percentage, and neither', () => {
    const both = load([single('a', rule({ percentage: 50 }))]);
    const d = only(both.diagnostics, 'backend/breaker-threshold');
    const at = pos(both.text, '"percentage": 50');
    expect(d).toMatchObject({
      jsonPath: '$.backends[0].properties.circuitBreaker.rules[0].failureCondition.percentage',
      line: at.line,
      column: at.column + '"percentage": '.length,
    });
    const neither = load([
      single('a', {
        circuitBreaker: { rules: [{ name: 'r', failureCondition: { interval: 'PT1M', statusCodeRanges: [{ min: 500, max: 599 }] }, tripDuration: 'PT1M' }] },
      }),
    ]);
    expect(only(neither.diagnostics, 'backend/breaker-threshold').message).toContain('neither count nor percentage');
  });

  it('status ranges outside 200-599, and min > max', () => {
    const out = load([single('a', rule({ statusCodeRanges: [{ min: 100, max: 599 }] }))]);
    const d = only(out.diagnostics, 'backend/status-range');
    expect(d).toMatchObject({ jsonPath: '$.backends[0].properties.circuitBreaker.rules[0].failureCondition.statusCodeRanges[0].min', ...pos(out.text, '100') });
    expect(d.hint).toContain('200-599');
    const inverted = load([single('a', rule({ statusCodeRanges: [{ min: 599, max: 500 }] }))]);
    expect(only(inverted.diagnostics, 'backend/status-range').message).toContain('min 599 is greater than max 500');
  });

  it('unknown errorReasons: a warning naming the known ones (ARM accepts free text, but nothing can match it)', () => {
    const r = load([single('a', rule({ errorReasons: ['Server errors', 'Backend is sad'] }))]);
    const d = only(r.diagnostics, 'backend/error-reason-unknown');
    expect(d.severity).toBe('warning');
    expect(d).toMatchObject({
      jsonPath: '$.backends[0].properties.circuitBreaker.rules[0].failureCondition.errorReasons[1]',
      ...pos(r.text, '"Backend is sad"'),
    });
    expect(d.hint).toContain('BackendConnectionFailure');
    expect(r.backends).toHaveLength(1);
  });

  it('hand-invented shapes (tripCondition) get a "write this instead" error, not a generic one', () => {
    const r = load([
      single('a', {
        circuitBreaker: {
          rules: [
            {
              name: 'r',
              tripCondition: { failureCount: 3 },
              tripDuration: 'PT1M',
              failureCondition: { count: 1, interval: 'PT1M', statusCodeRanges: [{ min: 429, max: 429 }] },
            },
          ],
        },
      }),
    ]);
    const d = only(r.diagnostics, 'backend/invented-shape');
    expect(d).toMatchObject({ jsonPath: '$.backends[0].properties.circuitBreaker.rules[0].tripCondition', ...pos(r.text, '"tripCondition"') });
    expect(d.hint).toContain('failureCondition');
    expect(r.diagnostics.filter((x) => x.code === 'backend/unknown-property')).toEqual([]);
  });

  it('unknown property lists the allowed ones', () => {
    const r = load([single('a', { urll: 'x' })]);
    const d = only(r.diagnostics, 'backend/unknown-property');
    expect(d).toMatchObject({ jsonPath: '$.backends[0].properties.urll', ...pos(r.text, '"urll"') });
    expect(d.hint).toContain('circuitBreaker');
  });

  it('a single backend without url, a pool object on a non-pool, a Pool without pool', () => {
    const r = load([{ name: 'a', properties: { protocol: 'http' } }]);
    expect(only(r.diagnostics, 'backend/missing-url').jsonPath).toBe('$.backends[0].properties');
    const q = load([single('a', { pool: { services: [{ id: 'a' }] } }), { name: 'p', properties: { type: 'Pool' } }]);
    expect(only(q.diagnostics, 'backend/pool-without-type')).toMatchObject({
      jsonPath: '$.backends[0].properties.pool',
      ...pos(q.text, '{\n          "services"'),
    });
    expect(only(q.diagnostics, 'backend/pool-missing').jsonPath).toBe('$.backends[1].properties.type');
  });

  it('warnings that still load: breaker parts on a pool, missing interval/tripDuration defaults, nothing to count', () => {
    const r = load([
      single('a', { circuitBreaker: { rules: [{ name: 'r', failureCondition: { count: 2 } }] } }),
      { name: 'p', properties: { type: 'Pool', pool: { services: [{ id: 'a' }] }, ...rule() } },
    ]);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.diagnostics.map((d) => `${d.code} ${d.jsonPath}`).sort()).toEqual([
      'backend/breaker-default $.backends[0].properties.circuitBreaker.rules[0]',
      'backend/breaker-default $.backends[0].properties.circuitBreaker.rules[0].failureCondition',
      'backend/breaker-never-trips $.backends[0].properties.circuitBreaker.rules[0].failureCondition',
      'backend/pool-property-ignored $.backends[1].properties.circuitBreaker',
    ]);
    expect(r.backends[0]!.circuitBreaker).toMatchObject({ intervalMs: 3_600_000, tripDurationMs: 3_600_000, count: 2 });
  });

  it('duplicate ids name the first definition', () => {
    const r = load([single('a'), single('svc/a')]);
    const d = only(r.diagnostics, 'backend/duplicate-id');
    expect(d.message).toContain(`first at backends.json:${pos(r.text, '{\n      "type"').line}`);
  });

  it('numbers written as strings are accepted, as ARM does', () => {
    const r = load([
      single('a', rule({ count: '3', statusCodeRanges: [{ min: '500', max: '599' }] }, { acceptRetryAfter: 'true' })),
      { name: 'p', properties: { type: 'Pool', pool: { services: [{ id: '/backends/a', priority: '1', weight: '3' }] } } },
    ]);
    expect(r.diagnostics).toEqual([]);
    expect(r.backends[0]!.circuitBreaker).toMatchObject({ count: 3, statusCodeRanges: [{ min: 500, max: 599 }], acceptRetryAfter: true });
    expect(r.backends[1]!.pool!.members[0]).toMatchObject({ backendId: 'a', priority: 1, weight: 3 });
    const bad = load([single('a', rule({ count: 'three' }))]);
    expect(only(bad.diagnostics, 'backend/schema').message).toBe(`backend 'a': 'count' must be an integer, got "three"`);
  });

  it('invalid JSON gives one diagnostic with line and column', () => {
    const text = '{\n  "backends": [\n    { "name": "a", }\n  ]\n}';
    const r = loadBackends([{ file: 'broken.json', text }]);
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({ code: 'backend/json-syntax', file: 'broken.json', line: 3, column: 20 });
    expect(formatDiagnosticLine(r.diagnostics[0]!)).toBe(
      'broken.json:3:20: error backend/json-syntax: invalid JSON: trailing comma before } is not allowed in JSON (backend files are JSON (ARM templates may contain // comments))',
    );
  });

  it('an unrecognized document says which shapes are accepted', () => {
    const r = loadBackends([{ file: 'x.json', text: '{"hello": 1}' }]);
    expect(r.diagnostics[0]).toMatchObject({ code: 'backend/unrecognized-document', line: 1, column: 1 });
    expect(r.diagnostics[0]!.hint).toContain('{ backends: [...] }');
  });
});

describe('api-version gating (docs/backends.md)', () => {
  it('acceptRetryAfter is not in 2023-05-01-preview', () => {
    const r = load([single('a', rule({}, { acceptRetryAfter: true }), '2023-05-01-preview')]);
    const d = only(r.diagnostics, 'backend/not-in-api-version');
    expect(d.message).toBe("backend 'a': 'acceptRetryAfter' is not available in api-version 2023-05-01-preview");
    expect(d.hint).toContain('2023-09-01-preview');
    expect(d).toMatchObject({ jsonPath: '$.backends[0].properties.circuitBreaker.rules[0].acceptRetryAfter', ...pos(r.text, '"acceptRetryAfter"') });
    expect(load([single('a', rule({}, { acceptRetryAfter: true }), '2023-09-01-preview')]).diagnostics).toEqual([]);
    expect(load([single('a', rule({}, { acceptRetryAfter: true }), '2024-05-01')]).diagnostics).toEqual([]);
  });

  it('priority and weight are not in 2023-05-01-preview (pool items are {id} only)', () => {
    const r = load([
      single('a', {}, '2023-05-01-preview'),
      { name: 'p', apiVersion: '2023-05-01-preview', properties: { type: 'Pool', pool: { services: [{ id: '/backends/a', priority: 1, weight: 2 }] } } },
    ]);
    const ds = r.diagnostics.filter((d) => d.code === 'backend/not-in-api-version');
    expect(ds.map((d) => d.jsonPath)).toEqual(['$.backends[1].properties.pool.services[0].priority', '$.backends[1].properties.pool.services[0].weight']);
  });

  it('failureResponse and sessionAffinity only from 2024-10-01-preview', () => {
    const poolWith = (apiVersion: string): Json => ({
      name: 'p',
      apiVersion,
      properties: {
        type: 'Pool',
        pool: { services: [{ id: 'a' }], failureResponse: { statusCode: 429 }, sessionAffinity: { sessionId: { source: 'Cookie', name: 'SessionId' } } },
      },
    });
    const old = load([single('a'), poolWith('2024-06-01-preview')]);
    expect(old.diagnostics.filter((d) => d.code === 'backend/not-in-api-version').map((d) => d.jsonPath)).toEqual([
      '$.backends[1].properties.pool.failureResponse',
      '$.backends[1].properties.pool.sessionAffinity',
    ]);
    const ruleOld = load([single('a', rule({}, { failureResponse: { statusCode: 429 } }))]);
    expect(only(ruleOld.diagnostics, 'backend/not-in-api-version').hint).toContain('2024-10-01-preview');
    const ok = load([single('a', {}, '2024-10-01-preview'), poolWith('2024-10-01-preview')]);
    expect(ok.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(ok.diagnostics).toEqual([]);
    expect(ok.backends[1]!.pool!.failureResponseStatusCode).toBe(429);
    expect(ok.backends[1]!.pool!.sessionAffinity).toEqual({ source: 'Cookie', name: 'SessionId' });
  });

  it('sessionAffinity: a missing or invalid cookie name is an error at the name; no sessionId loads without affinity', () => {
    const pool = (sa: Json): Json => ({
      name: 'p',
      apiVersion: '2025-03-01-preview',
      properties: { type: 'Pool', pool: { services: [{ id: 'a' }], sessionAffinity: sa } },
    });
    const noName = load([single('a'), pool({ sessionId: { source: 'Cookie' } })]);
    const d1 = only(noName.diagnostics, 'backend/session-affinity-name');
    expect(d1).toMatchObject({
      severity: 'error',
      jsonPath: '$.backends[1].properties.pool.sessionAffinity.sessionId',
      line: pos(noName.text, '"sessionId"').line,
      column: pos(noName.text, '"sessionId"').column + '"sessionId": '.length,
    });
    expect(d1.hint).toContain('name');
    expect(noName.backends.map((b) => b.id)).toEqual(['a']);

    const badName = load([single('a'), pool({ sessionId: { source: 'Cookie', name: 'my session' } })]);
    const d2 = only(badName.diagnostics, 'backend/session-affinity-name');
    expect(d2).toMatchObject({
      severity: 'error',
      jsonPath: '$.backends[1].properties.pool.sessionAffinity.sessionId.name',
      ...pos(badName.text, '"my session"'),
    });
    expect(d2.message).toContain('not a valid cookie name');

    const noSessionId = load([single('a'), pool({})]);
    expect(only(noSessionId.diagnostics, 'backend/session-affinity-no-session-id').severity).toBe('warning');
    expect(noSessionId.backends[1]!.pool!.sessionAffinity).toBeUndefined();

    const lower = load([single('a'), pool({ sessionId: { source: 'cookie', name: 'ARR-Session_1' } })]);
    expect(lower.diagnostics).toEqual([]);
    expect(lower.backends[1]!.pool!.sessionAffinity).toEqual({ source: 'cookie', name: 'ARR-Session_1' });

    const header = load([single('a'), pool({ sessionId: { source: 'Header', name: 'x-session' } })]);
    expect(header.diagnostics.filter((d) => d.severity === 'error').map((d) => d.jsonPath)).toEqual([
      '$.backends[1].properties.pool.sessionAffinity.sessionId.source',
    ]);
  });

  it('no circuit breaker before 2023-03-01-preview; no pools before 2023-05-01-preview', () => {
    expect(only(load([single('a', rule(), '2022-08-01')]).diagnostics, 'backend/not-in-api-version').hint).toContain('2023-03-01-preview');
    const r = load([
      single('a', {}, '2023-03-01-preview'),
      { name: 'p', apiVersion: '2023-03-01-preview', properties: { type: 'Pool', pool: { services: [{ id: 'a' }] } } },
    ]);
    expect(r.diagnostics.filter((d) => d.code === 'backend/not-in-api-version').map((d) => d.jsonPath)).toEqual([
      '$.backends[1].properties.type',
      '$.backends[1].properties.pool',
    ]);
  });

  it('a malformed apiVersion is an error', () => {
    const r = load([single('a', {}, 'latest')]);
    expect(only(r.diagnostics, 'backend/api-version').hint).toContain('2024-06-01-preview');
  });
});

describe('shapes', () => {
  const b = single('svc/a');
  it('one resource, an array, { backends }, { value } (REST list) all load', () => {
    for (const doc of [
      b,
      [b],
      { backends: [b] },
      {
        value: [
          {
            id: '/subscriptions/s/resourceGroups/g/providers/Microsoft.ApiManagement/service/svc/backends/a',
            name: 'a',
            type: 'Microsoft.ApiManagement/service/backends',
            properties: { url: 'https://a', protocol: 'http', title: null },
          },
        ],
      },
    ]) {
      const r = loadBackends([{ file: 'f.json', text: JSON.stringify(doc) }]);
      expect(r.diagnostics).toEqual([]);
      expect(r.backends.map((x) => x.id)).toEqual(['a']);
      expect(isBackendDocument(doc)).toBe(true);
    }
    expect(isBackendDocument({ openapi: '3.0.0' })).toBe(false);
    expect(isBackendDocument([{ name: 'x' }])).toBe(false);
  });

  it('a resource of another type in a list is an error', () => {
    const r = loadBackends([{ file: 'f.json', text: JSON.stringify([{ type: 'Microsoft.ApiManagement/service/apis', name: 'x', properties: {} }]) }]);
    expect(r.diagnostics[0]).toMatchObject({ code: 'backend/not-a-backend', jsonPath: '$[0].type' });
  });

  it('pool member ids: /backends/x, full ARM id, bare name', () => {
    const r = load([
      single('a'),
      single('b'),
      single('c'),
      {
        name: 'p',
        properties: {
          type: 'Pool',
          pool: {
            services: [
              { id: '/backends/a' },
              { id: '/subscriptions/0/resourceGroups/rg/providers/Microsoft.ApiManagement/service/svc/backends/b' },
              { id: 'c' },
            ],
          },
        },
      },
    ]);
    expect(r.diagnostics).toEqual([]);
    expect(r.backends[3]!.pool!.members.map((m) => m.backendId)).toEqual(['a', 'b', 'c']);
    const bad = load([single('a'), { name: 'p', properties: { type: 'Pool', pool: { services: [{ id: '/apis/a' }] } } }]);
    expect(only(bad.diagnostics, 'backend/pool-member-id').hint).toContain('/backends/<name>');
  });

  it('normalizes credentials, tls defaults and the breaker rule', () => {
    const r = load([
      single('a', {
        credentials: { header: { 'api-key': ['{{key}}'] }, query: { v: ['1'] }, authorization: { scheme: 'Bearer', parameter: 'tok' } },
        tls: { validateCertificateChain: false },
        ...rule({ count: undefined, percentage: 50, errorReasons: ['Timeout'] }, { acceptRetryAfter: true }),
      }),
    ]);
    expect(r.diagnostics).toEqual([]);
    const a = r.backends[0]!;
    expect(a.credentials).toEqual({ headers: { 'api-key': ['{{key}}'] }, query: { v: ['1'] }, authorization: { scheme: 'Bearer', parameter: 'tok' } });
    expect(a.tls).toEqual({ validateCertificateChain: false, validateCertificateName: true });
    expect(a.circuitBreaker).toEqual({
      name: 'r1',
      percentage: 50,
      intervalMs: 60_000,
      interval: 'PT1M',
      tripDurationMs: 60_000,
      tripDuration: 'PT1M',
      statusCodeRanges: [{ min: 500, max: 599 }],
      errorReasons: ['Timeout'],
      acceptRetryAfter: true,
    });
    expect(a).toMatchObject({ file: 'backends.json', jsonPath: '$.backends[0]', apiVersion: '2024-06-01-preview', line: 3, column: 5 });
  });
});

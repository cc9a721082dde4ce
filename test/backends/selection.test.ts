import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { type BackendDefinition, BackendRegistry, loadBackends } from '../../src/backends/index.js';
import { formatDiagnosticLine } from '../../src/diagnostics/diagnostic.js';

type Member = { name: string; priority?: number | null; weight?: number | null };

/** Single backends with a count-1 429 breaker (tripDuration PT1M), plus a pool over them. */
function defs(members: Member[], poolExtra: Record<string, unknown> = {}, apiVersion = '2024-06-01-preview'): BackendDefinition[] {
  const backends = [
    ...members.map((m) => ({
      name: m.name,
      apiVersion,
      properties: {
        url: `https://${m.name}.example.com`,
        credentials: { header: { 'api-key': [`key-${m.name}`] } },
        circuitBreaker: {
          rules: [{ name: 'r', failureCondition: { count: 1, interval: 'PT1M', statusCodeRanges: [{ min: 429, max: 429 }] }, tripDuration: 'PT1M' }],
        },
      },
    })),
    {
      name: 'pool',
      apiVersion,
      properties: {
        type: 'Pool',
        pool: {
          services: members.map((m) => ({
            id: `/backends/${m.name}`,
            ...(m.priority !== undefined ? { priority: m.priority } : {}),
            ...(m.weight !== undefined ? { weight: m.weight } : {}),
          })),
          ...poolExtra,
        },
      },
    },
  ];
  const r = loadBackends([{ file: 'b.json', text: JSON.stringify({ backends }) }]);
  expect(r.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnosticLine)).toEqual([]);
  return r.backends;
}

function picks(reg: BackendRegistry, n: number, id = 'pool'): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = reg.select(id);
    out.push(s.ok ? s.memberId : `unavailable ${s.statusCode}`);
  }
  return out;
}

function counts(list: string[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const x of list) c[x] = (c[x] ?? 0) + 1;
  return c;
}

describe('pool selection', () => {
  it('no weights: round-robin in member order', () => {
    const reg = new BackendRegistry(defs([{ name: 'a' }, { name: 'b' }, { name: 'c' }]), new VirtualClock());
    expect(picks(reg, 7)).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a']);
  });

  it('50/50 alternates exactly (smooth weighted round-robin)', () => {
    const reg = new BackendRegistry(
      defs([
        { name: 'a', weight: 50 },
        { name: 'b', weight: 50 },
      ]),
      new VirtualClock(),
    );
    expect(picks(reg, 8)).toEqual(['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b']);
  });

  it('3:1:1 over 10,000 selections is exact, and interleaved (never 3 a in a row twice)', () => {
    const reg = new BackendRegistry(
      defs([
        { name: 'a', weight: 3 },
        { name: 'b', weight: 1 },
        { name: 'c', weight: 1 },
      ]),
      new VirtualClock(),
    );
    const list = picks(reg, 10_000);
    expect(counts(list)).toEqual({ a: 6000, b: 2000, c: 2000 });
    expect(list.slice(0, 5)).toEqual(['a', 'b', 'a', 'c', 'a']); // smooth: spread, not a,a,a,b,c
    const snap = reg.state().find((s) => s.id === 'pool')!;
    expect(snap.members!.map((m) => [m.backendId, m.selections])).toEqual([
      ['a', 6000],
      ['b', 2000],
      ['c', 2000],
    ]);
    expect(snap.selections).toBe(10_000);
  });

  it('weight 0 is never chosen unless every available member of its group has weight 0', () => {
    const clock = new VirtualClock();
    const reg = new BackendRegistry(
      defs([
        { name: 'main', weight: 1 },
        { name: 'standby', weight: 0 },
      ]),
      clock,
    );
    expect(counts(picks(reg, 100))).toEqual({ main: 100 });
    reg.report('main', { status: 429 });
    expect(picks(reg, 3)).toEqual(['standby', 'standby', 'standby']);
    const allZero = new BackendRegistry(
      defs([
        { name: 'x', weight: 0 },
        { name: 'y', weight: 0 },
      ]),
      clock,
    );
    expect(picks(allZero, 4)).toEqual(['x', 'y', 'x', 'y']);
  });

  it('null priority counts as 0 (highest) and null weight as 1', () => {
    const reg = new BackendRegistry(
      defs([
        { name: 'low', priority: 1, weight: 5 },
        { name: 'nullp', priority: null, weight: null },
        { name: 'zero', priority: 0, weight: 1 },
      ]),
      new VirtualClock(),
    );
    expect(picks(reg, 4)).toEqual(['nullp', 'zero', 'nullp', 'zero']);
    const snap = reg.state().find((s) => s.id === 'pool')!;
    expect(snap.members!.map((m) => [m.backendId, m.priority, m.weight])).toEqual([
      ['nullp', 0, 1],
      ['zero', 0, 1],
      ['low', 1, 5],
    ]);
  });

  it('priority fallback: the next group only when every member of the higher group is open; back when it closes', () => {
    const clock = new VirtualClock();
    const reg = new BackendRegistry(
      defs([
        { name: 'p1a', priority: 1 },
        { name: 'p1b', priority: 1 },
        { name: 'p2', priority: 2 },
      ]),
      clock,
    );
    expect(picks(reg, 2)).toEqual(['p1a', 'p1b']);
    reg.report('p1a', { status: 429 });
    expect(picks(reg, 2)).toEqual(['p1b', 'p1b']);
    reg.report('p1b', { status: 429 });
    const s = reg.select('pool');
    expect(s).toMatchObject({ ok: true, memberId: 'p2', url: 'https://p2.example.com', credentials: { headers: { 'api-key': ['key-p2'] }, query: {} } });
    expect(s.why).toBe('pool pool: priority 2 (priority 1 all open), single member → p2');
    clock.advance(60_000);
    expect(picks(reg, 2)).toEqual(['p1a', 'p1b']);
  });

  it('each attempt chooses again: no pool-internal retry (a failure changes only later selections)', () => {
    const reg = new BackendRegistry(
      defs([
        { name: 'a', weight: 50 },
        { name: 'b', weight: 50 },
      ]),
      new VirtualClock(),
    );
    expect(picks(reg, 1)).toEqual(['a']);
    reg.report('a', { status: 500 }); // not in 429-429: not a failure
    expect(picks(reg, 2)).toEqual(['b', 'a']);
    reg.report('a', { status: 429 });
    expect(picks(reg, 3)).toEqual(['b', 'b', 'b']);
  });

  it('every member open → unavailable 503 with an explanation', () => {
    const reg = new BackendRegistry(defs([{ name: 'a' }, { name: 'b' }]), new VirtualClock(Date.UTC(2025, 0, 1)));
    reg.report('a', { status: 429 });
    reg.report('b', { status: 429 });
    const s = reg.select('pool');
    expect(s).toEqual({
      ok: false,
      backendId: 'pool',
      statusCode: 503,
      reason: 'BackendUnavailable',
      message: "All backends in pool 'pool' are unavailable (circuit breakers open: a until 2025-01-01T00:01:00.000Z, b until 2025-01-01T00:01:00.000Z).",
      why: "pool pool: every member's circuit breaker is open (a until 2025-01-01T00:01:00.000Z, b until 2025-01-01T00:01:00.000Z)",
    });
    expect(reg.state().find((x) => x.id === 'pool')!.unavailable).toBe(1);
  });

  it('pool failureResponse.statusCode (2024-10-01-preview) replaces 503', () => {
    const reg = new BackendRegistry(defs([{ name: 'a' }], { failureResponse: { statusCode: 429 } }, '2024-10-01-preview'), new VirtualClock());
    reg.report('a', { status: 429 });
    expect(reg.select('pool')).toMatchObject({ ok: false, statusCode: 429 });
  });

  it('a single backend selects itself with its credentials; unknown ids throw', () => {
    const reg = new BackendRegistry(defs([{ name: 'a' }]), new VirtualClock());
    expect(reg.select('a')).toEqual({
      ok: true,
      backendId: 'a',
      memberId: 'a',
      url: 'https://a.example.com',
      credentials: { headers: { 'api-key': ['key-a'] }, query: {} },
      why: 'backend a',
    });
    expect(reg.has('a') && reg.has('pool') && !reg.has('zzz')).toBe(true);
    expect(reg.get('pool')?.type).toBe('Pool');
    expect(() => reg.select('zzz')).toThrow(/unknown backend 'zzz'/);
  });

  it('reset() clears breakers, counters and round-robin positions', () => {
    const reg = new BackendRegistry(
      defs([
        { name: 'a', weight: 2 },
        { name: 'b', weight: 1 },
      ]),
      new VirtualClock(),
    );
    const first = picks(reg, 3);
    reg.report('a', { status: 429 });
    reg.reset();
    expect(picks(reg, 3)).toEqual(first);
    expect(reg.state().find((s) => s.id === 'a')!.breaker).toMatchObject({ state: 'closed', trips: 0, failuresInWindow: 0 });
  });
});

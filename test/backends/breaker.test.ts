import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import {
  type BackendDefinition,
  BackendRegistry,
  type CircuitBreakerEvent,
  formatTimeSpan,
  loadBackends,
  parseIsoDuration,
  retryAfterMs,
} from '../../src/backends/index.js';

const T0 = Date.UTC(2025, 0, 1);

function backend(failureCondition: Record<string, unknown>, ruleExtra: Record<string, unknown> = {}, apiVersion = '2024-06-01-preview'): BackendDefinition[] {
  const r = loadBackends([
    {
      file: 'b.json',
      text: JSON.stringify([
        {
          name: 'aoai',
          apiVersion,
          properties: {
            url: 'https://aoai.example.com',
            circuitBreaker: { rules: [{ name: 'myRule', failureCondition: { interval: 'PT1M', ...failureCondition }, tripDuration: 'PT1M', ...ruleExtra }] },
          },
        },
      ]),
    },
  ]);
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.backends;
}

function setup(fc: Record<string, unknown>, ruleExtra: Record<string, unknown> = {}, opts: { connectionFailuresTrip?: boolean; apiVersion?: string } = {}) {
  const clock = new VirtualClock(T0);
  const reg = new BackendRegistry(backend(fc, ruleExtra, opts.apiVersion), clock, opts);
  const events: CircuitBreakerEvent[] = [];
  reg.onEvent((e) => events.push(e));
  const open = () => !reg.select('aoai').ok;
  const breaker = () => reg.state()[0]!.breaker!;
  return { clock, reg, events, open, breaker };
}

describe('circuit breaker', () => {
  it('count 1 trips on the first failure; the tripping response itself was still selected', () => {
    const { reg, open } = setup({ count: 1, statusCodeRanges: [{ min: 429, max: 429 }] });
    expect(reg.select('aoai').ok).toBe(true);
    reg.report('aoai', { status: 200 });
    expect(open()).toBe(false);
    reg.report('aoai', { status: 429 });
    expect(open()).toBe(true);
  });

  it('count 3 trips on the third failure within the interval, not before', () => {
    const { reg, clock, open, breaker } = setup({ count: 3, statusCodeRanges: [{ min: 500, max: 599 }] });
    reg.report('aoai', { status: 500 });
    clock.advance(10_000);
    reg.report('aoai', { status: 200 });
    reg.report('aoai', { status: 503 });
    expect(open()).toBe(false);
    expect(breaker()).toMatchObject({ state: 'closed', failuresInWindow: 2, totalInWindow: 3 });
    clock.advance(10_000);
    reg.report('aoai', { status: 599 });
    expect(open()).toBe(true);
    expect(breaker().lastTripReason).toBe('status 599 in 500-599; 3 failures >= count 3 within PT1M; open for tripDuration PT1M');
  });

  it('sliding window: failures older than the interval stop counting', () => {
    const { reg, clock, open, breaker } = setup({ count: 3, statusCodeRanges: [{ min: 500, max: 599 }] });
    reg.report('aoai', { status: 500 }); // t=0
    clock.advance(30_000);
    reg.report('aoai', { status: 500 }); // t=30s
    clock.advance(30_000); // t=60s: the first failure is exactly one interval old, so it has left the window
    expect(breaker().failuresInWindow).toBe(1);
    reg.report('aoai', { status: 500 });
    expect(open()).toBe(false);
    clock.advance(29_999); // t=89.999s: failures at 30s, 60s are inside
    reg.report('aoai', { status: 500 });
    expect(open()).toBe(true);
  });

  it('percentage trips on failures/total in the sliding window; old traffic falling out changes the ratio', () => {
    const { reg, clock, open, breaker } = setup({ percentage: 50, statusCodeRanges: [{ min: 500, max: 599 }] });
    for (let i = 0; i < 4; i++) reg.report('aoai', { status: 200 }); // t=0: 4 successes
    clock.advance(40_000);
    reg.report('aoai', { status: 500 }); // 1/5 = 20%
    reg.report('aoai', { status: 500 }); // 2/6 = 33%
    expect(open()).toBe(false);
    clock.advance(20_000); // t=60s: the 4 successes leave the window → next failure is 3/3
    expect(breaker()).toMatchObject({ failuresInWindow: 2, totalInWindow: 2 });
    reg.report('aoai', { status: 502 });
    expect(open()).toBe(true);
    expect(breaker().lastTripReason).toContain('3/3 failures >= 50%');
  });

  it('percentage needs at least half here: 1 failure in 3 does not trip, 2 of 4 does', () => {
    const { reg, open } = setup({ percentage: 50, statusCodeRanges: [{ min: 500, max: 599 }] });
    reg.report('aoai', { status: 200 });
    reg.report('aoai', { status: 200 });
    reg.report('aoai', { status: 200 });
    reg.report('aoai', { status: 500 }); // 25%
    expect(open()).toBe(false);
    reg.report('aoai', { status: 500 }); // 2/5 = 40%
    expect(open()).toBe(false);
    reg.report('aoai', { status: 500 }); // 3/6 = 50%
    expect(open()).toBe(true);
  });

  it('statusCodeRanges plus errorReasons: gateway errors count when their reason is listed', () => {
    const { reg, open } = setup({ count: 2, statusCodeRanges: [{ min: 429, max: 429 }], errorReasons: ['Timeout'] });
    reg.report('aoai', { errorReason: 'BackendConnectionFailure' }); // not listed
    reg.report('aoai', { status: 500 }); // not in range
    expect(open()).toBe(false);
    reg.report('aoai', { errorReason: 'Timeout' });
    reg.report('aoai', { status: 429 });
    expect(open()).toBe(true);
  });

  it('BackendConnectionFailure counts by default when listed, and never with connectionFailuresTrip: false', () => {
    const on = setup({ count: 1, errorReasons: ['BackendConnectionFailure'] });
    on.reg.report('aoai', { errorReason: 'BackendConnectionFailure' });
    expect(on.open()).toBe(true);
    const off = setup({ count: 1, errorReasons: ['BackendConnectionFailure'] }, {}, { connectionFailuresTrip: false });
    off.reg.report('aoai', { errorReason: 'BackendConnectionFailure' });
    expect(off.open()).toBe(false);
  });

  it('stays open for tripDuration and closes exactly at openUntil; the window is cleared', () => {
    const { reg, clock, open, breaker } = setup({ count: 1, statusCodeRanges: [{ min: 429, max: 429 }] });
    clock.advance(5_000);
    reg.report('aoai', { status: 429 });
    expect(breaker()).toMatchObject({ state: 'open', openUntil: new Date(T0 + 65_000).toISOString(), trips: 1 });
    clock.advance(59_999);
    expect(open()).toBe(true);
    clock.advance(1);
    expect(open()).toBe(false);
    expect(breaker()).toMatchObject({ state: 'closed', failuresInWindow: 0, totalInWindow: 0, trips: 1 });
  });

  it('an open single backend selects as unavailable 503, or the rule failureResponse status (2024-10-01-preview)', () => {
    const a = setup({ count: 1, statusCodeRanges: [{ min: 429, max: 429 }] });
    a.reg.report('aoai', { status: 429 });
    const s = a.reg.select('aoai');
    expect(s).toMatchObject({ ok: false, statusCode: 503, reason: 'BackendUnavailable' });
    expect(!s.ok && s.message).toContain('open until 2025-01-01T00:01:00.000Z');
    const b = setup({ count: 1, statusCodeRanges: [{ min: 429, max: 429 }] }, { failureResponse: { statusCode: 429 } }, { apiVersion: '2024-10-01-preview' });
    b.reg.report('aoai', { status: 429 });
    expect(b.reg.select('aoai')).toMatchObject({ ok: false, statusCode: 429 });
  });

  it('outcomes reported while open (requests already in flight) neither count nor extend the trip', () => {
    const { reg, clock, breaker } = setup({ count: 1, statusCodeRanges: [{ min: 429, max: 429 }] }, { acceptRetryAfter: true });
    reg.report('aoai', { status: 429 });
    clock.advance(1000);
    reg.report('aoai', { status: 429, headers: { 'retry-after': '3600' } });
    expect(breaker()).toMatchObject({ openUntil: new Date(T0 + 60_000).toISOString(), trips: 1 });
  });

  describe('Retry-After with acceptRetryAfter overrides tripDuration', () => {
    const cases: Array<[string, Record<string, string | string[]>, number]> = [
      ['integer seconds', { 'Retry-After': '7' }, 7_000],
      ['HTTP-date relative to the clock', { 'retry-after': new Date(T0 + 90_000).toUTCString() }, 90_000],
      ['retry-after-ms', { 'retry-after-ms': '1500' }, 1_500],
      ['x-ms-retry-after-ms', { 'x-ms-retry-after-ms': '2500' }, 2_500],
      ['ms headers are preferred over Retry-After', { 'Retry-After': '30', 'x-ms-retry-after-ms': '250' }, 250],
      ['a day-long Retry-After (Azure OpenAI)', { 'Retry-After': '86400' }, 86_400_000],
      ['array header values', { 'Retry-After': ['4'] }, 4_000],
    ];
    for (const [name, headers, ms] of cases) {
      it(name, () => {
        const { reg, clock, open, events } = setup({ count: 1, statusCodeRanges: [{ min: 429, max: 429 }] }, { acceptRetryAfter: true });
        reg.report('aoai', { status: 429, headers });
        expect(reg.state()[0]!.breaker!.openUntil).toBe(new Date(T0 + ms).toISOString());
        expect(events[0]!.data.circuitBreaker.rules.myRule!.tripDuration).toBe(formatTimeSpan(ms));
        clock.advance(ms - 1);
        expect(open()).toBe(true);
        clock.advance(1);
        expect(open()).toBe(false);
      });
    }

    it('ignored without acceptRetryAfter, and falls back to tripDuration when absent or unparsable', () => {
      const off = setup({ count: 1, statusCodeRanges: [{ min: 429, max: 429 }] });
      off.reg.report('aoai', { status: 429, headers: { 'Retry-After': '5' } });
      expect(off.breaker().openUntil).toBe(new Date(T0 + 60_000).toISOString());
      const junk = setup({ count: 1, statusCodeRanges: [{ min: 429, max: 429 }] }, { acceptRetryAfter: true });
      junk.reg.report('aoai', { status: 429, headers: { 'Retry-After': 'soon' } });
      expect(junk.breaker().openUntil).toBe(new Date(T0 + 60_000).toISOString());
    });
  });

  it('emits Opened and Closed events in the Event Grid shape; Closed is stamped at openUntil, even when noticed later', () => {
    const { reg, clock, events } = setup({ count: 1, statusCodeRanges: [{ min: 429, max: 429 }] }, { tripDuration: 'PT1S' });
    clock.advance(2_000);
    reg.report('aoai', { status: 429 });
    clock.advance(10_000); // nobody looks until 9 s after it reopened
    expect(events).toHaveLength(1);
    reg.state();
    expect(events).toEqual([
      {
        id: 'circuit-breaker-1',
        eventType: 'Microsoft.ApiManagement.CircuitBreaker.Opened',
        subject: '/backends/aoai/circuit-breaker/rules/myRule',
        eventTime: '2025-01-01T00:00:02.000Z',
        dataVersion: '1.0',
        metadataVersion: '1',
        data: { backendName: 'aoai', circuitBreaker: { rules: { myRule: { tripDuration: '00:00:01' } } } },
      },
      {
        id: 'circuit-breaker-2',
        eventType: 'Microsoft.ApiManagement.CircuitBreaker.Closed',
        subject: '/backends/aoai/circuit-breaker/rules/myRule',
        eventTime: '2025-01-01T00:00:03.000Z',
        dataVersion: '1.0',
        metadataVersion: '1',
        data: { backendName: 'aoai', circuitBreaker: { rules: { myRule: { tripDuration: '00:00:01' } } } },
      },
    ]);
  });

  it('unsubscribing stops events; a throwing listener does not break reporting', () => {
    const { reg } = setup({ count: 1, statusCodeRanges: [{ min: 429, max: 429 }] });
    const seen: string[] = [];
    reg.onEvent(() => {
      throw new Error('observer bug');
    });
    const off = reg.onEvent((e) => seen.push(e.eventType));
    off();
    expect(() => reg.report('aoai', { status: 429 })).not.toThrow();
    expect(seen).toEqual([]);
  });

  it('state snapshot: breaker fields and selection counts', () => {
    const { reg, clock } = setup({ count: 2, statusCodeRanges: [{ min: 500, max: 599 }] });
    reg.select('aoai');
    reg.select('aoai');
    reg.report('aoai', { status: 500 });
    clock.advance(1000);
    reg.report('aoai', { status: 200 });
    expect(reg.state()).toEqual([
      {
        id: 'aoai',
        type: 'Single',
        url: 'https://aoai.example.com',
        selections: 2,
        breaker: { rule: 'myRule', state: 'closed', failuresInWindow: 1, totalInWindow: 2, trips: 0 },
      },
    ]);
    reg.report('aoai', { status: 500 });
    expect(reg.state()[0]!.breaker).toEqual({
      rule: 'myRule',
      state: 'open',
      openUntil: '2025-01-01T00:01:01.000Z',
      failuresInWindow: 2,
      totalInWindow: 3,
      lastTripReason: 'status 500 in 500-599; 2 failures >= count 2 within PT1M; open for tripDuration PT1M',
      trips: 1,
    });
  });

  it('heavy traffic over a long interval keeps a bounded window and still counts every outcome', () => {
    const { reg, clock, breaker } = setup({ count: 1_000_000, interval: 'PT1H', statusCodeRanges: [{ min: 500, max: 599 }] });
    for (let i = 0; i < 20_000; i++) {
      reg.report('aoai', { status: i % 2 ? 500 : 200 });
      clock.advance(3);
    }
    expect(breaker()).toMatchObject({ failuresInWindow: 10_000, totalInWindow: 20_000, state: 'closed' });
    clock.advance(3_600_000);
    expect(breaker()).toMatchObject({ failuresInWindow: 0, totalInWindow: 0 });
  });
});

describe('durations', () => {
  it('parseIsoDuration', () => {
    expect(parseIsoDuration('PT1M')).toBe(60_000);
    expect(parseIsoDuration('P1D')).toBe(86_400_000);
    expect(parseIsoDuration('PT0.5S')).toBe(500);
    expect(parseIsoDuration('P1DT2H3M4S')).toBe(86_400_000 + 7_384_000);
    expect(parseIsoDuration('PT10S')).toBe(10_000);
    expect(parseIsoDuration('P1W')).toBe(7 * 86_400_000);
    for (const bad of ['', 'P', 'PT', '1h', 'PT1H ', 'P1DT', 'pt1m', '-PT1M', 'PT1.S'])
      expect(parseIsoDuration(bad), bad).toBe(bad === 'PT1H ' ? 3_600_000 : null);
  });

  it('formatTimeSpan is .NET TimeSpan text', () => {
    expect(formatTimeSpan(1000)).toBe('00:00:01');
    expect(formatTimeSpan(3_723_000)).toBe('01:02:03');
    expect(formatTimeSpan(86_400_000 + 1000)).toBe('1.00:00:01');
    expect(formatTimeSpan(1500)).toBe('00:00:01.5000000');
  });

  it('retryAfterMs: past HTTP-date is 0, unknown headers undefined', () => {
    expect(retryAfterMs({ 'Retry-After': new Date(T0 - 5000).toUTCString() }, T0)).toBe(0);
    expect(retryAfterMs({ 'x-other': '1' }, T0)).toBeUndefined();
    expect(retryAfterMs(undefined, T0)).toBeUndefined();
  });
});

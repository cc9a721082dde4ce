import { describe, expect, it } from 'vitest';
import { calendarPeriod, fixedPeriod, formatTimeSpan, parseIsoUtc, retryAfterSeconds } from '../../../src/policies/support/windows.js';
import { FixedWindow, SlidingWindow } from '../../../src/state/windows.js';

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

describe('SlidingWindow', () => {
  it('counts only what happened in the last window, sliding with time', () => {
    const w = new SlidingWindow();
    w.add(T0, 1);
    w.add(T0 + 10_000, 1);
    w.add(T0 + 20_000, 1);
    expect(w.total(T0 + 20_000, 30_000)).toBe(3);
    // The first call leaves exactly 30 s after it was made, the others later.
    expect(w.total(T0 + 29_999, 30_000)).toBe(3);
    expect(w.total(T0 + 30_000, 30_000)).toBe(2);
    expect(w.total(T0 + 45_000, 30_000)).toBe(1);
    expect(w.total(T0 + 50_000, 30_000)).toBe(0);
  });

  it('waitFor is the time until enough of the oldest entries have left', () => {
    const w = new SlidingWindow();
    w.add(T0, 1);
    w.add(T0 + 10_000, 1);
    w.add(T0 + 20_000, 1);
    const now = T0 + 25_000;
    expect(w.waitFor(now, 30_000, 3, 1)).toBe(5_000); // the oldest leaves at T0+30s
    expect(w.waitFor(now, 30_000, 3, 2)).toBe(15_000); // two must leave: the second at T0+40s
    expect(w.waitFor(now, 30_000, 5, 1)).toBe(0);
    expect(w.waitFor(now, 30_000, 3, 4)).toBe(30_000); // can never fit: a whole window
  });

  it('correct() replaces an entry amount while it is in the window', () => {
    const w = new SlidingWindow();
    const e = w.add(T0, 10);
    w.add(T0 + 1_000, 5);
    w.correct(e, 40, T0 + 2_000, 60_000);
    expect(w.total(T0 + 2_000, 60_000)).toBe(45);
    // Once it left the window a correction changes nothing.
    w.correct(e, 1_000, T0 + 60_500, 60_000);
    expect(w.total(T0 + 60_500, 60_000)).toBe(5);
  });

  it('keeps correct totals across compaction of many expired entries', () => {
    const w = new SlidingWindow();
    for (let i = 0; i < 1000; i++) w.add(T0 + i * 100, 1);
    expect(w.total(T0 + 99_900, 10_000)).toBe(100);
    for (let i = 1000; i < 1100; i++) w.add(T0 + i * 100, 1);
    expect(w.total(T0 + 109_900, 10_000)).toBe(100);
  });
});

describe('FixedWindow and periods', () => {
  it('resets when a new period starts, counted from the anchor', () => {
    const anchor = T0 - 10_000;
    const p1 = fixedPeriod(T0, anchor, 300_000);
    expect(p1).toEqual({ start: anchor, end: anchor + 300_000 });
    const w = new FixedWindow();
    w.roll(p1.start);
    w.calls += 3;
    w.roll(fixedPeriod(T0 + 100_000, anchor, 300_000).start);
    expect(w.calls).toBe(3);
    w.roll(fixedPeriod(T0 + 290_000, anchor, 300_000).start);
    expect(w.calls).toBe(0);
  });

  it('renewal-period 0 is one infinite period', () => {
    expect(fixedPeriod(T0, 0, 0)).toEqual({ start: 0, end: Number.POSITIVE_INFINITY });
  });

  it('addIn only counts into the period it belongs to', () => {
    const w = new FixedWindow();
    w.roll(100);
    w.addIn(100, 7);
    w.addIn(50, 1000);
    expect(w.amount).toBe(7);
  });

  it('calendar periods are UTC hour, day, ISO week, month and year', () => {
    const now = Date.UTC(2025, 4, 15, 13, 45, 10); // Thursday 15 May 2025
    expect(calendarPeriod(now, 'hourly')).toEqual({ start: Date.UTC(2025, 4, 15, 13), end: Date.UTC(2025, 4, 15, 14) });
    expect(calendarPeriod(now, 'daily')).toEqual({ start: Date.UTC(2025, 4, 15), end: Date.UTC(2025, 4, 16) });
    expect(calendarPeriod(now, 'weekly')).toEqual({ start: Date.UTC(2025, 4, 12), end: Date.UTC(2025, 4, 19) });
    expect(calendarPeriod(now, 'monthly')).toEqual({ start: Date.UTC(2025, 4, 1), end: Date.UTC(2025, 5, 1) });
    expect(calendarPeriod(now, 'yearly')).toEqual({ start: Date.UTC(2025, 0, 1), end: Date.UTC(2026, 0, 1) });
    // A Sunday belongs to the week that started the Monday before.
    expect(calendarPeriod(Date.UTC(2025, 4, 18, 23), 'weekly').start).toBe(Date.UTC(2025, 4, 12));
  });
});

describe('formatting and parsing', () => {
  it('Retry-After rounds up to whole seconds', () => {
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(4_001)).toBe(5);
    expect(retryAfterSeconds(5_000)).toBe(5);
    expect(retryAfterSeconds(0)).toBe(0);
  });

  it('formats the quota replenish time like .NET TimeSpan', () => {
    expect(formatTimeSpan(59)).toBe('00:00:59');
    expect(formatTimeSpan(3_661)).toBe('01:01:01');
    expect(formatTimeSpan(90_061)).toBe('1.01:01:01');
  });

  it('parses first-period-start including year 1', () => {
    expect(parseIsoUtc('2025-03-01T06:30:00Z')).toBe(Date.UTC(2025, 2, 1, 6, 30));
    const y1 = parseIsoUtc('0001-01-01T00:00:00Z')!;
    expect(new Date(y1).toISOString()).toBe('0001-01-01T00:00:00.000Z');
    expect(parseIsoUtc('2025-03-01T06:30:00+02:00')).toBe(Date.UTC(2025, 2, 1, 4, 30));
    expect(parseIsoUtc('2025-02-30T00:00:00Z')).toBeUndefined();
    expect(parseIsoUtc('next monday')).toBeUndefined();
  });
});

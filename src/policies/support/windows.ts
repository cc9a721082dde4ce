/**
 * Counting windows for the throttling policies, all on clock time (epoch ms from the injected Clock):
 * - SlidingWindow: rate-limit, rate-limit-by-key and the tokens-per-minute part of the token-limit policies. An amount
 *   counted at time t stays in the window while now < t + window, so the sum always covers exactly the last window.
 * - FixedWindow: quota, quota-by-key and token-quota. Periods follow each other from an anchor (subscription start,
 *   first-period-start, or calendar boundaries for token-quota-period); the counter resets when a new period begins.
 */

/** One counted amount; `amount` may be changed later (a token estimate corrected by the reported usage). */
export interface WindowEntry {
  readonly at: number;
  amount: number;
}

export class SlidingWindow {
  private entries: WindowEntry[] = [];
  private head = 0;
  private sum = 0;

  /** Sum of the amounts counted in the last `windowMs` before `now`. */
  total(now: number, windowMs: number): number {
    this.expire(now, windowMs);
    return this.sum;
  }

  /** Counts `amount` at `now`; returns the entry so that the caller can correct it later. */
  add(now: number, amount: number): WindowEntry {
    const entry: WindowEntry = { at: now, amount };
    this.entries.push(entry);
    this.sum += amount;
    return entry;
  }

  /** Changes an entry's amount (it keeps its time); a no-op once the entry has left the window. */
  correct(entry: WindowEntry, amount: number, now: number, windowMs: number): void {
    this.expire(now, windowMs);
    if (entry.at <= now - windowMs) return;
    this.sum += amount - entry.amount;
    entry.amount = amount;
  }

  /**
   * Milliseconds from `now` until `need` more fits under `limit`, i.e. until enough of the oldest entries have left
   * the window. 0 when it fits now. When it can never fit (need > limit) the whole window is returned.
   */
  waitFor(now: number, windowMs: number, limit: number, need: number): number {
    let sum = this.total(now, windowMs);
    if (sum + need <= limit) return 0;
    if (need > limit) return windowMs;
    for (let i = this.head; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      sum -= e.amount;
      if (sum + need <= limit) return e.at + windowMs - now;
    }
    return windowMs;
  }

  private expire(now: number, windowMs: number): void {
    const cutoff = now - windowMs;
    const list = this.entries;
    while (this.head < list.length && list[this.head]!.at <= cutoff) {
      this.sum -= list[this.head]!.amount;
      this.head++;
    }
    // Compact now and then so a long-lived counter does not keep every expired entry.
    if (this.head > 64 && this.head * 2 > list.length) {
      this.entries = list.slice(this.head);
      this.head = 0;
    }
    if (this.head === list.length && this.sum !== 0) this.sum = 0; // guard against float drift
  }
}

/** A fixed-window counter of calls and bytes (quota) or tokens (token-quota). */
export class FixedWindow {
  private periodStart = Number.NEGATIVE_INFINITY;
  calls = 0;
  amount = 0;

  /** Resets the counters when `periodStart` (of the period that contains now) differs from the stored one. */
  roll(periodStart: number): void {
    if (periodStart !== this.periodStart) {
      this.periodStart = periodStart;
      this.calls = 0;
      this.amount = 0;
    }
  }

  /** Adds to the amount when the counter is still in the period that started at `periodStart` (late bandwidth/usage). */
  addIn(periodStart: number, amount: number): void {
    if (periodStart === this.periodStart) this.amount = Math.max(0, this.amount + amount);
  }
}

/** The period of `periodMs` (0 = infinite) that contains `now`, counted from `anchor`. */
export function fixedPeriod(now: number, anchor: number, periodMs: number): { start: number; end: number } {
  if (periodMs <= 0) return { start: anchor, end: Number.POSITIVE_INFINITY };
  const index = Math.floor((now - anchor) / periodMs);
  const start = anchor + index * periodMs;
  return { start, end: start + periodMs };
}

export type CalendarPeriod = 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly';

/**
 * The calendar period (UTC) containing `now` for token-quota-period. APIM does not document the boundaries
 * (SILENT): the emulator uses UTC hour, day, ISO week (Monday 00:00), month and year starts.
 */
export function calendarPeriod(now: number, period: CalendarPeriod): { start: number; end: number } {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const day = d.getUTCDate();
  switch (period) {
    case 'hourly': {
      const start = Date.UTC(y, m, day, d.getUTCHours());
      return { start, end: start + 3_600_000 };
    }
    case 'daily': {
      const start = Date.UTC(y, m, day);
      return { start, end: start + 86_400_000 };
    }
    case 'weekly': {
      const sinceMonday = (d.getUTCDay() + 6) % 7;
      const start = Date.UTC(y, m, day - sinceMonday);
      return { start, end: start + 7 * 86_400_000 };
    }
    case 'monthly':
      return { start: Date.UTC(y, m, 1), end: Date.UTC(y, m + 1, 1) };
    case 'yearly':
      return { start: utcYearStart(y), end: utcYearStart(y + 1) };
  }
}

function utcYearStart(y: number): number {
  const d = new Date(0);
  d.setUTCFullYear(y, 0, 1);
  d.setUTCHours(0, 0, 0, 0);
  return d.getTime();
}

/** Whole seconds for Retry-After: a wait in ms rounded up (at least 1 for any positive wait). */
export function retryAfterSeconds(waitMs: number): number {
  if (waitMs <= 0) return 0;
  return Math.max(1, Math.ceil(waitMs / 1000));
}

/** .NET TimeSpan "c" format as APIM's quota message shows it: `hh:mm:ss`, with `d.` in front past a day. */
export function formatTimeSpan(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  const days = Math.floor(s / 86_400);
  const hh = Math.floor((s % 86_400) / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${days > 0 ? `${days}.` : ''}${two(hh)}:${two(mm)}:${two(ss)}`;
}

/**
 * Parses first-period-start (`yyyy-MM-ddTHH:mm:ssZ`, ISO 8601) to epoch ms, years 1..9999 included (the default is
 * 0001-01-01T00:00:00Z, which `Date.parse` cannot read). Returns undefined when the text is not such a date.
 */
export function parseIsoUtc(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?(Z|[+-]\d{2}:\d{2})?$/.exec(text.trim());
  if (!m) return undefined;
  const [, ys, mos, ds, hs = '0', mis = '0', ss = '0', frac = '', zone = 'Z'] = m;
  const y = Number(ys);
  const mo = Number(mos);
  const day = Number(ds);
  const h = Number(hs);
  const mi = Number(mis);
  const s = Number(ss);
  if (y < 1 || mo < 1 || mo > 12 || day < 1 || day > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  const d = new Date(0);
  d.setUTCFullYear(y, mo - 1, day);
  if (d.getUTCMonth() !== mo - 1) return undefined; // e.g. 2025-02-30
  d.setUTCHours(h, mi, s, frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0);
  let t = d.getTime();
  if (zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const [zh, zm] = zone.slice(1).split(':').map(Number) as [number, number];
    t -= sign * (zh * 60 + zm) * 60_000;
  }
  return t;
}

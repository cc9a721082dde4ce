/**
 * Time arithmetic of the throttling policies, all on clock time (epoch ms from the injected Clock). The counters
 * themselves live in the state store (src/state/windows.ts in this process): quota, quota-by-key and token-quota count
 * in fixed periods that follow each other from an anchor (subscription start, first-period-start, or calendar
 * boundaries for token-quota-period).
 */

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

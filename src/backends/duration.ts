/**
 * ISO-8601 durations as ARM and .NET (XmlConvert.ToTimeSpan) read them, and the .NET TimeSpan text that APIM's
 * Event Grid events carry (`00:00:01`, `1.00:00:00`).
 */

const DURATION =
  /^P(?:(\d+(?:[.,]\d+)?)Y)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/;

const UNIT_MS = [365 * 86_400_000, 30 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000];

/**
 * Milliseconds in an ISO-8601 duration such as `PT1M`, `P1D`, `PT0.5S`, `P1DT2H`; null when it is not one.
 * Years count 365 days and months 30 days, as XmlConvert does (there is no calendar to anchor them to).
 */
export function parseIsoDuration(s: string): number | null {
  if (typeof s !== 'string') return null;
  const m = DURATION.exec(s.trim());
  if (!m) return null;
  if (m.slice(1).every((g) => g === undefined)) return null; // `P` or `PT` alone
  if (/T$/.test(s.trim())) return null; // `P1DT` has a T with nothing after it
  let ms = 0;
  for (let i = 0; i < UNIT_MS.length; i++) {
    const g = m[i + 1];
    if (g !== undefined) ms += Number(g.replace(',', '.')) * UNIT_MS[i]!;
  }
  return Math.round(ms);
}

/** .NET TimeSpan "c" format: `[d.]hh:mm:ss[.fffffff]`, as in APIM's CircuitBreaker events. */
export function formatTimeSpan(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  const days = Math.floor(total / 86_400_000);
  const h = Math.floor((total % 86_400_000) / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const s = Math.floor((total % 60_000) / 1000);
  const frac = total % 1000;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${days > 0 ? `${days}.` : ''}${two(h)}:${two(m)}:${two(s)}${frac ? `.${String(frac).padStart(3, '0')}0000` : ''}`;
}

/**
 * How long a backend asks to be left alone, from its response headers, in ms; undefined when it does not say.
 * `retry-after-ms` and `x-ms-retry-after-ms` (Azure OpenAI) are preferred over `Retry-After`, which is either integer
 * seconds or an HTTP-date (read relative to `now`, the injected clock's time; a date in the past gives 0).
 */
export function retryAfterMs(headers: Record<string, string | string[] | undefined> | undefined, now: number): number | undefined {
  if (!headers) return undefined;
  let plain: string | undefined;
  let ms: string | undefined;
  let xms: string | undefined;
  for (const key in headers) {
    const v = headers[key];
    const value = Array.isArray(v) ? v[0] : v;
    if (value === undefined) continue;
    const k = key.length === 11 || key.length === 14 || key.length === 19 ? key.toLowerCase() : '';
    if (k === 'retry-after') plain = value;
    else if (k === 'retry-after-ms') ms = value;
    else if (k === 'x-ms-retry-after-ms') xms = value;
  }
  for (const v of [ms, xms]) {
    if (v !== undefined && /^\s*\d+(?:\.\d+)?\s*$/.test(v)) return Math.round(Number(v));
  }
  if (plain === undefined) return undefined;
  if (/^\s*\d+\s*$/.test(plain)) return Number(plain) * 1000;
  const date = Date.parse(plain);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

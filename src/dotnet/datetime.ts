/**
 * System.DateTime, System.TimeSpan and System.DateTimeOffset, invariant culture.
 *
 * Precision is .NET's: 100 ns ticks, held as bigint (Ticks values pass 2^53). The emulator's local time zone is UTC:
 * Kind=Local values carry UTC wall-clock time and format `zzz`/`K` as `+00:00` (APIM gateways run in UTC).
 * "Now" is never read here: UtcNow/Now/Today take the current time in Unix ms from the caller (the injected clock).
 *
 * DateTime provides: new DateTime(y,M,d[,h,m,s[,ms]][,kind]) → DateTime.create; DateTime(ticks[,kind]) → fromTicks;
 * UtcNow/Now/Today(nowMs), MinValue, MaxValue, Year Month Day Hour Minute Second Millisecond DayOfWeek DayOfYear Date
 * TimeOfDay Ticks Kind, Add AddTicks AddMilliseconds AddSeconds AddMinutes AddHours AddDays AddMonths AddYears,
 * Subtract(DateTime|TimeSpan), CompareTo, Equals, op_* via compare/ticks, ToUniversalTime, ToLocalTime, SpecifyKind,
 * DaysInMonth, IsLeapYear, IsDaylightSavingTime (always false), ToString([format]) standard d D f F g G M m o O r R s
 * t T u U Y y and custom specifiers, Parse, TryParse, ParseExact, TryParseExact.
 * TimeSpan provides: ctor(ticks)/(h,m,s)/(d,h,m,s[,ms]), From{Days,Hours,Minutes,Seconds,Milliseconds,Ticks}, Zero,
 * TicksPer{Millisecond,Second,Minute,Hour,Day} (in the expression library),
 * Days Hours Minutes Seconds Milliseconds Ticks Total{Days,Hours,Minutes,Seconds,Milliseconds}, Add Subtract Negate
 * Duration CompareTo Equals, ToString() ("c") / ToString("c"|"g"|"G"|custom), Parse, TryParse.
 * DateTimeOffset provides: UtcNow/Now(nowMs), FromUnixTimeSeconds/Milliseconds, ToUnixTimeSeconds/Milliseconds,
 * UtcDateTime, DateTime, LocalDateTime, Offset, UtcTicks, Ticks, Year..Millisecond, Add*, ToString([format]), Parse.
 */
import { DotNetException, argument, argumentOutOfRange, formatError } from './exceptions.js';
import type { DotNetFormattable } from './format.js';

export type DateTimeKind = 'Unspecified' | 'Utc' | 'Local';

export const TICKS_PER_MILLISECOND = 10_000n;
export const TICKS_PER_SECOND = 10_000_000n;
export const TICKS_PER_MINUTE = 600_000_000n;
export const TICKS_PER_HOUR = 36_000_000_000n;
export const TICKS_PER_DAY = 864_000_000_000n;
const UNIX_EPOCH_TICKS = 621_355_968_000_000_000n;
const MAX_TICKS = 3_155_378_975_999_999_999n;
const DAYS_TO_1970 = 719_162;

export const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

function floorDiv(a: number, b: number): number {
  return Math.floor(a / b);
}

/** Days since 0001-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = floorDiv(y, 400);
  const yoe = y - era * 400;
  const doy = floorDiv(153 * (m + (m > 2 ? -3 : 9)) + 2, 5) + d - 1;
  const doe = yoe * 365 + floorDiv(yoe, 4) - floorDiv(yoe, 100) + doy;
  return era * 146097 + doe - 719468 + DAYS_TO_1970;
}

function civilFromDays(days: number): [number, number, number] {
  const z = days - DAYS_TO_1970 + 719468;
  const era = floorDiv(z, 146097);
  const doe = z - era * 146097;
  const yoe = floorDiv(doe - floorDiv(doe, 1460) + floorDiv(doe, 36524) - floorDiv(doe, 146096), 365);
  const doy = doe - (365 * yoe + floorDiv(yoe, 4) - floorDiv(yoe, 100));
  const mp = floorDiv(5 * doy + 2, 153);
  const d = doy - floorDiv(153 * mp + 2, 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

export function isLeapYear(year: number): boolean {
  if (!Number.isInteger(year) || year < 1 || year > 9999) throw argumentOutOfRange('year', 'Year must be between 1 and 9999.');
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

export function daysInMonth(year: number, month: number): number {
  if (month < 1 || month > 12) throw argumentOutOfRange('month', 'Month must be between one and twelve.');
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Doubles → ticks the .NET 7+ way: whole units exactly, the fraction truncated to ticks. */
function unitsToTicks(value: number, ticksPerUnit: bigint, overflowMessage: () => DotNetException): bigint {
  if (Number.isNaN(value)) throw new DotNetException('ArgumentException', 'TimeSpan does not accept floating point Not-a-Number values.');
  if (!Number.isFinite(value) || Math.abs(value * Number(ticksPerUnit)) > 9.3e18) throw overflowMessage();
  const whole = Math.trunc(value);
  const frac = value - whole;
  return BigInt(whole) * ticksPerUnit + BigInt(Math.trunc(frac * Number(ticksPerUnit)));
}

const pad = (n: number | bigint, w: number) => String(n).padStart(w, '0');

/** How many times the format character at `i` repeats from there ("yyyy" → 4): custom format specifiers are runs. */
function repeatCount(fmt: string, i: number): number {
  let n = 1;
  while (i + n < fmt.length && fmt[i + n] === fmt[i]) n++;
  return n;
}

/** Ticks of a day count and a clock time: TimeSpan and DateTime constructors, and parsed text. */
function clockTicks(days: number | bigint, hours: number, minutes: number, seconds: number, subSecondTicks = 0n): bigint {
  return (
    BigInt(days) * TICKS_PER_DAY + BigInt(hours) * TICKS_PER_HOUR + BigInt(minutes) * TICKS_PER_MINUTE + BigInt(seconds) * TICKS_PER_SECOND + subSecondTicks
  );
}

// ---- TimeSpan ------------------------------------------------------------------------------------------------------

const TIMESPAN_MAX = 9_223_372_036_854_775_807n;
const TIMESPAN_MIN = -9_223_372_036_854_775_808n;

function timeSpanOverflow(): DotNetException {
  return new DotNetException('OverflowException', 'TimeSpan overflowed because the duration is too long.');
}

export class TimeSpan implements DotNetFormattable {
  static readonly Zero = new TimeSpan(0n);
  static readonly MaxValue = new TimeSpan(TIMESPAN_MAX);
  static readonly MinValue = new TimeSpan(TIMESPAN_MIN);

  constructor(readonly ticks: bigint) {
    if (ticks > TIMESPAN_MAX || ticks < TIMESPAN_MIN) throw timeSpanOverflow();
  }

  /** new TimeSpan(days, hours, minutes, seconds[, milliseconds]) (also (h, m, s) with days = 0). */
  static create(days: number, hours: number, minutes: number, seconds: number, milliseconds = 0): TimeSpan {
    const t = clockTicks(days, hours, minutes, seconds, BigInt(milliseconds) * TICKS_PER_MILLISECOND);
    if (t > TIMESPAN_MAX || t < TIMESPAN_MIN) throw new DotNetException('ArgumentOutOfRangeException', 'TimeSpan overflowed because the duration is too long.');
    return new TimeSpan(t);
  }

  static FromTicks(ticks: bigint | number): TimeSpan {
    return new TimeSpan(BigInt(ticks));
  }
  static FromDays(v: number): TimeSpan {
    return new TimeSpan(unitsToTicks(v, TICKS_PER_DAY, timeSpanOverflow));
  }
  static FromHours(v: number): TimeSpan {
    return new TimeSpan(unitsToTicks(v, TICKS_PER_HOUR, timeSpanOverflow));
  }
  static FromMinutes(v: number): TimeSpan {
    return new TimeSpan(unitsToTicks(v, TICKS_PER_MINUTE, timeSpanOverflow));
  }
  static FromSeconds(v: number): TimeSpan {
    return new TimeSpan(unitsToTicks(v, TICKS_PER_SECOND, timeSpanOverflow));
  }
  static FromMilliseconds(v: number): TimeSpan {
    return new TimeSpan(unitsToTicks(v, TICKS_PER_MILLISECOND, timeSpanOverflow));
  }

  get Ticks(): bigint {
    return this.ticks;
  }
  get Days(): number {
    return Number(this.ticks / TICKS_PER_DAY);
  }
  get Hours(): number {
    return Number((this.ticks / TICKS_PER_HOUR) % 24n);
  }
  get Minutes(): number {
    return Number((this.ticks / TICKS_PER_MINUTE) % 60n);
  }
  get Seconds(): number {
    return Number((this.ticks / TICKS_PER_SECOND) % 60n);
  }
  get Milliseconds(): number {
    return Number((this.ticks / TICKS_PER_MILLISECOND) % 1000n);
  }
  get TotalDays(): number {
    return Number(this.ticks) / Number(TICKS_PER_DAY);
  }
  get TotalHours(): number {
    return Number(this.ticks) / Number(TICKS_PER_HOUR);
  }
  get TotalMinutes(): number {
    return Number(this.ticks) / Number(TICKS_PER_MINUTE);
  }
  get TotalSeconds(): number {
    return Number(this.ticks) / Number(TICKS_PER_SECOND);
  }
  get TotalMilliseconds(): number {
    return Number(this.ticks) / Number(TICKS_PER_MILLISECOND);
  }

  Add(other: TimeSpan): TimeSpan {
    return new TimeSpan(this.ticks + other.ticks);
  }
  Subtract(other: TimeSpan): TimeSpan {
    return new TimeSpan(this.ticks - other.ticks);
  }
  Negate(): TimeSpan {
    if (this.ticks === TIMESPAN_MIN) throw new DotNetException('OverflowException', 'Negating the minimum value of a twos complement number is invalid.');
    return new TimeSpan(-this.ticks);
  }
  Duration(): TimeSpan {
    return this.ticks < 0n ? this.Negate() : this;
  }
  CompareTo(other: TimeSpan): number {
    return this.ticks < other.ticks ? -1 : this.ticks > other.ticks ? 1 : 0;
  }
  Equals(other: unknown): boolean {
    return other instanceof TimeSpan && other.ticks === this.ticks;
  }

  toString(): string {
    return this.toDotNetString();
  }

  /** TimeSpan.ToString(format): "c" (default), "g", "G" or a custom format. */
  toDotNetString(format?: string): string {
    const neg = this.ticks < 0n;
    const a = neg ? -this.ticks : this.ticks;
    const days = a / TICKS_PER_DAY;
    const h = Number((a / TICKS_PER_HOUR) % 24n);
    const m = Number((a / TICKS_PER_MINUTE) % 60n);
    const s = Number((a / TICKS_PER_SECOND) % 60n);
    const frac = Number(a % TICKS_PER_SECOND);
    const fmt = format ?? '';
    if (fmt === '' || fmt === 'c' || fmt === 't' || fmt === 'T') {
      return `${neg ? '-' : ''}${days > 0n ? `${days}.` : ''}${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}${frac > 0 ? '.' + pad(frac, 7) : ''}`;
    }
    if (fmt === 'g') {
      const f = frac > 0 ? '.' + pad(frac, 7).replace(/0+$/, '') : '';
      return `${neg ? '-' : ''}${days > 0n ? `${days}:` : ''}${h}:${pad(m, 2)}:${pad(s, 2)}${f}`;
    }
    if (fmt === 'G') return `${neg ? '-' : ''}${days}:${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}.${pad(frac, 7)}`;
    return formatTimeSpanCustom(fmt, days, h, m, s, frac);
  }

  /** TimeSpan.Parse (invariant): `[ws][-]{ d | [d.]hh:mm[:ss[.fffffff]] | d:hh:mm:ss[.fffffff] }[ws]`. */
  static Parse(text: string | null): TimeSpan {
    if (text === null) throw new DotNetException('ArgumentNullException', "Value cannot be null. (Parameter 'input')", 'input');
    const r = parseTimeSpan(text);
    if (r instanceof DotNetException) throw r;
    return r;
  }

  static TryParse(text: string | null): { ok: true; value: TimeSpan } | { ok: false; value: TimeSpan } {
    if (text === null) return { ok: false, value: TimeSpan.Zero };
    const r = parseTimeSpan(text);
    return r instanceof DotNetException ? { ok: false, value: TimeSpan.Zero } : { ok: true, value: r };
  }
}

function parseTimeSpan(text: string): TimeSpan | DotNetException {
  const bad = () => formatError(`String '${text}' was not recognized as a valid TimeSpan.`);
  const range = () =>
    new DotNetException(
      'OverflowException',
      `The TimeSpan string '${text}' could not be parsed because at least one of the numeric components is out of range or contains too many digits.`,
    );
  let ticks: bigint;
  let neg = false;
  const daysOnly = /^\s*(-)?(\d+)\s*$/.exec(text);
  // [d.]hh:mm[:ss[.fffffff]] or d:hh:mm:ss[.fffffff]
  const clock = /^\s*(-)?(?:(\d+)\.)?(\d+):(\d+)(?::(\d+)(?:\.(\d+))?)?\s*$/.exec(text);
  const colonDays = /^\s*(-)?(\d+):(\d+):(\d+):(\d+)(?:\.(\d+))?\s*$/.exec(text);
  if (daysOnly) {
    neg = daysOnly[1] === '-';
    if (daysOnly[2]!.length > 8) return range();
    ticks = BigInt(daysOnly[2]!) * TICKS_PER_DAY;
  } else {
    const m = clock ?? colonDays;
    if (!m) return bad();
    neg = m[1] === '-';
    const d = BigInt(m[2] ?? '0');
    const h = Number(m[3]);
    const mi = Number(m[4]);
    const s = Number(m[5] ?? '0');
    const f = m[6] ?? '';
    if (h > 23 || mi > 59 || s > 59 || f.length > 7 || (m[2] ?? '').length > 8) return range();
    ticks = clockTicks(d, h, mi, s, BigInt(fracToTicks(f)));
  }
  if (ticks > TIMESPAN_MAX) return range();
  return new TimeSpan(neg ? -ticks : ticks);
}

function formatTimeSpanCustom(fmt: string, days: bigint, h: number, m: number, s: number, frac: number): string {
  let out = '';
  let i = 0;
  const bad = () => formatError('Input string was not in a correct format.');
  while (i < fmt.length) {
    const ch = fmt[i]!;
    const n = repeatCount(fmt, i);
    switch (ch) {
      case 'd':
        if (n > 8) throw bad();
        out += pad(days, n);
        break;
      case 'h':
        if (n > 2) throw bad();
        out += pad(h, n);
        break;
      case 'm':
        if (n > 2) throw bad();
        out += pad(m, n);
        break;
      case 's':
        if (n > 2) throw bad();
        out += pad(s, n);
        break;
      case 'f':
        if (n > 7) throw bad();
        out += pad(frac, 7).slice(0, n);
        break;
      case 'F': {
        if (n > 7) throw bad();
        out += pad(frac, 7).slice(0, n).replace(/0+$/, '');
        break;
      }
      case "'":
      case '"': {
        const end = fmt.indexOf(ch, i + 1);
        if (end < 0) throw bad();
        out += fmt.slice(i + 1, end);
        i = end + 1;
        continue;
      }
      case '\\':
        if (i + 1 >= fmt.length) throw bad();
        out += fmt[i + 1];
        i += 2;
        continue;
      case '%':
        i += 1;
        continue;
      default:
        // Unlike DateTime, TimeSpan custom formats reject unquoted literals such as ':'.
        throw bad();
    }
    i += n;
  }
  return out;
}

// ---- DateTime ------------------------------------------------------------------------------------------------------

function unrepresentable(): DotNetException {
  return argumentOutOfRange('value', 'The added or subtracted value results in an un-representable DateTime.');
}

export class DateTime implements DotNetFormattable {
  static readonly MinValue = new DateTime(0n, 'Unspecified');
  static readonly MaxValue = new DateTime(MAX_TICKS, 'Unspecified');
  static readonly UnixEpoch = new DateTime(UNIX_EPOCH_TICKS, 'Utc');

  private constructor(
    readonly ticks: bigint,
    readonly kind: DateTimeKind,
  ) {}

  /** new DateTime(ticks[, kind]). */
  static fromTicks(ticks: bigint | number, kind: DateTimeKind = 'Unspecified'): DateTime {
    const t = BigInt(ticks);
    if (t < 0n || t > MAX_TICKS) throw argumentOutOfRange('ticks', 'Ticks must be between DateTime.MinValue.Ticks and DateTime.MaxValue.Ticks.');
    return new DateTime(t, kind);
  }

  /** new DateTime(year, month, day[, hour, minute, second[, millisecond]][, kind]). */
  static create(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, millisecond = 0, kind: DateTimeKind = 'Unspecified'): DateTime {
    if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
      throw new DotNetException('ArgumentOutOfRangeException', 'Year, Month, and Day parameters describe an un-representable DateTime.');
    }
    if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
      throw new DotNetException('ArgumentOutOfRangeException', 'Hour, Minute, and Second parameters describe an un-representable DateTime.');
    }
    if (millisecond < 0 || millisecond > 999) throw argumentOutOfRange('millisecond', 'Valid values are between 0 and 999, inclusive.');
    return new DateTime(clockTicks(daysFromCivil(year, month, day), hour, minute, second, BigInt(millisecond) * TICKS_PER_MILLISECOND), kind);
  }

  /** A DateTime at a Unix time in milliseconds (fractions of a ms kept to the tick). */
  static fromUnixMilliseconds(ms: number, kind: DateTimeKind = 'Utc'): DateTime {
    const whole = Math.floor(ms);
    const ticks = UNIX_EPOCH_TICKS + BigInt(whole) * TICKS_PER_MILLISECOND + BigInt(Math.round((ms - whole) * 10000));
    return DateTime.fromTicks(ticks, kind);
  }

  /** DateTime.UtcNow, with the current time (Unix ms) from the injected clock. */
  static UtcNow(nowMs: number): DateTime {
    return DateTime.fromUnixMilliseconds(nowMs, 'Utc');
  }
  /** DateTime.Now: local time = UTC in the emulator, Kind Local. */
  static Now(nowMs: number): DateTime {
    return DateTime.fromUnixMilliseconds(nowMs, 'Local');
  }
  static Today(nowMs: number): DateTime {
    return DateTime.Now(nowMs).Date;
  }

  static IsLeapYear(year: number): boolean {
    return isLeapYear(year);
  }
  static DaysInMonth(year: number, month: number): number {
    return daysInMonth(year, month);
  }
  static SpecifyKind(value: DateTime, kind: DateTimeKind): DateTime {
    return new DateTime(value.ticks, kind);
  }

  /** Unix ms (fraction of a ms dropped toward the past). */
  toUnixMilliseconds(): number {
    const t = this.ticks - UNIX_EPOCH_TICKS;
    const q = t / TICKS_PER_MILLISECOND;
    return Number(t < 0n && t % TICKS_PER_MILLISECOND !== 0n ? q - 1n : q);
  }

  private get dayNumber(): number {
    return Number(this.ticks / TICKS_PER_DAY);
  }
  private get civil(): [number, number, number] {
    return civilFromDays(this.dayNumber);
  }
  private get tickOfDay(): bigint {
    return this.ticks % TICKS_PER_DAY;
  }

  get Ticks(): bigint {
    return this.ticks;
  }
  get Kind(): DateTimeKind {
    return this.kind;
  }
  get Year(): number {
    return this.civil[0];
  }
  get Month(): number {
    return this.civil[1];
  }
  get Day(): number {
    return this.civil[2];
  }
  get Hour(): number {
    return Number(this.tickOfDay / TICKS_PER_HOUR);
  }
  get Minute(): number {
    return Number((this.tickOfDay / TICKS_PER_MINUTE) % 60n);
  }
  get Second(): number {
    return Number((this.tickOfDay / TICKS_PER_SECOND) % 60n);
  }
  get Millisecond(): number {
    return Number((this.tickOfDay / TICKS_PER_MILLISECOND) % 1000n);
  }
  /** 0 = Sunday … 6 = Saturday (System.DayOfWeek); DAY_NAMES gives the enum names. */
  get DayOfWeek(): number {
    return (this.dayNumber + 1) % 7;
  }
  get DayOfYear(): number {
    const [y] = this.civil;
    return this.dayNumber - daysFromCivil(y, 1, 1) + 1;
  }
  get Date(): DateTime {
    return new DateTime(this.ticks - this.tickOfDay, this.kind);
  }
  get TimeOfDay(): TimeSpan {
    return new TimeSpan(this.tickOfDay);
  }
  IsDaylightSavingTime(): boolean {
    return false; // the emulator's local zone is UTC
  }

  AddTicks(ticks: bigint | number): DateTime {
    const t = this.ticks + BigInt(ticks);
    if (t < 0n || t > MAX_TICKS) throw unrepresentable();
    return new DateTime(t, this.kind);
  }
  Add(span: TimeSpan): DateTime {
    return this.AddTicks(span.ticks);
  }
  private addUnits(value: number, perUnit: bigint): DateTime {
    return this.AddTicks(unitsToTicks(value, perUnit, unrepresentable));
  }
  AddMilliseconds(v: number): DateTime {
    return this.addUnits(v, TICKS_PER_MILLISECOND);
  }
  AddSeconds(v: number): DateTime {
    return this.addUnits(v, TICKS_PER_SECOND);
  }
  AddMinutes(v: number): DateTime {
    return this.addUnits(v, TICKS_PER_MINUTE);
  }
  AddHours(v: number): DateTime {
    return this.addUnits(v, TICKS_PER_HOUR);
  }
  AddDays(v: number): DateTime {
    return this.addUnits(v, TICKS_PER_DAY);
  }
  AddMonths(months: number): DateTime {
    if (months < -120000 || months > 120000) throw argumentOutOfRange('months', 'Months value must be between +/-120000.');
    const [y, m, d] = this.civil;
    const total = y * 12 + (m - 1) + Math.trunc(months);
    const ny = Math.floor(total / 12);
    const nm = (total % 12) + 1;
    if (ny < 1 || ny > 9999) throw argumentOutOfRange('months', 'The added or subtracted value results in an un-representable DateTime.');
    const nd = Math.min(d, daysInMonth(ny, nm));
    return new DateTime(BigInt(daysFromCivil(ny, nm, nd)) * TICKS_PER_DAY + this.tickOfDay, this.kind);
  }
  AddYears(years: number): DateTime {
    if (years < -10000 || years > 10000) throw argumentOutOfRange('years', 'The added or subtracted value results in an un-representable DateTime.');
    return this.AddMonths(years * 12);
  }

  /** Subtract(DateTime) → TimeSpan (Kind ignored, as in .NET); Subtract(TimeSpan) → DateTime. */
  Subtract(other: DateTime): TimeSpan;
  Subtract(other: TimeSpan): DateTime;
  Subtract(other: DateTime | TimeSpan): TimeSpan | DateTime {
    if (other instanceof DateTime) return new TimeSpan(this.ticks - other.ticks);
    return this.AddTicks(-other.ticks);
  }

  /** Compares ticks only (Kind is ignored, as in .NET). */
  CompareTo(other: DateTime): number {
    return this.ticks < other.ticks ? -1 : this.ticks > other.ticks ? 1 : 0;
  }
  Equals(other: unknown): boolean {
    return other instanceof DateTime && other.ticks === this.ticks;
  }
  static Compare(a: DateTime, b: DateTime): number {
    return a.CompareTo(b);
  }

  /** Local is UTC in the emulator: converting only changes Kind. */
  ToUniversalTime(): DateTime {
    return new DateTime(this.ticks, 'Utc');
  }
  ToLocalTime(): DateTime {
    return new DateTime(this.ticks, 'Local');
  }

  toString(): string {
    return this.toDotNetString();
  }

  /** DateTime.ToString([format]) with the invariant culture. */
  toDotNetString(format?: string): string {
    return formatDateTime(this, 0, format, false);
  }

  static Parse(text: string | null): DateTime {
    if (text === null) throw new DotNetException('ArgumentNullException', "Value cannot be null. (Parameter 's')", 's');
    const r = parseDateTimeLoose(text);
    if (!r) throw formatError(`String '${text}' was not recognized as a valid DateTime.`);
    return r.dateTime;
  }

  static TryParse(text: string | null): { ok: boolean; value: DateTime } {
    const r = text === null ? null : parseDateTimeLoose(text);
    return r ? { ok: true, value: r.dateTime } : { ok: false, value: DateTime.MinValue };
  }

  static ParseExact(text: string | null, format: string | readonly string[] | null): DateTime {
    if (text === null) throw new DotNetException('ArgumentNullException', "Value cannot be null. (Parameter 's')", 's');
    if (format === null) throw new DotNetException('ArgumentNullException', "Value cannot be null. (Parameter 'format')", 'format');
    const formats = typeof format === 'string' ? [format] : format;
    for (const f of formats) {
      const r = parseExact(text, f);
      if (r) return r.dateTime;
    }
    throw formatError(`String '${text}' was not recognized as a valid DateTime.`);
  }

  static TryParseExact(text: string | null, format: string | readonly string[]): { ok: boolean; value: DateTime } {
    try {
      return { ok: true, value: DateTime.ParseExact(text, format) };
    } catch {
      return { ok: false, value: DateTime.MinValue };
    }
  }
}

// ---- formatting ----------------------------------------------------------------------------------------------------

const STANDARD_DATE_FORMATS: Record<string, string> = {
  d: 'MM/dd/yyyy',
  D: 'dddd, dd MMMM yyyy',
  f: 'dddd, dd MMMM yyyy HH:mm',
  F: 'dddd, dd MMMM yyyy HH:mm:ss',
  g: 'MM/dd/yyyy HH:mm',
  G: 'MM/dd/yyyy HH:mm:ss',
  m: 'MMMM dd',
  M: 'MMMM dd',
  o: "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
  O: "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
  r: "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
  R: "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
  s: "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
  t: 'HH:mm',
  T: 'HH:mm:ss',
  u: "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
  U: 'dddd, dd MMMM yyyy HH:mm:ss',
  y: 'yyyy MMMM',
  Y: 'yyyy MMMM',
};

function formatOffset(offsetMinutes: number, n: number): string {
  const sign = offsetMinutes < 0 ? '-' : '+';
  const a = Math.abs(offsetMinutes);
  const h = Math.floor(a / 60);
  const m = a % 60;
  if (n === 1) return `${sign}${h}`;
  if (n === 2) return `${sign}${pad(h, 2)}`;
  return `${sign}${pad(h, 2)}:${pad(m, 2)}`;
}

/**
 * Formats a DateTime (isOffset=false) or the clock time of a DateTimeOffset (isOffset=true, offsetMinutes = its
 * offset). Invariant culture: `/` → "/", `:` → ":", AM/PM designators "AM"/"PM".
 */
function formatDateTime(dt: DateTime, offsetMinutes: number, format: string | undefined, isOffset: boolean): string {
  let fmt = format ?? '';
  if (fmt === '') fmt = isOffset ? 'MM/dd/yyyy HH:mm:ss zzz' : 'MM/dd/yyyy HH:mm:ss';
  if (fmt.length === 1) {
    const std = STANDARD_DATE_FORMATS[fmt];
    if (std === undefined) throw formatError('Input string was not in a correct format.');
    if (isOffset && (fmt === 'r' || fmt === 'R' || fmt === 'u')) {
      // DateTimeOffset converts to UTC for the universal formats.
      dt = dt.AddTicks(-BigInt(offsetMinutes) * TICKS_PER_MINUTE);
      offsetMinutes = 0;
    }
    if (fmt === 'U') dt = dt.ToUniversalTime();
    fmt = std;
  }
  let out = '';
  let i = 0;
  const [year, month, day] = [dt.Year, dt.Month, dt.Day];
  const frac = Number(dt.ticks % TICKS_PER_SECOND);
  while (i < fmt.length) {
    const ch = fmt[i]!;
    let n = repeatCount(fmt, i);
    switch (ch) {
      case 'd':
        if (n === 1) out += String(day);
        else if (n === 2) out += pad(day, 2);
        else if (n === 3) out += DAY_NAMES[dt.DayOfWeek]!.slice(0, 3);
        else out += DAY_NAMES[dt.DayOfWeek];
        break;
      case 'M':
        if (n === 1) out += String(month);
        else if (n === 2) out += pad(month, 2);
        else if (n === 3) out += MONTH_NAMES[month - 1]!.slice(0, 3);
        else out += MONTH_NAMES[month - 1];
        break;
      case 'y':
        if (n === 1) out += String(year % 100);
        else if (n === 2) out += pad(year % 100, 2);
        else out += pad(year, n);
        break;
      case 'H':
        out += pad(dt.Hour, Math.min(n, 2));
        break;
      case 'h':
        out += pad(dt.Hour % 12 === 0 ? 12 : dt.Hour % 12, Math.min(n, 2));
        break;
      case 'm':
        out += pad(dt.Minute, Math.min(n, 2));
        break;
      case 's':
        out += pad(dt.Second, Math.min(n, 2));
        break;
      case 'f':
        if (n > 7) throw formatError('Input string was not in a correct format.');
        out += pad(frac, 7).slice(0, n);
        break;
      case 'F': {
        if (n > 7) throw formatError('Input string was not in a correct format.');
        const digits = pad(frac, 7).slice(0, n).replace(/0+$/, '');
        if (digits === '' && out.endsWith('.')) out = out.slice(0, -1);
        out += digits;
        break;
      }
      case 't': {
        const des = dt.Hour < 12 ? 'AM' : 'PM';
        out += n === 1 ? des[0] : des;
        break;
      }
      case 'g':
        out += 'A.D.';
        break;
      case 'z':
        out += formatOffset(isOffset ? offsetMinutes : 0, Math.min(n, 3));
        break;
      case 'K':
        if (isOffset) out += formatOffset(offsetMinutes, 3);
        else if (dt.kind === 'Utc') out += 'Z';
        else if (dt.kind === 'Local') out += '+00:00';
        n = 1;
        break;
      case ':':
      case '/':
        out += ch;
        n = 1;
        break;
      case "'":
      case '"': {
        let j = i + 1;
        let lit = '';
        while (j < fmt.length && fmt[j] !== ch) {
          if (fmt[j] === '\\' && j + 1 < fmt.length) j++;
          lit += fmt[j++];
        }
        if (j >= fmt.length) throw formatError(`Cannot find a matching quote character for the character '${ch}'.`);
        out += lit;
        i = j + 1;
        continue;
      }
      case '\\':
        if (i + 1 >= fmt.length) throw formatError('Input string was not in a correct format.');
        out += fmt[i + 1];
        i += 2;
        continue;
      case '%':
        // "%d" uses the single-letter specifier as a custom one.
        if (i + 1 < fmt.length && fmt[i + 1] !== '%') {
          i += 1;
          continue;
        }
        throw formatError('Input string was not in a correct format.');
      default:
        out += ch.repeat(n);
    }
    i += n;
  }
  return out;
}

// ---- parsing -------------------------------------------------------------------------------------------------------

const MONTH_ABBR = MONTH_NAMES.map((m) => m.slice(0, 3).toLowerCase());

function monthFromName(name: string): number {
  const l = name.toLowerCase();
  const full = MONTH_NAMES.findIndex((m) => m.toLowerCase() === l);
  if (full >= 0) return full + 1;
  const ab = MONTH_ABBR.indexOf(l);
  return ab >= 0 ? ab + 1 : 0;
}

interface ParsedDateTime {
  dateTime: DateTime;
  /** Offset in minutes when the text carried one (for DateTimeOffset.Parse). */
  offsetMinutes: number | null;
}

function build(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  fracTicks: number,
  zone: { utc: boolean; offsetMinutes: number } | null,
): ParsedDateTime | null {
  if (y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) return null;
  let ticks = clockTicks(daysFromCivil(y, mo, d), h, mi, s, BigInt(fracTicks));
  if (!zone) return { dateTime: DateTime.fromTicks(ticks, 'Unspecified'), offsetMinutes: null };
  ticks -= BigInt(zone.offsetMinutes) * TICKS_PER_MINUTE;
  if (ticks < 0n || ticks > MAX_TICKS) return null;
  // DateTime.Parse converts zoned input to local time (Kind Local), which is UTC here.
  return { dateTime: DateTime.fromTicks(ticks, 'Local'), offsetMinutes: zone.offsetMinutes };
}

function fracToTicks(f: string | undefined): number {
  if (!f) return 0;
  return Number((f + '0000000').slice(0, 7));
}

function parseZone(z: string | undefined): { utc: boolean; offsetMinutes: number } | null {
  if (!z) return null;
  const t = z.trim();
  if (t === 'Z' || t === 'z' || t.toUpperCase() === 'GMT' || t.toUpperCase() === 'UTC') return { utc: true, offsetMinutes: 0 };
  const m = /^([+-])(\d{1,2})(?::?(\d{2}))?$/.exec(t);
  if (!m) return null;
  const mins = Number(m[2]) * 60 + Number(m[3] ?? '0');
  return { utc: false, offsetMinutes: m[1] === '-' ? -mins : mins };
}

function to24(h: number, ampm: string | undefined): number {
  if (!ampm) return h;
  const pm = ampm.toUpperCase().startsWith('P');
  if (h > 12) return 99;
  if (h === 12) return pm ? 12 : 0;
  return pm ? h + 12 : h;
}

/** DateTime.Parse with the invariant culture: the forms real policies and clients produce. */
function parseDateTimeLoose(input: string): ParsedDateTime | null {
  const text = input.trim();
  // ISO 8601: yyyy-MM-dd[(T| )HH:mm[:ss[.f+]]][zone]
  let m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7})\d*)?)?)?\s*(Z|z|[+-]\d{1,2}(?::?\d{2})?)?$/.exec(text);
  if (m) {
    return build(+m[1]!, +m[2]!, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0), fracToTicks(m[7]), parseZone(m[8]));
  }
  // Invariant short date: M/d/yyyy [h:mm[:ss[.f]]] [AM|PM] [zone]
  m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?\s*(AM|PM|am|pm)?)?\s*(Z|GMT|[+-]\d{1,2}(?::?\d{2})?)?$/.exec(text);
  if (m) {
    return build(+m[3]!, +m[1]!, +m[2]!, to24(+(m[4] ?? 0), m[8]), +(m[5] ?? 0), +(m[6] ?? 0), fracToTicks(m[7]), parseZone(m[9]));
  }
  // RFC 1123 and friends: [ddd, ]d MMM yyyy [HH:mm[:ss]] [GMT|zone]
  m = /^(?:[A-Za-z]{3,9},?\s+)?(\d{1,2})\s+([A-Za-z]{3,9})\s+(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*(GMT|UTC|Z|[+-]\d{1,2}(?::?\d{2})?)?$/.exec(text);
  if (m) {
    const mo = monthFromName(m[2]!);
    if (!mo) return null;
    return build(+m[3]!, mo, +m[1]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0), 0, parseZone(m[7]));
  }
  // MMMM d, yyyy [time]
  m = /^([A-Za-z]{3,9})\s+(\d{1,2}),?\s+(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(AM|PM|am|pm)?)?$/.exec(text);
  if (m) {
    const mo = monthFromName(m[1]!);
    if (!mo) return null;
    return build(+m[3]!, mo, +m[2]!, to24(+(m[4] ?? 0), m[7]), +(m[5] ?? 0), +(m[6] ?? 0), 0, null);
  }
  return null;
}

/** DateTime.ParseExact with the invariant culture and DateTimeStyles.None. */
function parseExact(text: string, format: string): ParsedDateTime | null {
  let fmt = format;
  if (fmt.length === 1) {
    const std = STANDARD_DATE_FORMATS[fmt];
    if (std === undefined) return null;
    fmt = std;
  }
  let pos = 0;
  let y = 1;
  let mo = 1;
  let d = 1;
  let h = 0;
  let mi = 0;
  let s = 0;
  let frac = 0;
  let ampm: string | undefined;
  let zone: { utc: boolean; offsetMinutes: number } | null = null;
  const readDigits = (min: number, max: number): number | null => {
    let j = pos;
    while (j < text.length && j - pos < max && text[j]! >= '0' && text[j]! <= '9') j++;
    if (j - pos < min) return null;
    const v = Number(text.slice(pos, j));
    pos = j;
    return v;
  };
  let i = 0;
  while (i < fmt.length) {
    const ch = fmt[i]!;
    let n = repeatCount(fmt, i);
    let v: number | null = 0;
    switch (ch) {
      case 'y':
        v = n <= 2 ? readDigits(n, 2) : readDigits(n, Math.max(n, 4));
        if (v === null) return null;
        y = n <= 2 ? (v < 50 ? 2000 + v : 1900 + v) : v; // invariant TwoDigitYearMax 2049
        break;
      case 'M':
        if (n <= 2) {
          v = readDigits(n, 2);
          if (v === null) return null;
          mo = v;
        } else {
          const word = /^[A-Za-z]+/.exec(text.slice(pos))?.[0] ?? '';
          const names = n === 3 ? MONTH_ABBR : MONTH_NAMES.map((x) => x.toLowerCase());
          const idx = names.findIndex((nm) => word.toLowerCase().startsWith(nm));
          if (idx < 0) return null;
          mo = idx + 1;
          pos += names[idx]!.length;
        }
        break;
      case 'd':
        if (n <= 2) {
          v = readDigits(n, 2);
          if (v === null) return null;
          d = v;
        } else {
          const word = /^[A-Za-z]+/.exec(text.slice(pos))?.[0] ?? '';
          const ok = DAY_NAMES.some((nm) => (n === 3 ? nm.slice(0, 3) : nm).toLowerCase() === word.toLowerCase());
          if (!ok) return null;
          pos += word.length;
        }
        break;
      case 'H':
      case 'h':
        v = readDigits(n, 2);
        if (v === null) return null;
        h = v;
        break;
      case 'm':
        v = readDigits(n, 2);
        if (v === null) return null;
        mi = v;
        break;
      case 's':
        v = readDigits(n, 2);
        if (v === null) return null;
        s = v;
        break;
      case 'f':
      case 'F': {
        const start = pos;
        v = readDigits(ch === 'f' ? n : 0, n);
        if (v === null) return null;
        frac = fracToTicks(text.slice(start, pos));
        break;
      }
      case 't': {
        const des = text.slice(pos, pos + n).toUpperCase();
        if (!(n === 1 ? des === 'A' || des === 'P' : des === 'AM' || des === 'PM')) return null;
        ampm = des;
        pos += n;
        break;
      }
      case 'z':
      case 'K': {
        const zm = /^(Z|[+-]\d{1,2}(?::?\d{2})?)/.exec(text.slice(pos));
        if (!zm) {
          if (ch === 'K') break;
          return null;
        }
        zone = parseZone(zm[1]);
        pos += zm[1]!.length;
        break;
      }
      case "'":
      case '"': {
        const end = fmt.indexOf(ch, i + 1);
        if (end < 0) return null;
        const lit = fmt.slice(i + 1, end);
        if (text.slice(pos, pos + lit.length) !== lit) return null;
        pos += lit.length;
        i = end + 1;
        continue;
      }
      case '\\':
        if (text[pos] !== fmt[i + 1]) return null;
        pos++;
        i += 2;
        continue;
      case '%':
        i++;
        continue;
      case 'Z':
        // An unquoted 'Z' in an exact format is the UTC designator (as in "u"), not a literal.
        if (text[pos] !== 'Z') return null;
        zone = { utc: true, offsetMinutes: 0 };
        pos++;
        n = 1;
        break;
      default: {
        const lit = ch.repeat(n);
        if (text.slice(pos, pos + n) !== lit) return null;
        pos += n;
      }
    }
    i += n;
  }
  if (pos !== text.length) return null;
  if (ampm) h = to24(h, ampm);
  return build(y, mo, d, h, mi, s, frac, zone);
}

// ---- DateTimeOffset ------------------------------------------------------------------------------------------------

export class DateTimeOffset implements DotNetFormattable {
  /** utcTicks: the instant; offsetMinutes: the clock offset it is shown in. */
  private constructor(
    readonly utcTicks: bigint,
    readonly offsetMinutes: number,
  ) {}

  static fromDateTime(dt: DateTime, offset?: TimeSpan): DateTimeOffset {
    if (offset) DateTimeOffset.checkOffset(offset, dt);
    const off = offset ? Number(offset.ticks / TICKS_PER_MINUTE) : 0;
    return new DateTimeOffset(dt.ticks - BigInt(off) * TICKS_PER_MINUTE, off);
  }
  /** `new DateTimeOffset(long ticks, TimeSpan offset)`: ticks are the clock time in that offset. */
  static fromTicks(ticks: bigint, offset: TimeSpan): DateTimeOffset {
    DateTimeOffset.checkOffset(offset);
    const off = Number(offset.ticks / TICKS_PER_MINUTE);
    return new DateTimeOffset(ticks - BigInt(off) * TICKS_PER_MINUTE, off);
  }
  /** .NET's DateTimeOffset validation of an offset: whole minutes, within ±14 hours, 0 for a UTC DateTime. */
  private static checkOffset(offset: TimeSpan, dt?: DateTime): void {
    if (offset.ticks % TICKS_PER_MINUTE !== 0n) throw argument('Offset must be specified in whole minutes.', 'offset');
    if (offset.ticks > 14n * 60n * TICKS_PER_MINUTE || offset.ticks < -14n * 60n * TICKS_PER_MINUTE)
      throw argumentOutOfRange('offset', 'Offset must be within plus or minus 14 hours.');
    if (dt && dt.Kind === 'Utc' && offset.ticks !== 0n) throw argument('The UTC Offset for Utc DateTime instances must be 0.', 'offset');
  }
  static UtcNow(nowMs: number): DateTimeOffset {
    return new DateTimeOffset(DateTime.UtcNow(nowMs).ticks, 0);
  }
  static Now(nowMs: number): DateTimeOffset {
    return DateTimeOffset.UtcNow(nowMs);
  }
  static FromUnixTimeSeconds(seconds: number | bigint): DateTimeOffset {
    const s = BigInt(seconds);
    if (s < -62135596800n || s > 253402300799n) throw argumentOutOfRange('seconds', 'Valid values are between -62135596800 and 253402300799, inclusive.');
    return new DateTimeOffset(UNIX_EPOCH_TICKS + s * TICKS_PER_SECOND, 0);
  }
  static FromUnixTimeMilliseconds(ms: number | bigint): DateTimeOffset {
    const v = BigInt(ms);
    if (v < -62135596800000n || v > 253402300799999n)
      throw argumentOutOfRange('milliseconds', 'Valid values are between -62135596800000 and 253402300799999, inclusive.');
    return new DateTimeOffset(UNIX_EPOCH_TICKS + v * TICKS_PER_MILLISECOND, 0);
  }
  static Parse(text: string): DateTimeOffset {
    const r = parseDateTimeLoose(text);
    if (!r) throw formatError(`String '${text}' was not recognized as a valid DateTime.`);
    return new DateTimeOffset(r.dateTime.ticks, r.offsetMinutes ?? 0);
  }

  /** Unix seconds, rounded toward the past (.NET semantics). */
  ToUnixTimeSeconds(): bigint {
    return this.utcTicks / TICKS_PER_SECOND - UNIX_EPOCH_TICKS / TICKS_PER_SECOND;
  }
  ToUnixTimeMilliseconds(): bigint {
    return this.utcTicks / TICKS_PER_MILLISECOND - UNIX_EPOCH_TICKS / TICKS_PER_MILLISECOND;
  }
  get UtcDateTime(): DateTime {
    return DateTime.fromTicks(this.utcTicks, 'Utc');
  }
  /** The clock time, Kind Unspecified. */
  get DateTime(): DateTime {
    return DateTime.fromTicks(this.utcTicks + BigInt(this.offsetMinutes) * TICKS_PER_MINUTE, 'Unspecified');
  }
  get LocalDateTime(): DateTime {
    return DateTime.fromTicks(this.utcTicks, 'Local');
  }
  get Offset(): TimeSpan {
    return new TimeSpan(BigInt(this.offsetMinutes) * TICKS_PER_MINUTE);
  }
  get UtcTicks(): bigint {
    return this.utcTicks;
  }
  get Ticks(): bigint {
    return this.DateTime.ticks;
  }
  get Year(): number {
    return this.DateTime.Year;
  }
  get Month(): number {
    return this.DateTime.Month;
  }
  get Day(): number {
    return this.DateTime.Day;
  }
  get Hour(): number {
    return this.DateTime.Hour;
  }
  get Minute(): number {
    return this.DateTime.Minute;
  }
  get Second(): number {
    return this.DateTime.Second;
  }
  get Millisecond(): number {
    return this.DateTime.Millisecond;
  }
  private shift(dt: DateTime): DateTimeOffset {
    return new DateTimeOffset(dt.ticks - BigInt(this.offsetMinutes) * TICKS_PER_MINUTE, this.offsetMinutes);
  }
  Add(span: TimeSpan): DateTimeOffset {
    return this.shift(this.DateTime.Add(span));
  }
  AddSeconds(v: number): DateTimeOffset {
    return this.shift(this.DateTime.AddSeconds(v));
  }
  AddMinutes(v: number): DateTimeOffset {
    return this.shift(this.DateTime.AddMinutes(v));
  }
  AddHours(v: number): DateTimeOffset {
    return this.shift(this.DateTime.AddHours(v));
  }
  AddDays(v: number): DateTimeOffset {
    return this.shift(this.DateTime.AddDays(v));
  }
  AddMilliseconds(v: number): DateTimeOffset {
    return this.shift(this.DateTime.AddMilliseconds(v));
  }
  AddTicks(v: number | bigint): DateTimeOffset {
    return this.shift(this.DateTime.AddTicks(v));
  }
  AddMonths(v: number): DateTimeOffset {
    return this.shift(this.DateTime.AddMonths(v));
  }
  AddYears(v: number): DateTimeOffset {
    return this.shift(this.DateTime.AddYears(v));
  }
  ToOffset(offset: TimeSpan): DateTimeOffset {
    DateTimeOffset.checkOffset(offset);
    return new DateTimeOffset(this.utcTicks, Number(offset.ticks / TICKS_PER_MINUTE));
  }
  ToUniversalTime(): DateTimeOffset {
    return new DateTimeOffset(this.utcTicks, 0);
  }
  CompareTo(other: DateTimeOffset): number {
    return this.utcTicks < other.utcTicks ? -1 : this.utcTicks > other.utcTicks ? 1 : 0;
  }
  Equals(other: unknown): boolean {
    return other instanceof DateTimeOffset && other.utcTicks === this.utcTicks;
  }
  toString(): string {
    return this.toDotNetString();
  }
  toDotNetString(format?: string): string {
    return formatDateTime(this.DateTime, this.offsetMinutes, format, true);
  }
}

/**
 * Newtonsoft's ISO date reading (DateParseHandling.DateTime, DateTimeZoneHandling.RoundtripKind): a string of the
 * form `yyyy-MM-ddTHH:mm:ss[.fffffff][Z|±HH:mm]` becomes a DateTime (Z → Utc, offset → Local, none → Unspecified).
 * Returns null for anything else.
 */
export function parseNewtonsoftIsoDate(text: string): DateTime | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(text);
  if (!m) return null;
  const zone = m[8] === undefined ? null : parseZone(m[8]);
  const r = build(+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +m[6]!, fracToTicks(m[7]), zone);
  if (!r) return null;
  if (zone?.utc) return DateTime.SpecifyKind(r.dateTime, 'Utc');
  return r.dateTime;
}

/** Newtonsoft's ISO date writing: `yyyy-MM-ddTHH:mm:ss.FFFFFFFK`. */
export function formatNewtonsoftIsoDate(dt: DateTime): string {
  return dt.toDotNetString("yyyy'-'MM'-'dd'T'HH':'mm':'ss.FFFFFFFK");
}

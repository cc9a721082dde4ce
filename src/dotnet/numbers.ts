/**
 * Numeric parsing and conversion with .NET rules (invariant culture).
 *
 * Provides: Int32.Parse/TryParse (parseInt32), Int64.Parse/TryParse (parseInt64 → bigint), Double.Parse/TryParse
 * (parseDouble), Decimal.Parse/TryParse (parseDecimal, as a JS number), Boolean.Parse/TryParse (parseBoolean);
 * Convert.ToInt32/ToInt64/ToDouble/ToDecimal/ToBoolean(object) (convertToInt32 …) with banker's rounding for
 * doubles and OverflowException/FormatException like .NET; Convert.ToInt32(string, fromBase);
 * Math.Round(x[, digits][, MidpointRounding]) (mathRound).
 *
 * Representation: Int32/Double/Decimal are JS numbers; Int64 is bigint (its range passes 2^53).
 */
import { DotNetException, argumentNull, formatError, overflow } from './exceptions.js';
import { isDotNetFormattable, toDotNetString } from './format.js';

export type TryResult<T> = { ok: true; value: T } | { ok: false; value: T };

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MIN = -9223372036854775808n;
const INT64_MAX = 9223372036854775807n;

/** .NET whitespace for number parsing (NumberStyles.AllowLeading/TrailingWhite): U+0009–U+000D and U+0020. */
const WS = '[\\t\\n\\v\\f\\r ]*';
const INTEGER_RE = new RegExp(`^${WS}([+-]?)(\\d+)${WS}$`);

function parseIntegerText(s: string | null, typeName: 'Int32' | 'Int64'): bigint | DotNetException {
  if (s === null) return argumentNull('s');
  const m = INTEGER_RE.exec(s);
  if (!m) return formatError();
  const v = BigInt(m[1] === '-' ? `-${m[2]}` : m[2]!);
  const [min, max] = typeName === 'Int32' ? [BigInt(INT32_MIN), BigInt(INT32_MAX)] : [INT64_MIN, INT64_MAX];
  if (v < min || v > max) return overflow(typeName);
  return v;
}

/** Int32.Parse(s): NumberStyles.Integer (whitespace, sign, digits). */
export function parseInt32(s: string | null): number {
  const r = parseIntegerText(s, 'Int32');
  if (r instanceof DotNetException) throw r;
  return Number(r);
}

export function tryParseInt32(s: string | null): TryResult<number> {
  const r = parseIntegerText(s, 'Int32');
  return r instanceof DotNetException ? { ok: false, value: 0 } : { ok: true, value: Number(r) };
}

/** Int64.Parse(s) → bigint. */
export function parseInt64(s: string | null): bigint {
  const r = parseIntegerText(s, 'Int64');
  if (r instanceof DotNetException) throw r;
  return r;
}

export function tryParseInt64(s: string | null): TryResult<bigint> {
  const r = parseIntegerText(s, 'Int64');
  return r instanceof DotNetException ? { ok: false, value: 0n } : { ok: true, value: r };
}

const FLOAT_RE = new RegExp(`^${WS}([+-]?)((?:\\d{1,3}(?:,\\d{3})+|\\d+)?(?:\\.\\d*)?)(?:[eE]([+-]?\\d+))?${WS}$`);

function parseFloatText(s: string | null, allowExponent: boolean): number | DotNetException {
  if (s === null) return argumentNull('s');
  const t = s.trim();
  // .NET Core 3.0+ accepts the invariant symbols, case-insensitively.
  const special = t.replace(/^[+]/, '').toLowerCase();
  if (special === 'nan') return NaN;
  if (special === 'infinity' || special === '∞') return t.startsWith('-') ? -Infinity : Infinity;
  if (special === '-infinity' || special === '-∞') return -Infinity;
  const m = FLOAT_RE.exec(s);
  if (!m || m[2] === '' || m[2] === '.' || (!allowExponent && m[3] !== undefined)) return formatError();
  // Group separators are allowed anywhere in the integer part by .NET; the regex takes the common well-formed case.
  const v = Number(`${m[1]}${m[2]!.replace(/,/g, '')}${m[3] !== undefined ? `e${m[3]}` : ''}`);
  return v;
}

/** Double.Parse(s): NumberStyles.Float | AllowThousands; out-of-range values give ±∞ (.NET Core 3.0+). */
export function parseDouble(s: string | null): number {
  const r = parseFloatText(s, true);
  if (r instanceof DotNetException) throw r;
  return r;
}

export function tryParseDouble(s: string | null): TryResult<number> {
  const r = parseFloatText(s, true);
  return r instanceof DotNetException ? { ok: false, value: 0 } : { ok: true, value: r };
}

const DECIMAL_MAX = 79228162514264337593543950335;

/** Decimal.Parse(s): NumberStyles.Number (no exponent); the result is a JS number (decimal's 28 digits are not kept). */
export function parseDecimal(s: string | null): number {
  const r = parseFloatText(s, false);
  if (r instanceof DotNetException) throw r;
  if (!Number.isFinite(r) || Math.abs(r) > DECIMAL_MAX) {
    if (Number.isNaN(r)) throw formatError();
    throw overflow('Decimal');
  }
  return r;
}

export function tryParseDecimal(s: string | null): TryResult<number> {
  try {
    return { ok: true, value: parseDecimal(s) };
  } catch {
    return { ok: false, value: 0 };
  }
}

/** Boolean.Parse(value): "True"/"False" in any case, surrounding whitespace and NULs ignored. */
export function parseBoolean(value: string | null): boolean {
  if (value === null) throw argumentNull('value');
  const t = value.replace(/^[\s\0]+|[\s\0]+$/g, '').toLowerCase();
  if (t === 'true') return true;
  if (t === 'false') return false;
  throw formatError(`String '${value}' was not recognized as a valid Boolean.`);
}

export function tryParseBoolean(value: string | null): TryResult<boolean> {
  try {
    return { ok: true, value: parseBoolean(value) };
  } catch {
    return { ok: false, value: false };
  }
}

/** Round half to even (banker's rounding), .NET's default for Math.Round and Convert.ToInt32(double). */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

export type MidpointRounding = 'ToEven' | 'AwayFromZero' | 'ToZero' | 'ToNegativeInfinity' | 'ToPositiveInfinity';

function roundMode(x: number, mode: MidpointRounding): number {
  switch (mode) {
    case 'ToEven':
      return roundHalfEven(x);
    case 'AwayFromZero':
      return Math.sign(x) * Math.floor(Math.abs(x) + 0.5) || (Object.is(x, -0) ? -0 : 0);
    case 'ToZero':
      return Math.trunc(x);
    case 'ToNegativeInfinity':
      return Math.floor(x);
    case 'ToPositiveInfinity':
      return Math.ceil(x);
  }
}

/** Math.Round(value[, digits][, mode]) for double (digits 0..15). */
export function mathRound(value: number, digits = 0, mode: MidpointRounding = 'ToEven'): number {
  if (!Number.isInteger(digits) || digits < 0 || digits > 15) {
    throw new DotNetException('ArgumentOutOfRangeException', "Rounding digits must be between 0 and 15, inclusive. (Parameter 'digits')", 'digits');
  }
  if (!Number.isFinite(value)) return value;
  if (digits === 0) return roundMode(value, mode);
  const power = 10 ** digits;
  const scaled = value * power;
  if (Math.abs(scaled) >= 1e16) return value; // already more precise than the requested digits
  return roundMode(scaled, mode) / power;
}

/** Convert.ToInt32(double): banker's rounding with .NET's range check. */
export function doubleToInt32(value: number): number {
  if (value >= -2147483648.5 && value < 2147483647.5) return roundHalfEven(value);
  throw overflow('Int32');
}

export function doubleToInt64(value: number): bigint {
  if (value >= -9223372036854775808.5 && value < 9223372036854775807.5) {
    const r = roundHalfEven(value);
    return BigInt(r);
  }
  throw overflow('Int64');
}

function invalidCastFrom(value: unknown, target: string): DotNetException {
  return new DotNetException('InvalidCastException', `Unable to cast object of type '${dotNetTypeName(value)}' to type 'System.IConvertible'.`, target);
}

/** A best-effort .NET type name for a JS value (used in cast messages). */
export function dotNetTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return 'System.String';
  if (typeof value === 'boolean') return 'System.Boolean';
  if (typeof value === 'bigint') return 'System.Int64';
  if (typeof value === 'number') return Number.isInteger(value) ? 'System.Int32' : 'System.Double';
  const ctor = (value as { constructor?: { name?: string } }).constructor?.name ?? 'Object';
  if (ctor.startsWith('J')) return `Newtonsoft.Json.Linq.${ctor}`;
  return `System.${ctor}`;
}

/** Convert.ToInt32(object): null → 0, string → Int32.Parse, double → banker's rounding, bool → 1/0. */
export function convertToInt32(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'string') return parseInt32(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return doubleToInt32(value);
  if (typeof value === 'bigint') {
    if (value < BigInt(INT32_MIN) || value > BigInt(INT32_MAX)) throw overflow('Int32');
    return Number(value);
  }
  throw invalidCastFrom(value, 'Int32');
}

/** Convert.ToInt64(object) → bigint. */
export function convertToInt64(value: unknown): bigint {
  if (value === null || value === undefined) return 0n;
  if (typeof value === 'string') return parseInt64(value);
  if (typeof value === 'boolean') return value ? 1n : 0n;
  if (typeof value === 'number') return doubleToInt64(value);
  if (typeof value === 'bigint') {
    if (value < INT64_MIN || value > INT64_MAX) throw overflow('Int64');
    return value;
  }
  throw invalidCastFrom(value, 'Int64');
}

/** Convert.ToDouble(object). */
export function convertToDouble(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'string') return parseDouble(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  throw invalidCastFrom(value, 'Double');
}

/** Convert.ToDecimal(object) (as a JS number). */
export function convertToDecimal(value: unknown): number {
  if (typeof value === 'string') return parseDecimal(value);
  const d = convertToDouble(value);
  if (!Number.isFinite(d) || Math.abs(d) > DECIMAL_MAX) throw overflow('Decimal');
  return d;
}

/** Convert.ToBoolean(object): strings via Boolean.Parse, numbers: non-zero is true. */
export function convertToBoolean(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === 'string') return parseBoolean(value);
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'bigint') return value !== 0n;
  throw invalidCastFrom(value, 'Boolean');
}

/** Convert.ToString(object): null → "" (.NET returns String.Empty for null objects). */
export function convertToString(value: unknown): string {
  if (isDotNetFormattable(value)) return value.toDotNetString();
  return toDotNetString(value);
}

/** Convert.ToInt32(string, fromBase) for bases 2, 8, 10, 16 (two's complement for 2/8/16, as .NET). */
export function convertToInt32FromBase(value: string | null, fromBase: number): number {
  if (![2, 8, 10, 16].includes(fromBase)) throw new DotNetException('ArgumentException', 'Invalid Base.');
  if (value === null) return 0;
  if (fromBase === 10) return parseInt32(value);
  let t = value;
  if (fromBase === 16 && /^0[xX]/.test(t)) t = t.slice(2);
  const digitRe = fromBase === 16 ? /^[0-9a-fA-F]+$/ : fromBase === 8 ? /^[0-7]+$/ : /^[01]+$/;
  if (t === '')
    throw new DotNetException(
      'ArgumentOutOfRangeException',
      "Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'startIndex')",
      'startIndex',
    );
  if (!digitRe.test(t)) throw formatError('Could not find any recognizable digits.');
  const v = BigInt((fromBase === 16 ? '0x' : fromBase === 8 ? '0o' : '0b') + t);
  if (v > 0xffffffffn) throw overflow('Int32');
  return Number(BigInt.asIntN(32, v));
}

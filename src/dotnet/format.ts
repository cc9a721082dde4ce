/**
 * .NET number and composite formatting, invariant culture (.NET Core 3.0+ behaviour).
 *
 * Provides:
 * - Int32/Int64/Double/Single/Decimal `.ToString()` and `.ToString(format)`: formatNumber(value, format, kind),
 *   doubleToString(x) (shortest round-trip, `1E+20`, `-0`, `NaN`, `∞`, `-∞`).
 * - standard formats C D E F G N P R X (with precision) and custom formats (`0.00`, `#,##0.##`, `0%`, `0.###E+0`,
 *   sections `pos;neg;zero`, quotes, `\` escapes, `‰`, scaling commas).
 * - Boolean.ToString(): formatBoolean.
 * - String.Format(format, args...) / interpolated-string holes: formatComposite, formatItem (alignment `{0,-10}`,
 *   format `{0:N2}`, `{{`/`}}` escapes).
 * - toDotNetString(value, format?): how any emulated value prints (null → "", bool → "True", numbers as .NET, objects
 *   implementing DotNetFormattable through their own ToString(format)).
 */
import { DotNetException, formatError, ensureStringLength } from './exceptions.js';

/** The .NET numeric type a value has; decides which formats are allowed and how default ToString prints. */
export type NumericKind = 'Byte' | 'SByte' | 'Int16' | 'UInt16' | 'Int32' | 'UInt32' | 'Int64' | 'UInt64' | 'Single' | 'Double' | 'Decimal';

/** An emulated .NET object with its own `ToString(format)` (DateTime, TimeSpan, Guid, JToken...). */
export interface DotNetFormattable {
  toDotNetString(format?: string): string;
}

export function isDotNetFormattable(v: unknown): v is DotNetFormattable {
  return typeof v === 'object' && v !== null && typeof (v as { toDotNetString?: unknown }).toDotNetString === 'function';
}

/** Boolean.ToString(). */
export function formatBoolean(b: boolean): string {
  return b ? 'True' : 'False';
}

// ---- digit model ---------------------------------------------------------------------------------------------------

/** A decimal number as .NET's NumberBuffer sees it: value = 0.d1d2d3... × 10^scale; digits has no trailing zeros. */
interface Num {
  neg: boolean;
  digits: string;
  scale: number;
  floating: boolean;
}

const INVALID_SPECIFIER = 'Format specifier was invalid.';

function stripTrailingZeros(d: string): string {
  let end = d.length;
  while (end > 0 && d.charCodeAt(end - 1) === 48) end--;
  return d.slice(0, end);
}

/** The exact decimal expansion of a finite positive double (every double is a finite decimal). */
function exactDigits(x: number): { digits: string; scale: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const expBits = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  let e: number;
  if (expBits === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = expBits - 1075;
  }
  let s: string;
  let scale: number;
  if (e >= 0) {
    s = (mant << BigInt(e)).toString();
    scale = s.length;
  } else {
    s = (mant * 5n ** BigInt(-e)).toString();
    scale = s.length + e;
  }
  return { digits: stripTrailingZeros(s), scale };
}

/** The shortest digits that round-trip (what .NET Core 3.0+ `R`/default `ToString()` prints). */
function shortestDigits(x: number): { digits: string; scale: number } {
  const s = x.toExponential(); // shortest round-trip digits, per ECMAScript Number::toString
  const ePos = s.indexOf('e');
  const digits = stripTrailingZeros(s.slice(0, ePos).replace('.', ''));
  return { digits, scale: Number(s.slice(ePos + 1)) + 1 };
}

/** Shortest digits that round-trip through float32 (Single). */
function shortestSingleDigits(x: number): { digits: string; scale: number } {
  const f = Math.fround(x);
  for (let p = 1; p <= 9; p++) {
    const s = f.toExponential(p - 1);
    if (Math.fround(Number(s)) === f) {
      const ePos = s.indexOf('e');
      return { digits: stripTrailingZeros(s.slice(0, ePos).replace('.', '')), scale: Number(s.slice(ePos + 1)) + 1 };
    }
  }
  return shortestDigits(f);
}

function numFromInteger(v: number | bigint): Num {
  const b = typeof v === 'bigint' ? v : BigInt(v);
  const neg = b < 0n;
  const s = (neg ? -b : b).toString();
  if (s === '0') return { neg: false, digits: '', scale: 0, floating: false };
  return { neg, digits: stripTrailingZeros(s), scale: s.length, floating: false };
}

function numFromDouble(x: number, mode: 'exact' | 'shortest' | 'shortestSingle'): Num {
  const neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  if (a === 0) return { neg, digits: '', scale: 0, floating: true };
  const d = mode === 'exact' ? exactDigits(a) : mode === 'shortest' ? shortestDigits(a) : shortestSingleDigits(a);
  return { neg, digits: d.digits, scale: d.scale, floating: true };
}

/** .NET RoundNumber: keep `pos` digits, round half away from zero on the exact digits. */
function roundAt(n: Num, pos: number): Num {
  const d = n.digits;
  if (pos >= d.length) return n;
  let kept = pos > 0 ? d.slice(0, pos) : '';
  let scale = n.scale;
  if (pos >= 0 && d.charCodeAt(pos) >= 53) {
    let i = kept.length - 1;
    while (i >= 0 && kept[i] === '9') i--;
    if (i < 0) {
      kept = '1';
      scale += 1;
    } else {
      kept = kept.slice(0, i) + String.fromCharCode(kept.charCodeAt(i) + 1);
    }
  }
  kept = stripTrailingZeros(kept);
  if (kept === '') return { neg: n.floating ? n.neg : false, digits: '', scale: 0, floating: n.floating };
  return { neg: n.neg, digits: kept, scale, floating: n.floating };
}

function digitAt(n: Num, i: number): string {
  return i >= 0 && i < n.digits.length ? n.digits[i]! : '0';
}

function groupInteger(intPart: string): string {
  let out = '';
  for (let i = 0; i < intPart.length; i++) {
    if (i > 0 && (intPart.length - i) % 3 === 0) out += ',';
    out += intPart[i];
  }
  return out;
}

/** Fixed-point digits of an already rounded number: [integer part, fraction part of `decimals` digits]. */
function fixedParts(n: Num, decimals: number): [string, string] {
  let intPart = '';
  if (n.scale > 0) for (let i = 0; i < n.scale; i++) intPart += digitAt(n, i);
  else intPart = '0';
  let frac = '';
  for (let i = 0; i < decimals; i++) frac += digitAt(n, n.scale + i);
  return [intPart, frac];
}

function formatExponent(exp: number, expChar: string, minDigits: number, positiveSign: boolean): string {
  const sign = exp < 0 ? '-' : positiveSign ? '+' : '';
  return expChar + sign + String(Math.abs(exp)).padStart(minDigits, '0');
}

/** .NET FormatGeneral (the `G`/`R`/default layout). */
function formatGeneral(n: Num, maxDigits: number, expChar: string, suppressScientific: boolean): string {
  let digPos = n.scale;
  let scientific = false;
  if (!suppressScientific && (digPos > maxDigits || digPos < -3)) {
    digPos = 1;
    scientific = true;
  }
  let out = '';
  let cur = 0;
  if (digPos > 0) {
    for (; digPos > 0; digPos--) out += cur < n.digits.length ? n.digits[cur++] : '0';
  } else out += '0';
  if (cur < n.digits.length || digPos < 0) {
    out += '.';
    for (; digPos < 0; digPos++) out += '0';
    out += n.digits.slice(cur);
  }
  if (scientific) out += formatExponent(n.digits.length === 0 ? 0 : n.scale - 1, expChar, 2, true);
  return out;
}

const INT_RANGES: Partial<Record<NumericKind, [bigint, bigint]>> = {
  Byte: [0n, 255n],
  SByte: [-128n, 127n],
  Int16: [-32768n, 32767n],
  UInt16: [0n, 65535n],
  Int32: [-2147483648n, 2147483647n],
  UInt32: [0n, 4294967295n],
  Int64: [-9223372036854775808n, 9223372036854775807n],
  UInt64: [0n, 18446744073709551615n],
};

const INT_BITS: Partial<Record<NumericKind, bigint>> = { Byte: 8n, SByte: 8n, Int16: 16n, UInt16: 16n, Int32: 32n, UInt32: 32n, Int64: 64n, UInt64: 64n };

function isIntegerKind(kind: NumericKind): boolean {
  return kind !== 'Single' && kind !== 'Double' && kind !== 'Decimal';
}

/** `x.ToString()` for a double: shortest round-trip digits, scientific beyond 15 integer digits or below 1E-05. */
export function doubleToString(x: number): string {
  return formatNumber(x, null, 'Double');
}

/**
 * `value.ToString(format)` for a .NET number of type `kind`, invariant culture. `value` is a JS number (bigint also
 * accepted for the 64-bit integer kinds). Throws FormatException for invalid specifiers, like .NET.
 */
export function formatNumber(value: number | bigint, format: string | null | undefined, kind: NumericKind): string {
  const integer = isIntegerKind(kind);
  if (!integer && typeof value === 'number' && !Number.isFinite(value)) {
    if (Number.isNaN(value)) return 'NaN';
    return value > 0 ? '∞' : '-∞';
  }
  const fmt = format ?? '';
  const m = /^([A-Za-z])(\d{0,9})$/.exec(fmt);
  if (fmt !== '' && !m) return customFormat(value, fmt, kind);
  const spec = m ? m[1]! : 'G';
  const precision = m && m[2] !== '' ? Number(m[2]) : -1;
  const upper = spec.toUpperCase();

  if (integer && typeof value === 'number' && !Number.isInteger(value)) {
    throw new DotNetException('InvalidCastException', `internal: ${kind} value ${value} is not an integer`);
  }
  switch (upper) {
    case 'G': {
      if (integer) {
        const n = numFromInteger(value);
        if (precision <= 0) return (n.neg ? '-' : '') + formatGeneral(n, Math.max(n.digits.length, n.scale), spec === 'g' ? 'e' : 'E', true);
        const r = roundAt(n, precision);
        return (r.neg ? '-' : '') + formatGeneral(r, precision, spec === 'g' ? 'e' : 'E', false);
      }
      const x = Number(value);
      if (precision <= 0) {
        const n = numFromDouble(x, kind === 'Single' ? 'shortestSingle' : 'shortest');
        if (kind === 'Decimal') return (n.neg && n.digits !== '' ? '-' : '') + formatGeneral(n, n.scale, 'E', true);
        return (n.neg ? '-' : '') + formatGeneral(n, Math.max(n.digits.length, kind === 'Single' ? 7 : 15), spec === 'g' ? 'e' : 'E', false);
      }
      const r = roundAt(numFromDouble(kind === 'Single' ? Math.fround(x) : x, 'exact'), precision);
      return (r.neg && (r.digits !== '' || kind !== 'Decimal') ? '-' : '') + formatGeneral(r, precision, spec === 'g' ? 'e' : 'E', false);
    }
    case 'R': {
      if (integer || kind === 'Decimal') throw formatError(INVALID_SPECIFIER);
      return formatNumber(value, spec === 'r' ? 'g' : 'G', kind);
    }
    case 'D': {
      if (!integer) throw formatError(INVALID_SPECIFIER);
      const b = BigInt(value);
      const s = (b < 0n ? -b : b).toString().padStart(Math.max(precision, 1), '0');
      return (b < 0n ? '-' : '') + s;
    }
    case 'X': {
      if (!integer) throw formatError(INVALID_SPECIFIER);
      let b = BigInt(value);
      if (b < 0n) b += 1n << (INT_BITS[kind] ?? 64n);
      const s = b.toString(16).padStart(Math.max(precision, 1), '0');
      return spec === 'x' ? s : s.toUpperCase();
    }
    case 'F':
    case 'N':
    case 'C':
    case 'P': {
      const decimals = precision >= 0 ? precision : 2;
      let n = integer ? numFromInteger(value) : numFromDouble(Number(value), 'exact');
      if (upper === 'P' && n.digits !== '') n = { ...n, scale: n.scale + 2 };
      n = roundAt(n, n.scale + decimals);
      if (!n.floating || kind === 'Decimal') n = n.digits === '' ? { ...n, neg: false } : n;
      const [ip, fp] = fixedParts(n, decimals);
      const body = (upper === 'F' ? ip : groupInteger(ip)) + (decimals > 0 ? '.' + fp : '');
      if (upper === 'C') return n.neg ? `(¤${body})` : `¤${body}`;
      if (upper === 'P') return n.neg ? `-${body} %` : `${body} %`;
      return (n.neg ? '-' : '') + body;
    }
    case 'E': {
      const p = precision >= 0 ? precision : 6;
      let n = integer ? numFromInteger(value) : numFromDouble(kind === 'Single' ? Math.fround(Number(value)) : Number(value), 'exact');
      n = roundAt(n, p + 1);
      if (!n.floating) n = n.digits === '' ? { ...n, neg: false } : n;
      let mant = digitAt(n, 0);
      if (p > 0) {
        mant += '.';
        for (let i = 1; i <= p; i++) mant += digitAt(n, i);
      }
      return (n.neg ? '-' : '') + mant + formatExponent(n.digits === '' ? 0 : n.scale - 1, spec, 3, true);
    }
    default:
      throw formatError(INVALID_SPECIFIER);
  }
}

// ---- custom numeric formats ----------------------------------------------------------------------------------------

/** Start offset of section `index` (0 pos, 1 neg, 2 zero) of a `;`-separated custom format; 0 when absent or empty. */
function findSection(format: string, index: number): number {
  if (index === 0) return 0;
  let src = 0;
  for (;;) {
    if (src >= format.length) return 0;
    const ch = format[src++]!;
    if (ch === "'" || ch === '"') {
      while (src < format.length && format[src++] !== ch);
    } else if (ch === '\\') {
      if (src < format.length) src++;
    } else if (ch === ';') {
      if (--index !== 0) continue;
      if (src < format.length && format[src] !== ';') return src;
      return 0;
    }
  }
}

function customFormat(value: number | bigint, format: string, kind: NumericKind): string {
  let n: Num;
  if (isIntegerKind(kind)) n = numFromInteger(value);
  else if (kind === 'Decimal') n = numFromDouble(Number(value), 'shortest');
  // .NET first renders doubles to 15 (Single: 7) significant digits for custom formats, then applies the pattern.
  else n = roundAt(numFromDouble(kind === 'Single' ? Math.fround(Number(value)) : Number(value), 'exact'), kind === 'Single' ? 7 : 15);
  if (kind === 'Decimal' && n.digits === '') n = { ...n, neg: false };

  let section = findSection(format, n.digits === '' ? 2 : n.neg ? 1 : 0);
  let digitCount = 0;
  let decimalPos = -1;
  let firstDigit = 0x7fffffff;
  let lastDigit = 0;
  let scientific = false;
  let thousandSeps = false;
  for (;;) {
    digitCount = 0;
    decimalPos = -1;
    firstDigit = 0x7fffffff;
    lastDigit = 0;
    scientific = false;
    let thousandPos = -1;
    let thousandCount = 0;
    let scaleAdjust = 0;
    thousandSeps = false;
    let src = section;
    while (src < format.length && format[src] !== ';') {
      const ch = format[src++]!;
      switch (ch) {
        case '#':
          digitCount++;
          break;
        case '0':
          if (firstDigit === 0x7fffffff) firstDigit = digitCount;
          digitCount++;
          lastDigit = digitCount;
          break;
        case '.':
          if (decimalPos < 0) decimalPos = digitCount;
          break;
        case ',':
          if (digitCount > 0 && decimalPos < 0) {
            if (thousandPos >= 0) {
              if (thousandPos === digitCount) {
                thousandCount++;
                break;
              }
              thousandSeps = true;
            }
            thousandPos = digitCount;
            thousandCount = 1;
          }
          break;
        case '%':
          scaleAdjust += 2;
          break;
        case '‰':
          scaleAdjust += 3;
          break;
        case "'":
        case '"':
          while (src < format.length && format[src++] !== ch);
          break;
        case '\\':
          if (src < format.length) src++;
          break;
        case 'E':
        case 'e':
          if (format[src] === '0' || ((format[src] === '+' || format[src] === '-') && format[src + 1] === '0')) {
            while (++src < format.length && format[src] === '0');
            scientific = true;
          }
          break;
      }
    }
    if (decimalPos < 0) decimalPos = digitCount;
    if (thousandPos >= 0) {
      if (thousandPos === decimalPos) scaleAdjust -= thousandCount * 3;
      else thousandSeps = true;
    }
    if (n.digits !== '') {
      n = { ...n, scale: n.scale + scaleAdjust };
      const pos = scientific ? digitCount : n.scale + digitCount - decimalPos;
      n = roundAt(n, pos);
      if (n.digits === '') {
        const zeroSection = findSection(format, 2);
        if (zeroSection !== section) {
          section = zeroSection;
          continue;
        }
      }
    } else {
      if (!n.floating) n = { ...n, neg: false };
      n = { ...n, scale: 0 };
    }
    break;
  }

  firstDigit = firstDigit < decimalPos ? decimalPos - firstDigit : 0;
  lastDigit = lastDigit > decimalPos ? decimalPos - lastDigit : 0;
  let digPos: number;
  let adjust: number;
  if (scientific) {
    digPos = decimalPos;
    adjust = 0;
  } else {
    digPos = Math.max(n.scale, decimalPos);
    adjust = n.scale - decimalPos;
  }

  const sepPos: number[] = [];
  if (thousandSeps) {
    let groupTotal = 3;
    const totalDigits = digPos + (adjust < 0 ? adjust : 0);
    const numDigits = firstDigit > totalDigits ? firstDigit : totalDigits;
    while (numDigits > groupTotal) {
      sepPos.push(groupTotal);
      groupTotal += 3;
    }
  }
  let sepCtr = sepPos.length - 1;

  let out = '';
  if (n.neg && section === 0 && n.scale !== 0) out += '-';
  let decimalWritten = false;
  let cur = 0;
  const nextDigit = (): string | null => (cur < n.digits.length ? n.digits[cur++]! : null);
  const maybeSeparator = () => {
    if (thousandSeps && digPos > 1 && sepCtr >= 0 && digPos === sepPos[sepCtr]! + 1) {
      out += ',';
      sepCtr--;
    }
  };
  let src = section;
  while (src < format.length && format[src] !== ';') {
    const ch = format[src++]!;
    if (adjust > 0 && (ch === '#' || ch === '0' || ch === '.')) {
      while (adjust > 0) {
        out += nextDigit() ?? '0';
        maybeSeparator();
        digPos--;
        adjust--;
      }
    }
    switch (ch) {
      case '#':
      case '0': {
        let c: string | null;
        if (adjust < 0) {
          adjust++;
          c = digPos <= firstDigit ? '0' : null;
        } else {
          c = nextDigit() ?? (digPos > lastDigit ? '0' : null);
        }
        if (c !== null) {
          out += c;
          maybeSeparator();
        }
        digPos--;
        break;
      }
      case '.':
        if (digPos !== 0 || decimalWritten) break;
        if (lastDigit < 0 || (decimalPos < digitCount && cur < n.digits.length)) {
          out += '.';
          decimalWritten = true;
        }
        break;
      case '‰':
        out += '‰';
        break;
      case '%':
        out += '%';
        break;
      case ',':
        break;
      case "'":
      case '"':
        while (src < format.length && format[src] !== ch) out += format[src++];
        if (src < format.length) src++;
        break;
      case '\\':
        if (src < format.length) out += format[src++];
        break;
      case 'E':
      case 'e': {
        let positiveSign = false;
        let i = 0;
        if (scientific) {
          if (format[src] === '0') i++;
          else if (format[src] === '+' && format[src + 1] === '0') positiveSign = true;
          else if (format[src] === '-' && format[src + 1] === '0') {
            /* sign only when negative */
          } else {
            out += ch;
            break;
          }
          while (++src < format.length && format[src] === '0') i++;
          if (i > 10) i = 10;
          const exp = n.digits === '' ? 0 : n.scale - decimalPos;
          out += formatExponent(exp, ch, i, positiveSign);
          scientific = false;
        } else {
          out += ch;
          if (src < format.length) {
            if (format[src] === '+' || format[src] === '-') out += format[src++];
            while (src < format.length && format[src] === '0') out += format[src++];
          }
        }
        break;
      }
      default:
        out += ch;
    }
  }
  if (n.neg && section === 0 && n.scale === 0 && out.length > 0) out = '-' + out;
  return out;
}

// ---- composite formatting ------------------------------------------------------------------------------------------

/** A hook for values this module does not know (the binder's own objects, typed numbers). Return undefined to decline. */
export type ValueFormatter = (value: unknown, format: string | undefined) => string | undefined;

/**
 * How a value prints in String.Format / string concatenation / interpolation: null → "", bool → "True"/"False",
 * JS numbers as Int32/Int64 when integral and in range, else Double; bigint as Int64; DotNetFormattable via its own
 * ToString(format).
 */
export function toDotNetString(value: unknown, format?: string, formatter?: ValueFormatter): string {
  if (formatter) {
    const s = formatter(value, format);
    if (s !== undefined) return s;
  }
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return formatBoolean(value);
  if (typeof value === 'bigint') return formatNumber(value, format, 'Int64');
  if (typeof value === 'number') {
    if (Number.isInteger(value) && !Object.is(value, -0)) {
      if (value >= -2147483648 && value <= 2147483647) return formatNumber(value, format, 'Int32');
      if (Number.isSafeInteger(value)) return formatNumber(value, format, 'Int64');
    }
    return formatNumber(value, format, 'Double');
  }
  if (isDotNetFormattable(value)) return value.toDotNetString(format);
  return String(value);
}

/** One interpolation hole / format item: `{value,alignment:format}`. */
export function formatItem(value: unknown, alignment?: number, format?: string, formatter?: ValueFormatter): string {
  const s = toDotNetString(value, format, formatter);
  if (alignment === undefined) return s;
  const width = Math.abs(alignment);
  if (s.length >= width) return s;
  ensureStringLength(width);
  return alignment < 0 ? s.padEnd(width, ' ') : s.padStart(width, ' ');
}

const BAD_FORMAT = 'Input string was not in a correct format.';

/** `String.Format(format, args)`: composite formatting with .NET's parsing rules and exceptions. */
export function formatComposite(format: string | null, args: readonly unknown[], formatter?: ValueFormatter): string {
  if (format === null) throw new DotNetException('ArgumentNullException', "Value cannot be null. (Parameter 'format')", 'format');
  let out = '';
  let i = 0;
  const len = format.length;
  while (i < len) {
    const ch = format[i]!;
    if (ch === '}') {
      if (format[i + 1] === '}') {
        out += '}';
        i += 2;
        continue;
      }
      throw formatError(BAD_FORMAT);
    }
    if (ch !== '{') {
      out += ch;
      i++;
      continue;
    }
    if (format[i + 1] === '{') {
      out += '{';
      i += 2;
      continue;
    }
    i++;
    // index
    let idxText = '';
    while (i < len && format[i]! >= '0' && format[i]! <= '9') idxText += format[i++];
    if (idxText === '') throw formatError(BAD_FORMAT);
    while (i < len && format[i] === ' ') i++;
    let alignment: number | undefined;
    if (format[i] === ',') {
      i++;
      while (i < len && format[i] === ' ') i++;
      let neg = false;
      if (format[i] === '-') {
        neg = true;
        i++;
      }
      let w = '';
      while (i < len && format[i]! >= '0' && format[i]! <= '9') w += format[i++];
      if (w === '') throw formatError(BAD_FORMAT);
      alignment = neg ? -Number(w) : Number(w);
      while (i < len && format[i] === ' ') i++;
    }
    let itemFormat: string | undefined;
    if (format[i] === ':') {
      i++;
      let f = '';
      while (i < len && format[i] !== '}') {
        if (format[i] === '{') throw formatError(BAD_FORMAT);
        f += format[i++];
      }
      itemFormat = f;
    }
    if (format[i] !== '}') throw formatError(BAD_FORMAT);
    i++;
    const index = Number(idxText);
    if (index >= args.length) {
      throw formatError('Index (zero based) must be greater than or equal to zero and less than the size of the argument list.');
    }
    out += formatItem(args[index], alignment, itemFormat, formatter);
  }
  return out;
}

/**
 * System types bound into the language: object, String, the numeric primitives and Boolean/Char, Math, Convert,
 * exceptions, enums (StringComparison, StringSplitOptions, MidpointRounding...), Random, BitConverter, Guid.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { DotNetException } from '../../dotnet/exceptions.js';
import { doubleToString, formatBoolean, formatNumber } from '../../dotnet/format.js';
import * as num from '../../dotnet/numbers.js';
import { Decimal } from '../../dotnet/decimal.js';
import * as str from '../../dotnet/strings.js';
import { arrayOf, named, registerEnumType, T, type CsType } from '../types.js';
import { CsBoxed, csEquals, normLong, runtimeTypeName, toCsString } from '../runtime.js';
import { defineNamespaces, defineType, type Member } from './registry.js';
import { method, opt, out, prop, rest, sig } from './sig.js';
import { EnumValue, stringify } from './convert.js';

defineNamespaces(
  'System',
  'System.Text',
  'System.Net',
  'System.Linq',
  'System.Collections.Generic',
  'System.Security.Cryptography',
  'System.Text.RegularExpressions',
  'Newtonsoft.Json',
  'Newtonsoft.Json.Linq',
  'System.Security.Cryptography.X509Certificates',
);

const ch = (c: number): string => String.fromCharCode(c);
const chars = (a: readonly number[] | null): string[] | null => (a === null || a.length === 0 ? null : a.map(ch));
/** Unwraps boxed numbers/enums for the numbers module (Convert.To*). */
export const plain = (v: unknown): unknown =>
  v instanceof CsBoxed ? (v.kind === 'char' ? ch(v.value) : v.value) : v instanceof EnumValue ? v.value : v instanceof Decimal ? v.toNumber() : v;

// ---- enums ---------------------------------------------------------------------------------------------------------
export function defineEnum(name: string, members: Record<string, number>, aliases: string[] = [], flags = false): void {
  registerEnumType(name);
  defineType({
    name,
    aliases,
    enumMembers: members,
    flags,
    isInstance: (v) => v instanceof EnumValue && v.type === name,
    instance: {
      ToString: method(sig([], T.string, (v: number) => enumNameOf(name, members, flags, v))),
      HasFlag: method(sig([named(name)], T.bool, (v: number, f: number) => (v & f) === f)),
    },
  });
}
function enumNameOf(_n: string, members: Record<string, number>, flags: boolean, v: number): string {
  for (const [k, x] of Object.entries(members)) if (x === v) return k;
  if (flags) {
    const parts = Object.entries(members)
      .filter(([, x]) => x !== 0 && (v & x) === x)
      .map(([k]) => k);
    if (parts.length) return parts.join(', ');
  }
  return String(v);
}

const SC_NAMES = ['CurrentCulture', 'CurrentCultureIgnoreCase', 'InvariantCulture', 'InvariantCultureIgnoreCase', 'Ordinal', 'OrdinalIgnoreCase'] as const;
defineEnum('StringComparison', Object.fromEntries(SC_NAMES.map((n, i) => [n, i])), ['System.StringComparison']);
const sc = (v: number): str.StringComparison => SC_NAMES[v] ?? 'Ordinal';
defineEnum('StringSplitOptions', { None: 0, RemoveEmptyEntries: 1, TrimEntries: 2 }, ['System.StringSplitOptions'], true);
const sso = (v: number): str.StringSplitOptions =>
  v === 0 ? 'None' : v === 1 ? 'RemoveEmptyEntries' : v === 2 ? 'TrimEntries' : 'RemoveEmptyEntries, TrimEntries';
defineEnum('MidpointRounding', { ToEven: 0, AwayFromZero: 1, ToZero: 2, ToNegativeInfinity: 3, ToPositiveInfinity: 4 }, ['System.MidpointRounding']);
const MR: num.MidpointRounding[] = ['ToEven', 'AwayFromZero', 'ToZero', 'ToNegativeInfinity', 'ToPositiveInfinity'];
const DECIMAL_MODES = ['even', 'away', 'zero', 'floor', 'ceiling'] as const;
/** MidpointRounding member → Decimal.round mode (ToZero/ToNegativeInfinity/ToPositiveInfinity are directed roundings). */
const decimalMode = (m: number): (typeof DECIMAL_MODES)[number] => DECIMAL_MODES[m] ?? 'even';
defineEnum('DateTimeKind', { Unspecified: 0, Utc: 1, Local: 2 }, ['System.DateTimeKind']);
defineEnum('DayOfWeek', { Sunday: 0, Monday: 1, Tuesday: 2, Wednesday: 3, Thursday: 4, Friday: 5, Saturday: 6 }, ['System.DayOfWeek']);
defineEnum('UriPartial', { Scheme: 0, Authority: 1, Path: 2, Query: 3 }, ['System.UriPartial']);

// ---- object ----------------------------------------------------------------------------------------------------------
defineType({
  name: 'object',
  aliases: ['Object', 'System.Object'],
  isInstance: (v) => v !== null && v !== undefined,
  instance: {
    ToString: {
      kind: 'method',
      bind: (site) =>
        site.args.length === 0
          ? { type: T.string, c: toStringCall(site.recv!.type, site.recv!.c, site.recv!.nonNull === true, site.pos), nonNull: true }
          : null,
    },
    Equals: method(sig([T.object], T.bool, (a: unknown, b: unknown) => csEquals(a, b))),
    GetHashCode: method(sig([], T.int, (a: unknown) => hashCode(toCsString(a)))),
    GetType: method(sig([], named('Type'), (a: unknown) => ({ FullName: runtimeTypeName(a) }))),
  },
  statics: {
    Equals: method(sig([T.object, T.object], T.bool, (a: unknown, b: unknown) => csEquals(a, b))),
    ReferenceEquals: method(sig([T.object, T.object], T.bool, (a: unknown, b: unknown) => a === b)),
  },
});
defineType({
  name: 'Type',
  instance: {
    FullName: prop(T.string, (o: { FullName: string }) => o.FullName),
    Name: prop(T.string, (o: { FullName: string }) => o.FullName.split('.').pop()!),
  },
});

function toStringCall(t: CsType, c: import('./registry.js').Closure, nonNull: boolean, pos: number): import('./registry.js').Closure {
  const s = stringify(t);
  const valueType = ['int', 'long', 'double', 'bool', 'char', 'decimal', 'float', 'byte', 'short', 'uint', 'ulong', 'ushort', 'sbyte'].includes(t.name);
  if (nonNull || valueType) return (ctx, f) => s(c(ctx, f));
  return (ctx, f) => {
    const v = c(ctx, f);
    if (v === null || v === undefined) {
      const e = new DotNetException('NullReferenceException', 'Object reference not set to an instance of an object.');
      (e as { csPos?: number }).csPos = pos;
      throw e;
    }
    return s(v);
  };
}

function hashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

// ---- string ------------------------------------------------------------------------------------------------------------
const S = T.string;
const I = T.int;
const C = T.char;
const SCmp = named('StringComparison');
const SSO = named('StringSplitOptions');
defineType({
  name: 'string',
  aliases: ['String', 'System.String'],
  bases: () => [named('IEnumerable', T.char)],
  isInstance: (v) => typeof v === 'string',
  element: () => T.char,
  iterate: (s: string) => Array.from({ length: s.length }, (_, i) => s.charCodeAt(i)),
  instance: {
    Length: prop(I, (s: string) => s.length),
    Substring: method(
      sig([I], S, (s: string, a: number) => str.substring(s, a)),
      sig([I, I], S, (s: string, a: number, b: number) => str.substring(s, a, b)),
    ),
    IndexOf: method(
      sig([C], I, (s: string, c: number) => s.indexOf(ch(c))),
      sig([C, I], I, (s: string, c: number, i: number) => str.indexOf(s, ch(c), i)),
      sig([S], I, (s: string, v: string | null) => str.indexOf(s, v)),
      sig([S, I], I, (s: string, v: string | null, i: number) => str.indexOf(s, v, i)),
      sig([S, SCmp], I, (s: string, v: string | null, c: number) => str.indexOf(s, v, 0, sc(c))),
      sig([S, I, SCmp], I, (s: string, v: string | null, i: number, c: number) => str.indexOf(s, v, i, sc(c))),
    ),
    IndexOfAny: method(
      sig([arrayOf(C)], I, (s: string, a: number[]) => str.indexOfAny(s, chars(a))),
      sig([arrayOf(C), I], I, (s: string, a: number[], i: number) => str.indexOfAny(s, chars(a), i)),
    ),
    LastIndexOf: method(
      sig([C], I, (s: string, c: number) => s.lastIndexOf(ch(c))),
      sig([S], I, (s: string, v: string | null) => str.lastIndexOf(s, v)),
      sig([S, SCmp], I, (s: string, v: string | null, c: number) => str.lastIndexOf(s, v, undefined, sc(c))),
    ),
    Contains: method(
      sig([S], T.bool, (s: string, v: string | null) => str.contains(s, v)),
      sig([C], T.bool, (s: string, c: number) => s.includes(ch(c))),
      sig([S, SCmp], T.bool, (s: string, v: string | null, c: number) => str.contains(s, v, sc(c))),
    ),
    StartsWith: method(
      sig([S], T.bool, (s: string, v: string | null) => str.startsWith(s, v)),
      sig([C], T.bool, (s: string, c: number) => s.startsWith(ch(c))),
      sig([S, SCmp], T.bool, (s: string, v: string | null, c: number) => str.startsWith(s, v, sc(c))),
    ),
    EndsWith: method(
      sig([S], T.bool, (s: string, v: string | null) => str.endsWith(s, v)),
      sig([C], T.bool, (s: string, c: number) => s.endsWith(ch(c))),
      sig([S, SCmp], T.bool, (s: string, v: string | null, c: number) => str.endsWith(s, v, sc(c))),
    ),
    Equals: method(
      sig([S], T.bool, (s: string, v: string | null) => s === v),
      sig([S, SCmp], T.bool, (s: string, v: string | null, c: number) => str.equals(s, v, sc(c))),
      sig([T.object], T.bool, (s: string, v: unknown) => s === v),
    ),
    CompareTo: method(sig([S], I, (s: string, v: string | null) => str.compare(s, v))),
    Split: method(
      sig([rest(C)], T.strings, (s: string, cs: number[]) => str.splitChars(s, chars(cs))),
      sig([arrayOf(C), I], T.strings, (s: string, cs: number[] | null, n: number) => str.splitChars(s, chars(cs), n)),
      sig([arrayOf(C), SSO], T.strings, (s: string, cs: number[] | null, o: number) => str.splitChars(s, chars(cs), undefined, sso(o))),
      sig([arrayOf(C), I, SSO], T.strings, (s: string, cs: number[] | null, n: number, o: number) => str.splitChars(s, chars(cs), n, sso(o))),
      sig([C, SSO], T.strings, (s: string, c: number, o: number) => str.splitChars(s, [ch(c)], undefined, sso(o))),
      sig([C, I, opt(SSO, 0)], T.strings, (s: string, c: number, n: number, o: number) => str.splitChars(s, [ch(c)], n, sso(o))),
      sig([S, opt(SSO, 0)], T.strings, (s: string, v: string | null, o: number) => str.splitStrings(s, v, undefined, sso(o))),
      sig([S, I, opt(SSO, 0)], T.strings, (s: string, v: string | null, n: number, o: number) => str.splitStrings(s, v, n, sso(o))),
      sig([T.strings, SSO], T.strings, (s: string, v: string[] | null, o: number) => str.splitStrings(s, v, undefined, sso(o))),
      sig([T.strings, I, SSO], T.strings, (s: string, v: string[] | null, n: number, o: number) => str.splitStrings(s, v, n, sso(o))),
      sig([T.strings, I], T.strings, (s: string, v: string[] | null, n: number) => str.splitStrings(s, v, n)),
    ),
    Trim: method(sig([rest(C)], S, (s: string, cs: number[]) => str.trim(s, chars(cs)))),
    TrimStart: method(sig([rest(C)], S, (s: string, cs: number[]) => str.trimStart(s, chars(cs)))),
    TrimEnd: method(sig([rest(C)], S, (s: string, cs: number[]) => str.trimEnd(s, chars(cs)))),
    PadLeft: method(sig([I, opt(C, 32)], S, (s: string, n: number, c: number) => str.padLeft(s, n, ch(c)))),
    PadRight: method(sig([I, opt(C, 32)], S, (s: string, n: number, c: number) => str.padRight(s, n, ch(c)))),
    Replace: method(
      sig([S, S], S, (s: string, a: string | null, b: string | null) => str.replace(s, a, b)),
      sig([C, C], S, (s: string, a: number, b: number) => s.split(ch(a)).join(ch(b))),
      sig([S, S, SCmp], S, (s: string, a: string | null, b: string | null, c: number) => str.replace(s, a, b, sc(c))),
    ),
    Insert: method(sig([I, S], S, (s: string, i: number, v: string | null) => str.insert(s, i, v))),
    Remove: method(
      sig([I], S, (s: string, i: number) => str.remove(s, i)),
      sig([I, I], S, (s: string, i: number, n: number) => str.remove(s, i, n)),
    ),
    ToLower: method(sig([], S, (s: string) => str.toLowerInvariant(s))),
    ToUpper: method(sig([], S, (s: string) => str.toUpperInvariant(s))),
    ToLowerInvariant: method(sig([], S, (s: string) => str.toLowerInvariant(s))),
    ToUpperInvariant: method(sig([], S, (s: string) => str.toUpperInvariant(s))),
    ToCharArray: method(sig([], arrayOf(C), (s: string) => Array.from({ length: s.length }, (_, i) => s.charCodeAt(i)))),
    ToString: method(sig([], S, (s: string) => s)),
    GetHashCode: method(sig([], I, (s: string) => hashCode(s))),
  },
  statics: {
    Empty: prop(S, () => '', undefined, true),
    IsNullOrEmpty: method(sig([S], T.bool, (s: string | null) => str.isNullOrEmpty(s))),
    IsNullOrWhiteSpace: method(sig([S], T.bool, (s: string | null) => str.isNullOrWhiteSpace(s))),
    Join: method(
      sig([S, rest(S)], S, (sep: string | null, v: string[]) => str.join(sep, v)),
      sig([C, rest(S)], S, (sep: number, v: string[]) => str.join(ch(sep), v)),
      sig([S, named('IEnumerable', S)], S, (sep: string | null, v: Iterable<unknown> | null) => str.join(sep, v)),
      sig([S, rest(T.object)], S, (sep: string | null, v: unknown[]) => v.map(toCsString).join(sep ?? '')),
      sig([S, named('IEnumerable', T.object)], S, (sep: string | null, v: Iterable<unknown>) => [...v].map(toCsString).join(sep ?? '')),
    ),
    Concat: method(
      sig([rest(S)], S, (v: Array<string | null>) => v.map((x) => x ?? '').join('')),
      sig([named('IEnumerable', S)], S, (v: Iterable<string | null>) => [...v].map((x) => x ?? '').join('')),
      sig([rest(T.object)], S, (v: unknown[]) => v.map(toCsString).join('')),
    ),
    Format: method(sig([S, rest(T.object)], S, (f: string | null, args: unknown[]) => str.format(f, ...args.map(formatArg)))),
    Equals: method(
      sig([S, S], T.bool, (a: string | null, b: string | null) => a === b),
      sig([S, S, SCmp], T.bool, (a: string | null, b: string | null, c: number) => str.equals(a, b, sc(c))),
    ),
    Compare: method(
      sig([S, S], I, (a: string | null, b: string | null) => str.compare(a, b)),
      sig([S, S, T.bool], I, (a: string | null, b: string | null, ic: boolean) => str.compare(a, b, ic)),
      sig([S, S, SCmp], I, (a: string | null, b: string | null, c: number) => str.compare(a, b, sc(c))),
    ),
    CompareOrdinal: method(sig([S, S], I, (a: string | null, b: string | null) => str.compareOrdinal(a, b))),
  },
  ctor: (site) =>
    method(
      sig([C, I], S, (c: number, n: number) => str.repeatChar(ch(c), n)),
      sig([arrayOf(C)], S, (a: number[]) => a.map(ch).join('')),
    ).bind(site),
});

/** Object-world values for the format module (boxed numbers keep their .NET kind). */
function formatArg(v: unknown): unknown {
  if (v instanceof CsBoxed) {
    if (v.kind === 'char') return ch(v.value);
    if (v.kind === 'long' || v.kind === 'ulong') return BigInt(v.value);
    if (v.kind === 'double' || v.kind === 'float' || v.kind === 'decimal') return new FormattedNumber(v.value, v.kind === 'decimal' ? 'Decimal' : 'Double');
    return v.value;
  }
  if (v instanceof EnumValue) return v.toDotNetString();
  return v;
}
/** A double that must print as Double even when integral (String.Format("{0}", 2.0) → "2"). */
class FormattedNumber {
  constructor(
    readonly value: number,
    readonly kind: 'Double' | 'Decimal',
  ) {}
  toDotNetString(format?: string): string {
    return formatNumber(this.value, format, this.kind);
  }
}

// ---- numeric primitives ----------------------------------------------------------------------------------------------
function numericType(
  name: string,
  aliases: string[],
  kind: 'Int32' | 'Int64' | 'Double' | 'Decimal' | 'Single' | 'Byte' | 'Int16',
  statics: Record<string, Member>,
): void {
  const t = named(name);
  defineType({
    name,
    aliases,
    instance: {
      ToString: method(
        sig([], S, (v: number) => (kind === 'Double' || kind === 'Single' ? doubleToString(v) : formatNumber(v, undefined, kind))),
        sig([S], S, (v: number, f: string | null) => formatNumber(v, f ?? undefined, kind)),
        sig([named('IFormatProvider')], S, (v: number) => formatNumber(v, undefined, kind)),
        sig([S, named('IFormatProvider')], S, (v: number, f: string | null) => formatNumber(v, f ?? undefined, kind)),
      ),
      CompareTo: method(sig([t], I, (a: number, b: number) => (a < b ? -1 : a > b ? 1 : 0))),
      Equals: method(sig([t], T.bool, (a: number, b: number) => a === b)),
      GetHashCode: method(sig([], I, (a: number | bigint) => (typeof a === 'bigint' ? Number(BigInt.asIntN(32, a)) : a | 0))),
    },
    statics,
  });
}
const parseFns = {
  int: { p: (s: string | null) => num.parseInt32(s), tp: (s: string | null) => num.tryParseInt32(s) },
  long: {
    p: (s: string | null) => normLong(num.parseInt64(s)),
    tp: (s: string | null) => {
      const r = num.tryParseInt64(s);
      return { ok: r.ok, value: normLong(r.value) };
    },
  },
  double: { p: (s: string | null) => num.parseDouble(s), tp: (s: string | null) => num.tryParseDouble(s) },
  decimal: { p: (s: string | null) => num.parseDecimal(s), tp: (s: string | null) => num.tryParseDecimal(s) },
};
function parseStatics<V>(t: CsType, p: (s: string | null) => V, tp: (s: string | null) => { ok: boolean; value: V }): Record<string, Member> {
  return {
    Parse: method(sig([S], t, p), sig([S, named('IFormatProvider')], t, p)),
    TryParse: method(
      sig([S, out(t)], T.bool, (s: string | null, set: (v: unknown) => void) => {
        const r = tp(s);
        set(r.value);
        return r.ok;
      }),
    ),
  };
}
numericType('int', ['Int32', 'System.Int32'], 'Int32', {
  MaxValue: prop(I, () => 2147483647),
  MinValue: prop(I, () => -2147483648),
  ...parseStatics(I, parseFns.int.p, parseFns.int.tp),
});
numericType('long', ['Int64', 'System.Int64'], 'Int64', {
  MaxValue: prop(T.long, () => 9223372036854775807n),
  MinValue: prop(T.long, () => -9223372036854775808n),
  ...parseStatics(T.long, parseFns.long.p, parseFns.long.tp),
});
numericType('double', ['Double', 'System.Double'], 'Double', {
  MaxValue: prop(T.double, () => Number.MAX_VALUE),
  MinValue: prop(T.double, () => -Number.MAX_VALUE),
  NaN: prop(T.double, () => NaN),
  PositiveInfinity: prop(T.double, () => Infinity),
  NegativeInfinity: prop(T.double, () => -Infinity),
  Epsilon: prop(T.double, () => 5e-324),
  IsNaN: method(sig([T.double], T.bool, Number.isNaN)),
  IsInfinity: method(sig([T.double], T.bool, (v: number) => v === Infinity || v === -Infinity)),
  ...parseStatics(T.double, parseFns.double.p, parseFns.double.tp),
});
numericType('float', ['Single', 'System.Single'], 'Single', {
  ...parseStatics(
    T.float,
    (s) => Math.fround(parseFns.double.p(s)),
    (s) => {
      const r = parseFns.double.tp(s);
      return { ok: r.ok, value: Math.fround(r.value) };
    },
  ),
});
// decimal values are Decimal objects (src/dotnet/decimal.ts): their own members, not the number-based ones above
defineType({
  name: 'decimal',
  aliases: ['Decimal', 'System.Decimal'],
  instance: {
    ToString: method(
      sig([], S, (v: Decimal) => v.toDotNetString()),
      sig([S], S, (v: Decimal, f: string | null) => v.toDotNetString(f)),
      sig([named('IFormatProvider')], S, (v: Decimal) => v.toDotNetString()),
      sig([S, named('IFormatProvider')], S, (v: Decimal, f: string | null) => v.toDotNetString(f)),
    ),
    CompareTo: method(sig([T.decimal], I, (a: Decimal, b: Decimal) => a.cmp(b))),
    Equals: method(sig([T.decimal], T.bool, (a: Decimal, b: Decimal) => a.cmp(b) === 0)),
    GetHashCode: method(sig([], I, (a: Decimal) => Number(BigInt.asIntN(32, a.normalize().m)))),
  },
  statics: {
    MaxValue: prop(T.decimal, () => Decimal.MaxValue, undefined, true),
    MinValue: prop(T.decimal, () => Decimal.MinValue, undefined, true),
    Zero: prop(T.decimal, () => Decimal.Zero, undefined, true),
    One: prop(T.decimal, () => Decimal.One, undefined, true),
    MinusOne: prop(T.decimal, () => Decimal.MinusOne, undefined, true),
    Round: method(
      sig([T.decimal], T.decimal, (v: Decimal) => v.round()),
      sig([T.decimal, I], T.decimal, (v: Decimal, d: number) => v.round(d)),
    ),
    Truncate: method(sig([T.decimal], T.decimal, (v: Decimal) => v.truncate())),
    Floor: method(sig([T.decimal], T.decimal, (v: Decimal) => v.floor())),
    Ceiling: method(sig([T.decimal], T.decimal, (v: Decimal) => v.ceiling())),
    ...parseStatics(T.decimal, parseDecimalText, (s) => {
      try {
        return { ok: true, value: parseDecimalText(s) };
      } catch {
        return { ok: false, value: Decimal.Zero };
      }
    }),
  },
});
/** Decimal.Parse keeps the digits as written (scale included); number styles as num.parseDecimal accepts them. */
function parseDecimalText(s: string | null): Decimal {
  num.parseDecimal(s); // .NET's FormatException / ArgumentNullException / OverflowException for bad input
  const plainText = (s as string).trim().replace(/,/g, '');
  return Decimal.parse(plainText) ?? Decimal.fromNumber(num.parseDecimal(s));
}
for (const [n, al] of [
  ['byte', ['Byte', 'System.Byte']],
  ['sbyte', ['SByte']],
  ['short', ['Int16', 'System.Int16']],
  ['ushort', ['UInt16']],
  ['uint', ['UInt32']],
  ['ulong', ['UInt64']],
] as const) {
  numericType(n, [...al], n === 'byte' ? 'Byte' : n === 'short' ? 'Int16' : 'Int64', {});
}
defineType({
  name: 'bool',
  aliases: ['Boolean', 'System.Boolean'],
  instance: {
    ToString: method(sig([], S, (v: boolean) => formatBoolean(v))),
    Equals: method(sig([T.bool], T.bool, (a: boolean, b: boolean) => a === b)),
    CompareTo: method(sig([T.bool], I, (a: boolean, b: boolean) => (a === b ? 0 : a ? 1 : -1))),
  },
  statics: {
    Parse: method(sig([S], T.bool, (s: string | null) => num.parseBoolean(s))),
    TryParse: method(
      sig([S, out(T.bool)], T.bool, (s: string | null, set: (v: unknown) => void) => {
        const r = num.tryParseBoolean(s);
        set(r.value);
        return r.ok;
      }),
    ),
    TrueString: prop(S, () => 'True'),
    FalseString: prop(S, () => 'False'),
  },
});
defineType({
  name: 'char',
  aliases: ['Char', 'System.Char'],
  instance: {
    ToString: method(sig([], S, ch)),
    Equals: method(sig([C], T.bool, (a: number, b: number) => a === b)),
    CompareTo: method(sig([C], I, (a: number, b: number) => a - b)),
  },
  statics: {
    IsDigit: method(sig([C], T.bool, (c: number) => c >= 48 && c <= 57)),
    IsLetter: method(sig([C], T.bool, (c: number) => /\p{L}/u.test(ch(c)))),
    IsLetterOrDigit: method(sig([C], T.bool, (c: number) => /[\p{L}\p{Nd}]/u.test(ch(c)))),
    IsWhiteSpace: method(sig([C], T.bool, (c: number) => str.isWhiteSpace(ch(c)))),
    IsUpper: method(sig([C], T.bool, (c: number) => /\p{Lu}/u.test(ch(c)))),
    IsLower: method(sig([C], T.bool, (c: number) => /\p{Ll}/u.test(ch(c)))),
    ToUpper: method(sig([C], C, (c: number) => ch(c).toUpperCase().charCodeAt(0))),
    ToLower: method(sig([C], C, (c: number) => ch(c).toLowerCase().charCodeAt(0))),
    IsPunctuation: method(sig([C], T.bool, (c: number) => /\p{P}/u.test(ch(c)))),
  },
});
defineType({ name: 'IFormatProvider', aliases: ['System.IFormatProvider'] });
defineType({
  name: 'CultureInfo',
  aliases: ['System.Globalization.CultureInfo'],
  bases: () => [named('IFormatProvider')],
  statics: {
    InvariantCulture: prop(named('CultureInfo'), () => ({}), undefined, true),
    CurrentCulture: prop(named('CultureInfo'), () => ({}), undefined, true),
  },
});
defineNamespaces('System.Globalization');

// ---- Math --------------------------------------------------------------------------------------------------------------
const D = T.double;
const MRt = named('MidpointRounding');
const numOverloads = (name: keyof typeof decMath, fnI: (...a: number[]) => number, fnD: (...a: number[]) => number, arity: number) => {
  const fnM = decMath[name] as (...a: Decimal[]) => Decimal;
  const ps = (t: CsType) => Array.from({ length: arity }, () => t);
  return method(sig(ps(I), I, fnI), sig(ps(T.long), T.long, fnI), sig(ps(T.decimal), T.decimal, fnM), sig(ps(D), D, fnD));
};
const decMath = {
  Abs: (a: Decimal) => a.abs(),
  Max: (a: Decimal, b: Decimal) => (a.cmp(b) >= 0 ? a : b),
  Min: (a: Decimal, b: Decimal) => (a.cmp(b) <= 0 ? a : b),
};
defineType({
  name: 'Math',
  aliases: ['System.Math'],
  statics: {
    PI: prop(D, () => Math.PI),
    E: prop(D, () => Math.E),
    Abs: numOverloads(
      'Abs',
      (a) => {
        if (a === -2147483648) throw new DotNetException('OverflowException', 'Negating the minimum value of a twos complement number is invalid.');
        return Math.abs(a);
      },
      Math.abs,
      1,
    ),
    Max: numOverloads('Max', Math.max, Math.max, 2),
    Min: numOverloads('Min', Math.min, Math.min, 2),
    Sign: method(
      sig([I], I, Math.sign),
      sig([D], I, (v: number) => {
        if (Number.isNaN(v)) throw new DotNetException('ArithmeticException' as 'Exception', 'Function does not accept floating point Not-a-Number values.');
        return Math.sign(v);
      }),
    ),
    Round: method(
      sig([D], D, (v: number) => num.mathRound(v)),
      sig([D, I], D, (v: number, d: number) => num.mathRound(v, d)),
      sig([D, MRt], D, (v: number, m: number) => num.mathRound(v, 0, MR[m])),
      sig([D, I, MRt], D, (v: number, d: number, m: number) => num.mathRound(v, d, MR[m])),
      sig([T.decimal], T.decimal, (v: Decimal) => v.round()),
      sig([T.decimal, I], T.decimal, (v: Decimal, d: number) => v.round(d)),
      sig([T.decimal, MRt], T.decimal, (v: Decimal, m: number) => v.round(0, decimalMode(m))),
      sig([T.decimal, I, MRt], T.decimal, (v: Decimal, d: number, m: number) => v.round(d, decimalMode(m))),
    ),
    Floor: method(
      sig([D], D, Math.floor),
      sig([T.decimal], T.decimal, (v: Decimal) => v.floor()),
    ),
    Ceiling: method(
      sig([D], D, Math.ceil),
      sig([T.decimal], T.decimal, (v: Decimal) => v.ceiling()),
    ),
    Truncate: method(
      sig([D], D, Math.trunc),
      sig([T.decimal], T.decimal, (v: Decimal) => v.truncate()),
    ),
    Sqrt: method(sig([D], D, Math.sqrt)),
    Pow: method(sig([D, D], D, Math.pow)),
    Exp: method(sig([D], D, Math.exp)),
    Log: method(
      sig([D], D, Math.log),
      sig([D, D], D, (a: number, b: number) => Math.log(a) / Math.log(b)),
    ),
    Log10: method(sig([D], D, Math.log10)),
    Log2: method(sig([D], D, Math.log2)),
    Sin: method(sig([D], D, Math.sin)),
    Cos: method(sig([D], D, Math.cos)),
    Tan: method(sig([D], D, Math.tan)),
    Atan: method(sig([D], D, Math.atan)),
    Atan2: method(sig([D, D], D, Math.atan2)),
    Clamp: method(
      sig([I, I, I], I, (v: number, a: number, b: number) => Math.min(Math.max(v, a), b)),
      sig([D, D, D], D, (v: number, a: number, b: number) => Math.min(Math.max(v, a), b)),
    ),
  },
});

// ---- Convert -----------------------------------------------------------------------------------------------------------
const O = T.object;
defineType({
  name: 'Convert',
  aliases: ['System.Convert'],
  statics: {
    ToInt32: method(
      sig([S, I], I, (s: string | null, b: number) => num.convertToInt32FromBase(s, b)),
      sig([D], I, (v: number) => num.doubleToInt32(v)),
      sig([T.decimal], I, (v: Decimal) => num.doubleToInt32(v.toNumber())),
      sig([T.long], I, (v: number) => {
        if (v < -2147483648 || v > 2147483647) throw new DotNetException('OverflowException', 'Value was either too large or too small for an Int32.');
        return v;
      }),
      sig([C], I, (v: number) => v),
      sig([O], I, (v: unknown) => num.convertToInt32(plain(v))),
    ),
    ToInt64: method(
      sig([D], T.long, (v: number) => normLong(num.doubleToInt64(v))),
      sig([O], T.long, (v: unknown) => normLong(num.convertToInt64(typeof v === 'bigint' ? v : plain(v)))),
    ),
    ToInt16: method(
      sig([O], T.short, (v: unknown) => {
        const n = num.convertToInt32(plain(v));
        if (n < -32768 || n > 32767) throw new DotNetException('OverflowException', 'Value was either too large or too small for an Int16.');
        return n;
      }),
    ),
    ToDouble: method(sig([O], D, (v: unknown) => num.convertToDouble(plain(v)))),
    ToDecimal: method(
      sig([O], T.decimal, (v: unknown) =>
        v instanceof Decimal ? v : typeof v === 'string' ? parseDecimalText(v) : Decimal.fromNumber(num.convertToDecimal(plain(v))),
      ),
    ),
    ToBoolean: method(sig([O], T.bool, (v: unknown) => num.convertToBoolean(plain(v)))),
    ToString: method(
      sig([I, I], S, (v: number, b: number) => convertToBase(v, b)),
      sig([O], S, (v: unknown) => (v === null || v === undefined ? '' : toCsString(v))),
      sig([O, named('IFormatProvider')], S, (v: unknown) => (v === null || v === undefined ? '' : toCsString(v))),
    ),
    ToChar: method(
      sig([I], C, (v: number) => v),
      sig([S], C, (s: string | null) => {
        if (s === null || s.length !== 1) throw new DotNetException('FormatException', 'String must be exactly one character long.');
        return s.charCodeAt(0);
      }),
    ),
    ToByte: method(
      sig([O], T.byte, (v: unknown) => {
        const n = num.convertToInt32(plain(v));
        if (n < 0 || n > 255) throw new DotNetException('OverflowException', 'Value was either too large or too small for an unsigned byte.');
        return n;
      }),
    ),
    IsDBNull: method(sig([O], T.bool, () => false)),
  },
});

function convertToBase(v: number, b: number): string {
  if (![2, 8, 10, 16].includes(b)) throw new DotNetException('ArgumentException', 'Invalid Base.');
  if (b === 10) return String(v);
  return (v >>> 0).toString(b);
}

// ---- exceptions --------------------------------------------------------------------------------------------------------
const EXC = [
  'Exception',
  'ArgumentException',
  'ArgumentNullException',
  'ArgumentOutOfRangeException',
  'InvalidOperationException',
  'FormatException',
  'NullReferenceException',
  'InvalidCastException',
  'KeyNotFoundException',
  'NotSupportedException',
  'NotImplementedException',
  'IndexOutOfRangeException',
  'OverflowException',
  'DivideByZeroException',
  'ArithmeticException',
  'UriFormatException',
  'JsonException',
  'JsonReaderException',
  'JsonSerializationException',
  'CryptographicException',
  'TimeoutException',
  'OutOfMemoryException',
  'InsufficientExecutionStackException',
  'RegexMatchTimeoutException',
  'JsonWriterException',
  'XmlException',
];
for (const name of EXC) {
  const t = named(name);
  const ns = name.startsWith('Json')
    ? 'Newtonsoft.Json'
    : name === 'KeyNotFoundException'
      ? 'System.Collections.Generic'
      : name === 'CryptographicException'
        ? 'System.Security.Cryptography'
        : name === 'RegexMatchTimeoutException'
          ? 'System.Text.RegularExpressions'
          : 'System';
  defineType({
    name,
    aliases: [`${ns}.${name}`],
    bases: () =>
      name === 'Exception'
        ? []
        : [
            named(
              ['ArgumentNullException', 'ArgumentOutOfRangeException'].includes(name)
                ? 'ArgumentException'
                : name === 'JsonReaderException' || name === 'JsonSerializationException' || name === 'JsonWriterException'
                  ? 'JsonException'
                  : name === 'RegexMatchTimeoutException'
                    ? 'TimeoutException'
                    : name === 'DivideByZeroException' || name === 'OverflowException'
                      ? 'ArithmeticException'
                      : 'Exception',
            ),
          ],
    isInstance: (v, tt) => v instanceof DotNetException && (tt.name === 'Exception' || v.typeName === tt.name),
    instance:
      name === 'Exception'
        ? {
            Message: prop(S, (e: DotNetException) => e.message, undefined, true),
            InnerException: prop(named('Exception'), () => null),
            StackTrace: prop(S, () => ''),
            Source: prop(S, () => ''),
            ToString: method(sig([], S, (e: DotNetException) => `${e.fullTypeName}: ${e.message}`)),
            ParamName: prop(S, (e: DotNetException) => e.paramName ?? null),
          }
        : {},
    ctor: (site) =>
      method(
        sig([], t, () => new DotNetException(name as 'Exception', defaultExceptionMessage(name))),
        sig([S], t, (m: string | null) => new DotNetException(name as 'Exception', m ?? defaultExceptionMessage(name))),
        sig([S, named('Exception')], t, (m: string | null) => new DotNetException(name as 'Exception', m ?? defaultExceptionMessage(name))),
      ).bind(site),
  });
}
function defaultExceptionMessage(name: string): string {
  return `Exception of type 'System.${name}' was thrown.`;
}

// ---- Random, BitConverter, Guid ----------------------------------------------------------------------------------------
class CsRandom {
  constructor(private seed: number | null) {}
  next(): number {
    if (this.seed === null) return randomInt(0, 2 ** 31 - 1) / 2 ** 31;
    // mulberry32 for seeded, deterministic sequences (not .NET's algorithm; see docs/expressions.md)
    let t = (this.seed = (this.seed + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}
const RandomT = named('Random');
defineType({
  name: 'Random',
  aliases: ['System.Random'],
  isInstance: (v) => v instanceof CsRandom,
  ctor: (site) =>
    method(
      sig([], RandomT, () => new CsRandom(null)),
      sig([I], RandomT, (s: number) => new CsRandom(s)),
    ).bind(site),
  instance: {
    Next: method(
      sig([], I, (r: CsRandom) => Math.floor(r.next() * 2147483647)),
      sig([I], I, (r: CsRandom, max: number) => {
        if (max < 0) throw new DotNetException('ArgumentOutOfRangeException', "'maxValue' must be greater than zero. (Parameter 'maxValue')");
        return Math.floor(r.next() * max);
      }),
      sig([I, I], I, (r: CsRandom, min: number, max: number) => {
        if (min > max) throw new DotNetException('ArgumentOutOfRangeException', "'minValue' cannot be greater than maxValue. (Parameter 'minValue')");
        return min + Math.floor(r.next() * (max - min));
      }),
    ),
    NextDouble: method(sig([], D, (r: CsRandom) => r.next())),
    NextBytes: method(sig([T.bytes], T.void, (_r: CsRandom, b: Uint8Array) => b.set(randomBytes(b.length)))),
  },
});
defineType({
  name: 'BitConverter',
  aliases: ['System.BitConverter'],
  statics: {
    ToString: method(sig([T.bytes], S, (b: Uint8Array) => Array.from(b, (x) => x.toString(16).toUpperCase().padStart(2, '0')).join('-'))),
    GetBytes: method(
      sig([I], T.bytes, (v: number) => {
        const b = new Uint8Array(4);
        new DataView(b.buffer).setInt32(0, v, true);
        return b;
      }),
    ),
    ToInt32: method(sig([T.bytes, I], I, (b: Uint8Array, i: number) => new DataView(b.buffer, b.byteOffset).getInt32(i, true))),
    IsLittleEndian: prop(T.bool, () => true),
  },
});

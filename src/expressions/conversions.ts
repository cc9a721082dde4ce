/**
 * C#'s conversions (implicit, explicit, boxing/unboxing, runtime type tests) and default values. Sits below both the
 * compiler and the library descriptors, so library types can register conversions without importing the compiler.
 * Rules follow the C# specification's conversion chapter; see docs/expressions.md.
 */
import { DotNetException } from '../dotnet/exceptions.js';
import { DateTimeOffset, type DateTime } from '../dotnet/datetime.js';
import { Decimal } from '../dotnet/decimal.js';
import { acceptsNull, clrName, isEnum, isIntegral, isNullable, isNumeric, isValueType, sameType, typeName, unwrapNullable, type CsType } from './types.js';
import { basesOf, typeDefOf, type Bound, type Closure } from './library/registry.js';
import { CsBoxed, invalidCast, normLong, nre, runtimeTypeName, type BoxedKind } from './runtime.js';
import { boxValue, convertPrimitive, toJTokenConverter, unboxer } from './library/convert.js';

export function defaultOf(t: CsType): unknown {
  if (isNullable(t)) return null;
  if (t.name === 'decimal') return Decimal.Zero;
  if (isNumeric(t)) return 0;
  if (t.name === 'bool') return false;
  const d = typeDefOf(t);
  if (d && d.defaultValue !== undefined) return d.defaultValue;
  if (d?.enumMembers) return 0;
  return null;
}

/**
 * Implicit conversion from → to: undefined when not allowed, null when no runtime work is needed, else a closure
 * transformer.
 */
export function implicitConv(from: CsType, to: CsType, b?: Bound): ((c: Closure) => Closure) | null | undefined {
  if (sameType(from, to)) return null;
  if (from.name === 'void' || from.name === '$type' || from.name === '$ns' || from.name === 'lambda') return undefined;
  if (from.name === 'null') return acceptsNull(to) ? null : undefined;
  if (to.name === 'object') {
    const box = boxValue(from);
    return box ? (c) => (ctx, f) => box(c(ctx, f)) : null;
  }
  if (to.name === 'Nullable') {
    const inner = to.args[0]!;
    if (from.name === 'Nullable') return implicitConv(from.args[0]!, inner) === null ? null : undefined;
    return implicitConv(from, inner, b);
  }
  // implicit numeric conversions
  if (isNumeric(from) && isNumeric(to)) {
    const ok = IMPLICIT_NUMERIC[from.name]?.includes(to.name);
    // integral → decimal: decimal values are Decimal objects (exact, scale 0)
    if (ok && to.name === 'decimal') return (c) => (ctx, f) => Decimal.fromNumber(c(ctx, f) as number | bigint);
    // a long beyond ±2^53 is a bigint (runtime.ts, LongValue): to float/double it becomes the nearest double, as in C#
    if (ok && (from.name === 'long' || from.name === 'ulong') && (to.name === 'double' || to.name === 'float')) {
      const round = to.name === 'float' ? Math.fround : (n: number) => n;
      return (c) => (ctx, f) => {
        const v = c(ctx, f);
        return typeof v === 'bigint' ? round(Number(v)) : v;
      };
    }
    if (ok) return null;
    // constant int expressions convert to smaller types when in range
    if (b?.constant && typeof b.constant.value === 'number' && from.name === 'int' && to.name !== 'char' && inRange(b.constant.value, to.name)) return null;
    return undefined;
  }
  // DateTimeOffset's implicit operator from DateTime (.NET: offset 0 for Utc, the local offset, also 0 here, otherwise)
  if (to.name === 'DateTimeOffset' && from.name === 'DateTime') return (c) => (ctx, f) => DateTimeOffset.fromDateTime(c(ctx, f) as DateTime);
  // user-defined implicit operators of library types (XName and XNamespace from string)
  for (const conv of implicitConversions) {
    const r = conv(from, to);
    if (r) return (c) => (ctx, f) => r(c(ctx, f));
  }
  // library conversions (e.g. JToken from primitives)
  if (to.name === 'JToken' || to.name === 'JValue') {
    const conv = toJTokenConverter(from);
    if (conv) return (c) => (ctx, f) => conv(c(ctx, f));
  }
  if (isSubtype(from, to)) return null;
  return undefined;
}

const RANGES: Record<string, [number, number]> = {
  sbyte: [-128, 127],
  byte: [0, 255],
  short: [-32768, 32767],
  ushort: [0, 65535],
  uint: [0, 4294967295],
  ulong: [0, Number.MAX_SAFE_INTEGER],
  long: [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};
function inRange(v: number, t: string): boolean {
  const r = RANGES[t];
  return r !== undefined && v >= r[0] && v <= r[1];
}

const IMPLICIT_NUMERIC: Record<string, string[]> = {
  sbyte: ['short', 'int', 'long', 'float', 'double', 'decimal'],
  byte: ['short', 'ushort', 'int', 'uint', 'long', 'ulong', 'float', 'double', 'decimal'],
  short: ['int', 'long', 'float', 'double', 'decimal'],
  ushort: ['int', 'uint', 'long', 'ulong', 'float', 'double', 'decimal'],
  int: ['long', 'float', 'double', 'decimal'],
  uint: ['long', 'ulong', 'float', 'double', 'decimal'],
  long: ['float', 'double', 'decimal'],
  ulong: ['float', 'double', 'decimal'],
  char: ['ushort', 'int', 'uint', 'long', 'ulong', 'float', 'double', 'decimal'],
  float: ['double'],
};

/** Reference conversion through the descriptors' base lists (arrays are covariant and IEnumerable<T>). */
export function isSubtype(from: CsType, to: CsType): boolean {
  if (sameType(from, to)) return true;
  if (to.name === 'object') return true;
  if (from.name === 'Array' && to.name === 'Array') {
    const fe = from.args[0]!;
    const te = to.args[0]!;
    return !isValueType(fe) && !isValueType(te) && isSubtype(fe, te);
  }
  if (from.name === 'Anon') return false;
  const seen = new Set<string>();
  const queue = [from, ...basesOf(from)];
  while (queue.length) {
    const cur = queue.shift()!;
    if (sameType(cur, to)) return true;
    // IEnumerable<T> is covariant
    if (
      cur.name === to.name &&
      cur.name === 'IEnumerable' &&
      (to.args[0]!.name === 'object' || (isSubtype(cur.args[0]!, to.args[0]!) && !isValueType(cur.args[0]!)))
    )
      return true;
    const key = typeName(cur);
    if (seen.has(key)) continue;
    seen.add(key);
    queue.push(...basesOf(cur));
  }
  return false;
}

/** Explicit conversion (casts): returns a value transformer, or undefined when the cast is never valid. */
export function explicitConv(from: CsType, to: CsType): ((v: unknown) => unknown) | undefined {
  const fu = unwrapNullable(from);
  const tu = unwrapNullable(to);
  if (isNumeric(fu) && isNumeric(tu)) {
    const conv = decimalAware(fu, tu);
    return (v) => (v === null || v === undefined ? (isNullable(to) ? null : thrower(nre())) : conv(v));
  }
  if ((isEnum(fu) && (isIntegral(tu) || isEnum(tu))) || (isIntegral(fu) && isEnum(tu))) return (v) => v;
  if (from.name === 'Nullable' && sameType(fu, tu)) {
    return (v) => {
      if (v === null || v === undefined) throw new DotNetException('InvalidOperationException', 'Nullable object must have a value.');
      return v;
    };
  }
  // library explicit conversions (JToken → string/int/bool..., object → T)
  const lib = libraryExplicit(from, to);
  if (lib) return lib;
  // downcast / unboxing: from a base type (object, JToken, IEnumerable...) to a derived type
  if (isSubtype(to, from) || from.name === 'object' || (isInterfaceLike(from) && !isValueType(to))) {
    const unbox = unboxer(to);
    const test = instanceTest(to);
    return (v) => {
      if (v === null || v === undefined) {
        if (acceptsNull(to)) return null;
        throw nre();
      }
      if (!test(v)) throw invalidCast(runtimeTypeName(v), clrName(to));
      return unbox ? unbox(v) : v;
    };
  }
  return undefined;
}

/**
 * Explicit numeric conversion including decimal: to decimal from double/float rounds to 15 significant digits (NaN and
 * infinities overflow); from decimal to an integral type truncates and always checks the range (.NET's decimal
 * conversions throw OverflowException even in unchecked code).
 */
function decimalAware(fu: CsType, tu: CsType): (v: unknown) => unknown {
  if (tu.name === 'decimal') return fu.name === 'decimal' ? (v) => v : (v) => Decimal.fromNumber(v as number);
  const conv = convertPrimitive(fu, tu);
  if (fu.name === 'long' || fu.name === 'ulong') {
    // a long beyond ±2^53 is a bigint: truncate it to the target's bits exactly (unchecked C#)
    const big = bigintNarrowing(tu);
    return (v) => (typeof v === 'bigint' ? big(v) : conv(v as number));
  }
  if (fu.name !== 'decimal') return conv as (v: unknown) => unknown;
  if (tu.name === 'long' || tu.name === 'ulong') {
    // exact through the mantissa: (long)9223372036854775807m is in range
    const [lo, hi] = tu.name === 'long' ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
    return (v) => {
      const m = (v as Decimal).truncate().m;
      if (m < lo || m > hi)
        throw new DotNetException('OverflowException', `Value was either too large or too small for ${tu.name === 'long' ? 'an Int64' : 'a UInt64'}.`);
      return normLong(m);
    };
  }
  const range = INTEGRAL_LIMITS[tu.name];
  return (v) => {
    const n = (v as Decimal).toNumber();
    if (range) {
      const t = Math.trunc(n);
      if (t < range[0] || t > range[1]) throw new DotNetException('OverflowException', `Value was either too large or too small for ${range[2]}.`);
    }
    return conv(n);
  };
}
function bigintNarrowing(tu: CsType): (v: bigint) => unknown {
  switch (tu.name) {
    case 'int':
      return (v) => Number(BigInt.asIntN(32, v));
    case 'uint':
      return (v) => Number(BigInt.asUintN(32, v));
    case 'short':
      return (v) => Number(BigInt.asIntN(16, v));
    case 'ushort':
    case 'char':
      return (v) => Number(BigInt.asUintN(16, v));
    case 'byte':
      return (v) => Number(BigInt.asUintN(8, v));
    case 'sbyte':
      return (v) => Number(BigInt.asIntN(8, v));
    case 'float':
      return (v) => Math.fround(Number(v));
    case 'double':
      return (v) => Number(v);
    default:
      return (v) => normLong(v);
  }
}

const INTEGRAL_LIMITS: Record<string, [number, number, string]> = {
  int: [-2147483648, 2147483647, 'an Int32'],
  uint: [0, 4294967295, 'a UInt32'],
  short: [-32768, 32767, 'an Int16'],
  ushort: [0, 65535, 'a UInt16'],
  byte: [0, 255, 'a Byte'],
  sbyte: [-128, 127, 'a SByte'],
  char: [0, 65535, 'a Char'],
};

function isInterfaceLike(t: CsType): boolean {
  return /^I[A-Z]/.test(t.name);
}

function thrower(e: unknown): never {
  throw e;
}

const implicitConversions: Array<(from: CsType, to: CsType) => ((v: unknown) => unknown) | undefined> = [];
/** A user-defined implicit operator of a library type (C# spec "User-defined implicit conversions"). */
export function defineImplicitConversion(fn: (from: CsType, to: CsType) => ((v: unknown) => unknown) | undefined): void {
  implicitConversions.push(fn);
}

const explicitConversions: Array<(from: CsType, to: CsType) => ((v: unknown) => unknown) | undefined> = [];
export function defineExplicitConversion(fn: (from: CsType, to: CsType) => ((v: unknown) => unknown) | undefined): void {
  explicitConversions.push(fn);
}
function libraryExplicit(from: CsType, to: CsType): ((v: unknown) => unknown) | undefined {
  for (const fn of explicitConversions) {
    const r = fn(from, to);
    if (r) return r;
  }
  return undefined;
}

/** Runtime test "is the object-world value v an instance of t". */
export function instanceTest(t: CsType): (v: unknown) => boolean {
  const u = unwrapNullable(t);
  switch (u.name) {
    case 'object':
      return (v) => v !== null && v !== undefined;
    case 'string':
      return (v) => typeof v === 'string';
    case 'bool':
      return (v) => typeof v === 'boolean';
    case 'int':
      return (v) => typeof v === 'number';
    case 'decimal':
      return (v) => v instanceof Decimal;
    case 'long':
    case 'double':
    case 'float':
    case 'char':
    case 'byte':
    case 'sbyte':
    case 'short':
    case 'ushort':
    case 'uint':
    case 'ulong': {
      const k = u.name as BoxedKind;
      return (v) => v instanceof CsBoxed && v.kind === k;
    }
    case 'Array':
      if (u.args[0]!.name === 'byte') return (v) => v instanceof Uint8Array;
      return (v) => Array.isArray(v);
  }
  const def = typeDefOf(u);
  if (def?.isInstance) {
    const test = def.isInstance;
    return (v) => v !== null && v !== undefined && test(v, u);
  }
  return () => false;
}

export function isExceptionType(t: CsType): boolean {
  return t.name === 'Exception' || t.name.endsWith('Exception');
}

const EXCEPTION_BASES: Record<string, string[]> = {
  ArgumentNullException: ['ArgumentException'],
  ArgumentOutOfRangeException: ['ArgumentException'],
  JsonReaderException: ['JsonException'],
  JsonSerializationException: ['JsonException'],
  UriFormatException: ['FormatException'],
  DivideByZeroException: ['ArithmeticException'],
  OverflowException: ['ArithmeticException'],
  JsonWriterException: ['JsonException'],
  RegexMatchTimeoutException: ['TimeoutException'],
  KeyNotFoundException: [],
};

export function exceptionMatches(e: DotNetException, filter: string): boolean {
  if (filter === 'Exception') return true;
  if (e.typeName === filter) return true;
  return (EXCEPTION_BASES[e.typeName] ?? []).includes(filter);
}

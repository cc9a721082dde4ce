/**
 * C#'s built-in binary operators (numeric promotion, unchecked wrap, lifted nullable forms, string concatenation,
 * equality) and the user-defined operators that library types register (DateTime, TimeSpan...). Below both the
 * compiler and the library; see docs/expressions.md.
 */
import { DotNetException } from '../dotnet/exceptions.js';
import {
  acceptsNull,
  isEnum,
  isIntegral,
  isNullable,
  isNumeric,
  isValueType,
  named,
  nullableOf,
  sameType,
  T,
  typeName,
  unwrapNullable,
  type CsType,
} from './types.js';
import type { Binder, Bound, Closure } from './library/registry.js';
import { located } from './library/sig.js';
import { CsBoxed, csEquals, longToNumber, normLong, type LongValue } from './runtime.js';
import { Decimal } from '../dotnet/decimal.js';
import { stringify } from './library/convert.js';

// ---- operators and conversions provided by library types ---------------------------------------------------------------

export interface LibraryOperator {
  type: CsType;
  fn: (a: any, b: any) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any -- operand types fixed by the registration
  liftNull?: unknown;
}
const operators: Array<{ op: string; l: string; r: string; def: LibraryOperator }> = [];

export function defineOperator(op: string, l: string, r: string, def: LibraryOperator): void {
  operators.push({ op, l, r, def });
}

function libraryOperator(op: string, lt: CsType, rt: CsType): LibraryOperator | undefined {
  const l = unwrapNullable(lt).name;
  const r = unwrapNullable(rt).name;
  return operators.find((o) => o.op === op && o.l === l && o.r === r)?.def;
}

export function promoteUnary(t: CsType): CsType {
  return ['char', 'byte', 'sbyte', 'short', 'ushort'].includes(t.name) ? T.int : t.name === 'uint' ? T.long : t;
}

/** Binary numeric promotion (C# §12.4.7.3), simplified: decimal > double > float > ulong/long > uint > int. */
export function promote(a: CsType, b: CsType): CsType | null {
  const x = unwrapNullable(a).name;
  const y = unwrapNullable(b).name;
  if (!isNumeric(named(x)) || !isNumeric(named(y))) return null;
  const has = (n: string) => x === n || y === n;
  if (has('decimal')) return has('double') || has('float') ? null : T.decimal;
  if (has('double')) return T.double;
  if (has('float')) return T.float;
  if (has('ulong')) return T.ulong;
  if (has('long')) return T.long;
  if (has('uint')) return ['sbyte', 'short', 'int'].includes(x === 'uint' ? y : x) ? T.long : T.uint;
  return T.int;
}

/** Wraps a JS number result to the range of the C# type (unchecked arithmetic). */
export function numericWrapper(t: CsType): (v: number) => number {
  switch (t.name) {
    case 'int':
      return (v) => v | 0;
    case 'uint':
      return (v) => v >>> 0;
    case 'short':
      return (v) => (v << 16) >> 16;
    case 'ushort':
    case 'char':
      return (v) => v & 0xffff;
    case 'byte':
      return (v) => v & 0xff;
    case 'sbyte':
      return (v) => (v << 24) >> 24;
    case 'long':
    case 'ulong':
      return (v) => (Number.isSafeInteger(v) ? v : (normLong(BigInt(Math.trunc(v))) as number));
    case 'float':
      return Math.fround;
    default:
      return (v) => v;
  }
}

export function overflow(): DotNetException {
  return new DotNetException('OverflowException', 'Arithmetic operation resulted in an overflow.');
}

/** Exact range of each integral type (C# spec "Integral types"), as BigInt so 64-bit bounds are exact. */
const INTEGRAL_RANGE: Record<string, [bigint, bigint]> = {
  int: [-(2n ** 31n), 2n ** 31n - 1n],
  uint: [0n, 2n ** 32n - 1n],
  long: [-(2n ** 63n), 2n ** 63n - 1n],
  ulong: [0n, 2n ** 64n - 1n],
  short: [-32768n, 32767n],
  ushort: [0n, 65535n],
  byte: [0n, 255n],
  sbyte: [-128n, 127n],
  char: [0n, 65535n],
};

/**
 * `checked` integer + - * (C# spec "The checked and unchecked operators"): the exact result must fit the type, else
 * OverflowException. Results that JS numbers hold exactly are checked directly; others are recomputed with BigInt.
 */
export function checkedArithmetic(t: CsType, op: '+' | '-' | '*'): ((a: number, b: number) => number) | null {
  const range = INTEGRAL_RANGE[t.name];
  if (!range) return null;
  const [lo, hi] = range;
  const nlo = Number(lo);
  const nhi = Number(hi);
  const isLong = t.name === 'long' || t.name === 'ulong';
  return (a, b) => {
    if (typeof a === 'number' && typeof b === 'number') {
      const r = op === '+' ? a + b : op === '-' ? a - b : a * b;
      if (Number.isSafeInteger(r)) {
        if (r < nlo || r > nhi) throw overflow();
        return r === 0 ? 0 : r;
      }
    }
    const x = BigInt(a);
    const y = BigInt(b);
    const big = op === '+' ? x + y : op === '-' ? x - y : x * y;
    if (big < lo || big > hi) throw overflow();
    return (isLong ? normLong(big) : Number(big)) as number;
  };
}

/** `checked` conversion of a long beyond ±2^53 (a bigint): in range of the target type, else OverflowException. */
export function checkedBig(v: bigint, to: CsType): bigint {
  const range = INTEGRAL_RANGE[to.name];
  if (range && (v < range[0] || v > range[1])) throw overflow();
  return v;
}

/** `checked` explicit numeric conversion to an integral type: the truncated value must be in range (NaN never is). */
export function checkedNarrowing(to: CsType): ((v: number) => number) | null {
  const range = INTEGRAL_RANGE[to.name];
  if (!range) return null;
  const lo = Number(range[0]);
  const hi = Number(range[1]);
  // the 64-bit bounds are not exact doubles: 2^63 rounds to itself and is out of range, so compare with >=
  const hiExclusive = to.name === 'long' || to.name === 'ulong';
  return (v) => {
    const t = Math.trunc(v);
    if (Number.isNaN(t) || t < lo || (hiExclusive ? t >= hi : t > hi)) throw overflow();
    return t === 0 ? 0 : t;
  };
}

function divideByZero(): DotNetException {
  return new DotNetException('DivideByZeroException', 'Attempted to divide by zero.');
}

export function binaryOp(cp: Binder, op: string, l: Bound, r: Bound, pos: number): Bound {
  const lt = l.type;
  const rt = r.type;
  let lc = l.c;
  let rc = r.c;
  // string concatenation (unless a library type defines + with a string operand: XNamespace + string → XName)
  if (op === '+' && (lt.name === 'string' || rt.name === 'string') && !libraryOperator(op, lt, rt)) {
    if (lt.name === 'void' || rt.name === 'void') cp.error(pos, 'cannot concatenate a void value');
    const ls = lt.name === 'string' ? null : stringify(lt);
    const rs = rt.name === 'string' ? null : stringify(rt);
    let c: Closure;
    if (!ls && !rs) c = (ctx, f) => ((lc(ctx, f) as string | null) ?? '') + ((rc(ctx, f) as string | null) ?? '');
    else if (!ls) c = (ctx, f) => ((lc(ctx, f) as string | null) ?? '') + rs!(rc(ctx, f));
    else if (!rs) c = (ctx, f) => ls(lc(ctx, f)) + ((rc(ctx, f) as string | null) ?? '');
    else c = (ctx, f) => ls(lc(ctx, f)) + rs(rc(ctx, f));
    if (l.constant && r.constant) {
      const v =
        (l.constant.value === null ? '' : ls ? ls(l.constant.value) : (l.constant.value as string)) +
        (r.constant.value === null ? '' : rs ? rs(r.constant.value) : (r.constant.value as string));
      return { type: T.string, c: () => v, pos, nonNull: true, constant: { value: v } };
    }
    return { type: T.string, c, pos, nonNull: true };
  }
  if (op === '==' || op === '!=') return equality(cp, op, l, r, pos);
  // user-defined operators of library types (DateTime, TimeSpan)
  const custom = libraryOperator(op, lt, rt);
  if (custom) {
    const fn = custom.fn;
    return {
      type: custom.type,
      pos,
      c: (ctx, f) => {
        const a = lc(ctx, f);
        const b = rc(ctx, f);
        if (a === null || b === null || a === undefined || b === undefined) return custom.liftNull ?? null;
        try {
          return fn(a, b);
        } catch (err) {
          throw located(err, pos);
        }
      },
    };
  }
  const lu = unwrapNullable(lt);
  const ru = unwrapNullable(rt);
  if ((op === '&' || op === '|' || op === '^') && lu.name === 'bool' && ru.name === 'bool') {
    if (op === '&') return { type: T.bool, pos, c: (ctx, f) => (lc(ctx, f) as boolean) && (rc(ctx, f) as boolean) };
    if (op === '|') return { type: T.bool, pos, c: (ctx, f) => (lc(ctx, f) as boolean) || (rc(ctx, f) as boolean) };
    return { type: T.bool, pos, c: (ctx, f) => lc(ctx, f) !== rc(ctx, f) };
  }
  if ((op === '&' || op === '|' || op === '^') && isEnum(lu) && sameType(lu, ru)) {
    const fn = op === '&' ? (a: number, b: number) => a & b : op === '|' ? (a: number, b: number) => a | b : (a: number, b: number) => a ^ b;
    return { type: lu, pos, c: (ctx, f) => fn(lc(ctx, f) as number, rc(ctx, f) as number) };
  }
  if (op === '<<' || op === '>>') {
    if (!isIntegral(lu) || !isIntegral(ru)) cp.error(pos, `operator "${op}" cannot be applied to ${typeName(lt)} and ${typeName(rt)}`);
    const t = promoteUnary(lu);
    const sc = cp.convert(r, T.int);
    if (t.name === 'int')
      return {
        type: t,
        pos,
        c: op === '<<' ? (ctx, f) => (lc(ctx, f) as number) << (sc(ctx, f) as number) : (ctx, f) => (lc(ctx, f) as number) >> (sc(ctx, f) as number),
      };
    return {
      type: t,
      pos,
      c: (ctx, f) => {
        const a = BigInt(lc(ctx, f) as LongValue);
        const n = BigInt((sc(ctx, f) as number) & 63);
        return normLong(op === '<<' ? a << n : a >> n);
      },
    };
  }
  // enum comparisons
  if (isEnum(lu) && sameType(lu, ru) && ['<', '>', '<=', '>='].includes(op)) {
    return relational(op, lc, rc, pos, false);
  }
  const pt = promote(lt, rt);
  if (!pt) cp.error(pos, `operator "${op}" cannot be applied to operands of type ${typeName(lt)} and ${typeName(rt)}`);
  const lifted = isNullable(lt) || isNullable(rt);
  if (pt.name === 'decimal') return decimalBinary(cp, op, l, r, pos, lifted);
  if (pt.name === 'double' || pt.name === 'float') {
    lc = asDouble(l);
    rc = asDouble(r);
  }
  if (['<', '>', '<=', '>='].includes(op)) return relational(op, lc, rc, pos, lifted);
  let fn: (a: number, b: number) => number;
  const isInt = pt.name === 'int';
  const isLong = pt.name === 'long' || pt.name === 'ulong' || pt.name === 'uint';
  const isDec = pt.name === 'decimal';
  switch (op) {
    case '+':
      fn = isInt ? (a, b) => (a + b) | 0 : isLong ? (a, b) => wrapLong(a, b, '+') : (a, b) => a + b;
      break;
    case '-':
      fn = isInt ? (a, b) => (a - b) | 0 : isLong ? (a, b) => wrapLong(a, b, '-') : (a, b) => a - b;
      break;
    case '*':
      fn = isInt ? Math.imul : isLong ? (a, b) => wrapLong(a, b, '*') : (a, b) => a * b;
      break;
    case '/':
      fn =
        isInt || isLong
          ? (a, b) => {
              if (b === 0) throw divideByZero();
              if (isLong && (typeof a === 'bigint' || typeof b === 'bigint')) return longDivRem(a, b, '/');
              return isInt ? (a / b) | 0 : Math.trunc(a / b);
            }
          : isDec
            ? (a, b) => {
                if (b === 0) throw divideByZero();
                return a / b;
              }
            : (a, b) => a / b;
      break;
    case '%':
      fn =
        isInt || isLong || isDec
          ? (a, b) => {
              if (b === 0) throw divideByZero();
              if (isLong && (typeof a === 'bigint' || typeof b === 'bigint')) return longDivRem(a, b, '%');
              const m = a % b;
              return m === 0 ? 0 : m;
            }
          : (a, b) => a % b;
      break;
    case '&':
    case '|':
    case '^':
      if (!isIntegral(lu) || !isIntegral(ru)) cp.error(pos, `operator "${op}" cannot be applied to ${typeName(lt)} and ${typeName(rt)}`);
      fn = op === '&' ? (a, b) => a & b : op === '|' ? (a, b) => a | b : (a, b) => a ^ b;
      if (isLong) {
        const big = op === '&' ? (a: bigint, b: bigint) => a & b : op === '|' ? (a: bigint, b: bigint) => a | b : (a: bigint, b: bigint) => a ^ b;
        fn = (a, b) => normLong(big(BigInt(a), BigInt(b))) as number;
      }
      break;
    default:
      cp.error(pos, `unsupported operator "${op}"`);
  }
  if (cp.checkedCtx && (op === '+' || op === '-' || op === '*')) {
    const ck = checkedArithmetic(pt, op);
    if (ck) fn = ck;
  }
  const type = lifted ? nullableOf(pt) : pt;
  if (pt.name === 'float') {
    const inner = fn;
    fn = (a, b) => Math.fround(inner(a, b));
  }
  if (
    l.constant &&
    r.constant &&
    typeof l.constant.value === 'number' &&
    typeof r.constant.value === 'number' &&
    !(op === '/' && r.constant.value === 0) &&
    !(op === '%' && r.constant.value === 0)
  ) {
    let v: number;
    try {
      v = fn(l.constant.value, r.constant.value);
    } catch (err) {
      // C# error CS0220: a constant expression that overflows in a checked context
      if (err instanceof DotNetException && err.typeName === 'OverflowException')
        cp.error(pos, 'the operation overflows at compile time in checked mode', 'use unchecked(...) if the wrap-around is intended');
      throw err;
    }
    return { type, c: () => v, pos, constant: { value: v } };
  }
  if (lifted) {
    return {
      type,
      pos,
      c: (ctx, f) => {
        const a = lc(ctx, f);
        const b = rc(ctx, f);
        if (a === null || b === null || a === undefined || b === undefined) return null;
        try {
          return fn(a as number, b as number);
        } catch (err) {
          throw located(err, pos);
        }
      },
    };
  }
  if (op === '/' || op === '%' || (cp.checkedCtx && isIntegral(pt))) {
    return {
      type,
      pos,
      c: (ctx, f) => {
        const a = lc(ctx, f) as number;
        const b = rc(ctx, f) as number;
        try {
          return fn(a, b);
        } catch (err) {
          throw located(err, pos);
        }
      },
    };
  }
  return { type, pos, c: (ctx, f) => fn(lc(ctx, f) as number, rc(ctx, f) as number) };
}

/** An operand as a Decimal (ints and longs convert exactly, as C#'s implicit conversion to decimal does). */
export function asDecimal(b: Bound): Closure {
  const c = b.c;
  if (unwrapNullable(b.type).name === 'decimal') return c;
  return (ctx, f) => {
    const v = c(ctx, f);
    return v === null || v === undefined ? null : Decimal.fromNumber(v as number);
  };
}

const DECIMAL_OPS: Record<string, (a: Decimal, b: Decimal) => unknown> = {
  '+': (a, b) => a.add(b),
  '-': (a, b) => a.sub(b),
  '*': (a, b) => a.mul(b),
  '/': (a, b) => a.div(b),
  '%': (a, b) => a.mod(b),
  '<': (a, b) => a.cmp(b) < 0,
  '>': (a, b) => a.cmp(b) > 0,
  '<=': (a, b) => a.cmp(b) <= 0,
  '>=': (a, b) => a.cmp(b) >= 0,
};

/** decimal arithmetic and comparison (src/dotnet/decimal.ts keeps .NET's scale rules); lifted over null like C#. */
function decimalBinary(cp: Binder, op: string, l: Bound, r: Bound, pos: number, lifted: boolean): Bound {
  const fn = DECIMAL_OPS[op];
  if (!fn) cp.error(pos, `operator "${op}" cannot be applied to operands of type ${typeName(l.type)} and ${typeName(r.type)}`);
  const relational = ['<', '>', '<=', '>='].includes(op);
  const type = relational ? T.bool : lifted ? nullableOf(T.decimal) : T.decimal;
  const lc = asDecimal(l);
  const rc = asDecimal(r);
  if (l.constant && r.constant && l.constant.value !== null && r.constant.value !== null) {
    try {
      const v = fn(lc(null as never, []) as Decimal, rc(null as never, []) as Decimal);
      return { type, pos, c: () => v, constant: { value: v } };
    } catch {
      // division by zero and overflow are left to run time
    }
  }
  const whenNull = relational ? false : null;
  return {
    type,
    pos,
    c: (ctx, f) => {
      const a = lc(ctx, f);
      const b = rc(ctx, f);
      if (a === null || a === undefined || b === null || b === undefined) return whenNull;
      try {
        return fn(a as Decimal, b as Decimal);
      } catch (err) {
        throw located(err, pos);
      }
    },
  };
}

/** Unchecked long + - *: exact (a bigint beyond ±2^53), wrapped to 64 bits as C# does. */
function wrapLong(a: LongValue, b: LongValue, op: '+' | '-' | '*'): number {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = op === '+' ? a + b : op === '-' ? a - b : a * b;
    if (Number.isSafeInteger(r)) return r;
  }
  const x = BigInt(typeof a === 'number' ? Math.trunc(a) : a);
  const y = BigInt(typeof b === 'number' ? Math.trunc(b) : b);
  return normLong(op === '+' ? x + y : op === '-' ? x - y : x * y) as number;
}
/** long / and % on values beyond 2^53 (BigInt truncates toward zero, as C# does). */
function longDivRem(a: LongValue, b: LongValue, op: '/' | '%'): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return normLong(op === '/' ? x / y : x % y) as number;
}
/** A long operand of a double/float/decimal operation becomes a number first (C#'s implicit conversion). */
function asDouble(b: Bound): Closure {
  const c = b.c;
  const n = unwrapNullable(b.type).name;
  if (n !== 'long' && n !== 'ulong') return c;
  return (ctx, f) => {
    const v = c(ctx, f);
    return v === null || v === undefined ? v : longToNumber(v);
  };
}

function relational(op: string, lc: Closure, rc: Closure, pos: number, lifted: boolean): Bound {
  const cmp =
    op === '<'
      ? (a: number, b: number) => a < b
      : op === '>'
        ? (a: number, b: number) => a > b
        : op === '<='
          ? (a: number, b: number) => a <= b
          : (a: number, b: number) => a >= b;
  if (lifted) {
    return {
      type: T.bool,
      pos,
      c: (ctx, f) => {
        const a = lc(ctx, f);
        const b = rc(ctx, f);
        if (a === null || b === null || a === undefined || b === undefined) return false;
        return cmp(a as number, b as number);
      },
    };
  }
  return { type: T.bool, pos, c: (ctx, f) => cmp(lc(ctx, f) as number, rc(ctx, f) as number) };
}

function equality(cp: Binder, op: string, l: Bound, r: Bound, pos: number): Bound {
  const lt = l.type;
  const rt = r.type;
  const neg = op === '!=';
  let lc = l.c;
  let rc = r.c;
  const lu = unwrapNullable(lt);
  const ru = unwrapNullable(rt);
  let eq: (a: unknown, b: unknown) => boolean;
  if (lt.name === 'null' || rt.name === 'null') {
    const other = lt.name === 'null' ? rt : lt;
    if (!acceptsNull(other) && other.name !== 'null') {
      // C# allows `x == null` for value types (always false) with a warning
    }
    const oc = lt.name === 'null' ? rc : lc;
    return { type: T.bool, pos, c: (ctx, f) => ((oc(ctx, f) ?? null) === null) !== neg };
  }
  if ((lu.name === 'decimal' && isNumeric(ru)) || (ru.name === 'decimal' && isNumeric(lu))) {
    lc = asDecimal(l);
    rc = asDecimal(r);
    eq = (a, b) => (a === null || a === undefined || b === null || b === undefined ? (a ?? null) === (b ?? null) : (a as Decimal).cmp(b as Decimal) === 0);
  } else if (isNumeric(lu) && isNumeric(ru)) {
    eq = (a, b) => a === b;
  } else if (lu.name === 'bool' && ru.name === 'bool') {
    eq = (a, b) => a === b;
  } else if (lu.name === 'string' && ru.name === 'string') {
    eq = (a, b) => (a ?? null) === (b ?? null);
  } else if (isEnum(lu) && sameType(lu, ru)) {
    eq = (a, b) => a === b;
  } else {
    const custom = libraryOperator('==', lt, rt);
    if (custom) {
      const fn = custom.fn;
      eq = (a, b) => (a === null || a === undefined || b === null || b === undefined ? (a ?? null) === (b ?? null) : (fn(a, b) as boolean));
    } else if (cp.canConvert(lt, rt, l) || cp.canConvert(rt, lt, r) || lt.name === 'object' || rt.name === 'object') {
      // reference equality; strings compared by value (the emulator cannot observe interning, see docs)
      if (isValueType(lu) !== isValueType(ru) || (isValueType(lu) && !sameType(lu, ru))) {
        lc = cp.convert(l, T.object);
        rc = cp.convert(r, T.object);
      }
      eq = (a, b) =>
        a === b || (typeof a === 'string' && a === b) || (a instanceof CsBoxed && csEquals(a, b)) || ((a ?? null) === null && (b ?? null) === null);
    } else cp.error(pos, `operator "${op}" cannot be applied to operands of type ${typeName(lt)} and ${typeName(rt)}`);
  }
  if (l.constant && r.constant) {
    const v = eq(l.constant.value, r.constant.value) !== neg;
    return { type: T.bool, pos, c: () => v, constant: { value: v } };
  }
  return { type: T.bool, pos, c: (ctx, f) => eq(lc(ctx, f), rc(ctx, f)) !== neg };
}

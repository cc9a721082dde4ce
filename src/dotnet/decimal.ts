/**
 * System.Decimal: a 96-bit integer mantissa with a scale 0..28 (".NET API reference, System.Decimal"). The value keeps
 * its scale, so `1.50m` prints `1.50`; addition and subtraction give the larger scale of the operands, multiplication
 * the sum of the scales, division the smallest scale that holds the exact quotient (up to 28 digits, rounded half to
 * even). Results beyond ±79,228,162,514,264,337,593,543,950,335 raise OverflowException.
 */
import { DotNetException } from './exceptions.js';
import { formatNumber } from './format.js';

const MAX_MANTISSA = 2n ** 96n - 1n;
const MAX_SCALE = 28;
const TEN = 10n;

function pow10(n: number): bigint {
  return TEN ** BigInt(n);
}

function overflowDecimal(): DotNetException {
  return new DotNetException('OverflowException', 'Value was either too large or too small for a Decimal.');
}

/** Integer division rounded half to even (banker's rounding), what Decimal arithmetic uses when digits are dropped. */
function divRoundEven(a: bigint, b: bigint): bigint {
  const neg = a < 0n !== b < 0n;
  const x = a < 0n ? -a : a;
  const y = b < 0n ? -b : b;
  let q = x / y;
  const r = x % y;
  const twice = r * 2n;
  if (twice > y || (twice === y && q % 2n === 1n)) q += 1n;
  return neg ? -q : q;
}

export class Decimal {
  static readonly clrTypeName = 'System.Decimal';
  static readonly Zero = new Decimal(0n, 0);
  static readonly One = new Decimal(1n, 0);
  static readonly MinusOne = new Decimal(-1n, 0);
  static readonly MaxValue = new Decimal(MAX_MANTISSA, 0);
  static readonly MinValue = new Decimal(-MAX_MANTISSA, 0);

  private constructor(
    /** Signed mantissa; |m| < 2^96. */
    readonly m: bigint,
    /** Digits after the decimal point, 0..28. */
    readonly scale: number,
  ) {}

  /** Builds a value, dropping low digits (rounded half to even) while the mantissa or scale is too large. */
  static of(m: bigint, scale: number): Decimal {
    while (scale > MAX_SCALE || ((m < 0n ? -m : m) > MAX_MANTISSA && scale > 0)) {
      m = divRoundEven(m, TEN);
      scale--;
    }
    if ((m < 0n ? -m : m) > MAX_MANTISSA) throw overflowDecimal();
    return new Decimal(m, scale);
  }

  /** Decimal literal or Decimal.Parse text (invariant: digits, optional sign and point; no exponent). */
  static parse(text: string): Decimal | null {
    const t = /^\s*([+-]?)(\d*)(?:\.(\d*))?\s*$/.exec(text);
    if (!t || (t[2] === '' && (t[3] ?? '') === '')) return null;
    const frac = t[3] ?? '';
    const digits = (t[2] ?? '') + frac;
    const m = BigInt(digits || '0') * (t[1] === '-' ? -1n : 1n);
    return Decimal.of(m, frac.length);
  }

  /** From an integral JS number (int, long) exactly; from a double as .NET's explicit conversion does (15 digits). */
  static fromNumber(n: number | bigint): Decimal {
    if (typeof n === 'bigint') return Decimal.of(n, 0);
    if (!Number.isFinite(n)) throw overflowDecimal();
    if (Number.isSafeInteger(n)) return new Decimal(BigInt(n), 0);
    if (Math.abs(n) >= 7.922816251426434e28) throw overflowDecimal();
    // System.Decimal's conversion from Double keeps 15 significant digits, then drops trailing zeros
    const s = n.toPrecision(15);
    const [mant, exp] = s.split('e');
    let d = Decimal.parse(mant!)!;
    const e = Number(exp ?? 0);
    if (e > 0) d = Decimal.of(d.m * pow10(e), d.scale);
    else if (e < 0) d = Decimal.of(d.m, d.scale - e);
    return d.normalize();
  }

  /** Same value, no trailing zeros after the point. */
  normalize(): Decimal {
    let { m, scale } = this;
    while (scale > 0 && m % TEN === 0n) {
      m /= TEN;
      scale--;
    }
    return new Decimal(m, scale);
  }

  private static align(a: Decimal, b: Decimal): [bigint, bigint, number] {
    if (a.scale === b.scale) return [a.m, b.m, a.scale];
    if (a.scale > b.scale) return [a.m, b.m * pow10(a.scale - b.scale), a.scale];
    return [a.m * pow10(b.scale - a.scale), b.m, b.scale];
  }

  add(o: Decimal): Decimal {
    const [x, y, s] = Decimal.align(this, o);
    return Decimal.of(x + y, s);
  }
  sub(o: Decimal): Decimal {
    const [x, y, s] = Decimal.align(this, o);
    return Decimal.of(x - y, s);
  }
  mul(o: Decimal): Decimal {
    return Decimal.of(this.m * o.m, this.scale + o.scale);
  }
  div(o: Decimal): Decimal {
    if (o.m === 0n) throw new DotNetException('DivideByZeroException', 'Attempted to divide by zero.');
    // the quotient starts at scale s1 - s2; while a remainder is left, one more digit (up to 28), then rounded half
    // to even (10.00m / 2m = 5.00; 10m / 4 = 2.5; 1m / 3m = 0.3333333333333333333333333333)
    let scale = this.scale - o.scale;
    let x = this.m;
    const y = o.m;
    if (scale < 0) {
      x *= pow10(-scale);
      scale = 0;
    }
    let r = x % y;
    while (r !== 0n && scale < MAX_SCALE) {
      const q = (x * TEN) / y;
      if ((q < 0n ? -q : q) > MAX_MANTISSA) break;
      x *= TEN;
      scale++;
      r = x % y;
    }
    return Decimal.of(r === 0n ? x / y : divRoundEven(x, y), scale);
  }
  mod(o: Decimal): Decimal {
    if (o.m === 0n) throw new DotNetException('DivideByZeroException', 'Attempted to divide by zero.');
    const [x, y, s] = Decimal.align(this, o);
    return Decimal.of(x % y, s);
  }
  neg(): Decimal {
    return new Decimal(-this.m, this.scale);
  }
  cmp(o: Decimal): number {
    const [x, y] = Decimal.align(this, o);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  /** IComparable (OrderBy, Min, Max). */
  CompareTo(o: unknown): number {
    return o instanceof Decimal ? this.cmp(o) : 1;
  }
  csEquals(o: unknown): boolean {
    return o instanceof Decimal && this.cmp(o) === 0;
  }
  /** Dictionary key: equal values (1.0m and 1.00m) share it. */
  get key(): string {
    return `decimal:${this.normalize().toDotNetString()}`;
  }

  /** Math.Round(d, decimals, mode): 'even' (the default) or 'away' (MidpointRounding.AwayFromZero). */
  round(decimals = 0, mode: 'even' | 'away' | 'zero' | 'floor' | 'ceiling' = 'even'): Decimal {
    if (decimals < 0 || decimals > MAX_SCALE)
      throw new DotNetException('ArgumentOutOfRangeException', "Decimal can only round to between 0 and 28 digits of precision. (Parameter 'decimals')");
    if (this.scale <= decimals) return this;
    const f = pow10(this.scale - decimals);
    const m = this.m;
    let q = m / f;
    const r = m % f;
    if (r !== 0n) {
      const twice = (r < 0n ? -r : r) * 2n;
      const up =
        mode === 'even'
          ? twice > f || (twice === f && q % 2n !== 0n)
          : mode === 'away'
            ? twice >= f
            : mode === 'zero'
              ? false
              : mode === 'floor'
                ? m < 0n
                : m > 0n;
      if (up) q += m < 0n ? -1n : 1n;
    }
    return new Decimal(q, decimals);
  }
  truncate(): Decimal {
    return this.round(0, 'zero');
  }
  floor(): Decimal {
    return this.round(0, 'floor');
  }
  ceiling(): Decimal {
    return this.round(0, 'ceiling');
  }
  abs(): Decimal {
    return this.m < 0n ? this.neg() : this;
  }

  toNumber(): number {
    return Number(this.toDotNetString());
  }

  /** Decimal.ToString([format]): with no format every digit of the scale (1.50m → "1.50"), invariant culture. */
  toDotNetString(format?: string | null): string {
    if (format) return formatNumber(this.toNumber(), format, 'Decimal');
    const neg = this.m < 0n;
    let digits = (neg ? -this.m : this.m).toString();
    if (this.scale > 0) {
      digits = digits.padStart(this.scale + 1, '0');
      digits = `${digits.slice(0, -this.scale)}.${digits.slice(-this.scale)}`;
    }
    return neg ? `-${digits}` : digits;
  }
  toString(): string {
    return this.toDotNetString();
  }
}

/** A decimal value from what other code holds (a Decimal, or a JS number from an int/long/double source). */
export function toDecimal(v: unknown): Decimal {
  return v instanceof Decimal ? v : Decimal.fromNumber(v as number);
}

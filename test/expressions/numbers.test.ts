/**
 * Integer overflow in checked and unchecked contexts (issue 12). Expected values and exceptions follow the C# language
 * reference on learn.microsoft.com: "checked and unchecked statements" and "Arithmetic operators, Integer arithmetic
 * overflow" (checked: System.OverflowException; unchecked, the default: the result is truncated to the type's bits),
 * and "Explicit numeric conversions" (checked: OverflowException when the value is out of the target's range).
 */
import { describe, expect, it } from 'vitest';
import { ExpressionEvaluationError, toPolicyString } from '../../src/expressions/index.js';
import { compile, run } from './helpers.js';

function failure(text: string): ExpressionEvaluationError {
  try {
    run(text);
  } catch (e) {
    if (e instanceof ExpressionEvaluationError) return e;
    throw e;
  }
  throw new Error(`expected ${text} to fail`);
}

describe('unchecked (the default) wraps', () => {
  it.each([
    ['@{ int x = int.MaxValue; x++; return x; }', '-2147483648'],
    ['@{ int x = int.MaxValue; return unchecked(x + 1); }', '-2147483648'],
    ['@{ int x = 65536; return x * x; }', '0'],
    ['@{ long x = long.MaxValue; return unchecked(x + 1) == long.MinValue; }', 'True'],
    ['@{ long x = 3000000000; return unchecked((int)x); }', '-1294967296'],
    ['@{ checked { int x = int.MaxValue; return unchecked(x + 1); } }', '-2147483648'],
  ])('%s → %s', (text, expected) => expect(toPolicyString(run(text))).toBe(expected));
});

describe('checked raises OverflowException', () => {
  it.each([
    ['@{ int x = int.MaxValue; checked { x++; } return x; }', 1, 37],
    ['@{ int x = int.MaxValue; return checked(x + 1); }', 1, 43],
    ['@{ int x = 65536; checked { return x * x; } }', 1, 38],
    ['@{ int x = int.MinValue; checked { return -x; } }', 1, 43],
    ['@{ int x = 1; checked { x += int.MaxValue; } return x; }', 1, 27],
    ['@{ long x = long.MaxValue; return checked(x + 1); }', 1, 45],
    ['@{ long x = long.MinValue; return checked(x - 1); }', 1, 45],
    ['@{ long x = 3037000500; return checked(x * x); }', 1, 42],
    ['@{ uint x = 0; uint y = 1; return checked(x - y); }', 1, 45],
    ['@{ long x = 3000000000; return checked((int)x); }', 1, 40],
    ['@{ double d = 1e20; return checked((long)d); }', 1, 36],
    ['@{ double d = double.NaN; return checked((int)d); }', 1, 42],
    ['@{ int x = 300; return checked((byte)x); }', 1, 32],
  ])('%s', (text, line, column) => {
    const e = failure(text);
    expect(e.exceptionType).toBe('OverflowException');
    expect(e.message).toContain('Arithmetic operation resulted in an overflow.');
    expect([e.line, e.column]).toEqual([line, column]);
  });

  it.each([
    ['@{ int x = 46340; return checked(x * x); }', '2147395600'],
    ['@{ long x = 94906265; return checked(x * x); }', '9007199136250225'],
    ['@{ int x = 255; return checked((byte)x); }', '255'],
    ['@{ double d = -1.9; return checked((int)d); }', '-1'],
  ])('in range: %s → %s', (text, expected) => expect(toPolicyString(run(text))).toBe(expected));

  it('catch (OverflowException) sees it', () => {
    expect(run('@{ try { int x = int.MaxValue; checked { x = x + 1; } return "no"; } catch (OverflowException e) { return e.Message; } }')).toBe(
      'Arithmetic operation resulted in an overflow.',
    );
  });

  it('a constant expression that overflows in checked mode is a load-time error (C# CS0220)', () => {
    const { expr, errors } = compile('@(checked(2147483647 + 1))');
    expect(expr).toBeNull();
    expect(errors[0]).toMatch(/^policy\.xml:1:22: error expr\/type: the operation overflows at compile time in checked mode/);
  });
});

/**
 * System.Decimal keeps its scale (.NET API reference, "System.Decimal" remarks and "Decimal.Addition / Multiply /
 * Division operators"): the scale of a sum is the larger operand scale, of a product the sum of the scales; a quotient
 * starts at the dividend's scale minus the divisor's and takes more digits (up to 28) only while a remainder is left.
 * Math.Round on decimal rounds half to even unless MidpointRounding says otherwise.
 */
describe('decimal keeps .NET scale', () => {
  it.each([
    ['@(1.50m)', '1.50'],
    ['@(1.50m + 1.5m)', '3.00'],
    ['@(5.25m - 0.25m)', '5.00'],
    ['@(1.1m * 1.1m)', '1.21'],
    ['@(2.50m * 2)', '5.00'],
    ['@(10.00m / 2m)', '5.00'],
    ['@(10m / 4)', '2.5'],
    ['@(1m / 3m)', '0.3333333333333333333333333333'],
    ['@(2m / 3m)', '0.6666666666666666666666666667'],
    ['@(1m / 0.5m)', '2'],
    ['@(7.5m % 2)', '1.5'],
    ['@(-1.50m)', '-1.50'],
    ['@(0.1m + 0.2m == 0.3m)', 'True'],
    ['@(1.10m == 1.1m)', 'True'],
    ['@(1.10m > 1.09m)', 'True'],
    ['@(decimal.Parse("1.500"))', '1.500'],
    ['@(Convert.ToDecimal("2.50"))', '2.50'],
    ['@((decimal)0.1)', '0.1'],
    ['@((decimal)1 / 8)', '0.125'],
    ['@((int)3.99m)', '3'],
    ['@((double)1.25m * 2)', '2.5'],
    ['@(Math.Round(2.345m, 2))', '2.34'],
    ['@(Math.Round(2.345m, 2, MidpointRounding.AwayFromZero))', '2.35'],
    ['@(Math.Round(2.5m))', '2'],
    ['@(Math.Floor(-1.5m))', '-2'],
    ['@(Math.Max(1.5m, 1.50m + 0.01m))', '1.51'],
    ['@(new[] { 1.10m, 2.205m }.Sum())', '3.305'],
    ['@(new[] { 1m, 2m }.Average())', '1.5'],
    ['@(new[] { 3.0m, 1.5m, 2m }.OrderBy(x => x).First())', '1.5'],
    ['@($"{1.50m}|{1.5m:F3}")', '1.50|1.500'],
    ['@(1.5m.ToString("F2"))', '1.50'],
    ['@(decimal.MaxValue)', '79228162514264337593543950335'],
    ['@((decimal)JObject.Parse("{\\"p\\":1.25}")["p"] * 2)', '2.50'],
    ['@{ decimal d = 1.0m; d++; d += 0.25m; return d; }', '2.25'],
    ['@{ object o = 1.50m; return (decimal)o + 1; }', '2.50'],
  ])('%s → %s', (text, expected) => expect(toPolicyString(run(text))).toBe(expected));

  it.each([
    ['@(decimal.MaxValue + 1)', 'OverflowException'],
    ['@(1m / 0)', 'DivideByZeroException'],
    ['@((int)3000000000.5m)', 'OverflowException'],
    ['@((decimal)double.NaN)', 'OverflowException'],
  ])('%s throws %s', (text, type) => expect(failure(text).exceptionType).toBe(type));
});

/**
 * long is exact over its whole range (C# spec "Integral types": -9,223,372,036,854,775,808 to
 * 9,223,372,036,854,775,807; unchecked arithmetic wraps to 64 bits). Values beyond ±2^53 are held as BigInt.
 */
describe('long beyond 2^53', () => {
  it.each([
    ['@(long.MaxValue)', '9223372036854775807'],
    ['@(long.MinValue)', '-9223372036854775808'],
    ['@(9007199254740993L)', '9007199254740993'],
    ['@(9007199254740993L + 2)', '9007199254740995'],
    ['@{ long x = long.MaxValue; return unchecked(x + 1); }', '-9223372036854775808'],
    ['@{ long x = 3037000499; return x * x; }', '9223372030926249001'],
    ['@{ long x = long.MaxValue; return x / 7; }', '1317624576693539401'],
    ['@{ long x = long.MaxValue; return x % 1000; }', '807'],
    ['@{ long x = long.MaxValue; x--; return x; }', '9223372036854775806'],
    ['@{ long x = long.MinValue; return -x; }', '-9223372036854775808'],
    ['@(~long.MaxValue)', '-9223372036854775808'],
    ['@(1L << 62)', '4611686018427387904'],
    ['@(long.MaxValue >> 1)', '4611686018427387903'],
    ['@(long.MaxValue & 0xFF)', '255'],
    ['@(long.MaxValue > 9007199254740993L)', 'True'],
    ['@(9007199254740993L == 9007199254740992L)', 'False'],
    ['@(long.Parse("-9007199254740993"))', '-9007199254740993'],
    ['@(long.Parse("9223372036854775807").ToString("N0"))', '9,223,372,036,854,775,807'],
    ['@((int)long.MaxValue)', '-1'],
    ['@((double)9007199254740993L)', '9007199254740992'],
    ['@((decimal)long.MaxValue)', '9223372036854775807'],
    ['@(9007199254740993L * 1.0)', '9007199254740992'],
    ['@($"{long.MaxValue}")', '9223372036854775807'],
    ['@{ object o = long.MaxValue; return (long)o - 1; }', '9223372036854775806'],
    ['@(new[] { long.MaxValue, 1L }.Max())', '9223372036854775807'],
    ['@(new[] { 9007199254740993L, 2L }.Sum())', '9007199254740995'],
    ['@(JObject.Parse("{\\"n\\":9223372036854775807}").Value<long>("n"))', '9223372036854775807'],
    ['@(Convert.ToInt64("9007199254740993"))', '9007199254740993'],
  ])('%s → %s', (text, expected) => expect(toPolicyString(run(text))).toBe(expected));

  it('checked long arithmetic beyond 2^53 is exact: the largest in-range result passes, one more overflows', () => {
    expect(toPolicyString(run('@{ long x = long.MaxValue - 1; return checked(x + 1); }'))).toBe('9223372036854775807');
    expect(failure('@{ long x = long.MaxValue - 1; return checked(x + 2); }').exceptionType).toBe('OverflowException');
    expect(failure('@(checked((int)9007199254740993L))').exceptionType).toBe('OverflowException');
  });
  it('a literal beyond ulong is a load-time error', () => {
    const { expr, errors } = compile('@(18446744073709551616)');
    expect(expr).toBeNull();
    expect(errors[0]).toMatch(/^policy\.xml:1:3: error expr\/syntax: C# syntax error: integral constant 18446744073709551616 is too large/);
  });
});

describe('decimal and long together', () => {
  it.each([
    ['@((long)9223372036854775807m)', '9223372036854775807'],
    ['@((long)-9223372036854775808.9m)', '-9223372036854775808'],
    ['@(long.MaxValue + 0.5m)', '9223372036854775807.5'],
  ])('%s → %s', (text, expected) => expect(toPolicyString(run(text))).toBe(expected));
  it('(long) of a decimal beyond Int64 throws OverflowException', () => {
    expect(failure('@((long)9223372036854775808m)').exceptionType).toBe('OverflowException');
  });
});

// Ticks pass 2^53 (~9e15, about 28.5 years of 100 ns ticks) for every date after the year 29: .NET keeps them exact as Int64, and so must the
// library's Ticks members, tick-taking constructors and methods, and long → double conversions.
describe('ticks stay exact beyond 2^53', () => {
  it.each([
    ['@(new DateTime(2024, 1, 1, 0, 0, 0, 1).Ticks.ToString())', '638396640000010000'],
    ['@(new DateTimeOffset(2024, 1, 1, 0, 0, 0, 1, TimeSpan.Zero).UtcTicks % 10000)', '0'],
    ['@{ long t = new DateTime(2024, 1, 1, 0, 0, 0, 1).Ticks + 1; return new DateTime(t).Ticks == t; }', 'True'],
    ['@(TimeSpan.FromTicks(638396640000010001L).Ticks.ToString())', '638396640000010001'],
    ['@(new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(1L).UtcTicks.ToString())', '638396640000000001'],
    ['@(new DateTime(2024, 1, 1, 0, 0, 0, 1, DateTimeKind.Utc).ToFileTimeUtc().ToString())', '133485408000010000'],
    ['@(new DateTime(2024, 1, 1).Ticks / TimeSpan.TicksPerDay)', '738885'],
    ['@(new DateTime(2024, 1, 1).Ticks / TimeSpan.TicksPerSecond % 60)', '0'],
    ['@((double)new DateTime(2024, 1, 1).Ticks / TimeSpan.TicksPerDay)', '738885'],
    ['@{ long x = 9007199254740993L; return (double)x / 2; }', '4503599627370496'],
    ['@{ long x = 9007199254740993L; decimal m = x; return m; }', '9007199254740993'],
    ['@(TimeSpan.TicksPerMillisecond * 1000 == TimeSpan.TicksPerSecond && TimeSpan.TicksPerHour * 24 == TimeSpan.TicksPerDay)', 'True'],
  ])('%s → %s', (text, expected) => expect(toPolicyString(run(text))).toBe(expected));
});

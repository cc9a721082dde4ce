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
    expect(run('@{ try { int x = int.MaxValue; checked { x = x + 1; } return "no"; } catch (OverflowException e) { return e.Message; } }')).toBe('Arithmetic operation resulted in an overflow.');
  });

  it('a constant expression that overflows in checked mode is a load-time error (C# CS0220)', () => {
    const { expr, errors } = compile('@(checked(2147483647 + 1))');
    expect(expr).toBeNull();
    expect(errors[0]).toMatch(/^policy\.xml:1:22: error expr\/type: the operation overflows at compile time in checked mode/);
  });
});

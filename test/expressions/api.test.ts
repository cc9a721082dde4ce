import { describe, expect, it } from 'vitest';
import { JObject } from '../../src/dotnet/json.js';
import {
  csBool,
  csDecimal,
  csDouble,
  csInt,
  csLong,
  csString,
  ExpressionEvaluationError,
  isExpression,
  toPolicyBoolean,
  toPolicyNumber,
  toPolicyString,
} from '../../src/expressions/index.js';
import { compile, makeContext, run } from './helpers.js';

describe('public API', () => {
  it('isExpression recognises @( and @{ after trimming', () => {
    expect(isExpression('  @(1)')).toBe(true);
    expect(isExpression('@{ return 1; }\n')).toBe(true);
    expect(isExpression('@x')).toBe(false);
    expect(isExpression('plain')).toBe(false);
    expect(isExpression('a @(1)')).toBe(false);
  });

  it('reports the static result type', () => {
    const types: Array<[string, string]> = [
      ['@(1)', 'int'],
      ['@(1L)', 'long'],
      ['@(1.5)', 'double'],
      ['@(1.5m)', 'decimal'],
      ['@("s")', 'string'],
      ['@(true)', 'bool'],
      ['@(context.Variables["x"])', 'object'],
      ['@(JObject.Parse("{}"))', 'JObject'],
      ['@{ if (true) { return 1; } return "s"; }', 'object'],
      ['@{ return "a"; }', 'string'],
      ['@(DateTime.UtcNow)', 'DateTime'],
      ['@(new[] { "a" })', 'string[]'],
    ];
    for (const [text, type] of types) expect(compile(text).expr?.resultType, text).toBe(type);
  });

  it('compiles a span that starts with whitespace', () => {
    expect(toPolicyString(run('   @(1 + 1)  '))).toBe('2');
  });

  it('values the engine stores in Variables are read with their .NET types', () => {
    const ctx = makeContext({ variables: { i: csInt(5), l: csLong(6), d: csDouble(1.5), m: csDecimal(2.25), s: csString('x'), b: csBool(true) } });
    expect(run('@((int)context.Variables["i"] + 1)', ctx)).toBe(6);
    expect(run('@((long)context.Variables["l"] + 1)', ctx)).toEqual(csLong(7));
    expect(run('@((double)context.Variables["d"] * 2)', ctx)).toEqual(csDouble(3));
    // System.Decimal multiplication keeps the sum of the scales: 2.25m * 2 is 4.50
    expect(toPolicyString(run('@((decimal)context.Variables["m"] * 2)', ctx))).toBe('4.50');
    expect(run('@((string)context.Variables["s"])', ctx)).toBe('x');
    expect(run('@((bool)context.Variables["b"])', ctx)).toBe(true);
    // a double is not an int: unboxing requires the exact type, as in .NET
    expect(() => run('@((int)context.Variables["d"])', ctx)).toThrow(ExpressionEvaluationError);
  });

  it('results keep their .NET type in the object world (a double block result is boxed)', () => {
    const v = run('@{ return 2.0; }');
    expect(toPolicyString(v)).toBe('2');
    const ctx = makeContext({ variables: { r: v } });
    expect(run('@(context.Variables["r"] is double)', ctx)).toBe(true);
    expect(run('@(context.Variables["r"] is int)', ctx)).toBe(false);
  });

  it('toPolicyString follows C# ToString', () => {
    expect(toPolicyString(true)).toBe('True');
    expect(toPolicyString(false)).toBe('False');
    expect(toPolicyString(null)).toBe('');
    expect(toPolicyString(undefined)).toBe('');
    expect(toPolicyString(42)).toBe('42');
    expect(toPolicyString(csDouble(0.1))).toBe('0.1');
    expect(toPolicyString(csDouble(1e21))).toBe('1E+21');
    expect(toPolicyString(csLong(9007199254740991))).toBe('9007199254740991');
    expect(toPolicyString(JObject.Parse('{"a":[1,{"b":null}]}'))).toBe('{\n  "a": [\n    1,\n    {\n      "b": null\n    }\n  ]\n}');
    expect(toPolicyString(run('@(new { a = 1 })'))).toBe('{ a = 1 }');
    expect(toPolicyString(run('@(DateTime.UtcNow)'))).toBe('01/01/2025 00:00:00');
    expect(toPolicyString(run('@(context.RequestId)'))).toBe('6f1c0e2a-1111-4222-8333-944455556666');
  });

  it('toPolicyBoolean and toPolicyNumber', () => {
    expect(toPolicyBoolean(true)).toBe(true);
    expect(toPolicyBoolean('False')).toBe(false);
    expect(() => toPolicyBoolean(1)).toThrow(ExpressionEvaluationError);
    expect(() => toPolicyBoolean('yes')).toThrow(/not a Boolean/);
    expect(toPolicyNumber(3)).toBe(3);
    expect(toPolicyNumber(csDouble(2.5))).toBe(2.5);
    expect(toPolicyNumber(' 12 ')).toBe(12);
    expect(() => toPolicyNumber('abc')).toThrow(/not a number/);
  });

  it('an expression evaluates independently each time (no state leaks between requests)', () => {
    const { expr } = compile('@{ var l = new List<int>(); l.Add(context.Variables.GetValueOrDefault<int>("n")); return l.Count; }');
    for (let i = 0; i < 3; i++) expect(expr!.evaluate(makeContext({ variables: { n: i } }))).toBe(1);
  });

  it('DateTime.UtcNow reads the injected clock', () => {
    const ctx = makeContext();
    const { expr } = compile('@(DateTime.UtcNow.ToString("HH:mm:ss"))');
    expect(expr!.evaluate(ctx)).toBe('00:00:00');
    (ctx.clock as import('../../src/clock.js').VirtualClock).advance(3_723_000);
    expect(expr!.evaluate(ctx)).toBe('01:02:03');
  });

  it('context.Trace records a trace event', () => {
    const ctx = makeContext();
    run('@{ context.Trace($"seen {context.Request.Method}"); return 1; }', ctx);
    expect(ctx.traceEvents.map((e) => e.message)).toContain('seen POST');
  });

  it('a non-preserving read consumes the body; preserveContent keeps it', () => {
    const ctx = makeContext();
    expect(toPolicyString(run('@(context.Request.Body.As<JObject>(preserveContent: true)["model"])', ctx))).toBe('gpt-4o');
    expect(toPolicyString(run('@(context.Request.Body.As<JObject>()["model"])', ctx))).toBe('gpt-4o');
    expect(() => run('@(context.Request.Body.As<string>())', ctx)).toThrow(/already been read/);
  });
});

/**
 * Local functions and lambdas as values (issue 12). Expected values follow the C# documentation on learn.microsoft.com:
 * "Local functions" (C# programming guide: declaration anywhere in the block, use before declaration, recursion,
 * capture of enclosing locals, optional and named arguments) and "Lambda expressions" / System.Func / System.Action
 * (a lambda converts to a delegate type; `f(x)` and `f.Invoke(x)` call it; a delegate can be passed to LINQ).
 */
import { describe, expect, it } from 'vitest';
import { ExpressionEvaluationError, toPolicyString } from '../../src/expressions/index.js';
import { compile, makeContext, run } from './helpers.js';

function table(title: string, cases: Array<[string, string]>): void {
  describe(title, () => {
    it.each(cases)('%s', (text, expected) => expect(toPolicyString(run(text, makeContext()))).toBe(expected));
  });
}

function failure(text: string): ExpressionEvaluationError {
  try {
    run(text);
  } catch (e) {
    if (e instanceof ExpressionEvaluationError) return e;
    throw e;
  }
  throw new Error(`expected ${text} to fail`);
}

table('local functions', [
  // recursion; IPAddress.HostToNetworkOrder(1) is 16777216 on a little-endian machine (System.Net.IPAddress docs)
  ['@{ return Fact(10); int Fact(int n) { return n <= 1 ? 1 : n * Fact(n - 1); } }', '3628800'],
  [
    '@{ int HostToNetworkOrder(int host) { return (((int)Swap((short)host) & 0xFFFF) << 16) | ((int)Swap((short)(host >> 16)) & 0xFFFF); } short Swap(short host) { return (short)(((host & 0xFF) << 8) | ((host >> 8) & 0xFF)); } return HostToNetworkOrder(1); }',
    '16777216',
  ],
  ['@{ int Fib(int n) => n < 2 ? n : Fib(n - 1) + Fib(n - 2); return Fib(20); }', '6765'],
  // closures over enclosing locals see and change the variable itself
  ['@{ int total = 0; void Add(int x) { total += x; } Add(2); Add(3); return total; }', '5'],
  ['@{ var prefix = "id-"; string Tag(string s) => prefix + s; prefix = "key-"; return Tag("a"); }', 'key-a'],
  // optional and named arguments
  [
    '@{ string Greet(string name, string greeting = "Hello") => $"{greeting}, {name}!"; return Greet("Ada") + " " + Greet(greeting: "Hi", name: "Bob"); }',
    'Hello, Ada! Hi, Bob!',
  ],
  // each recursive call has its own locals
  [
    '@{ string Walk(JToken t) { if (t is JObject o) { var parts = new List<string>(); foreach (var p in o.Properties()) parts.Add(p.Name + ":" + Walk(p.Value)); return "{" + string.Join(",", parts) + "}"; } return t.ToString(); } return Walk(JObject.Parse("{\\"a\\":{\\"b\\":1,\\"c\\":{\\"d\\":2}},\\"e\\":3}")); }',
    '{a:{b:1,c:{d:2}},e:3}',
  ],
  // a void local function taking an IResponse, as Microsoft's snippets write
  [
    '@{ var log = new List<string>(); void ParseBody(JObject e, string name, int code) { log.Add(name + "=" + e["model"] + "/" + code); } ParseBody(context.Request.Body.As<JObject>(preserveContent: true), "req", 200); return log[0]; }',
    'req=gpt-4o/200',
  ],
  ['@{ static int Twice(int x) => x * 2; return Twice(21); }', '42'],
  // a return inside a loop of a local function
  [
    '@{ int IndexOf(string[] a, string v) { for (int i = 0; i < a.Length; i++) { if (a[i] == v) return i; } return -1; } return IndexOf(new[] { "x", "y" }, "y"); }',
    '1',
  ],
]);

table('lambdas as values', [
  ['@{ Func<string, string> f = s => s.ToUpper(); return f("a") + f.Invoke("b"); }', 'AB'],
  ['@{ Func<int, bool> even = x => x % 2 == 0; return string.Join(",", new[] { 1, 2, 3, 4 }.Where(even)); }', '2,4'],
  ['@{ Func<int, int> sq = x => x * x; return new[] { 1, 2, 3 }.Select(sq).Sum(); }', '14'],
  ['@{ Func<int, int, int> add = (a, b) => a + b; Func<int, int, int, int> add3 = (a, b, c) => a + b + c; return add(1, 2) + add3(1, 2, 3); }', '9'],
  ['@{ Func<string> now = () => "t"; return now(); }', 't'],
  // a lambda calling itself through its variable (recursion needs the variable assigned first, as in C#)
  ['@{ Func<int, int> fact = null; fact = n => n <= 1 ? 1 : n * fact(n - 1); return fact(5); }', '120'],
  ['@{ int n = 0; Action inc = () => n++; inc(); inc(); return n; }', '2'],
  [
    '@{ var seen = new List<string>(); Action<string, int> note = (s, i) => seen.Add(s + i); note("a", 1); note.Invoke("b", 2); return string.Join(",", seen); }',
    'a1,b2',
  ],
  ['@{ Func<JObject, string> model = o => (string)o["model"]; return model(context.Request.Body.As<JObject>(preserveContent: true)); }', 'gpt-4o'],
  ['@{ Func<string, bool> isKey = h => h.StartsWith("Api", StringComparison.OrdinalIgnoreCase); return context.Request.Headers.Keys.Any(isKey); }', 'True'],
  ['@{ Func<int, int> twice(Func<int, int> g) => x => g(g(x)); return twice(x => x + 3)(1); }', '7'],
]);

describe('recursion is bounded (docs/expressions.md, "Limits")', () => {
  it('400 levels run; deeper recursion fails with StackOverflowException that catch cannot swallow', () => {
    expect(run('@{ int Deep(int n) => n == 0 ? 0 : 1 + Deep(n - 1); return Deep(399); }')).toBe(399);
    const e = failure('@{ void F() { F(); } try { F(); } catch (Exception) { return 1; } return 0; }');
    expect(e.exceptionType).toBe('StackOverflowException');
    expect(e.message).toMatch(/more than 400 nested local function calls/);
    expect(failure('@{ Func<int, int> g = null; g = n => g(n + 1); return g(0); }').exceptionType).toBe('StackOverflowException');
  });
  it('a null delegate throws NullReferenceException at the call', () => {
    const e = failure('@{ Func<int, int> g = null; return g(1); }');
    expect(e.exceptionType).toBe('NullReferenceException');
    expect(e.column).toBe(36);
  });
});

describe('load-time errors at file:line:col', () => {
  it.each([
    [
      '@{ int F(int x) { if (x > 0) return 1; } return F(1); }',
      /^policy\.xml:1:\d+: error expr\/type: not all code paths of local function "F" return a value/,
    ],
    ['@{ return G(1); }', /^policy\.xml:1:11: error expr\/type: the method "G" does not exist/],
    ['@{ int F(int x) => x; return F(); }', /^policy\.xml:1:\d+: error expr\/type: there is no argument given for the parameter "x" of "F"/],
    ['@{ int F(int x) => x; return F("a"); }', /^policy\.xml:1:\d+: error expr\/type: cannot implicitly convert type string to int/],
    ['@{ int F(int x) => x; int F(int y) => y; return 1; }', /^policy\.xml:1:27: error expr\/type: a local variable or function named "F" is already defined/],
    ['@{ void F() { return 1; } return 0; }', /^policy\.xml:1:22: error expr\/type: a function returning void cannot return a value/],
    ['@{ T Id<T>(T x) => x; return 1; }', /^policy\.xml:1:\d+: error expr\/syntax: C# syntax error: generic local functions are not supported/],
    ['@{ void F(ref int x) { } return 1; }', /^policy\.xml:1:11: error expr\/syntax: C# syntax error: "ref" parameters of local functions are not supported/],
    ['@{ Func<int, int> f = (a, b) => a; return 1; }', /^policy\.xml:1:\d+: error expr\/type: the lambda takes 2 parameter\(s\) but 1 are expected here/],
    ['@{ Func<string, int> f = s => s.Length; return new[] { 1 }.Where(f).Count(); }', /^policy\.xml:1:\d+: error expr\/type: /],
    ['@{ var f = (int x) => x; return 1; }', /^policy\.xml:1:\d+: error expr\/type: cannot assign a lambda expression to an implicitly typed variable/],
  ])('%s', (text, expected) => {
    const { expr, errors } = compile(text);
    expect(expr).toBeNull();
    expect(errors[0]).toMatch(expected);
  });
});

describe('local functions in other statement lists', () => {
  it('a switch section may declare one; an if body without braces may not', () => {
    expect(run('@{ switch (1) { case 1: int Twice(int x) => x * 2; return Twice(4); default: return 0; } }')).toBe(8);
    const { expr, errors } = compile('@{ if (true) int F() => 1; return 0; }');
    expect(expr).toBeNull();
    expect(errors[0]).toMatch(/^policy\.xml:1:14: error expr\/syntax: C# syntax error: a declaration is not allowed here/);
  });
});

/**
 * C# that APIM compiles and real policies use (issue 12). Expected values follow the documented .NET behaviour named
 * on each table (Microsoft's .NET API reference and the C# language specification).
 */
import { describe, expect, it } from 'vitest';
import { ExpressionEvaluationError, toPolicyString } from '../../src/expressions/index.js';
import { compile, makeContext, run } from './helpers.js';

function table(title: string, cases: Array<[string, string]>, ctx = makeContext): void {
  describe(title, () => {
    for (const [text, expected] of cases) {
      it(text, () => expect(toPolicyString(run(text, ctx()))).toBe(expected));
    }
  });
}

function throws(text: string): ExpressionEvaluationError {
  try {
    run(text);
  } catch (e) {
    if (e instanceof ExpressionEvaluationError) return e;
    throw e;
  }
  throw new Error(`expected ${text} to throw`);
}

// C# specification, "The checked and unchecked statements": a statement block; unchecked int arithmetic wraps.
table('checked / unchecked statements', [
  ['@{ unchecked { int x = int.MaxValue; x++; return x; } }', '-2147483648'],
  ['@{ int h = 5; checked { h = h * 2; } return h; }', '10'],
  ['@{ uint v = 0; unchecked { v = (uint)(v * 31 + 7); } return v; }', '7'],
]);

// .NET API reference, System.DateTimeOffset constructors, Add* methods, ToUnixTimeSeconds/Milliseconds,
// implicit operator DateTimeOffset(DateTime).
table('DateTimeOffset', [
  ['@(new DateTimeOffset(2020, 1, 2, 3, 4, 5, TimeSpan.Zero).ToString("o"))', '2020-01-02T03:04:05.0000000+00:00'],
  ['@(new DateTimeOffset(2020, 1, 2, 3, 4, 5, 6, TimeSpan.FromHours(2)).ToUnixTimeSeconds())', '1577927045'],
  ['@(new DateTimeOffset(2020, 1, 2, 3, 4, 5, 6, TimeSpan.FromHours(2)).ToString("o"))', '2020-01-02T03:04:05.0060000+02:00'],
  ['@(new DateTimeOffset(new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc)).ToUnixTimeMilliseconds())', '1577836800000'],
  ['@(new DateTimeOffset(new DateTime(2020, 1, 1), TimeSpan.FromHours(-5)).ToUnixTimeSeconds())', '1577854800'],
  ['@(new DateTimeOffset(new DateTime(2020, 1, 1), TimeSpan.Zero).Ticks == new DateTime(2020, 1, 1).Ticks)', 'True'],
  ['@((DateTimeOffset.FromUnixTimeSeconds(100) + TimeSpan.FromSeconds(5)).ToUnixTimeSeconds())', '105'],
  ['@(DateTimeOffset.FromUnixTimeSeconds(1600000000).AddMinutes(5).ToUnixTimeSeconds())', '1600000300'],
  ['@(DateTimeOffset.FromUnixTimeSeconds(1600000000).AddSeconds(30).AddHours(1).AddDays(1).ToUnixTimeSeconds())', '1600090030'],
  ['@(new DateTimeOffset(2020, 1, 31, 0, 0, 0, TimeSpan.Zero).AddMonths(1).Day)', '29'],
  ['@(new DateTimeOffset(2020, 2, 29, 0, 0, 0, TimeSpan.Zero).AddYears(1).ToString("yyyy-MM-dd"))', '2021-02-28'],
  ['@{ DateTimeOffset d = DateTime.UtcNow; return d.AddSeconds(1).ToUnixTimeSeconds(); }', '1735689601'],
  ['@(new DateTimeOffset(2020, 1, 1, 12, 0, 0, TimeSpan.FromHours(2)).ToOffset(TimeSpan.Zero).Hour)', '10'],
  ['@((new DateTimeOffset(2020, 1, 2, 0, 0, 0, TimeSpan.Zero) - new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero)).TotalHours)', '24'],
]);

describe('DateTimeOffset exceptions', () => {
  // .NET: ArgumentException "The UTC Offset for Utc DateTime instances must be 0."; offsets must be whole minutes
  // within ±14 hours (ArgumentException / ArgumentOutOfRangeException).
  it.each([
    ['@(new DateTimeOffset(new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc), TimeSpan.FromHours(1)).Year)', 'ArgumentException'],
    ['@(new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.FromSeconds(30)).Year)', 'ArgumentException'],
    ['@(new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.FromHours(15)).Year)', 'ArgumentOutOfRangeException'],
  ])('%s', (text, type) => expect(throws(text).exceptionType).toBe(type));
});

// .NET API reference, System.Linq.Enumerable: each method's result and its documented exception.
table('LINQ: the rest of System.Linq.Enumerable', [
  ['@(new int[] {1, 2, 3}.ElementAtOrDefault(5))', '0'],
  ['@(new string[] {"a"}.ElementAtOrDefault(5) == null)', 'True'],
  ['@(new int[] {1, 2, 3}.ElementAtOrDefault(1))', '2'],
  ['@(new int[] {1, 2, 3}.Single(x => x == 2))', '2'],
  ['@(new int[] {1, 2, 3}.SingleOrDefault(x => x > 5))', '0'],
  ['@(new int[] {1, 2, 3}.Aggregate((a, b) => a + b))', '6'],
  ['@(new string[] {"a", "b"}.Aggregate("x", (acc, s) => acc + s))', 'xab'],
  ['@(string.Join(",", new int[] {1, 2, 3}.Zip(new int[] {4, 5, 6}, (a, b) => a + b)))', '5,7,9'],
  ['@(string.Join(",", new int[] {1, 2, 3, 1}.SkipWhile(x => x < 2)))', '2,3,1'],
  ['@(string.Join(",", new int[] {1, 2, 3, 1}.TakeWhile(x => x < 3)))', '1,2'],
  ['@(string.Join(",", new int[] {1, 2, 3}.Union(new int[] {3, 4})))', '1,2,3,4'],
  ['@(string.Join(",", new int[] {1, 2, 2, 3}.Intersect(new int[] {2, 3, 5})))', '2,3'],
  ['@(string.Join(",", new int[] {1, 2, 2, 3}.Except(new int[] {1})))', '2,3'],
  ['@(new int[] {1, 2, 3}.SequenceEqual(new int[] {1, 2, 3}))', 'True'],
  ['@(new int[] {1, 2, 3}.SequenceEqual(new int[] {1, 2}))', 'False'],
  ['@(string.Join(",", new int[] {1, 2}.DefaultIfEmpty(7)))', '1,2'],
  ['@(new int[] {}.DefaultIfEmpty(7).First())', '7'],
  ['@(new int[] {}.DefaultIfEmpty().First())', '0'],
  ['@(string.Join(",", new int[] {1, 2}.Append(3).Prepend(0)))', '0,1,2,3'],
  ['@(JArray.Parse("[1,2,3]").Select(t => (int)t).Aggregate((a, b) => a * b))', '6'],
]);

describe('LINQ exceptions', () => {
  // Single: InvalidOperationException "Sequence contains more than one element"; Aggregate on an empty sequence:
  // InvalidOperationException "Sequence contains no elements".
  it.each([
    ['@(new int[] {1, 2, 3}.Single())', 'InvalidOperationException', 'Sequence contains more than one element'],
    ['@(new int[0].Aggregate((a, b) => a + b))', 'InvalidOperationException', 'Sequence contains no elements'],
    ['@(new int[] {1, 2}.ElementAt(5))', 'ArgumentOutOfRangeException', ''],
  ])('%s', (text, type, message) => {
    const e = throws(text);
    expect(e.exceptionType).toBe(type);
    expect(e.innerMessage).toContain(message);
  });
});

// APIM policy-expression reference: AsJwt parses a JWT; an Authorization value "Bearer <token>" is Microsoft's own
// sample (rate-limit-by-key on Headers.GetValueOrDefault("Authorization","").AsJwt()?.Subject).
const TOKEN = [
  Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url'),
  Buffer.from(JSON.stringify({ sub: 'user-1', iss: 'https://issuer.example' })).toString('base64url'),
  'sig',
].join('.');
table(
  'AsJwt on an Authorization header',
  [
    ['@(context.Request.Headers.GetValueOrDefault("Authorization","").AsJwt()?.Subject)', 'user-1'],
    ['@(context.Request.Headers.GetValueOrDefault("Authorization","").AsJwt()?.Issuer)', 'https://issuer.example'],
    ['@(context.Request.Headers.GetValueOrDefault("X-None","").AsJwt()?.Subject ?? "anonymous")', 'anonymous'],
    ['@("Bearer not-a-jwt".AsJwt() == null)', 'True'],
  ],
  () => makeContext({ headers: [['Authorization', `Bearer ${TOKEN}`]] }),
);

describe('AsFormUrlEncodedContent returns a Dictionary<string, IList<string>>', () => {
  it('keys in body order, repeated keys collected, + and %XX decoded', () => {
    const ctx = makeContext({ body: 'a=1&b=x+y&a=2&c=%2Fz' });
    expect(
      run('@(string.Join(";", context.Request.Body.AsFormUrlEncodedContent().Select(kv => kv.Key + "=" + kv.Value.Count() + ":" + kv.Value.Last())))', ctx),
    ).toBe('a=2:2;b=1:x y;c=1:/z');
  });
});

describe('what stays unsupported is a load-time error at file:line:col', () => {
  it.each([
    ['@{ var r = XmlReader.Create(""); return 1; }', /^policy\.xml:1:12: error expr\/type: /],
    ['@(context.Request.Body.As<XmlDocument>())', /^policy\.xml:1:\d+: error expr\/type: /],
  ])('%s', (text, expected) => {
    const { expr, errors } = compile(text);
    expect(expr).toBeNull();
    expect(errors[0]).toMatch(expected);
  });
});

/**
 * Hostile expressions (issue 16): each class ends in a positioned diagnostic at load, or in the .NET exception APIM
 * would raise at run time (reaching on-error as ExpressionValueEvaluationFailure), in bounded time and memory.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Regex, isRiskyPattern, setRegexMatchTimeout } from '../../src/dotnet/regex.js';
import { ExpressionEvaluationError, setExpressionTimeBudget } from '../../src/expressions/index.js';
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

const nest = (open: string, inner: string, close: string, n: number): string => open.repeat(n) + inner + close.repeat(n);

describe('load-time nesting limits: a positioned diagnostic, never a JS stack overflow', () => {
  // [what, expression, expected message fragment]
  const CASES: Array<[string, string, string]> = [
    ['1,500 parentheses', `@(${nest('(', '1', ')', 1500)})`, 'nested too deeply'],
    ['5,000-term binary chain', `@(${Array(5000).fill('1').join(' + ')})`, 'nested too deeply'],
    ['3,000-term ?? chain', `@(${Array(3000).fill('(string)null').join(' ?? ')})`, 'nested too deeply'],
    ['2,000 nested ternaries', `@(${'true ? 1 : '.repeat(2000)}2)`, 'nested too deeply'],
    ['5,000-member chain', `@("a"${'.Trim()'.repeat(5000)})`, 'nested too deeply'],
    ['2,000 nested blocks', `@{ ${nest('{ ', 'return 1; ', '} ', 2000)}}`, 'nested too deeply'],
    ['400 nested lambdas', `@(${'new int[0].Select(x => '.repeat(400)}x${')'.repeat(400)})`, 'nested too deeply'],
    ['400 nested generic arguments', `@(default(${'List<'.repeat(400)}int${'>'.repeat(400)}))`, 'nested too deeply'],
    ['300 nested interpolated strings', `@(${nest('$"{', '1', '}"', 300)})`, 'nested too deeply'],
    ['5,000 unary operators', `@(${'!'.repeat(5000)}true)`, 'nested too deeply'],
  ];
  for (const [what, text, message] of CASES) {
    it(what, () => {
      const { expr, errors } = compile(text);
      expect(expr).toBeNull();
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/^policy\.xml:1:\d+: error expr\/syntax: /);
      expect(errors[0]).toContain(message);
    });
  }

  it('ordinary nesting (20 levels) still compiles', () => {
    expect(run(`@(${nest('(', '1', ' + 1)', 20)})`)).toBe(21);
  });
});

describe('type confusions are load-time diagnostics, not crashes', () => {
  // C# compiler errors CS0117 (no such member), CS0131/CS1059 (++ on a value), CS0119 (type used as a value).
  const CASES: Array<[string, RegExp]> = [
    ['@(Array.Exists(new int[]{1}, x => x == 1))', /1:9: error expr\/type: the type "Array" has no static method "Exists"/],
    ['@(1++)', /error expr\/type: the operand must be a variable/],
    ['@(--context.Response.StatusCode)', /error expr\/type: /],
    ['@(string)', /1:3: error expr\/type: "string" is a type, which is not valid in the given context/],
    ['@(1 + JObject)', /1:7: error expr\/type: "JObject" is a type, which is not valid/],
    ['@(System.Text)', /error expr\/type: "System.Text" is a namespace/],
  ];
  for (const [text, expected] of CASES) {
    it(text, () => {
      const { expr, errors } = compile(text);
      expect(expr).toBeNull();
      expect(errors.join('\n')).toMatch(expected);
    });
  }

  it("new JArray(new JObject()) is Newtonsoft's JArray(object content): one item", () => {
    // Newtonsoft.Json JContainer.IsMultiContent: a JToken is single content even though JObject is IEnumerable.
    expect(run('@(new JArray(new JObject()).ToString(Newtonsoft.Json.Formatting.None))')).toBe('[{}]');
    expect(run('@(new JArray(new List<int>{1, 2}).ToString(Newtonsoft.Json.Formatting.None))')).toBe('[1,2]');
  });
});

describe('runtime memory limits raise .NET exceptions', () => {
  // .NET: a string or array that cannot be allocated throws OutOfMemoryException; Enumerable.Range / Repeat throw
  // ArgumentOutOfRangeException for a negative count (docs.microsoft.com, Enumerable.Range / Enumerable.Repeat).
  const CASES: Array<[string, string]> = [
    ["@(new string('a', int.MaxValue))", 'OutOfMemoryException'],
    ['@("a".PadLeft(int.MaxValue))', 'OutOfMemoryException'],
    ['@("a".PadRight(int.MaxValue, \'x\'))', 'OutOfMemoryException'],
    ['@(string.Format("{0,999999999}", 1))', 'OutOfMemoryException'],
    ['@($"{1,999999999}")', 'OutOfMemoryException'],
    ["@(new StringBuilder().Append('x', int.MaxValue).Length)", 'OutOfMemoryException'],
    ['@(Enumerable.Range(0, int.MaxValue).Count())', 'OutOfMemoryException'],
    ['@(Enumerable.Repeat("a", int.MaxValue).Count())', 'OutOfMemoryException'],
    ['@(Enumerable.Range(0, -1).Count())', 'ArgumentOutOfRangeException'],
    ['@(Enumerable.Repeat(1, -1).Count())', 'ArgumentOutOfRangeException'],
  ];
  for (const [text, type] of CASES) {
    it(text, () => {
      const e = failure(text);
      expect(e.reason).toBe('ExpressionValueEvaluationFailure');
      expect(e.exceptionType).toBe(type);
      expect(e.line).toBe(1);
    });
  }

  it('the exception can be caught in the expression like in .NET', () => {
    expect(run(`@{ try { return new string('a', int.MaxValue); } catch (OutOfMemoryException e) { return "caught: " + e.Message; } }`)).toBe(
      "caught: Exception of type 'System.OutOfMemoryException' was thrown.",
    );
  });

  it('small generated sequences still work', () => {
    expect(run('@(Enumerable.Range(1, 100).Sum())')).toBe(5050);
    expect(run('@(string.Concat(Enumerable.Repeat("ab", 3)))')).toBe('ababab');
  });
});

describe('deep JSON is bounded at parse and at ToString', () => {
  it("JToken.Parse stops at Newtonsoft 13's default MaxDepth of 64", () => {
    expect(run(`@(JToken.Parse(new string('[', 64) + new string(']', 64)).Type.ToString())`)).toBe('Array');
    const e = failure(`@(JToken.Parse(new string('[', 65) + new string(']', 65)))`);
    expect(e.exceptionType).toBe('JsonReaderException');
    expect(e.innerMessage).toMatch(/^The reader's MaxDepth of 64 has been exceeded\. Path '.*', line 1, position 65\.$/);
  });

  it('a 100,000-level JObject built in a loop fails within the time budget instead of freezing the gateway', () => {
    const text =
      '@{ var root = new JObject(); var cur = root; for (int i = 0; i < 100000; i++) { var n = new JObject(); cur["a"] = n; cur = n; } return root.ToString(); }';
    setExpressionTimeBudget(300);
    const t = performance.now();
    const e = failure(text);
    expect(performance.now() - t).toBeLessThan(5_000); // a bound on a hang, not a speed measurement
    expect(['ExecutionBudgetExceeded', 'InsufficientExecutionStackException']).toContain(e.exceptionType);
  });

  it('writing a tree deeper than 1,000 levels raises InsufficientExecutionStackException', () => {
    const e = failure(
      '@{ var root = new JArray(); var cur = root; for (int i = 0; i < 1500; i++) { var n = new JArray(); cur.Add(n); cur = n; } return root.ToString(); }',
    );
    expect(e.exceptionType).toBe('InsufficientExecutionStackException');
    expect(
      run(
        '@{ var root = new JArray(); var cur = root; for (int i = 0; i < 500; i++) { var n = new JArray(); cur.Add(n); cur = n; } return root.ToString(Newtonsoft.Json.Formatting.None).Length; }',
      ),
    ).toBe(1002);
  });
});

describe('regular expressions cannot backtrack catastrophically', () => {
  afterEach(() => {
    setRegexMatchTimeout(100);
    setExpressionTimeBudget(2000);
  });

  // [pattern, risky?, engine]
  const ENGINES: Array<[string, boolean, string]> = [
    ['^[a-z]+$', false, 'js'],
    ['(\\d{3})-(\\d{4})', false, 'js'],
    ['^(a+)+$', true, 're2'],
    ['^(a|aa)*b', true, 're2'],
    ['(?<w>(a|b)+)', true, 're2'],
    ['^(a+)+\\1$', true, 'js-timeout'],
    ['(?=(a+)+)x', true, 'js-timeout'],
  ];
  for (const [pattern, risky, engine] of ENGINES) {
    it(`${pattern} runs on ${engine}`, () => {
      expect(isRiskyPattern(pattern)).toBe(risky);
      expect(new Regex(pattern).engine).toBe(engine);
    });
  }

  it("^(a+)+$ on 5,000 characters answers (re2js, linear time) with .NET's result", () => {
    expect(run(`@(Regex.IsMatch(new string('a', 5000) + "!", "^(a+)+$"))`)).toBe(false);
    expect(run(`@(Regex.IsMatch(new string('a', 5000), "^(a+)+$"))`)).toBe(true);
    expect(run(`@(Regex.Match("xx aaab yy", @"(?<w>(a|b)+)").Groups["w"].Value)`)).toBe('aaab');
    expect(run(`@(Regex.Replace("a1b22c333", @"(\\d+)+", "#"))`)).toBe('a#b#c#');
  });

  it('a backtracking-only pattern (backreference) raises RegexMatchTimeoutException', () => {
    setRegexMatchTimeout(50);
    const e = failure(`@(Regex.IsMatch(new string('a', 40) + "!", @"^(a|aa)+\\1$"))`);
    expect(e.exceptionType).toBe('RegexMatchTimeoutException');
    setRegexMatchTimeout(10_000); // the same engine answers an ordinary input (a generous limit: CI machines are busy)
    expect(run(`@(Regex.IsMatch("abab", @"^(ab)\\1$"))`)).toBe(true);
  });

  it('RegexMatchTimeoutException is catchable as in .NET', () => {
    setRegexMatchTimeout(50);
    expect(
      run(`@{ try { return Regex.IsMatch(new string('a', 40) + "!", @"^(a|aa)+\\1$").ToString(); } catch (RegexMatchTimeoutException) { return "timeout"; } }`),
    ).toBe('timeout');
  });

  it('$ before a final newline keeps .NET semantics on the re2 path', () => {
    // .NET: $ (without Multiline) matches at the end or before a final \n.
    expect(run(`@(Regex.IsMatch("ab\\n", "^(a|b)+$"))`)).toBe(true);
    expect(run(`@(Regex.IsMatch("ab\\nc", "^(a|b)+$"))`)).toBe(false);
  });

  it('the CPU time budget stops a loop that does quadratic work', () => {
    setExpressionTimeBudget(1); // 1 ms: the loop needs far longer on any machine, so the time budget (not the step budget) ends it
    const e = failure('@{ var s = ""; for (int i = 0; i < 1000000; i++) { s = s + "x"; if (s.Length > 100000) { s = ""; } } return s; }');
    expect(e.exceptionType).toBe('ExecutionBudgetExceeded');
  });
});

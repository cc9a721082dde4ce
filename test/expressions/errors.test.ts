import { describe, expect, it } from 'vitest';
import { DiagnosticBag } from '../../src/diagnostics/diagnostic.js';
import { SourceText, TextSpan } from '../../src/diagnostics/source.js';
import { compileExpression, ExpressionEvaluationError, setExpressionStepBudget } from '../../src/expressions/index.js';
import { compile, makeContext } from './helpers.js';

/** Compiles the expression embedded in a multi-line policy file; returns the first diagnostic. */
function diagnoseInFile(file: string): { line?: number; column?: number; message: string; code: string } {
  const source = new SourceText('api.xml', file);
  const start = file.indexOf('@');
  let depth = 0;
  let end = start + 1;
  for (; end < file.length - 1; end++) {
    const c = file[end];
    if (c === '(' || c === '{') depth++;
    if (c === ')' || c === '}') {
      depth--;
      if (depth === 0) break;
    }
  }
  const bag = new DiagnosticBag();
  const r = compileExpression(TextSpan.verbatim(source, start, end + 1), bag);
  expect(r).toBeNull();
  const d = bag.items[0]!;
  return { line: d.line, column: d.column, message: d.message, code: d.code };
}

describe('compile errors point at the offending token in the policy file', () => {
  const cases: Array<{ name: string; file: string; line: number; column: number; message: RegExp; code: string }> = [
    {
      name: 'unknown member',
      file: '<policies>\n  <inbound>\n    <set-header name="x">\n      <value>@(context.Request.Headerz.GetValueOrDefault("a"))</value>\n',
      line: 4,
      column: 32,
      message: /"IRequest" has no member "Headerz".*/,
      code: 'expr/type',
    },
    {
      name: 'missing closing parenthesis in a call',
      file: '<x>\n  @(Math.Max(1,\n    2)',
      line: 3,
      column: 7,
      message: /not closed/,
      code: 'expr/syntax',
    },
    {
      name: 'unknown name in a multi-line block',
      file: '<set-body>@{\n    var a = 1;\n    var b = a + undefinedThing;\n    return b;\n}</set-body>',
      line: 3,
      column: 17,
      message: /"undefinedThing" does not exist/,
      code: 'expr/type',
    },
    {
      name: 'type mismatch in assignment',
      file: '<x>\n\n  @{\n    int n = "text";\n    return n;\n  }',
      line: 4,
      column: 13,
      message: /cannot implicitly convert type string to int/,
      code: 'expr/type',
    },
    {
      name: 'not all code paths return',
      file: '<x>@{\n  if (context.Request.Method == "GET") {\n    return 1;\n  }\n}</x>',
      line: 2,
      column: 3,
      message: /not all code paths return a value/,
      code: 'expr/type',
    },
    {
      name: 'unterminated string',
      file: '<x a="@(\n  "abc)"/>',
      line: 2,
      column: 3,
      message: /unterminated string literal/,
      code: 'expr/syntax',
    },
    {
      name: 'missing semicolon',
      file: '<x>@{\n  var a = 1\n  return a;\n}</x>',
      line: 3,
      column: 3,
      message: /expected ";"/,
      code: 'expr/syntax',
    },
    {
      name: 'wrong overload',
      file: '<x>@(\n    "abc".Substring("1"))</x>',
      line: 2,
      column: 11,
      message: /no overload of "string.Substring" takes these arguments \(string\)/,
      code: 'expr/type',
    },
    {
      name: 'unknown static member with suggestion',
      file: '<x>@(string.IsNullOrEmty("a"))</x>',
      line: 1,
      column: 13,
      message: /no static method "IsNullOrEmty"/,
      code: 'expr/type',
    },
    {
      name: 'unsupported type',
      file: '<x>@{\n  var p = new System.Diagnostics.Process();\n  return 1;\n}</x>',
      line: 2,
      column: 15,
      message: /not an available namespace or type|not available/,
      code: 'expr/type',
    },
    {
      name: 'break outside loop',
      file: '<x>@{ break; }</x>',
      line: 1,
      column: 7,
      message: /"break" outside of a loop/,
      code: 'expr/type',
    },
    {
      name: 'duplicate local',
      file: '<x>@{ var a = 1; var a = 2; return a; }</x>',
      line: 1,
      column: 22,
      message: /already defined/,
      code: 'expr/type',
    },
    {
      name: 'bad operator operands',
      file: '<x>@(true + 1)</x>',
      line: 1,
      column: 11,
      message: /operator "\+" cannot be applied/,
      code: 'expr/type',
    },
    {
      name: 'body as unsupported type',
      file: '<x>@(context.Request.Body.As<XmlDocument>())</x>',
      line: 1,
      column: 1,
      message: /XmlDocument/,
      code: 'expr/type',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = diagnoseInFile(c.file);
      expect(d.code).toBe(c.code);
      expect(d.message).toMatch(c.message);
      if (c.name !== 'body as unsupported type') expect({ line: d.line, column: d.column }).toEqual({ line: c.line, column: c.column });
    });
  }

  it('reports positions through entity-decoded spans (positions map to the raw file)', () => {
    // The attribute holds &quot; entities; the decoded span maps each character back to its file offset.
    const raw = '<x a="@(context.Foo + &quot;a&quot;)"/>';
    const source = new SourceText('ent.xml', raw);
    const start = raw.indexOf('@');
    const decoded = '@(context.Foo + "a")';
    const offsets: number[] = [];
    let i = start;
    for (const ch of decoded) {
      offsets.push(i);
      i += ch === '"' ? '&quot;'.length : 1;
    }
    offsets.push(i);
    const span = new TextSpan(decoded, source, Int32Array.from(offsets));
    const bag = new DiagnosticBag();
    expect(compileExpression(span, bag)).toBeNull();
    expect(bag.items[0]).toMatchObject({ file: 'ent.xml', line: 1, column: raw.indexOf('Foo') + 1 });
  });
});

describe('runtime failures surface as ExpressionValueEvaluationFailure with a location', () => {
  function fail(text: string, ctx = makeContext({ variables: { s: 'str', n: 1 } })): ExpressionEvaluationError {
    const { expr, errors } = compile(text, 'p.xml');
    expect(errors).toEqual([]);
    try {
      expr!.evaluate(ctx);
    } catch (e) {
      expect(e).toBeInstanceOf(ExpressionEvaluationError);
      return e as ExpressionEvaluationError;
    }
    throw new Error(`expected ${text} to fail`);
  }

  it('null reference names the member access position', () => {
    const e = fail('@{\n  string s = null;\n  return s.Length;\n}');
    expect(e.reason).toBe('ExpressionValueEvaluationFailure');
    expect(e.exceptionType).toBe('NullReferenceException');
    expect(e.message).toContain('Object reference not set to an instance of an object.');
    expect({ line: e.line, column: e.column }).toEqual({ line: 3, column: 11 });
    expect(e.message).toContain('p.xml:3:11');
  });

  it('invalid cast from object', () => {
    const e = fail('@((int)context.Variables["s"])');
    expect(e.exceptionType).toBe('InvalidCastException');
    expect(e.innerMessage).toBe("Unable to cast object of type 'System.String' to type 'System.Int32'.");
    expect(e.column).toBe(3);
  });

  it('missing variable is a KeyNotFoundException', () => {
    const e = fail('@((string)context.Variables["missing"])');
    expect(e.exceptionType).toBe('KeyNotFoundException');
    expect(e.innerMessage).toBe("The given key 'missing' was not present in the dictionary.");
  });

  it('GetValueOrDefault<T> with the wrong type throws (documented behaviour)', () => {
    const e = fail('@(context.Variables.GetValueOrDefault<int>("s"))');
    expect(e.exceptionType).toBe('InvalidCastException');
  });

  it('integer division by zero', () => {
    const e = fail('@{ int z = 0; return 1 / z; }');
    expect(e.exceptionType).toBe('DivideByZeroException');
  });

  it('reading a consumed body', () => {
    const e = fail('@(context.Request.Body.As<string>() + context.Request.Body.As<string>())');
    expect(e.exceptionType).toBe('InvalidOperationException');
  });

  it('a missing body is null: Body.As on it is a null reference', () => {
    const e = fail('@(context.Request.Body.As<JObject>()["a"])', makeContext({ body: null }));
    expect(e.exceptionType).toBe('NullReferenceException');
  });

  it('JSON parse errors are JsonReaderException', () => {
    const e = fail('@(JObject.Parse("{oops").ToString())');
    expect(e.exceptionType).toBe('JsonReaderException');
  });

  it('index out of range', () => {
    const e = fail('@("a,b".Split(\',\')[5])');
    expect(e.exceptionType).toBe('IndexOutOfRangeException');
  });

  it('First on an empty sequence', () => {
    const e = fail('@(new int[0].First())');
    expect(e.innerMessage).toBe('Sequence contains no elements');
  });

  it('an uncaught throw statement', () => {
    const e = fail('@{ throw new InvalidOperationException("custom"); }');
    expect(e.exceptionType).toBe('InvalidOperationException');
    expect(e.innerMessage).toBe('custom');
  });

  it('an endless loop hits the step budget instead of hanging', () => {
    const e = fail('@{ while (true) { } }');
    expect(e.exceptionType).toBe('ExecutionBudgetExceeded');
  });

  it('the budget cannot be swallowed by catch (Exception)', () => {
    setExpressionStepBudget(10_000);
    try {
      const e = fail('@{ try { for (;;) { } } catch (Exception) { return 1; } }');
      expect(e.exceptionType).toBe('ExecutionBudgetExceeded');
    } finally {
      setExpressionStepBudget(5_000_000);
    }
  });

  it('the budget also counts lambda calls', () => {
    setExpressionStepBudget(1_000);
    try {
      const e = fail('@(Enumerable.Range(0, 5000).Where(x => x > 0).Count())');
      expect(e.exceptionType).toBe('ExecutionBudgetExceeded');
    } finally {
      setExpressionStepBudget(5_000_000);
    }
  });
});

describe('sandbox: no way to reach Node from an expression', () => {
  const attempts = [
    '@(context.constructor)',
    '@(context.__proto__)',
    '@(context.Request.Headers.constructor.constructor("return process")())',
    '@("x".constructor)',
    '@(process.env)',
    '@(globalThis)',
    '@(require("fs"))',
    '@(context.Variables.get("x"))',
    '@(context.request.headers)',
    '@(System.Diagnostics.Process.Start("sh"))',
    '@(System.IO.File.ReadAllText("/etc/passwd"))',
    '@(typeof(string))',
    '@(Type.GetType("System.IO.File"))',
    '@(new JObject().GetType().Assembly)',
    '@(this)',
    '@(eval("1"))',
  ];
  for (const a of attempts) {
    it(`rejects ${a} at compile time`, () => {
      const { expr, errors } = compile(a);
      expect(expr).toBeNull();
      expect(errors.length).toBeGreaterThan(0);
      expect(errors[0]).toMatch(/policy\.xml:1:\d+: error expr\/(type|syntax)/);
    });
  }
});

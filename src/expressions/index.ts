/**
 * Public API of the C# policy-expression engine: compile `@(...)` / `@{...}` once at load time (syntax and type
 * errors reported with the policy file's line:col), evaluate many times as closures over the GatewayContext.
 */
import type { DiagnosticBag } from '../diagnostics/diagnostic.js';
import type { TextSpan } from '../diagnostics/source.js';
import type { GatewayContext } from '../engine/context.js';
import { DotNetException } from '../dotnet/exceptions.js';
import { doubleToString, formatBoolean } from '../dotnet/format.js';
import { CompileError, Compiler, EMPTY_FRAME } from './compiler.js';
import { LexError } from './lexer.js';
import { parsePolicyExpression, ParseError } from './parser.js';
import { Decimal } from '../dotnet/decimal.js';
import { BudgetExceeded, CsBoxed, resetSteps, toCsString, type BoxedKind } from './runtime.js';
import { typeName } from './types.js';
import './library/all.js';
import type { DiagnosticCode } from '../diagnostics/codes.js';

export { setExpressionStepBudget, setExpressionTimeBudget, CsBoxed, AnonymousObject } from './runtime.js';
export { setRegexMatchTimeout } from '../dotnet/regex-safety.js';

/** True when the (trimmed) text is a policy expression: starts with "@(" or "@{". */
export function isExpression(text: string): boolean {
  const t = text.trim();
  return t.startsWith('@(') || t.startsWith('@{');
}

export interface CompiledExpression {
  readonly span: TextSpan;
  /** Static C# type of the result as far as known: 'string' | 'bool' | 'int' | 'long' | 'double' | 'decimal' | 'object' | a type name. */
  readonly resultType: string;
  /** Throws ExpressionEvaluationError on a runtime failure (APIM's ExpressionValueEvaluationFailure). */
  evaluate(ctx: GatewayContext): unknown;
}

/** A runtime failure of an expression, as APIM reports it (LastError.Reason = ExpressionValueEvaluationFailure). */
export class ExpressionEvaluationError extends Error {
  readonly reason = 'ExpressionValueEvaluationFailure' as const;
  constructor(
    message: string,
    readonly file: string,
    readonly line: number,
    readonly column: number,
    /** The .NET exception type, e.g. "NullReferenceException" (or "ExecutionBudgetExceeded"). */
    readonly exceptionType: string,
    /** The .NET exception message alone. */
    readonly innerMessage: string,
  ) {
    super(message);
    this.name = 'ExpressionEvaluationError';
  }
}

/**
 * Compiles an expression span (`span.text` is the whole `@(...)` or `@{...}`). Errors go to `diagnostics` with
 * file:line:col of the offending token; returns null when the expression does not compile.
 */
export function compileExpression(span: TextSpan, diagnostics: DiagnosticBag): CompiledExpression | null {
  const text = span.text;
  const start = text.length - text.trimStart().length;
  const end = text.trimEnd().length;
  const report = (pos: number, code: DiagnosticCode, message: string, hint?: string): null => {
    diagnostics.error(span.source, span.sourceOffset(Math.max(0, Math.min(pos, text.length))), code, message, hint);
    return null;
  };
  let parsed;
  try {
    parsed = parsePolicyExpression(text, start, end);
  } catch (e) {
    if (e instanceof ParseError || e instanceof LexError) return report(e.pos, 'expr/syntax', `C# syntax error: ${e.message}`);
    if (e instanceof RangeError) return report(start, 'expr/limit', `the expression is too deeply nested for the emulator to parse (${e.message})`);
    throw e;
  }
  const compiler = new Compiler(text);
  let program;
  try {
    program = parsed.kind === 'expression' ? compiler.compileExpressionProgram(parsed.expr) : compiler.compileBlockProgram(parsed.block);
  } catch (e) {
    if (e instanceof CompileError) return report(e.pos, 'expr/type', e.message, e.hint);
    // Safety net behind the parser's nesting limit: a JS stack overflow is the user's input, not an emulator crash.
    if (e instanceof RangeError) return report(start, 'expr/limit', `the expression is too deeply nested for the emulator to compile (${e.message})`);
    throw e;
  }
  const { run, frameSize } = program;
  const resultType = typeName(program.type);
  const fail = (e: unknown): never => {
    throw toEvaluationError(e, span, start);
  };
  const evaluate =
    frameSize === 0
      ? (ctx: GatewayContext): unknown => {
          resetSteps();
          try {
            return run(ctx, EMPTY_FRAME);
          } catch (e) {
            return fail(e);
          }
        }
      : (ctx: GatewayContext): unknown => {
          resetSteps();
          try {
            return run(ctx, new Array<unknown>(frameSize));
          } catch (e) {
            return fail(e);
          }
        };
  return { span, resultType, evaluate };
}

function toEvaluationError(e: unknown, span: TextSpan, start: number): unknown {
  if (e instanceof BudgetExceeded) {
    const p = span.positionAt(start);
    return new ExpressionEvaluationError(
      `Expression evaluation failed. ${e.message} (${p.file}:${p.line}:${p.column})`,
      p.file,
      p.line,
      p.column,
      e.exceptionType,
      e.message,
    );
  }
  if (e instanceof DotNetException) {
    const pos = (e as { csPos?: number }).csPos ?? start;
    const p = span.positionAt(pos);
    return new ExpressionEvaluationError(
      `Expression evaluation failed. ${e.message} (${p.file}:${p.line}:${p.column})`,
      p.file,
      p.line,
      p.column,
      e.typeName,
      e.message,
    );
  }
  // JS engine limits reached by hostile expressions become the .NET exceptions APIM would raise (docs/expressions.md).
  if (e instanceof RangeError) return toEvaluationError(jsLimitToDotNet(e), span, start);
  return e;
}

/** Maps a JS RangeError (string/array too large, stack exhausted) to the .NET exception of the same cause. */
export function jsLimitToDotNet(e: RangeError): DotNetException {
  if (/call stack/i.test(e.message)) {
    return new DotNetException(
      'InsufficientExecutionStackException',
      'Insufficient stack to continue executing the program safely. This can happen from having too many functions on the call stack or function on the stack using too much stack space.',
    );
  }
  if (/string length|array length|allocation failed|too large/i.test(e.message))
    return new DotNetException('OutOfMemoryException', "Exception of type 'System.OutOfMemoryException' was thrown.");
  return new DotNetException('ArgumentOutOfRangeException', `Specified argument was out of the range of valid values. (${e.message})`);
}

/** C# `value.ToString()` of an expression result: true → "True", null → "", double → shortest round-trip, JObject → indented JSON. */
export function toPolicyString(value: unknown): string {
  if (typeof value === 'string') return value;
  return toCsString(value);
}

/** A boolean result (policy conditions); anything else fails like APIM's cast would. */
export function toPolicyBoolean(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
  throw new ExpressionEvaluationError(
    `Expression evaluation failed. The expression's value "${toCsString(value)}" is not a Boolean.`,
    '',
    0,
    0,
    'InvalidCastException',
    'not a Boolean',
  );
}

/** A numeric result (counts, durations): numbers, boxed numbers and numeric strings. */
export function toPolicyNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (value instanceof CsBoxed) return Number(value.value);
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Decimal) return value.toNumber();
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  throw new ExpressionEvaluationError(
    `Expression evaluation failed. The expression's value "${toCsString(value)}" is not a number.`,
    '',
    0,
    0,
    'FormatException',
    'not a number',
  );
}

// ---- values the engine puts into context.Variables --------------------------------------------------------------------
/** An Int32 value (plain JS number). */
export function csInt(n: number): number {
  return n | 0;
}
export function csLong(n: number): CsBoxed {
  return new CsBoxed('long', Math.trunc(n));
}
export function csDouble(n: number): CsBoxed {
  return new CsBoxed('double', n);
}
export function csDecimal(n: number | string): Decimal {
  return typeof n === 'string' ? (Decimal.parse(n) ?? Decimal.Zero) : Decimal.fromNumber(n);
}
export function csString(s: string): string {
  return s;
}
export function csBool(b: boolean): boolean {
  return b;
}
/** A boxed number of any kind (for tests and engine code). */
export function csBoxed(kind: BoxedKind, n: number): CsBoxed {
  return new CsBoxed(kind, n);
}

/** How a result prints, for traces: like toPolicyString but doubles and booleans explicit. */
export function describeValue(value: unknown): string {
  if (typeof value === 'boolean') return formatBoolean(value);
  if (typeof value === 'number' && !Number.isInteger(value)) return doubleToString(value);
  return toPolicyString(value);
}

/**
 * Runtime representation of C# values (see docs/expressions.md):
 * - string → JS string, bool → JS boolean, null → null, int → JS number (an integer in Int32 range).
 * - long/double/decimal/float/char/byte/short... are JS numbers while their static type is known; when such a value
 *   becomes `object` (stored in a variable, returned from an expression, passed as object) it is boxed in CsBoxed so
 *   later unboxing casts and ToString() know its .NET type. An int is never boxed.
 * - arrays and List<T> → JS arrays (byte[] → Uint8Array), Dictionary → Map, HashSet → Set, anonymous objects →
 *   AnonymousObject, JSON → the src/dotnet Newtonsoft model.
 */
import { DotNetException } from '../dotnet/exceptions.js';
import { Decimal } from '../dotnet/decimal.js';
import { doubleToString, formatBoolean, formatNumber, isDotNetFormattable, type NumericKind } from '../dotnet/format.js';

export type BoxedKind = 'long' | 'double' | 'decimal' | 'float' | 'char' | 'byte' | 'sbyte' | 'short' | 'ushort' | 'uint' | 'ulong';

/** A non-int number typed as `object`. */
export class CsBoxed {
  constructor(
    readonly kind: BoxedKind,
    readonly value: number,
  ) {}

  toString(): string {
    return boxedToString(this);
  }
}

const NUMERIC_KIND: Record<string, NumericKind> = {
  int: 'Int32',
  long: 'Int64',
  double: 'Double',
  decimal: 'Decimal',
  float: 'Single',
  byte: 'Byte',
  sbyte: 'SByte',
  short: 'Int16',
  ushort: 'UInt16',
  uint: 'UInt32',
  ulong: 'UInt64',
};

export function numericKind(csName: string): NumericKind | undefined {
  return NUMERIC_KIND[csName];
}

function boxedToString(b: CsBoxed): string {
  if (b.kind === 'char') return String.fromCharCode(b.value);
  if (b.kind === 'double' || b.kind === 'float') return doubleToString(b.value);
  return formatNumber(b.value, undefined, NUMERIC_KIND[b.kind]!);
}

/**
 * A long (Int64) value: a JS number while it is a safe integer, a bigint beyond ±2^53, so every long is exact
 * (docs/expressions.md, "Runtime representation"). `normLong` wraps to 64 bits (unchecked C#) and picks the form.
 */
export type LongValue = number | bigint;
export function normLong(b: bigint): LongValue {
  const w = BigInt.asIntN(64, b);
  return w >= -9007199254740991n && w <= 9007199254740991n ? Number(w) : w;
}
/** A long as a double (what C#'s implicit long → double conversion gives). */
export function longToNumber(v: unknown): number {
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

/** `new { a = 1 }`: ordered, read-only members. */
export class AnonymousObject {
  constructor(
    readonly names: readonly string[],
    readonly values: unknown[],
  ) {}

  toString(): string {
    // C#: "{ a = 1, b = x }"
    return `{ ${this.names.map((n, i) => `${n} = ${toCsString(this.values[i])}`).join(', ')} }`;
  }
}

/** `KeyValuePair<K,V>` from dictionary/header enumeration. */
export class KeyValuePair {
  constructor(
    readonly Key: unknown,
    readonly Value: unknown,
  ) {}
}

// ---- execution budget ----------------------------------------------------------------------------------------------

/** Loop iterations and lambda calls allowed per evaluation; `while(true){}` fails instead of hanging the gateway. */
export let stepBudget = 5_000_000;
export let steps = 0;
/**
 * CPU time allowed per evaluation (ms, measured on the process's monotonic clock, not the emulated one: it protects
 * the gateway, it is not emulated behaviour). Checked every 1,024 steps, so work that grows faster than its loop
 * count (quadratic library calls inside a loop) is bounded too.
 */
export let timeBudgetMs = 2_000;
let deadline = Infinity;

export function setExpressionStepBudget(n: number): void {
  stepBudget = n;
}
export function setExpressionTimeBudget(ms: number): void {
  timeBudgetMs = ms;
}
export function resetSteps(): void {
  steps = 0;
  callDepth = 0;
  deadline = performance.now() + timeBudgetMs;
}
export function step(): void {
  if (++steps > stepBudget) throw new BudgetExceeded(`${stepBudget} loop iterations or calls`);
  if ((steps & 1023) === 0 && performance.now() > deadline) throw new BudgetExceeded(`${timeBudgetMs} ms of CPU time`);
}
/** Charges n steps at once (materialising n elements costs like n loop iterations). */
export function chargeSteps(n: number): void {
  steps += n;
  checkBudget();
}
function checkBudget(): void {
  if (steps > stepBudget) throw new BudgetExceeded(`${stepBudget} loop iterations or calls`);
  if (performance.now() > deadline) throw new BudgetExceeded(`${timeBudgetMs} ms of CPU time`);
}

/** Not a .NET exception: `catch (Exception)` in the expression cannot swallow it. */
export class BudgetExceeded extends Error {
  readonly exceptionType: string = 'ExecutionBudgetExceeded';
  constructor(what: string, message?: string) {
    super(message ?? `The expression exceeded its execution budget (${what}); an endless loop?`);
  }
}

/**
 * Local-function calls allowed on the stack at once. .NET's StackOverflowException ends the process and no `catch`
 * sees it; here it fails the evaluation the same uncatchable way, before the JS stack runs out (docs/expressions.md).
 */
export const MAX_CALL_DEPTH = 400;
let callDepth = 0;

export class StackOverflow extends BudgetExceeded {
  override readonly exceptionType = 'StackOverflowException';
  constructor() {
    super('', `Stack overflow: more than ${MAX_CALL_DEPTH} nested local function calls (unbounded recursion?).`);
  }
}

/** Enters a local-function call; the caller must call leaveCall() in a finally. */
export function enterCall(): void {
  step();
  if (++callDepth > MAX_CALL_DEPTH) {
    callDepth--;
    throw new StackOverflow();
  }
}
export function leaveCall(): void {
  callDepth--;
}

// ---- exceptions -----------------------------------------------------------------------------------------------------

export function nre(): DotNetException {
  return new DotNetException('NullReferenceException', 'Object reference not set to an instance of an object.');
}

export function invalidCast(from: string, to: string): DotNetException {
  return new DotNetException('InvalidCastException', `Unable to cast object of type '${from}' to type '${to}'.`);
}

/** A .NET exception thrown by `throw new Exception("...")` or by the library. */
export function isDotNetException(e: unknown): e is DotNetException {
  return e instanceof DotNetException;
}

/** Runtime .NET type name of an object-typed value (for messages and GetType()). */
export function runtimeTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return 'System.String';
  if (typeof v === 'boolean') return 'System.Boolean';
  if (typeof v === 'number') return 'System.Int32';
  if (v instanceof CsBoxed) {
    const m: Record<BoxedKind, string> = {
      long: 'System.Int64',
      double: 'System.Double',
      decimal: 'System.Decimal',
      float: 'System.Single',
      char: 'System.Char',
      byte: 'System.Byte',
      sbyte: 'System.SByte',
      short: 'System.Int16',
      ushort: 'System.UInt16',
      uint: 'System.UInt32',
      ulong: 'System.UInt64',
    };
    return m[v.kind];
  }
  if (v instanceof Uint8Array) return 'System.Byte[]';
  if (Array.isArray(v)) return 'System.Object[]';
  if (v instanceof Map) return 'System.Collections.Generic.Dictionary`2';
  if (v instanceof AnonymousObject) return '<>f__AnonymousType';
  const ctor = (v as { constructor?: { clrTypeName?: string; name?: string } }).constructor;
  if (ctor?.clrTypeName) return ctor.clrTypeName;
  if (ctor?.name) return ctor.name;
  return 'System.Object';
}

/** `value.ToString()` / string concatenation of an object-typed value (C# semantics; null → ""). */
export function toCsString(v: unknown): string {
  if (v === null || v === undefined) return '';
  switch (typeof v) {
    case 'string':
      return v;
    case 'boolean':
      return formatBoolean(v);
    case 'number':
      return Number.isInteger(v) ? String(v) : doubleToString(v);
    case 'bigint':
      return v.toString();
    default:
      break;
  }
  if (v instanceof CsBoxed) return boxedToString(v);
  if (isDotNetFormattable(v)) return v.toDotNetString();
  if (v instanceof Uint8Array) return 'System.Byte[]';
  if (Array.isArray(v)) return 'System.Object[]';
  if (v instanceof Map) return 'System.Collections.Generic.Dictionary`2[System.String,System.Object]';
  if (v instanceof Set) return 'System.Collections.Generic.HashSet`1[System.Object]';
  if (v instanceof AnonymousObject || v instanceof KeyValuePair) return kvpOrAnonString(v);
  const ts = (v as { toCsString?: () => string }).toCsString;
  if (typeof ts === 'function') return ts.call(v);
  return runtimeTypeName(v);
}

function kvpOrAnonString(v: AnonymousObject | KeyValuePair): string {
  if (v instanceof KeyValuePair) return `[${toCsString(v.Key)}, ${toCsString(v.Value)}]`;
  return v.toString();
}

/** The JS number inside an object-typed numeric value, or undefined if it is not numeric. */
export function unboxNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v instanceof Decimal) return v.toNumber();
  if (v instanceof CsBoxed) return v.value;
  return undefined;
}

/** object.Equals(a, b): value equality for primitives and boxed numbers of the same type, reference otherwise. */
export function csEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  if (a instanceof CsBoxed && b instanceof CsBoxed) return a.kind === b.kind && a.value === b.value;
  const eq = (a as { csEquals?: (o: unknown) => boolean }).csEquals;
  if (typeof eq === 'function') return eq.call(a, b);
  return false;
}

/** Hash-free key for Dictionary/HashSet maps: strings and ints as themselves; boxed numbers by value. */
export function mapKey(v: unknown): unknown {
  if (v instanceof CsBoxed) return `${v.kind}:${v.value}`;
  if (v instanceof Decimal) return v.key;
  return v;
}

/** Dictionaries are Maps keyed by mapKey(key); entries keep the original key. */
export class CsDictionary {
  readonly map = new Map<unknown, [unknown, unknown]>();
  constructor(readonly ignoreCase = false) {}
  key(k: unknown): unknown {
    if (k === null || k === undefined) throw new DotNetException('ArgumentNullException', "Value cannot be null. (Parameter 'key')");
    return this.ignoreCase && typeof k === 'string' ? k.toLowerCase() : mapKey(k);
  }
  get(k: unknown): unknown {
    const e = this.map.get(this.key(k));
    if (!e) throw new DotNetException('KeyNotFoundException', `The given key '${toCsString(k)}' was not present in the dictionary.`);
    return e[1];
  }
  set(k: unknown, v: unknown): void {
    const key = this.key(k);
    const e = this.map.get(key);
    if (e) e[1] = v;
    else this.map.set(key, [k, v]);
  }
  add(k: unknown, v: unknown): void {
    const key = this.key(k);
    if (this.map.has(key)) throw new DotNetException('ArgumentException', `An item with the same key has already been added. Key: ${toCsString(k)}`);
    this.map.set(key, [k, v]);
  }
  *entries(): Iterable<KeyValuePair> {
    for (const [k, v] of this.map.values()) yield new KeyValuePair(k, v);
  }
  toCsString(): string {
    return 'System.Collections.Generic.Dictionary`2';
  }
}

/**
 * Conversions between static C# types and their runtime representation: boxing to object, numeric casts, how each
 * type prints (ToString / concatenation / interpolation with format), and the implicit/explicit JToken operators.
 */
import { DotNetException } from '../../dotnet/exceptions.js';
import { doubleToString, formatBoolean, formatNumber, isDotNetFormattable } from '../../dotnet/format.js';
import { DateTime, DateTimeOffset, TimeSpan } from '../../dotnet/datetime.js';
import { explicitCast, JArray, JObject, JProperty, JToken, JValue, toJToken, type JConvertTargets } from '../../dotnet/json.js';
import { Decimal, toDecimal } from '../../dotnet/decimal.js';
import { AnonymousObject, CsBoxed, CsDictionary, KeyValuePair, normLong, numericKind, toCsString, type BoxedKind } from '../runtime.js';
import { isEnum, isNumeric, unwrapNullable, type CsType } from '../types.js';
import { typeDefOf } from './registry.js';

// decimal values are Decimal objects (src/dotnet/decimal.ts), which carry their type: they need no box
const BOXED = new Set<string>(['long', 'double', 'float', 'char', 'byte', 'sbyte', 'short', 'ushort', 'uint', 'ulong']);

/** How a value of static type `t` becomes an object-world value; null when it needs no change. */
export function boxValue(t: CsType): ((v: unknown) => unknown) | null {
  const u = unwrapNullable(t);
  if (BOXED.has(u.name)) {
    const k = u.name as BoxedKind;
    return (v) => (v === null || v === undefined ? null : new CsBoxed(k, v as number));
  }
  if (isEnum(u)) {
    const def = typeDefOf(u)!;
    return (v) => (v === null || v === undefined ? null : new EnumValue(u.name, v as number, def.enumMembers!, def.flags === true));
  }
  return null;
}

/** A boxed enum value (prints its member name). */
export class EnumValue {
  constructor(
    readonly type: string,
    readonly value: number,
    private readonly members: Record<string, number>,
    private readonly flags: boolean,
  ) {}
  toDotNetString(): string {
    return enumName(this.value, this.members, this.flags);
  }
  csEquals(o: unknown): boolean {
    return o instanceof EnumValue && o.type === this.type && o.value === this.value;
  }
}

export function enumName(v: number, members: Record<string, number>, flags: boolean): string {
  for (const [k, x] of Object.entries(members)) if (x === v) return k;
  if (flags && v !== 0) {
    const parts = Object.entries(members)
      .filter(([, x]) => x !== 0 && (v & x) === x)
      .map(([k]) => k);
    if (parts.length) return parts.join(', ');
  }
  return String(v);
}

/** `x.ToString()` / `x.ToString(format)` / concatenation for a value of static type t. Null prints as "". */
export function stringify(t: CsType, format?: string): (v: unknown) => string {
  const u = unwrapNullable(t);
  const name = u.name;
  if (name === 'string') return (v) => (v as string | null) ?? '';
  if (name === 'bool') return (v) => (v === null || v === undefined ? '' : formatBoolean(v as boolean));
  if (name === 'char') return (v) => (v === null || v === undefined ? '' : String.fromCharCode(v as number));
  const kind = numericKind(name);
  if (kind) {
    if (!format && name === 'int') return (v) => (v === null || v === undefined ? '' : String(v));
    if (!format && (name === 'double' || name === 'float')) return (v) => (v === null || v === undefined ? '' : doubleToString(v as number));
    if (name === 'decimal') return (v) => (v === null || v === undefined ? '' : formatDecimal(v as Decimal, format));
    return (v) => (v === null || v === undefined ? '' : formatNumber(v as number, format, kind));
  }
  if (isEnum(u)) {
    const def = typeDefOf(u)!;
    return (v) => (v === null || v === undefined ? '' : enumName(v as number, def.enumMembers!, def.flags === true));
  }
  if (format) {
    return (v) => {
      if (v === null || v === undefined) return '';
      if (v instanceof CsBoxed) {
        if (v.kind === 'char') return String.fromCharCode(v.value);
        return formatNumber(v.value, format, numericKind(v.kind)!);
      }
      if (typeof v === 'number') return formatNumber(v, format, 'Int32');
      if (v instanceof Decimal) return formatDecimal(v, format);
      if (isDotNetFormattable(v)) return v.toDotNetString(format);
      return toCsString(v);
    };
  }
  return toCsString;
}

/** Explicit numeric conversion (unchecked C# semantics). */
export function convertPrimitive(from: CsType, to: CsType): (v: number) => number {
  void from;
  switch (to.name) {
    case 'int':
      return (v) => (Number.isFinite(v) ? Math.trunc(v) | 0 : -2147483648);
    case 'uint':
      return (v) => Math.trunc(v) >>> 0;
    case 'short':
      return (v) => (Math.trunc(v) << 16) >> 16;
    case 'ushort':
    case 'char':
      return (v) => Math.trunc(v) & 0xffff;
    case 'byte':
      return (v) => Math.trunc(v) & 0xff;
    case 'sbyte':
      return (v) => (Math.trunc(v) << 24) >> 24;
    case 'long':
    case 'ulong':
      return (v) => {
        if (!Number.isFinite(v)) return -9223372036854775808;
        const t = Math.trunc(v);
        return Number.isSafeInteger(t) ? t : (normLong(BigInt(t)) as number);
      };
    case 'float':
      return Math.fround;
    case 'decimal':
      return (v) => {
        if (!Number.isFinite(v)) throw new DotNetException('OverflowException', 'Value was either too large or too small for a Decimal.');
        return v;
      };
    default:
      return (v) => v;
  }
}

/** object → T unboxing step after the runtime type test succeeded. */
export function unboxer(t: CsType): ((v: unknown) => unknown) | null {
  const u = unwrapNullable(t);
  if (BOXED.has(u.name)) return (v) => (v as CsBoxed).value;
  if (isEnum(u)) return (v) => (v instanceof EnumValue ? v.value : v);
  return null;
}

/** Implicit conversion to JToken (Newtonsoft's implicit operators from primitives). */
export function toJTokenConverter(from: CsType): ((v: unknown) => unknown) | null {
  const u = unwrapNullable(from);
  switch (u.name) {
    case 'string':
      return (v) => JValue.CreateString(v as string | null);
    case 'bool':
      return (v) => (v === null || v === undefined ? JValue.CreateNull() : JValue.fromBoolean(v as boolean));
    case 'int':
    case 'long':
    case 'short':
    case 'byte':
    case 'sbyte':
    case 'ushort':
    case 'uint':
    case 'ulong':
      return (v) => (v === null || v === undefined ? JValue.CreateNull() : JValue.fromInteger(v as number));
    case 'double':
    case 'float':
      return (v) => (v === null || v === undefined ? JValue.CreateNull() : JValue.fromFloat(v as number));
    case 'decimal':
      return (v) => (v === null || v === undefined ? JValue.CreateNull() : JValue.fromFloat((v as Decimal).toNumber()));
    case 'char':
      return (v) => (v === null || v === undefined ? JValue.CreateNull() : JValue.CreateString(String.fromCharCode(v as number)));
    case 'DateTime':
    case 'DateTimeOffset':
    case 'TimeSpan':
    case 'Guid':
    case 'Uri':
      return (v) => (v === null || v === undefined ? JValue.CreateNull() : toJToken(v as DateTime));
    case 'Array':
      if (u.args[0]!.name === 'byte') return (v) => (v === null ? JValue.CreateNull() : JValue.fromBytes(v as Uint8Array));
      return null;
    default:
      return null;
  }
}

/** Object-world value → JToken (JsonConvert.SerializeObject, JObject.FromObject, JArray(params object[])). */
export function csToJToken(v: unknown): JToken {
  if (v instanceof JToken) return v;
  if (v === null || v === undefined) return JValue.CreateNull();
  if (typeof v === 'number') return Number.isInteger(v) ? JValue.fromInteger(v) : JValue.fromFloat(v);
  if (v instanceof CsBoxed) {
    if (v.kind === 'char') return JValue.CreateString(String.fromCharCode(v.value));
    if (v.kind === 'double' || v.kind === 'float' || v.kind === 'decimal') return JValue.fromFloat(v.value);
    return JValue.fromInteger(v.value);
  }
  if (v instanceof EnumValue) return JValue.fromInteger(v.value);
  if (v instanceof Decimal) return JValue.fromFloat(v.toNumber());
  if (v instanceof AnonymousObject) {
    const o = new JObject();
    v.names.forEach((n, i) => o.Add(n, csToJToken(v.values[i])));
    return o;
  }
  if (v instanceof KeyValuePair) {
    const o = new JObject();
    o.Add('Key', csToJToken(v.Key));
    o.Add('Value', csToJToken(v.Value));
    return o;
  }
  if (v instanceof Uint8Array) return JValue.fromBytes(v);
  if (v instanceof CsDictionary) {
    const o = new JObject();
    for (const e of v.entries()) o.Add(toCsString(e.Key), csToJToken(e.Value));
    return o;
  }
  if (Array.isArray(v) || v instanceof Set) return JArray.create(...[...v].map(csToJToken));
  if (v instanceof Map) {
    const o = new JObject();
    for (const [k, x] of v) o.Add(toCsString(k), csToJToken(x));
    return o;
  }
  if (typeof v === 'string' || typeof v === 'boolean' || v instanceof DateTime || v instanceof DateTimeOffset || v instanceof TimeSpan) return toJToken(v);
  if (isDotNetFormattable(v)) return JValue.CreateString(v.toDotNetString());
  throw new DotNetException('JsonSerializationException', `The emulator cannot serialize a value of type ${(v as object).constructor?.name ?? typeof v}.`);
}

/** A decimal from a number the JSON or numbers module produced (null stays null). */
export function decimalOrNull(v: unknown): Decimal | null {
  return v === null || v === undefined ? null : toDecimal(v);
}

/** decimal.ToString([format]): without a format every digit of the scale; with one, .NET's numeric formatting. */
export function formatDecimal(v: Decimal, format?: string | null): string {
  return v.toDotNetString(format);
}

/** Static C# type name → the JSON module's conversion target name, if supported. */
export function jsonTarget(t: CsType): keyof JConvertTargets | undefined {
  const u = unwrapNullable(t);
  const nullable = u !== t;
  const base = ['string', 'int', 'long', 'double', 'float', 'decimal', 'bool', 'DateTime', 'JToken', 'JObject', 'JArray', 'object'].includes(u.name)
    ? u.name
    : undefined;
  if (!base) return undefined;
  if (nullable) return `${base}?` as keyof JConvertTargets;
  return base as keyof JConvertTargets;
}

/** JSON module results → static representation (Int64 bigint → a long: number when safe; decimal targets → Decimal). */
export function fromJsonResult(v: unknown, target?: string): unknown {
  if (target === 'decimal' || target === 'decimal?') return decimalOrNull(v);
  return typeof v === 'bigint' ? normLong(v) : v;
}

/** Explicit operators `(string)token`, `(int)token`, ... and JToken downcasts. */
export function jtokenExplicit(from: CsType, to: CsType): ((v: unknown) => unknown) | undefined {
  if (!['JToken', 'JValue', 'JObject', 'JArray', 'JProperty', 'JContainer'].includes(from.name)) return undefined;
  const target = jsonTarget(to);
  if (!target) return undefined;
  if (target === 'JObject' || target === 'JArray') {
    return (v) => explicitCast(v as JToken | null, target);
  }
  if (target === 'JToken' || target === 'object') return undefined;
  if (target === 'decimal' || target === 'decimal?') return (v) => decimalOrNull(fromJsonResult(explicitCast(v as JToken | null, target)));
  return (v) => fromJsonResult(explicitCast(v as JToken | null, target));
}

export { JObject, JArray, JProperty, JValue, JToken, isNumeric };

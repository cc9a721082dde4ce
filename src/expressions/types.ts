/**
 * Static C# types as the checker sees them. A type is a name plus generic arguments; arrays are `Array<T>`,
 * nullable value types `Nullable<T>`. Names are the C# keyword for predefined types (int, string...) and the simple
 * .NET name otherwise (JObject, List, Dictionary, DateTime...).
 */
export interface CsType {
  readonly name: string;
  readonly args: readonly CsType[];
  /** Anonymous object members, in declaration order. */
  readonly fields?: ReadonlyArray<{ name: string; type: CsType }>;
}

const cache = new Map<string, CsType>();

export function named(name: string, ...args: CsType[]): CsType {
  if (args.length === 0) {
    let t = cache.get(name);
    if (!t) {
      t = { name, args: [] };
      cache.set(name, t);
    }
    return t;
  }
  return { name, args };
}

export const T = {
  int: named('int'),
  long: named('long'),
  uint: named('uint'),
  ulong: named('ulong'),
  short: named('short'),
  ushort: named('ushort'),
  byte: named('byte'),
  sbyte: named('sbyte'),
  double: named('double'),
  float: named('float'),
  decimal: named('decimal'),
  bool: named('bool'),
  char: named('char'),
  string: named('string'),
  object: named('object'),
  void: named('void'),
  /** The type of the `null` literal. */
  null: named('null'),
  /** Type of a lambda before it is bound to a delegate type. */
  lambda: named('lambda'),
  /** Static C# type `dynamic`-free escape: an expression naming a type or namespace has no value type. */
  DateTime: named('DateTime'),
  TimeSpan: named('TimeSpan'),
  Guid: named('Guid'),
  JToken: named('JToken'),
  JObject: named('JObject'),
  JArray: named('JArray'),
  JValue: named('JValue'),
  JProperty: named('JProperty'),
  bytes: named('Array', named('byte')),
  strings: named('Array', named('string')),
};

export const arrayOf = (t: CsType): CsType => named('Array', t);
export const listOf = (t: CsType): CsType => named('List', t);
export const nullableOf = (t: CsType): CsType => (t.name === 'Nullable' ? t : named('Nullable', t));
export const enumerableOf = (t: CsType): CsType => named('IEnumerable', t);
export const kvpOf = (k: CsType, v: CsType): CsType => named('KeyValuePair', k, v);
export const funcOf = (...ts: CsType[]): CsType => named('Func', ...ts);

export const INTEGRAL = new Set(['int', 'long', 'uint', 'ulong', 'short', 'ushort', 'byte', 'sbyte', 'char']);
export const NUMERIC = new Set([...INTEGRAL, 'double', 'float', 'decimal']);

/** Types the emulator treats as value types (not nullable without `?`). */
const VALUE_TYPES = new Set([...NUMERIC, 'bool', 'DateTime', 'TimeSpan', 'Guid', 'KeyValuePair', 'DateTimeOffset']);
const ENUMS = new Set<string>();

export function registerEnumType(name: string): void {
  ENUMS.add(name);
}
export function isEnum(t: CsType): boolean {
  return ENUMS.has(t.name);
}

export function isValueType(t: CsType): boolean {
  return VALUE_TYPES.has(t.name) || ENUMS.has(t.name);
}
export function isNumeric(t: CsType): boolean {
  return NUMERIC.has(t.name);
}
export function isIntegral(t: CsType): boolean {
  return INTEGRAL.has(t.name);
}
export function isNullable(t: CsType): boolean {
  return t.name === 'Nullable';
}
/** The underlying type of `T?`, or t itself. */
export function unwrapNullable(t: CsType): CsType {
  return t.name === 'Nullable' ? t.args[0]! : t;
}
export function acceptsNull(t: CsType): boolean {
  return !isValueType(t) || t.name === 'Nullable';
}

export function sameType(a: CsType, b: CsType): boolean {
  if (a === b) return true;
  if (a.name !== b.name || a.args.length !== b.args.length) return false;
  if (a.fields || b.fields) return a === b;
  return a.args.every((x, i) => sameType(x, b.args[i]!));
}

const DISPLAY: Record<string, string> = { Nullable: '?', Array: '[]' };

/** C# spelling of a type, for messages. */
export function typeName(t: CsType): string {
  if (t.name === 'Array' && t.args.length) return `${typeName(t.args[0]!)}[]`;
  if (t.name === 'Nullable' && t.args.length) return `${typeName(t.args[0]!)}?`;
  if (t.name === 'Anon') return `<anonymous type: ${t.fields!.map((f) => `${typeName(f.type)} ${f.name}`).join(', ')}>`;
  if (t.name === 'null') return '<null>';
  if (t.name === 'lambda') return 'lambda expression';
  void DISPLAY;
  return t.args.length ? `${t.name}<${t.args.map(typeName).join(', ')}>` : t.name;
}

/** .NET full type name for GetType()/InvalidCastException messages. */
export function clrName(t: CsType): string {
  const prim: Record<string, string> = {
    int: 'System.Int32',
    long: 'System.Int64',
    uint: 'System.UInt32',
    ulong: 'System.UInt64',
    short: 'System.Int16',
    ushort: 'System.UInt16',
    byte: 'System.Byte',
    sbyte: 'System.SByte',
    double: 'System.Double',
    float: 'System.Single',
    decimal: 'System.Decimal',
    bool: 'System.Boolean',
    char: 'System.Char',
    string: 'System.String',
    object: 'System.Object',
    DateTime: 'System.DateTime',
    TimeSpan: 'System.TimeSpan',
    Guid: 'System.Guid',
    JObject: 'Newtonsoft.Json.Linq.JObject',
    JArray: 'Newtonsoft.Json.Linq.JArray',
    JValue: 'Newtonsoft.Json.Linq.JValue',
    JToken: 'Newtonsoft.Json.Linq.JToken',
    JProperty: 'Newtonsoft.Json.Linq.JProperty',
  };
  if (t.name === 'Array') return `${clrName(t.args[0]!)}[]`;
  if (t.name === 'Nullable' && t.args.length) return `System.Nullable\`1[${clrName(t.args[0]!)}]`;
  return prim[t.name] ?? t.name;
}

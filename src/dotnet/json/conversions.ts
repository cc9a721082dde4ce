/** Value<T>, ToObject<T>, explicit casts of JToken, and JsonConvert.SerializeObject/DeserializeObject. */
import { DateTime, DateTimeOffset } from '../datetime.js';
import { DotNetException, argument, argumentNull, invalidCast } from '../exceptions.js';
import { doubleToString, formatBoolean, isDotNetFormattable } from '../format.js';
import { convertToBoolean, convertToDecimal, convertToDouble, convertToInt32, convertToInt64 } from '../numbers.js';
import { parseJson } from './reader.js';
import { JArray, JObject, JProperty, JToken, JValue, fromObject, type Formatting, type JTokenType, type JValueContent } from './tokens.js';
import { writeJson } from './writer.js';

// ---- conversions ---------------------------------------------------------------------------------------------------

/** The conversion targets of `(T)token`, `Value<T>()` and `ToObject<T>()`, with the JS type each produces. */
export interface JConvertTargets {
  string: string | null;
  int: number;
  'int?': number | null;
  long: bigint;
  'long?': bigint | null;
  double: number;
  'double?': number | null;
  float: number;
  'float?': number | null;
  decimal: number;
  'decimal?': number | null;
  bool: boolean;
  'bool?': boolean | null;
  DateTime: DateTime;
  'DateTime?': DateTime | null;
  JToken: JToken | null;
  JObject: JObject | null;
  JArray: JArray | null;
  object: JValueContent;
}

const NUMBER_TYPES: JTokenType[] = ['Integer', 'Float', 'String', 'Comment', 'Raw', 'Boolean'];
const STRING_TYPES: JTokenType[] = ['Date', 'Integer', 'Float', 'String', 'Comment', 'Raw', 'Boolean', 'Bytes', 'Guid', 'TimeSpan', 'Uri'];
const DATE_TYPES: JTokenType[] = ['Date', 'String', 'Comment', 'Raw'];

const DOTNET_NAMES: Record<string, string> = {
  int: 'Int32',
  long: 'Int64',
  double: 'Double',
  float: 'Single',
  decimal: 'Decimal',
  bool: 'Boolean',
  string: 'String',
  DateTime: 'DateTime',
};

/** Convert.ToString(object) of a JValue's content (invariant culture). */
export function contentToString(v: JValueContent): string | null {
  if (v === null) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return doubleToString(v);
  if (typeof v === 'boolean') return formatBoolean(v);
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (isDotNetFormattable(v)) return v.toDotNetString();
  return String(v);
}

/** Convert.ChangeType(content, T) for the value types. */
function changeType(v: JValueContent, base: string): unknown {
  if (base === 'string') return contentToString(v);
  if (v === null) throw invalidCast('Null object cannot be converted to a value type.');
  const plain = v instanceof Uint8Array || isDotNetFormattable(v) ? contentToString(v) : v;
  switch (base) {
    case 'int':
      return convertToInt32(plain);
    case 'long':
      return convertToInt64(plain);
    case 'double':
      return convertToDouble(plain);
    case 'float':
      return Math.fround(convertToDouble(plain));
    case 'decimal':
      return convertToDecimal(plain);
    case 'bool':
      return convertToBoolean(plain);
    case 'DateTime':
      if (v instanceof DateTime) return v;
      if (v instanceof DateTimeOffset) return v.DateTime;
      if (typeof v === 'string') return DateTime.Parse(v);
      throw invalidCast(`Invalid cast from '${typeof v === 'boolean' ? 'Boolean' : typeof v === 'bigint' ? 'Int64' : 'Double'}' to 'DateTime'.`);
  }
  throw new DotNetException('NotSupportedException', `Conversion to ${base} is not supported by the emulator.`);
}

/** Value<T>() / ToObject<T>() semantics (Newtonsoft Extensions.Convert). */
export function valueAs<K extends keyof JConvertTargets>(token: JToken | null, target: K): JConvertTargets[K] {
  type R = JConvertTargets[K];
  if (target === 'JToken') return token as R;
  if (target === 'JObject' || target === 'JArray') {
    if (token === null) return null as R;
    if ((target === 'JObject' && token instanceof JObject) || (target === 'JArray' && token instanceof JArray)) return token as R;
    throw invalidCast(`Cannot cast ${token.typeFullName} to Newtonsoft.Json.Linq.${target}.`);
  }
  const nullable = target.endsWith('?') || target === 'string' || target === 'object';
  const base = target.replace('?', '');
  if (token === null) return (nullable ? null : defaultOf(base)) as R;
  if (!(token instanceof JValue)) throw invalidCast(`Cannot cast ${token.typeFullName} to Newtonsoft.Json.Linq.JToken.`);
  if (target === 'object') return token.Value as R;
  if (token.Value === null && nullable) return null as R;
  return changeType(token.Value, base) as R;
}

function defaultOf(base: string): unknown {
  switch (base) {
    case 'long':
      return 0n;
    case 'bool':
      return false;
    case 'DateTime':
      return DateTime.MinValue;
    default:
      return 0;
  }
}

/** The explicit conversion operators `(T)token` (Newtonsoft JToken explicit operators). */
export function explicitCast<K extends keyof JConvertTargets>(token: JToken | null, target: K): JConvertTargets[K] {
  type R = JConvertTargets[K];
  if (target === 'JToken' || target === 'JObject' || target === 'JArray') {
    if (token === null || target === 'JToken') return token as R;
    if ((target === 'JObject' && token instanceof JObject) || (target === 'JArray' && token instanceof JArray)) return token as R;
    throw invalidCast(`Unable to cast object of type '${token.typeFullName}' to type 'Newtonsoft.Json.Linq.${target}'.`);
  }
  const nullable = target.endsWith('?') || target === 'string' || target === 'object';
  const base = target.replace('?', '');
  if (token === null) {
    if (nullable) return null as R;
    throw argumentNull('value');
  }
  const v = token instanceof JProperty ? token.Value : token;
  const typeName = v.Type;
  const valid = base === 'string' ? STRING_TYPES : base === 'DateTime' ? DATE_TYPES : NUMBER_TYPES;
  const isNull = typeName === 'Null' || typeName === 'Undefined';
  if (!(v instanceof JValue) || !(valid.includes(typeName) || (nullable && isNull))) {
    const dn = DOTNET_NAMES[base] ?? base;
    throw argument(`Can not convert ${typeName} to ${dn}.`);
  }
  if (target === 'object') return v.Value as R;
  if (v.Value === null) return null as R;
  if (base === 'string') return contentToString(v.Value) as R;
  return changeType(v.Value, base) as R;
}

// ---- JsonConvert ---------------------------------------------------------------------------------------------------

/** JsonConvert.SerializeObject(value[, formatting]); default Formatting.None. */
export function serializeObject(value: unknown, formatting: Formatting = 'None'): string {
  const token = value instanceof JToken ? value : fromObject(value);
  return writeJson(token, formatting === 'Indented');
}

/**
 * JsonConvert.DeserializeObject(text) (target undefined → object: JObject/JArray for containers, the raw value
 * for scalars) or DeserializeObject<T>(text).
 */
export function deserializeObject(text: string | null, target?: keyof JConvertTargets): unknown {
  if (text === null) throw argumentNull('value');
  const token = parseJson(text, 'JToken');
  if (target === undefined) return token instanceof JValue ? token.Value : token;
  return valueAs(token, target);
}

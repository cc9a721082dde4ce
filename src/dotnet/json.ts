/**
 * Newtonsoft.Json.Linq as policy expressions use it (Newtonsoft.Json 13 behaviour).
 *
 * Provides:
 * - JTokenType (names; `JTokenTypeValue` has the enum numbers), Formatting ('Indented' | 'None').
 * - JToken: Type, Parent, Root, Path, First, Last, Next, Previous, HasValues, get(key) (the `token[key]` indexer),
 *   set(key, value), Children(), Values(), Descendants(), ValueOf(key, T) (`Value<T>(key)`), ToObject(T), DeepClone(),
 *   Remove(), Replace(value), AddAfterSelf, AddBeforeSelf, SelectToken(path[, errorWhenNoMatch]), SelectTokens(path),
 *   ToString([formatting]), JToken.Parse, JToken.FromObject, JToken.DeepEquals.
 * - JObject (create(...content), Parse, FromObject, Count, Properties(), Property(name), PropertyValues(), Add(name,
 *   value) / Add(JProperty), Remove(name), ContainsKey, TryGetValue, get/set by name).
 * - JArray (create(...content), Parse, FromObject, Count, Add, Insert, RemoveAt, Remove(item), IndexOf, Contains,
 *   Clear, get/set by index).
 * - JProperty (create(name, content), Name, Value get/set), JValue (typed constructors, Value, Type, CreateNull,
 *   CreateString, ToString(format)).
 * - explicitCast(token, T) for `(string)`/`(int)`/`(long)`/`(double)`/`(bool)`/`(DateTime)`/... and nullable variants;
 *   valueAs(token, T) for Value<T>/ToObject<T> conversions.
 * - JsonConvert.SerializeObject / DeserializeObject: serializeObject, deserializeObject.
 *
 * Parse keeps Integer (bigint, Newtonsoft's long/BigInteger) vs Float (double) vs String vs Boolean vs Null, and follows
 * Newtonsoft's default DateParseHandling.DateTime: ISO strings `yyyy-MM-ddTHH:mm:ss[.f][Z|±hh:mm]` become Date tokens.
 *
 * Split along Newtonsoft's own lines: json/tokens.ts (Linq tokens), json/reader.ts (JsonTextReader),
 * json/writer.ts (JsonTextWriter), json/conversions.ts (Value<T>, casts, JsonConvert), json/jpath.ts (SelectToken).
 */
export {
  type JTokenType,
  JTokenTypeValue,
  type Formatting,
  type JValueContent,
  JToken,
  JContainer,
  JObject,
  JArray,
  JProperty,
  JValue,
  toJToken,
  fromObject,
} from './json/tokens.js';
export { escapeJsonString, writeJson } from './json/writer.js';
export { type JConvertTargets, valueAs, explicitCast, serializeObject, deserializeObject } from './json/conversions.js';

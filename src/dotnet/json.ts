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
 */
import { DateTime, DateTimeOffset, TimeSpan, formatNewtonsoftIsoDate, parseNewtonsoftIsoDate } from './datetime.js';
import { DotNetException, argument, argumentNull, argumentOutOfRange, invalidCast, invalidOperation } from './exceptions.js';
import { type DotNetFormattable, doubleToString, formatBoolean, formatNumber, isDotNetFormattable } from './format.js';
import { convertToBoolean, convertToDecimal, convertToDouble, convertToInt32, convertToInt64 } from './numbers.js';

export type JTokenType =
  | 'None'
  | 'Object'
  | 'Array'
  | 'Constructor'
  | 'Property'
  | 'Comment'
  | 'Integer'
  | 'Float'
  | 'String'
  | 'Boolean'
  | 'Null'
  | 'Undefined'
  | 'Date'
  | 'Raw'
  | 'Bytes'
  | 'Guid'
  | 'Uri'
  | 'TimeSpan';

export const JTokenTypeValue: Readonly<Record<JTokenType, number>> = {
  None: 0,
  Object: 1,
  Array: 2,
  Constructor: 3,
  Property: 4,
  Comment: 5,
  Integer: 6,
  Float: 7,
  String: 8,
  Boolean: 9,
  Null: 10,
  Undefined: 11,
  Date: 12,
  Raw: 13,
  Bytes: 14,
  Guid: 15,
  Uri: 16,
  TimeSpan: 17,
};

export type Formatting = 'Indented' | 'None';

/** What a JValue holds: Integer → bigint, Float → number, Date → DateTime/DateTimeOffset, Bytes → Uint8Array. */
export type JValueContent = null | boolean | string | number | bigint | DateTime | DateTimeOffset | TimeSpan | Uint8Array | DotNetFormattable;

function jsonReaderError(message: string, path: string, line: number, position: number): DotNetException {
  return new DotNetException('JsonReaderException', `${message} Path '${path}', line ${line}, position ${position}.`);
}

// ---- tokens --------------------------------------------------------------------------------------------------------

export abstract class JToken implements DotNetFormattable {
  /** For a property value this is the JProperty (Newtonsoft semantics), for an array item the JArray. */
  Parent: JContainer | null = null;

  abstract get Type(): JTokenType;
  abstract DeepClone(): JToken;

  /** Newtonsoft's full type name, used in exception messages. */
  get typeFullName(): string {
    return `Newtonsoft.Json.Linq.${this.constructor.name}`;
  }

  get Root(): JToken {
    let t: JToken = this;
    while (t.Parent) t = t.Parent;
    return t;
  }

  get HasValues(): boolean {
    return false;
  }

  get First(): JToken | null {
    throw invalidOperation(`Cannot access child value on ${this.typeFullName}.`);
  }

  get Last(): JToken | null {
    throw invalidOperation(`Cannot access child value on ${this.typeFullName}.`);
  }

  get Next(): JToken | null {
    const p = this.Parent;
    if (!p) return null;
    const items = p.childList();
    const i = items.indexOf(this);
    return i >= 0 && i + 1 < items.length ? items[i + 1]! : null;
  }

  get Previous(): JToken | null {
    const p = this.Parent;
    if (!p) return null;
    const items = p.childList();
    const i = items.indexOf(this);
    return i > 0 ? items[i - 1]! : null;
  }

  /** JToken.Path: `a.b[0]['x y']`. */
  get Path(): string {
    const parts: string[] = [];
    let t: JToken = this;
    while (t.Parent) {
      const p: JContainer = t.Parent;
      if (t instanceof JProperty) parts.push(propertyPathSegment(t.Name));
      else if (p instanceof JArray) parts.push(`[${p.IndexOf(t)}]`);
      t = p;
    }
    let out = '';
    for (let i = parts.length - 1; i >= 0; i--) {
      const s = parts[i]!;
      out += s.startsWith('[') || out === '' ? s : `.${s}`;
    }
    return out;
  }

  /** The `token[key]` indexer. */
  get(key: string | number): JToken | null {
    void key;
    throw invalidOperation(`Cannot access child value on ${this.typeFullName}.`);
  }

  /** The `token[key] = value` indexer. */
  set(key: string | number, value: JToken | JValueContent): void {
    void key;
    void value;
    throw invalidOperation(`Cannot set child value on ${this.typeFullName}.`);
  }

  Children(): JToken[] {
    return [];
  }

  /** Values(): child values, flattening one level the way Newtonsoft's extension does. */
  Values(): JToken[] {
    const out: JToken[] = [];
    for (const c of this.Children()) {
      if (c instanceof JValue) out.push(c);
      else out.push(...c.Children());
    }
    return out;
  }

  Descendants(): JToken[] {
    const out: JToken[] = [];
    const walk = (t: JToken) => {
      for (const c of t.Children()) {
        out.push(c);
        walk(c);
      }
    };
    walk(this);
    return out;
  }

  /** `Value<T>(key)` (and `Value<T>()` on a value when key is undefined); named ValueOf because JValue.Value is the content. */
  ValueOf<K extends keyof JConvertTargets>(key: string | number | undefined, target: K): JConvertTargets[K] {
    const child = key === undefined ? this : this.get(key);
    return valueAs(child, target);
  }

  ToObject<K extends keyof JConvertTargets>(target: K): JConvertTargets[K] {
    return valueAs(this, target);
  }

  Remove(): void {
    if (!this.Parent) throw invalidOperation('The parent is missing.');
    this.Parent.removeChild(this);
  }

  Replace(value: JToken | JValueContent): void {
    if (!this.Parent) throw invalidOperation('The parent is missing.');
    this.Parent.replaceChild(this, toJToken(value));
  }

  AddAfterSelf(content: JToken | JValueContent): void {
    const p = this.Parent;
    if (!(p instanceof JArray) && !(p instanceof JObject)) throw invalidOperation('The parent is missing.');
    const i = p.childList().indexOf(this);
    p.insertChild(i + 1, toJToken(content));
  }

  AddBeforeSelf(content: JToken | JValueContent): void {
    const p = this.Parent;
    if (!(p instanceof JArray) && !(p instanceof JObject)) throw invalidOperation('The parent is missing.');
    const i = p.childList().indexOf(this);
    p.insertChild(i, toJToken(content));
  }

  /** SelectToken(path[, errorWhenNoMatch]): one token or null; JsonException when the path matches several. */
  SelectToken(path: string, errorWhenNoMatch = false): JToken | null {
    const r = selectTokens(this, path, errorWhenNoMatch);
    if (r.length > 1) throw new DotNetException('JsonException', 'Path returned multiple tokens.');
    return r[0] ?? null;
  }

  SelectTokens(path: string, errorWhenNoMatch = false): JToken[] {
    return selectTokens(this, path, errorWhenNoMatch);
  }

  /** ToString() is indented JSON (JValue overrides: raw value text). */
  ToString(formatting: Formatting = 'Indented'): string {
    return writeJson(this, formatting === 'Indented');
  }

  toString(): string {
    return this.ToString();
  }

  toDotNetString(format?: string): string {
    void format;
    return this.ToString();
  }

  static Parse(json: string | null): JToken {
    return parseJson(json, 'JToken');
  }

  static FromObject(value: unknown): JToken {
    return fromObject(value);
  }

  static DeepEquals(a: JToken | null, b: JToken | null): boolean {
    return deepEquals(a, b);
  }
}

/** Path segment of a property name: plain when safe, `['...']` otherwise (Newtonsoft JsonPosition rules). */
function propertyPathSegment(name: string): string {
  if (/[.\s'\/"\[\]()\\\u0085\u2028\u2029]/.test(name) || name === '') {
    return `['${name.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}']`;
  }
  return name;
}

export abstract class JContainer extends JToken {
  /** Children in order (properties for JObject, items for JArray, [value] for JProperty). */
  abstract childList(): readonly JToken[];
  abstract removeChild(child: JToken): boolean;
  abstract replaceChild(child: JToken, replacement: JToken): void;
  abstract insertChild(index: number, child: JToken): void;

  override get HasValues(): boolean {
    return this.childList().length > 0;
  }

  override get First(): JToken | null {
    return this.childList()[0] ?? null;
  }

  override get Last(): JToken | null {
    const c = this.childList();
    return c[c.length - 1] ?? null;
  }

  override Children(): JToken[] {
    return [...this.childList()];
  }

  get Count(): number {
    return this.childList().length;
  }
}

/** A token being attached somewhere: Newtonsoft copies tokens that already have a parent. */
function adopt(token: JToken, parent: JContainer): JToken {
  const t = token.Parent || token === parent || isAncestor(token, parent) ? token.DeepClone() : token;
  t.Parent = parent;
  return t;
}

function isAncestor(candidate: JToken, of: JToken): boolean {
  let t: JToken | null = of.Parent;
  while (t) {
    if (t === candidate) return true;
    t = t.Parent;
  }
  return false;
}

function isMultiContent(v: unknown): v is readonly unknown[] {
  return Array.isArray(v);
}

export class JObject extends JContainer {
  private readonly props: JProperty[] = [];
  private readonly index = new Map<string, JProperty>();

  get Type(): JTokenType {
    return 'Object';
  }

  /** new JObject(content...): JProperty / JObject (its properties are copied) / arrays of those. */
  static create(...content: unknown[]): JObject {
    const o = new JObject();
    for (const c of content) o.addContent(c);
    return o;
  }

  private addContent(c: unknown): void {
    if (isMultiContent(c)) {
      for (const x of c) this.addContent(x);
      return;
    }
    if (c instanceof JProperty) {
      this.Add(c);
      return;
    }
    if (c instanceof JObject) {
      for (const p of c.props) this.Add(p);
      return;
    }
    if (c === null || c === undefined) return;
    const t = c instanceof JToken ? c : toJToken(c as JValueContent);
    throw argument(`Can not add ${t.typeFullName} to Newtonsoft.Json.Linq.JObject.`);
  }

  static Parse(json: string | null): JObject {
    return parseJson(json, 'JObject') as JObject;
  }

  static FromObject(value: unknown): JObject {
    const t = fromObject(value);
    if (!(t instanceof JObject)) throw argument(`Object serialized to ${t.Type}. JObject instance expected.`);
    return t;
  }

  childList(): readonly JToken[] {
    return this.props;
  }

  Properties(): JProperty[] {
    return [...this.props];
  }

  Property(name: string): JProperty | null {
    return this.index.get(name) ?? null;
  }

  PropertyValues(): JToken[] {
    return this.props.map((p) => p.Value);
  }

  ContainsKey(name: string): boolean {
    return this.index.has(name);
  }

  TryGetValue(name: string): { ok: boolean; value: JToken | null } {
    const p = this.index.get(name);
    return p ? { ok: true, value: p.Value } : { ok: false, value: null };
  }

  override get(key: string | number): JToken | null {
    if (typeof key !== 'string') throw argument(`Accessed JObject values with invalid key value: ${key}. Object property name expected.`);
    return this.index.get(key)?.Value ?? null;
  }

  override set(key: string | number, value: JToken | JValueContent): void {
    if (typeof key !== 'string') throw argument(`Set JObject values with invalid key value: ${key}. Object property name expected.`);
    const p = this.index.get(key);
    if (p) p.Value = toJToken(value);
    else this.Add(key, value);
  }

  /** Add(name, value) or Add(JProperty); a duplicate name is an ArgumentException. */
  Add(nameOrProperty: string | JProperty, value?: JToken | JValueContent): void {
    const prop = typeof nameOrProperty === 'string' ? JProperty.create(nameOrProperty, value ?? null) : nameOrProperty;
    this.insertChild(this.props.length, prop);
  }

  insertChild(index: number, child: JToken): void {
    if (!(child instanceof JProperty)) throw argument(`Can not add ${child.typeFullName} to Newtonsoft.Json.Linq.JObject.`);
    if (this.index.has(child.Name)) {
      throw argument(`Can not add property ${child.Name} to Newtonsoft.Json.Linq.JObject. Property with the same name already exists on object.`);
    }
    const p = adopt(child, this) as JProperty;
    this.props.splice(index, 0, p);
    this.index.set(p.Name, p);
  }

  /** Remove(name) → whether a property was removed (JToken.Remove() removes this object from its parent). */
  override Remove(name?: string): boolean {
    if (name === undefined) {
      super.Remove();
      return true;
    }
    const p = this.index.get(name);
    if (!p) return false;
    return this.removeChild(p);
  }

  removeChild(child: JToken): boolean {
    const i = this.props.indexOf(child as JProperty);
    if (i < 0) return false;
    this.props.splice(i, 1);
    this.index.delete((child as JProperty).Name);
    child.Parent = null;
    return true;
  }

  replaceChild(child: JToken, replacement: JToken): void {
    if (!(replacement instanceof JProperty)) throw argument(`Can not add ${replacement.typeFullName} to Newtonsoft.Json.Linq.JObject.`);
    const i = this.props.indexOf(child as JProperty);
    if (i < 0) return;
    const existing = this.index.get(replacement.Name);
    if (existing && existing !== child) {
      throw argument(`Can not add property ${replacement.Name} to Newtonsoft.Json.Linq.JObject. Property with the same name already exists on object.`);
    }
    this.index.delete((child as JProperty).Name);
    child.Parent = null;
    const p = adopt(replacement, this) as JProperty;
    this.props[i] = p;
    this.index.set(p.Name, p);
  }

  RemoveAll(): void {
    for (const p of this.props) p.Parent = null;
    this.props.length = 0;
    this.index.clear();
  }

  DeepClone(): JObject {
    const o = new JObject();
    for (const p of this.props) o.Add(p.DeepClone());
    return o;
  }
}

export class JArray extends JContainer {
  private readonly items: JToken[] = [];

  get Type(): JTokenType {
    return 'Array';
  }

  /** new JArray(content...): JS arrays are flattened (Newtonsoft treats IEnumerable content as several items). */
  static create(...content: unknown[]): JArray {
    const a = new JArray();
    for (const c of content) a.addContent(c);
    return a;
  }

  private addContent(c: unknown): void {
    if (isMultiContent(c)) {
      for (const x of c) this.addContent(x);
      return;
    }
    this.Add(c as JToken | JValueContent);
  }

  static Parse(json: string | null): JArray {
    return parseJson(json, 'JArray') as JArray;
  }

  static FromObject(value: unknown): JArray {
    const t = fromObject(value);
    if (!(t instanceof JArray)) throw argument(`Object serialized to ${t.Type}. JArray instance expected.`);
    return t;
  }

  childList(): readonly JToken[] {
    return this.items;
  }

  private checkIndex(i: number, param = 'index'): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.items.length) {
      throw argumentOutOfRange(param, 'Index was out of range. Must be non-negative and less than the size of the collection.');
    }
  }

  override get(key: string | number): JToken | null {
    if (typeof key !== 'number') throw argument(`Accessed JArray values with invalid key value: "${key}". Int32 array index expected.`);
    this.checkIndex(key);
    return this.items[key]!;
  }

  override set(key: string | number, value: JToken | JValueContent): void {
    if (typeof key !== 'number') throw argument(`Set JArray values with invalid key value: "${key}". Int32 array index expected.`);
    this.checkIndex(key);
    this.replaceChild(this.items[key]!, toJToken(value));
  }

  Add(item: JToken | JValueContent): void {
    this.insertChild(this.items.length, toJToken(item));
  }

  Insert(index: number, item: JToken | JValueContent): void {
    if (index < 0 || index > this.items.length) throw argumentOutOfRange('index', 'Index must be within the bounds of the List.');
    this.insertChild(index, toJToken(item));
  }

  insertChild(index: number, child: JToken): void {
    if (child instanceof JProperty) throw argument(`Can not add ${child.typeFullName} to Newtonsoft.Json.Linq.JArray.`);
    this.items.splice(index, 0, adopt(child, this));
  }

  RemoveAt(index: number): void {
    this.checkIndex(index);
    const [t] = this.items.splice(index, 1);
    if (t) t.Parent = null;
  }

  /** Remove(item) → whether it was found (by reference); JToken.Remove() when called without an item. */
  override Remove(item?: JToken): boolean {
    if (item === undefined) {
      super.Remove();
      return true;
    }
    return this.removeChild(item);
  }

  removeChild(child: JToken): boolean {
    const i = this.items.indexOf(child);
    if (i < 0) return false;
    this.items.splice(i, 1);
    child.Parent = null;
    return true;
  }

  replaceChild(child: JToken, replacement: JToken): void {
    const i = this.items.indexOf(child);
    if (i < 0) return;
    if (replacement instanceof JProperty) throw argument(`Can not add ${replacement.typeFullName} to Newtonsoft.Json.Linq.JArray.`);
    child.Parent = null;
    this.items[i] = adopt(replacement, this);
  }

  IndexOf(item: JToken): number {
    return this.items.indexOf(item);
  }

  Contains(item: JToken): boolean {
    return this.items.includes(item);
  }

  Clear(): void {
    for (const t of this.items) t.Parent = null;
    this.items.length = 0;
  }

  RemoveAll(): void {
    this.Clear();
  }

  DeepClone(): JArray {
    const a = new JArray();
    for (const t of this.items) a.Add(t.DeepClone());
    return a;
  }
}

export class JProperty extends JContainer {
  private value: JToken;

  private constructor(readonly Name: string) {
    super();
    this.value = JValue.CreateNull();
    this.value.Parent = this;
  }

  get Type(): JTokenType {
    return 'Property';
  }

  /** new JProperty(name, content): arrays become a JArray, plain values a JValue. */
  static create(name: string | null, content: unknown): JProperty {
    if (name === null) throw argumentNull('name');
    const p = new JProperty(name);
    p.Value = isMultiContent(content) ? JArray.create(content) : toJToken(content as JToken | JValueContent);
    return p;
  }

  get Value(): JToken {
    return this.value;
  }

  set Value(v: JToken | JValueContent) {
    const t = toJToken(v);
    this.value.Parent = null;
    this.value = adopt(t, this);
  }

  childList(): readonly JToken[] {
    return [this.value];
  }

  removeChild(): boolean {
    throw invalidOperation('Cannot add or remove items from Newtonsoft.Json.Linq.JProperty.');
  }

  replaceChild(_child: JToken, replacement: JToken): void {
    this.Value = replacement;
  }

  insertChild(): void {
    throw invalidOperation('Newtonsoft.Json.Linq.JProperty cannot have multiple values.');
  }

  DeepClone(): JProperty {
    return JProperty.create(this.Name, this.value.DeepClone());
  }
}

export class JValue extends JToken {
  private constructor(
    private readonly type: JTokenType,
    readonly Value: JValueContent,
  ) {
    super();
  }

  get Type(): JTokenType {
    return this.type;
  }

  static CreateNull(): JValue {
    return new JValue('Null', null);
  }
  static CreateUndefined(): JValue {
    return new JValue('Undefined', null);
  }
  static CreateString(s: string | null): JValue {
    return s === null ? JValue.CreateNull() : new JValue('String', s);
  }
  static CreateComment(s: string): JValue {
    return new JValue('Comment', s);
  }
  static CreateRaw(s: string): JValue {
    return new JValue('Raw', s);
  }
  /** An Integer token (Int32/Int64/BigInteger in .NET). */
  static fromInteger(v: number | bigint): JValue {
    if (typeof v === 'number' && !Number.isInteger(v)) throw new DotNetException('ArgumentException', `internal: ${v} is not an integer`);
    return new JValue('Integer', BigInt(v));
  }
  /** A Float token (double/float/decimal in .NET). */
  static fromFloat(v: number): JValue {
    return new JValue('Float', v);
  }
  static fromBoolean(v: boolean): JValue {
    return new JValue('Boolean', v);
  }
  static fromDate(v: DateTime | DateTimeOffset): JValue {
    return new JValue('Date', v);
  }
  static fromTimeSpan(v: TimeSpan): JValue {
    return new JValue('TimeSpan', v);
  }
  static fromBytes(v: Uint8Array): JValue {
    return new JValue('Bytes', v);
  }
  /** A Guid / Uri token from an emulated object (its toDotNetString() is the JSON text). */
  static fromFormattable(type: 'Guid' | 'Uri', v: DotNetFormattable): JValue {
    return new JValue(type, v);
  }

  DeepClone(): JValue {
    return new JValue(this.type, this.Value);
  }

  /** JValue.ToString(): the raw value text (no quotes), `True`/`False`, doubles as C#, dates invariant. */
  override ToString(formatting?: Formatting): string {
    if (formatting !== undefined) return writeJson(this, formatting === 'Indented');
    return this.toDotNetString();
  }

  override toDotNetString(format?: string): string {
    const v = this.Value;
    switch (this.type) {
      case 'Null':
      case 'Undefined':
        return '';
      case 'Integer':
        return format ? formatNumber(v as bigint, format, 'Int64') : String(v);
      case 'Float':
        return formatNumber(v as number, format, 'Double');
      case 'Boolean':
        return formatBoolean(v as boolean);
      case 'Bytes':
        return 'System.Byte[]';
      default:
        if (isDotNetFormattable(v)) return v.toDotNetString(format);
        return String(v);
    }
  }
}

/** Plain values → JValue (JS numbers: integral → Integer, else Float; pass JValue.fromFloat for a typed double). */
export function toJToken(value: JToken | JValueContent | undefined): JToken {
  if (value instanceof JToken) return value;
  if (value === null || value === undefined) return JValue.CreateNull();
  if (typeof value === 'string') return JValue.CreateString(value);
  if (typeof value === 'boolean') return JValue.fromBoolean(value);
  if (typeof value === 'bigint') return JValue.fromInteger(value);
  if (typeof value === 'number') return Number.isInteger(value) && !Object.is(value, -0) ? JValue.fromInteger(value) : JValue.fromFloat(value);
  if (value instanceof DateTime || value instanceof DateTimeOffset) return JValue.fromDate(value);
  if (value instanceof TimeSpan) return JValue.fromTimeSpan(value);
  if (value instanceof Uint8Array) return JValue.fromBytes(value);
  const name = (value as { constructor?: { name?: string } }).constructor?.name;
  if (name === 'Guid' || name === 'Uri') return JValue.fromFormattable(name, value);
  return fromObject(value);
}

/** JToken.FromObject: arrays → JArray, Map / plain objects → JObject (key order kept), scalars → JValue. */
export function fromObject(value: unknown): JToken {
  if (value instanceof JToken) return value.DeepClone();
  if (Array.isArray(value)) return JArray.create(...value.map((v) => fromObject(v)));
  if (value instanceof Map) {
    const o = new JObject();
    for (const [k, v] of value) o.Add(String(k), fromObject(v));
    return o;
  }
  if (
    value === null ||
    value === undefined ||
    typeof value !== 'object' ||
    value instanceof DateTime ||
    value instanceof DateTimeOffset ||
    value instanceof TimeSpan ||
    value instanceof Uint8Array ||
    isDotNetFormattable(value)
  ) {
    if (typeof value === 'function' || typeof value === 'symbol') throw new DotNetException('JsonSerializationException', `Unable to serialize a value of type ${typeof value}.`);
    return toJToken(value as JValueContent);
  }
  const o = new JObject();
  for (const [k, v] of Object.entries(value)) o.Add(k, fromObject(v));
  return o;
}

function deepEquals(a: JToken | null, b: JToken | null): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  if (a instanceof JValue && b instanceof JValue) {
    if ((a.Type === 'Integer' || a.Type === 'Float') && (b.Type === 'Integer' || b.Type === 'Float')) return Number(a.Value) === Number(b.Value);
    if (a.Type !== b.Type) return false;
    if (a.Value instanceof DateTime && b.Value instanceof DateTime) return a.Value.Equals(b.Value);
    if (isDotNetFormattable(a.Value) && isDotNetFormattable(b.Value)) return a.Value.toDotNetString() === b.Value.toDotNetString();
    return a.Value === b.Value;
  }
  if (a instanceof JProperty && b instanceof JProperty) return a.Name === b.Name && deepEquals(a.Value, b.Value);
  if (a instanceof JObject && b instanceof JObject) {
    if (a.Count !== b.Count) return false;
    return a.Properties().every((p) => b.ContainsKey(p.Name) && deepEquals(p.Value, b.get(p.Name)));
  }
  if (a instanceof JArray && b instanceof JArray) {
    if (a.Count !== b.Count) return false;
    return a.Children().every((t, i) => deepEquals(t, b.get(i)));
  }
  return false;
}

// ---- writing -------------------------------------------------------------------------------------------------------

/** Newtonsoft's JavaScriptUtils escaping with StringEscapeHandling.Default and a `"` quote. */
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\u0085\u2028\u2029]/;

export function escapeJsonString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    switch (c) {
      case 0x22:
        out += '\\"';
        break;
      case 0x5c:
        out += '\\\\';
        break;
      case 0x08:
        out += '\\b';
        break;
      case 0x09:
        out += '\\t';
        break;
      case 0x0a:
        out += '\\n';
        break;
      case 0x0c:
        out += '\\f';
        break;
      case 0x0d:
        out += '\\r';
        break;
      default:
        if (c < 0x20 || c === 0x85 || c === 0x2028 || c === 0x2029) out += '\\u' + c.toString(16).padStart(4, '0');
        else out += s[i];
    }
  }
  return out + '"';
}

/** JsonConvert.ToString(double): R format with ".0" added to integral values; NaN/Infinity as strings. */
function floatToJson(x: number): string {
  if (Number.isNaN(x)) return '"NaN"';
  if (x === Infinity) return '"Infinity"';
  if (x === -Infinity) return '"-Infinity"';
  const s = doubleToString(x);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

function valueToJson(v: JValue): string {
  const c = v.Value;
  switch (v.Type) {
    case 'Null':
      return 'null';
    case 'Undefined':
      return 'undefined';
    case 'Integer':
      return String(c);
    case 'Float':
      return floatToJson(c as number);
    case 'Boolean':
      return c ? 'true' : 'false';
    case 'Raw':
      return String(c);
    case 'Comment':
      return `/*${String(c)}*/`;
    case 'Date':
      if (c instanceof DateTime) return escapeJsonString(formatNewtonsoftIsoDate(c));
      if (c instanceof DateTimeOffset) return escapeJsonString(c.toDotNetString("yyyy'-'MM'-'dd'T'HH':'mm':'ss.FFFFFFFzzz"));
      return escapeJsonString(String(c));
    case 'Bytes':
      return escapeJsonString(Buffer.from(c as Uint8Array).toString('base64'));
    case 'TimeSpan':
    case 'Guid':
    case 'Uri':
      return escapeJsonString(isDotNetFormattable(c) ? c.toDotNetString() : String(c));
    default:
      return escapeJsonString(String(c));
  }
}

export function writeJson(token: JToken, indented: boolean): string {
  const parts: string[] = [];
  const write = (t: JToken, level: number) => {
    if (t instanceof JValue) {
      parts.push(valueToJson(t));
      return;
    }
    if (t instanceof JProperty) {
      parts.push(escapeJsonString(t.Name), indented ? ': ' : ':');
      write(t.Value, level);
      return;
    }
    const isObject = t instanceof JObject;
    const children = (t as JContainer).childList();
    const [open, close] = isObject ? ['{', '}'] : ['[', ']'];
    if (children.length === 0) {
      parts.push(open + close);
      return;
    }
    parts.push(open);
    children.forEach((c, i) => {
      if (i > 0) parts.push(',');
      if (indented) parts.push('\n' + '  '.repeat(level + 1));
      write(c, level + 1);
    });
    if (indented) parts.push('\n' + '  '.repeat(level));
    parts.push(close);
  };
  write(token, 0);
  return parts.join('');
}

// ---- reading -------------------------------------------------------------------------------------------------------

type ParseTarget = 'JToken' | 'JObject' | 'JArray';

interface PathEntry {
  kind: 'object' | 'array';
  name: string | null;
  index: number;
}

class JsonReader {
  private pos = 0;
  private line = 1;
  private lineStart = 0;
  private readonly stack: PathEntry[] = [];

  constructor(private readonly text: string) {}

  private get column(): number {
    return this.pos - this.lineStart;
  }

  path(): string {
    let out = '';
    for (const e of this.stack) {
      if (e.kind === 'object') {
        if (e.name !== null) {
          const seg = propertyPathSegment(e.name);
          out += seg.startsWith('[') || out === '' ? seg : `.${seg}`;
        }
      } else if (e.index >= 0) out += `[${e.index}]`;
    }
    return out;
  }

  /** Error at the character just read (1-based position = its column). */
  fail(message: string, position = this.column): DotNetException {
    return jsonReaderError(message, this.path(), this.line, position);
  }

  private newline(): void {
    this.line++;
    this.lineStart = this.pos;
  }

  /** Skips whitespace and comments; returns the next character without consuming it ('' at the end). */
  peek(): string {
    const t = this.text;
    for (;;) {
      if (this.pos >= t.length) return '';
      const c = t[this.pos]!;
      if (c === '\n') {
        this.pos++;
        this.newline();
      } else if (c === '\r') {
        this.pos++;
        if (t[this.pos] === '\n') this.pos++;
        this.newline();
      } else if (c === ' ' || c === '\t' || c === '\f' || c === '\v' || c === '\u00a0' || c === '\ufeff') {
        this.pos++;
      } else if (c === '/' && t[this.pos + 1] === '/') {
        while (this.pos < t.length && t[this.pos] !== '\n' && t[this.pos] !== '\r') this.pos++;
      } else if (c === '/' && t[this.pos + 1] === '*') {
        const end = t.indexOf('*/', this.pos + 2);
        if (end < 0) {
          this.pos = t.length;
          throw this.fail('Unexpected end while parsing comment.');
        }
        for (let i = this.pos; i < end; i++) if (t[i] === '\n') ((this.pos = i + 1), this.newline());
        this.pos = end + 2;
      } else return c;
    }
  }

  readRoot(target: ParseTarget): JToken {
    const c = this.peek();
    if (c === '') throw jsonReaderError(`Error reading ${target} from JsonReader.`, '', 0, 0);
    if (target !== 'JToken') {
      const want = target === 'JObject' ? '{' : '[';
      if (c !== want) {
        const startLine = this.line;
        const startCol = this.column + 1;
        const kind = this.describeStart();
        throw jsonReaderError(
          `Error reading ${target} from JsonReader. Current JsonReader item is not ${target === 'JObject' ? 'an object' : 'an array'}: ${kind}.`,
          '',
          startLine,
          startCol,
        );
      }
    }
    const value = this.readValue();
    const after = this.peek();
    if (after !== '') {
      this.pos++;
      throw this.fail(`Additional text encountered after finished reading JSON content: ${after}.`);
    }
    return value;
  }

  /** The JsonToken name of the value starting here (for the "is not an object" message). */
  private describeStart(): string {
    const save = { pos: this.pos, line: this.line, lineStart: this.lineStart };
    try {
      const c = this.text[this.pos];
      if (c === '{') return 'StartObject';
      if (c === '[') return 'StartArray';
      const v = this.readValue();
      return v.Type === 'Null' ? 'Null' : v.Type;
    } catch {
      return 'None';
    } finally {
      this.pos = save.pos;
      this.line = save.line;
      this.lineStart = save.lineStart;
    }
  }

  private containerEnd(kind: 'JObject' | 'JArray'): DotNetException {
    return this.fail(`Unexpected end of content while loading ${kind}.`);
  }

  readValue(): JToken {
    const c = this.peek();
    if (c === '') throw this.fail('Unexpected end when reading JSON.');
    switch (c) {
      case '{':
        return this.readObject();
      case '[':
        return this.readArray();
      case '"':
      case "'":
        return this.readStringToken(c);
      case 't':
        return this.readLiteral('true', JValue.fromBoolean(true), 'Error parsing boolean value.');
      case 'f':
        return this.readLiteral('false', JValue.fromBoolean(false), 'Error parsing boolean value.');
      case 'n':
        return this.readLiteral('null', JValue.CreateNull(), 'Error parsing null value.');
      case 'u':
        return this.readLiteral('undefined', JValue.CreateUndefined(), 'Error parsing undefined value.');
      case 'N':
        return this.readLiteral('NaN', JValue.fromFloat(NaN), 'Cannot read NaN value.');
      case 'I':
        return this.readLiteral('Infinity', JValue.fromFloat(Infinity), 'Cannot read Infinity value.');
      default:
        if (c === '-' || c === '.' || (c >= '0' && c <= '9')) return this.readNumber();
        this.pos++;
        throw this.fail(`Unexpected character encountered while parsing value: ${c}.`);
    }
  }

  private readLiteral(word: string, value: JValue, message: string): JToken {
    const start = this.column + 1;
    if (this.text.startsWith(word, this.pos)) {
      const next = this.text[this.pos + word.length];
      if (next === undefined || !/[A-Za-z0-9_$]/.test(next)) {
        this.pos += word.length;
        return value;
      }
    }
    throw this.fail(message, start);
  }

  private readNumber(): JToken {
    const start = this.pos;
    while (this.pos < this.text.length && /[0-9A-Za-z.+\-]/.test(this.text[this.pos]!)) this.pos++;
    const s = this.text.slice(start, this.pos);
    if (s === '-Infinity') return JValue.fromFloat(-Infinity);
    if (/^-?\d+$/.test(s)) {
      // Newtonsoft reads a leading 0 followed by digits as octal.
      if (/^-?0\d+$/.test(s) && /^-?0[0-7]+$/.test(s)) {
        const neg = s.startsWith('-');
        const v = BigInt('0o' + s.slice(neg ? 2 : 1));
        return JValue.fromInteger(neg ? -v : v);
      }
      if (/^-?0\d+$/.test(s)) throw this.fail(`Input string '${s}' is not a valid integer.`);
      return JValue.fromInteger(BigInt(s));
    }
    if (/^-?0[xX][0-9a-fA-F]+$/.test(s)) {
      const neg = s.startsWith('-');
      const v = BigInt(s.slice(neg ? 1 : 0));
      return JValue.fromInteger(neg ? -v : v);
    }
    if (/^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return JValue.fromFloat(Number(s));
    throw this.fail(`Input string '${s}' is not a valid number.`);
  }

  private readString(quote: string): string {
    const t = this.text;
    this.pos++; // opening quote
    let out = '';
    for (;;) {
      // Copy a run of ordinary characters in one slice.
      const runStart = this.pos;
      while (this.pos < t.length) {
        const code = t.charCodeAt(this.pos);
        if (code === 92 || code === 10 || code === 13 || t[this.pos] === quote) break;
        this.pos++;
      }
      if (this.pos > runStart) out += t.slice(runStart, this.pos);
      if (this.pos >= t.length) throw this.fail(`Unterminated string. Expected delimiter: ${quote}.`);
      const c = t[this.pos++]!;
      if (c === quote) return out;
      if (c === '\\') {
        if (this.pos >= t.length) throw this.fail(`Unterminated string. Expected delimiter: ${quote}.`);
        const e = t[this.pos++]!;
        switch (e) {
          case 'b':
            out += '\b';
            break;
          case 't':
            out += '\t';
            break;
          case 'n':
            out += '\n';
            break;
          case 'f':
            out += '\f';
            break;
          case 'r':
            out += '\r';
            break;
          case '\\':
          case '"':
          case "'":
          case '/':
            out += e;
            break;
          case 'u': {
            const hex = t.slice(this.pos, this.pos + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
              this.pos = Math.min(t.length, this.pos + 4);
              throw this.fail(`Invalid Unicode escape sequence: \\u${hex}.`);
            }
            out += String.fromCharCode(parseInt(hex, 16));
            this.pos += 4;
            break;
          }
          default:
            throw this.fail(`Bad JSON escape sequence: \\${e}.`);
        }
        continue;
      }
      if (c === '\n' || (c === '\r' && t[this.pos] !== '\n')) this.newline();
      out += c;
    }
  }

  private readStringToken(quote: string): JToken {
    const s = this.readString(quote);
    // DateParseHandling.DateTime: ISO-looking strings become Date tokens (Newtonsoft checks length 19..40 first).
    if (s.length >= 19 && s.length <= 40 && s.charCodeAt(0) >= 48 && s.charCodeAt(0) <= 57) {
      const d = parseNewtonsoftIsoDate(s);
      if (d) return JValue.fromDate(d);
    }
    return JValue.CreateString(s);
  }

  private readObject(): JObject {
    this.pos++; // {
    const obj = new JObject();
    const entry: PathEntry = { kind: 'object', name: null, index: -1 };
    this.stack.push(entry);
    for (;;) {
      let c = this.peek();
      if (c === '') throw this.containerEnd('JObject');
      if (c === '}') {
        this.pos++;
        break;
      }
      let name: string;
      if (c === '"' || c === "'") name = this.readString(c);
      else if (/[A-Za-z0-9_$]/.test(c)) {
        const start = this.pos;
        while (this.pos < this.text.length && /[A-Za-z0-9_$]/.test(this.text[this.pos]!)) this.pos++;
        name = this.text.slice(start, this.pos);
      } else {
        this.pos++;
        throw this.fail(`Invalid property identifier character: ${c}.`);
      }
      entry.name = name;
      c = this.peek();
      if (c !== ':') {
        if (c === '') throw this.containerEnd('JObject');
        this.pos++;
        throw this.fail(`Invalid character after parsing property name. Expected ':' but got: ${c}.`);
      }
      this.pos++;
      if (this.peek() === '') throw this.containerEnd('JObject');
      const value = this.readValue();
      // DuplicatePropertyNameHandling.Replace: the last value wins, in the first one's place.
      obj.set(name, value);
      c = this.peek();
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === '}') {
        this.pos++;
        break;
      }
      if (c === '') throw this.containerEnd('JObject');
      this.pos++;
      throw this.fail(`After parsing a value an unexpected character was encountered: ${c}.`);
    }
    this.stack.pop();
    return obj;
  }

  private readArray(): JArray {
    this.pos++; // [
    const arr = new JArray();
    const entry: PathEntry = { kind: 'array', name: null, index: -1 };
    this.stack.push(entry);
    for (;;) {
      let c = this.peek();
      if (c === '') throw this.containerEnd('JArray');
      if (c === ']') {
        this.pos++;
        break;
      }
      const value = this.readValue();
      entry.index++;
      arr.Add(value);
      c = this.peek();
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === ']') {
        this.pos++;
        break;
      }
      if (c === '') throw this.containerEnd('JArray');
      this.pos++;
      throw this.fail(`After parsing a value an unexpected character was encountered: ${c}.`);
    }
    this.stack.pop();
    return arr;
  }
}

function parseJson(json: string | null, target: ParseTarget): JToken {
  if (json === null) throw argumentNull('json');
  return new JsonReader(json).readRoot(target);
}

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
function contentToString(v: JValueContent): string | null {
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

// ---- SelectToken (JSONPath subset) ---------------------------------------------------------------------------------

type PathFilter =
  | { kind: 'name'; name: string | null } // null = wildcard
  | { kind: 'index'; indexes: number[] | null } // null = wildcard
  | { kind: 'slice'; start: number | null; end: number | null; step: number }
  | { kind: 'scan'; name: string | null }
  | { kind: 'query'; expr: QueryExpr };

type QueryOperand = { kind: 'path'; filters: PathFilter[] } | { kind: 'value'; value: JValue };
type QueryExpr =
  | { kind: 'bool'; op: 'and' | 'or'; left: QueryExpr; right: QueryExpr }
  | { kind: 'cmp'; op: '==' | '!=' | '<' | '<=' | '>' | '>=' | 'exists'; left: QueryOperand; right: QueryOperand | null };

function pathError(message: string): DotNetException {
  return new DotNetException('JsonException', message);
}

class JPathParser {
  private i = 0;
  constructor(private readonly s: string) {}

  parse(): PathFilter[] {
    const filters: PathFilter[] = [];
    const s = this.s;
    if (s[this.i] === '$' || s[this.i] === '@') this.i++;
    let first = true;
    while (this.i < s.length) {
      const c = s[this.i]!;
      if (c === '.') {
        if (s[this.i + 1] === '.') {
          this.i += 2;
          const name = this.readName();
          filters.push({ kind: 'scan', name: name === '*' ? null : name });
        } else {
          this.i++;
          const name = this.readName();
          filters.push({ kind: 'name', name: name === '*' ? null : name });
        }
      } else if (c === '[') {
        filters.push(this.readBracket());
      } else if (c === ' ' && filters.length > 0) {
        break;
      } else if (first) {
        const name = this.readName();
        filters.push({ kind: 'name', name: name === '*' ? null : name });
      } else {
        throw pathError(`Unexpected character while parsing path: ${c}`);
      }
      first = false;
    }
    return filters;
  }

  /** Parses a query-operand path that starts at `@` and stops at an operator or `)`. */
  parseOperandPath(): PathFilter[] {
    const filters: PathFilter[] = [];
    this.i++; // @ or $
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (c === '.') {
        this.i++;
        const name = this.readName();
        filters.push({ kind: 'name', name: name === '*' ? null : name });
      } else if (c === '[') filters.push(this.readBracket());
      else break;
    }
    return filters;
  }

  private readName(): string {
    const start = this.i;
    while (this.i < this.s.length && !'.[] ()=!<>&|'.includes(this.s[this.i]!)) this.i++;
    if (this.i === start) throw pathError('Unexpected end while parsing path.');
    return this.s.slice(start, this.i);
  }

  private readQuoted(): string {
    const q = this.s[this.i]!;
    this.i++;
    let out = '';
    while (this.i < this.s.length && this.s[this.i] !== q) {
      if (this.s[this.i] === '\\' && this.i + 1 < this.s.length) this.i++;
      out += this.s[this.i++];
    }
    if (this.i >= this.s.length) throw pathError('Path ended with an open string.');
    this.i++;
    return out;
  }

  private skipWs(): void {
    while (this.s[this.i] === ' ') this.i++;
  }

  private readBracket(): PathFilter {
    this.i++; // [
    this.skipWs();
    const c = this.s[this.i];
    if (c === undefined) throw pathError('Path ended with open indexer.');
    if (c === "'" || c === '"') {
      const name = this.readQuoted();
      this.skipWs();
      if (this.s[this.i] !== ']') throw pathError(`Unexpected character while parsing path indexer: ${this.s[this.i] ?? ''}`);
      this.i++;
      return { kind: 'name', name };
    }
    if (c === '*') {
      this.i++;
      this.skipWs();
      if (this.s[this.i] !== ']') throw pathError('Path ended with open indexer.');
      this.i++;
      return { kind: 'index', indexes: null };
    }
    if (c === '?') {
      this.i++;
      if (this.s[this.i] !== '(') throw pathError(`Unexpected character while parsing path query: ${this.s[this.i] ?? ''}`);
      this.i++;
      const expr = this.readExpr();
      this.skipWs();
      if (this.s[this.i] !== ')' || this.s[this.i + 1] !== ']') throw pathError('Path ended with open query.');
      this.i += 2;
      return { kind: 'query', expr };
    }
    const end = this.s.indexOf(']', this.i);
    if (end < 0) throw pathError('Path ended with open indexer.');
    const body = this.s.slice(this.i, end).trim();
    this.i = end + 1;
    if (body.includes(':')) {
      const [a, b, st] = body.split(':').map((x) => x.trim());
      const num = (x: string | undefined) => {
        if (x === undefined || x === '') return null;
        if (!/^-?\d+$/.test(x)) throw pathError(`Unexpected character while parsing path indexer: ${x}`);
        return Number(x);
      };
      const step = num(st) ?? 1;
      if (step === 0) throw pathError('Step cannot be zero.');
      return { kind: 'slice', start: num(a), end: num(b), step };
    }
    const indexes = body.split(',').map((x) => {
      const t = x.trim();
      if (!/^\d+$/.test(t)) throw pathError(`Unexpected character while parsing path indexer: ${t[0] ?? ']'}`);
      return Number(t);
    });
    return { kind: 'index', indexes };
  }

  private readExpr(): QueryExpr {
    let left = this.readAnd();
    this.skipWs();
    while (this.s.startsWith('||', this.i)) {
      this.i += 2;
      const right = this.readAnd();
      left = { kind: 'bool', op: 'or', left, right };
      this.skipWs();
    }
    return left;
  }

  private readAnd(): QueryExpr {
    let left = this.readComparison();
    this.skipWs();
    while (this.s.startsWith('&&', this.i)) {
      this.i += 2;
      const right = this.readComparison();
      left = { kind: 'bool', op: 'and', left, right };
      this.skipWs();
    }
    return left;
  }

  private readComparison(): QueryExpr {
    this.skipWs();
    if (this.s[this.i] === '(') {
      this.i++;
      const e = this.readExpr();
      this.skipWs();
      if (this.s[this.i] !== ')') throw pathError('Path ended with open query.');
      this.i++;
      return e;
    }
    const left = this.readOperand();
    this.skipWs();
    const m = /^(==|!=|<=|>=|<|>)/.exec(this.s.slice(this.i));
    if (!m) return { kind: 'cmp', op: 'exists', left, right: null };
    this.i += m[1]!.length;
    this.skipWs();
    const right = this.readOperand();
    return { kind: 'cmp', op: m[1] as '==', left, right };
  }

  private readOperand(): QueryOperand {
    const c = this.s[this.i];
    if (c === '@' || c === '$') return { kind: 'path', filters: this.parseOperandPath() };
    if (c === "'" || c === '"') return { kind: 'value', value: JValue.CreateString(this.readQuoted()) };
    const m = /^(true|false|null|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(this.s.slice(this.i));
    if (!m) throw pathError(`Unexpected character while parsing path query: ${c ?? ''}`);
    this.i += m[1]!.length;
    const t = m[1]!;
    if (t === 'true' || t === 'false') return { kind: 'value', value: JValue.fromBoolean(t === 'true') };
    if (t === 'null') return { kind: 'value', value: JValue.CreateNull() };
    return { kind: 'value', value: /[.eE]/.test(t) ? JValue.fromFloat(Number(t)) : JValue.fromInteger(BigInt(t)) };
  }
}

function applyFilters(roots: JToken[], filters: PathFilter[], errorWhenNoMatch: boolean): JToken[] {
  let current = roots;
  for (const f of filters) {
    const next: JToken[] = [];
    for (const t of current) {
      switch (f.kind) {
        case 'name':
          if (t instanceof JObject) {
            if (f.name === null) next.push(...t.PropertyValues());
            else {
              const v = t.get(f.name);
              if (v) next.push(v);
              else if (errorWhenNoMatch) throw pathError(`Property '${f.name}' does not exist on JObject.`);
            }
          } else if (errorWhenNoMatch && f.name !== null) throw pathError(`Property '${f.name}' not valid on ${t.constructor.name}.`);
          break;
        case 'index':
          if (t instanceof JArray) {
            if (f.indexes === null) next.push(...t.Children());
            else
              for (const i of f.indexes) {
                if (i < t.Count) next.push(t.get(i)!);
                else if (errorWhenNoMatch) throw pathError(`Index ${i} outside the bounds of JArray.`);
              }
          } else if (f.indexes === null && t instanceof JObject) next.push(...t.PropertyValues());
          else if (errorWhenNoMatch) throw pathError(`Index ${f.indexes?.[0] ?? '*'} not valid on ${t.constructor.name}.`);
          break;
        case 'slice':
          if (t instanceof JArray) {
            const n = t.Count;
            const norm = (x: number) => (x < 0 ? Math.max(n + x, 0) : Math.min(x, n));
            if (f.step > 0) {
              const s = f.start === null ? 0 : norm(f.start);
              const e = f.end === null ? n : norm(f.end);
              for (let i = s; i < e; i += f.step) next.push(t.get(i)!);
            } else {
              const s = f.start === null ? n - 1 : Math.min(norm(f.start), n - 1);
              const e = f.end === null ? -1 : norm(f.end);
              for (let i = s; i > e; i += f.step) next.push(t.get(i)!);
            }
          } else if (errorWhenNoMatch) throw pathError(`Array slice is not valid on ${t.constructor.name}.`);
          break;
        case 'scan':
          for (const d of t.Descendants()) {
            if (d instanceof JProperty && (f.name === null || d.Name === f.name)) next.push(d.Value);
            else if (f.name === null && !(d instanceof JProperty) && !(d.Parent instanceof JProperty)) next.push(d);
          }
          break;
        case 'query':
          for (const c of t instanceof JObject ? t.PropertyValues() : t.Children()) if (evalQuery(f.expr, c, roots[0]!)) next.push(c);
          break;
      }
    }
    current = next;
  }
  return current;
}

function operandTokens(o: QueryOperand, current: JToken, root: JToken): JToken[] {
  if (o.kind === 'value') return [o.value];
  return applyFilters([current], o.filters, false);
}

function compareValues(a: JToken, b: JToken, op: string): boolean {
  if (!(a instanceof JValue) || !(b instanceof JValue)) return op === '==' ? deepEquals(a, b) : op === '!=' ? !deepEquals(a, b) : false;
  const num = (v: JValue) => (v.Type === 'Integer' || v.Type === 'Float' ? Number(v.Value) : null);
  const na = num(a);
  const nb = num(b);
  let cmp: number | null;
  if (na !== null && nb !== null) cmp = na < nb ? -1 : na > nb ? 1 : 0;
  else if (a.Type === b.Type || (a.Type === 'Date' && b.Type === 'String') || (a.Type === 'String' && b.Type === 'Date')) {
    const sa = contentToString(a.Value) ?? '';
    const sb = contentToString(b.Value) ?? '';
    cmp = sa < sb ? -1 : sa > sb ? 1 : 0;
    if (a.Type === 'Null') cmp = 0;
  } else cmp = null;
  switch (op) {
    case '==':
      return cmp === 0;
    case '!=':
      return cmp !== 0;
    case '<':
      return cmp !== null && cmp < 0;
    case '<=':
      return cmp !== null && cmp <= 0;
    case '>':
      return cmp !== null && cmp > 0;
    case '>=':
      return cmp !== null && cmp >= 0;
  }
  return false;
}

function evalQuery(e: QueryExpr, current: JToken, root: JToken): boolean {
  if (e.kind === 'bool') {
    return e.op === 'and' ? evalQuery(e.left, current, root) && evalQuery(e.right, current, root) : evalQuery(e.left, current, root) || evalQuery(e.right, current, root);
  }
  const left = operandTokens(e.left, current, root);
  if (e.op === 'exists') return left.length > 0;
  const right = operandTokens(e.right!, current, root);
  return left.some((l) => right.some((r) => compareValues(l, r, e.op)));
}

function selectTokens(token: JToken, path: string, errorWhenNoMatch: boolean): JToken[] {
  const filters = new JPathParser(path).parse();
  const start = path.startsWith('$') ? token.Root : token;
  return applyFilters([start], filters, errorWhenNoMatch);
}

/** Newtonsoft.Json.Linq tokens: JToken, JContainer, JObject, JArray, JProperty, JValue (see ../json.ts). */
import { DateTime, DateTimeOffset, TimeSpan } from '../datetime.js';
import { DotNetException, argument, argumentNull, argumentOutOfRange, invalidOperation } from '../exceptions.js';
import { type DotNetFormattable, formatBoolean, formatNumber, isDotNetFormattable } from '../format.js';
import { type JConvertTargets, valueAs } from './conversions.js';
import { selectTokens } from './jpath.js';
import { parseJson } from './reader.js';
import { writeJson } from './writer.js';

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

export function jsonReaderError(message: string, path: string, line: number, position: number): DotNetException {
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
export function propertyPathSegment(name: string): string {
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
  // only a non-empty container can be an ancestor (Newtonsoft checks `item.HasValues && Root == item` the same way)
  const t = token.Parent || token === parent || (token.HasValues && isAncestor(token, parent)) ? token.DeepClone() : token;
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
    if (typeof value === 'function' || typeof value === 'symbol')
      throw new DotNetException('JsonSerializationException', `Unable to serialize a value of type ${typeof value}.`);
    return toJToken(value as JValueContent);
  }
  const o = new JObject();
  for (const [k, v] of Object.entries(value)) o.Add(k, fromObject(v));
  return o;
}

export function deepEquals(a: JToken | null, b: JToken | null): boolean {
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

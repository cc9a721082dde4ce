/**
 * Newtonsoft.Json.Linq bound into the language (implementation in src/dotnet/json.ts): JToken, JContainer, JObject,
 * JArray, JProperty, JValue, JTokenType, Formatting, JsonConvert, with Newtonsoft's implicit operators from
 * primitives and explicit operators to primitives.
 */
import {
  deserializeObject,
  JArray,
  JContainer,
  JObject,
  JProperty,
  JToken,
  JTokenTypeValue,
  JValue,
  serializeObject,
  valueAs,
  type JTokenType,
} from '../../dotnet/json.js';
import { DotNetException } from '../../dotnet/exceptions.js';
import { enumerableOf, kvpOf, named, T, type CsType } from '../types.js';
import { KeyValuePair } from '../runtime.js';
import { defineExplicitConversion } from '../conversions.js';
import { defineType, type CallSite, type Closure } from './registry.js';
import { method, opt, out, overloads, prop, rest, sig } from './sig.js';
import { csToJToken, fromJsonResult, jsonTarget, jtokenExplicit } from './convert.js';
import { defineEnum } from './core.js';

const S = T.string;
const I = T.int;
const B = T.bool;
const JT = T.JToken;
const JO = T.JObject;
const JA = T.JArray;
const JP = T.JProperty;
const JV = T.JValue;
const O = T.object;

const TYPE_NAMES = Object.keys(JTokenTypeValue) as JTokenType[];
defineEnum('JTokenType', { ...JTokenTypeValue }, ['Newtonsoft.Json.Linq.JTokenType']);
defineEnum('Formatting', { None: 0, Indented: 1 }, ['Newtonsoft.Json.Formatting']);
const fmt = (v: number): 'None' | 'Indented' => (v === 1 ? 'Indented' : 'None');

defineExplicitConversion(jtokenExplicit);

/** `Value<T>(key)` / `ToObject<T>()` target for a static type; reports unsupported targets. */
function target(site: CallSite, t: CsType): Parameters<typeof valueAs>[1] {
  const tg = jsonTarget(t);
  if (!tg)
    site.b.error(
      site.pos,
      `converting a JSON token to ${t.name} is not supported`,
      'supported: string, int, long, double, decimal, bool, DateTime (and their nullable forms), JToken, JObject, JArray, object',
    );
  return tg;
}

function valueOf(site: CallSite): { type: CsType; c: Closure } | null {
  const t = site.typeArgs?.[0];
  if (!t || site.typeArgs!.length !== 1 || site.args.length > 1) return null;
  const tg = target(site, t);
  const keyArg = site.args[0];
  const rc = site.recv!.c;
  const pos = site.pos;
  const isObject = t.name === 'object';
  const fail = (e: unknown): never => {
    if (e instanceof DotNetException && (e as { csPos?: number }).csPos === undefined) (e as { csPos?: number }).csPos = pos;
    throw e;
  };
  if (!keyArg) {
    return {
      type: t,
      c: (ctx, f) => {
        const tok = rc(ctx, f) as JToken | null;
        try {
          return conv(valueAs(tok, tg), isObject, tg);
        } catch (e) {
          return fail(e);
        }
      },
    };
  }
  const k = site.b.compile(keyArg.value);
  if (k.type.name !== 'string' && k.type.name !== 'int' && k.type.name !== 'object') return null;
  const kc = k.c;
  return {
    type: t,
    c: (ctx, f) => {
      const tok = rc(ctx, f) as JToken | null;
      if (tok === null || tok === undefined) {
        const e = new DotNetException('ArgumentNullException', "Value cannot be null. (Parameter 'value')");
        return fail(e);
      }
      try {
        return conv(tok.ValueOf(kc(ctx, f) as string, tg), isObject, tg);
      } catch (e) {
        return fail(e);
      }
    },
  };
}
function conv(v: unknown, isObject: boolean, tg: string): unknown {
  if (isObject) return typeof v === 'bigint' ? Number(v) : v;
  return fromJsonResult(v, tg);
}

const tokenEnumerable = (): CsType[] => [enumerableOf(JT)];

defineType({
  name: 'JToken',
  aliases: ['Newtonsoft.Json.Linq.JToken'],
  clr: 'Newtonsoft.Json.Linq.JToken',
  bases: tokenEnumerable,
  isInstance: (v) => v instanceof JToken,
  element: () => JT,
  iterate: (t: JToken) => t.Children(),
  indexer: {
    type: () => JT,
    params: () => [O],
    get: (t: JToken, k: unknown) => t.get(k as string),
    set: (t: JToken, v: unknown, k: unknown) => t.set(k as string, v as JToken),
  },
  instance: {
    Type: prop(named('JTokenType'), (t: JToken) => JTokenTypeValue[(t as unknown as { Type: JTokenType }).Type]),
    HasValues: prop(B, (t: JToken) => t.HasValues),
    Parent: prop(named('JContainer'), (t: JToken) => (t as unknown as { Parent: JToken | null }).Parent ?? null),
    Root: prop(JT, (t: JToken) => t.Root),
    Path: prop(S, (t: JToken) => t.Path),
    First: prop(JT, (t: JToken) => t.First),
    Last: prop(JT, (t: JToken) => t.Last),
    Next: prop(JT, (t: JToken) => t.Next),
    Previous: prop(JT, (t: JToken) => t.Previous),
    Value: { kind: 'method', bind: valueOf },
    Values: {
      kind: 'method',
      bind: (site) => {
        if (site.args.length) return null;
        const t = site.typeArgs?.[0];
        const rc = site.recv!.c;
        if (!t) return { type: enumerableOf(JT), c: (ctx, f) => (rc(ctx, f) as JToken).Values() };
        const tg = target(site, t);
        return { type: enumerableOf(t), c: (ctx, f) => (rc(ctx, f) as JToken).Values().map((x) => fromJsonResult(valueAs(x, tg), tg)) };
      },
    },
    ToObject: {
      kind: 'method',
      bind: (site) => {
        const t = site.typeArgs?.[0];
        if (!t || site.args.length) return null;
        const tg = target(site, t);
        const rc = site.recv!.c;
        return { type: t, c: (ctx, f) => fromJsonResult((rc(ctx, f) as JToken).ToObject(tg), tg) };
      },
    },
    Children: method(sig([], enumerableOf(JT), (t: JToken) => t.Children())),
    Descendants: method(sig([], enumerableOf(JT), (t: JToken) => t.Descendants())),
    SelectToken: method(
      sig([S], JT, (t: JToken, p: string) => t.SelectToken(p)),
      sig([S, B], JT, (t: JToken, p: string, e: boolean) => t.SelectToken(p, e)),
    ),
    SelectTokens: method(sig([S], enumerableOf(JT), (t: JToken, p: string) => t.SelectTokens(p))),
    DeepClone: method(sig([], JT, (t: JToken) => t.DeepClone())),
    Remove: method(sig([], T.void, (t: JToken) => t.Remove())),
    Replace: method(sig([JT], T.void, (t: JToken, v: JToken) => t.Replace(v))),
    AddAfterSelf: method(sig([O], T.void, (t: JToken, v: unknown) => t.AddAfterSelf(csToJToken(v)))),
    AddBeforeSelf: method(sig([O], T.void, (t: JToken, v: unknown) => t.AddBeforeSelf(csToJToken(v)))),
    ToString: method(
      sig([], S, (t: JToken) => t.ToString()),
      sig([named('Formatting')], S, (t: JToken, f: number) => t.ToString(fmt(f))),
      sig([named('Formatting'), rest(O)], S, (t: JToken, f: number) => t.ToString(fmt(f))),
    ),
  },
  statics: {
    Parse: method(sig([S], JT, (s: string | null) => JToken.Parse(s))),
    FromObject: method(sig([O], JT, (v: unknown) => csToJToken(v).DeepClone())),
    DeepEquals: method(sig([JT, JT], B, (a: JToken | null, b: JToken | null) => JToken.DeepEquals(a, b))),
  },
});
void JContainer;

defineType({
  name: 'JContainer',
  aliases: ['Newtonsoft.Json.Linq.JContainer'],
  bases: () => [JT],
  isInstance: (v) => v instanceof JContainer,
  instance: {
    Count: prop(I, (t: JContainer) => t.Count),
  },
});

defineType({
  name: 'JObject',
  aliases: ['Newtonsoft.Json.Linq.JObject'],
  bases: () => [named('JContainer'), JT, enumerableOf(kvpOf(S, JT))],
  isInstance: (v) => v instanceof JObject,
  element: () => kvpOf(S, JT),
  iterate: (o: JObject) => o.Properties().map((p) => new KeyValuePair(p.Name, p.Value)),
  ctor: (site) =>
    overloads(
      sig([], JO, () => new JObject()),
      sig([rest(O)], JO, (items: unknown[]) => JObject.create(...items.map(csToJToken))),
      sig([JO], JO, (o: JObject) => o.DeepClone()),
    )(site),
  indexer: {
    type: () => JT,
    params: () => [S],
    get: (o: JObject, k: string | null) => {
      if (k === null) throw new DotNetException('ArgumentNullException', "Value cannot be null. (Parameter 'propertyName')");
      return o.get(k);
    },
    set: (o: JObject, v: unknown, k: string) => o.set(k, (v ?? JValue.CreateNull()) as JToken),
  },
  instance: {
    Count: prop(I, (o: JObject) => o.Count),
    Add: method(
      sig([S, JT], T.void, (o: JObject, k: string, v: JToken | null) => o.Add(k, v ?? JValue.CreateNull())),
      sig([JP], T.void, (o: JObject, p: JProperty) => o.Add(p)),
      sig([O], T.void, (o: JObject, p: unknown) => o.Add(csToJToken(p) as JProperty)),
    ),
    Remove: method(
      sig([S], B, (o: JObject, k: string) => o.Remove(k)),
      sig([], T.void, (o: JObject) => void o.Remove()),
    ),
    ContainsKey: method(sig([S], B, (o: JObject, k: string) => o.ContainsKey(k))),
    TryGetValue: method(
      sig([S, out(JT)], B, (o: JObject, k: string, set: (v: unknown) => void) => {
        const r = o.TryGetValue(k);
        set(r.value);
        return r.ok;
      }),
    ),
    Properties: method(sig([], enumerableOf(JP), (o: JObject) => o.Properties())),
    Property: method(sig([S], JP, (o: JObject, k: string) => o.Property(k))),
    PropertyValues: method(sig([], enumerableOf(JT), (o: JObject) => o.PropertyValues())),
    GetValue: method(
      sig([S], JT, (o: JObject, k: string) => o.get(k)),
      sig([S, named('StringComparison')], JT, (o: JObject, k: string, c: number) => {
        if (c === 5 || c === 1 || c === 3) {
          const p = o.Properties().find((x) => x.Name.toLowerCase() === k.toLowerCase());
          return p ? p.Value : null;
        }
        return o.get(k);
      }),
    ),
    RemoveAll: method(sig([], T.void, (o: JObject) => o.RemoveAll())),
    DeepClone: method(sig([], JO, (o: JObject) => o.DeepClone())),
  },
  statics: {
    Parse: method(sig([S], JO, (s: string | null) => JObject.Parse(s))),
    FromObject: method(
      sig([O], JO, (v: unknown) => {
        const t = csToJToken(v);
        if (!(t instanceof JObject)) throw new DotNetException('ArgumentException', `Object serialized to ${t.Type}. JObject instance expected.`);
        return t.DeepClone();
      }),
    ),
  },
});

defineType({
  name: 'JArray',
  aliases: ['Newtonsoft.Json.Linq.JArray'],
  bases: () => [named('JContainer'), JT, enumerableOf(JT)],
  isInstance: (v) => v instanceof JArray,
  element: () => JT,
  iterate: (a: JArray) => [...a.childList()],
  ctor: (site) =>
    overloads(
      sig([], JA, () => new JArray()),
      sig([JA], JA, (a: JArray) => a.DeepClone()),
      sig([rest(O)], JA, (items: unknown[]) => JArray.create(...items.map(csToJToken))),
      // Newtonsoft's JArray(object content): a JToken (JObject is also IEnumerable) is one item, other sequences spread
      sig([enumerableOf(O)], JA, (items: Iterable<unknown> | JToken) =>
        items instanceof JToken ? JArray.create(items) : JArray.create(...[...items].map(csToJToken)),
      ),
    )(site),
  indexer: {
    type: (_t, args) => (args[0]?.name === 'string' ? JT : JT),
    params: () => [O],
    get: (a: JArray, k: unknown) => a.get(k as number),
    set: (a: JArray, v: unknown, k: unknown) => a.set(k as number, (v ?? JValue.CreateNull()) as JToken),
  },
  instance: {
    Count: prop(I, (a: JArray) => a.Count),
    Add: method(
      sig([JT], T.void, (a: JArray, v: JToken | null) => a.Add(v ?? JValue.CreateNull())),
      sig([O], T.void, (a: JArray, v: unknown) => a.Add(csToJToken(v))),
    ),
    Insert: method(sig([I, JT], T.void, (a: JArray, i: number, v: JToken | null) => a.Insert(i, v ?? JValue.CreateNull()))),
    RemoveAt: method(sig([I], T.void, (a: JArray, i: number) => a.RemoveAt(i))),
    Remove: method(sig([JT], B, (a: JArray, v: JToken) => a.Remove(v))),
    IndexOf: method(sig([JT], I, (a: JArray, v: JToken) => a.IndexOf(v))),
    Clear: method(sig([], T.void, (a: JArray) => a.Clear())),
    DeepClone: method(sig([], JA, (a: JArray) => a.DeepClone())),
  },
  statics: {
    Parse: method(sig([S], JA, (s: string | null) => JArray.Parse(s))),
    FromObject: method(
      sig([O], JA, (v: unknown) => {
        const t = csToJToken(v);
        if (!(t instanceof JArray)) throw new DotNetException('ArgumentException', `Object serialized to ${t.Type}. JArray instance expected.`);
        return t.DeepClone();
      }),
    ),
  },
});
/** `(int)arr[i]` uses the JToken indexer with an int; convert the index argument. */

defineType({
  name: 'JProperty',
  aliases: ['Newtonsoft.Json.Linq.JProperty'],
  bases: () => [named('JContainer'), JT],
  isInstance: (v) => v instanceof JProperty,
  ctor: (site) =>
    overloads(
      sig([S, O], JP, (n: string, v: unknown) => JProperty.create(n, csToJToken(v))),
      sig([S, JT], JP, (n: string, v: JToken | null) => JProperty.create(n, v ?? JValue.CreateNull())),
    )(site),
  instance: {
    Name: prop(S, (p: JProperty) => p.Name),
    Value: prop(
      JT,
      (p: JProperty) => p.Value,
      (p: JProperty, v: unknown) => {
        p.Value = (v ?? JValue.CreateNull()) as JToken;
      },
    ),
  },
});

defineType({
  name: 'JValue',
  aliases: ['Newtonsoft.Json.Linq.JValue'],
  bases: () => [JT],
  isInstance: (v) => v instanceof JValue,
  ctor: (site) =>
    overloads(
      sig([S], JV, (s: string | null) => JValue.CreateString(s)),
      sig([T.long], JV, (n: number) => JValue.fromInteger(n)),
      sig([T.double], JV, (n: number) => JValue.fromFloat(n)),
      sig([B], JV, (b: boolean) => JValue.fromBoolean(b)),
      sig([O], JV, (v: unknown) => csToJToken(v) as JValue),
    )(site),
  instance: {
    Value: prop(O, (v: JValue) => {
      const x = v.Value;
      return typeof x === 'bigint' ? Number(x) : x;
    }),
  },
  statics: {
    CreateNull: method(sig([], JV, () => JValue.CreateNull())),
    CreateString: method(sig([S], JV, (s: string | null) => JValue.CreateString(s))),
  },
});

defineType({
  name: 'JsonConvert',
  aliases: ['Newtonsoft.Json.JsonConvert'],
  statics: {
    SerializeObject: method(
      sig([O], S, (v: unknown) => serializeObject(csToJToken(v))),
      sig([O, named('Formatting')], S, (v: unknown, f: number) => serializeObject(csToJToken(v), fmt(f))),
    ),
    DeserializeObject: {
      kind: 'method',
      bind: (site) => {
        const t = site.typeArgs?.[0];
        if (site.args.length !== 1) return null;
        const a = site.b.convert(site.b.compile(site.args[0]!.value), S);
        if (!t) return { type: O, c: (ctx, f) => fromJsonResult(deserializeObject(a(ctx, f) as string | null)) };
        const tg = target(site, t);
        return { type: t, c: (ctx, f) => fromJsonResult(deserializeObject(a(ctx, f) as string | null, tg), tg) };
      },
    },
  },
});
void TYPE_NAMES;
void opt;

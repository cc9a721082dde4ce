/**
 * Arrays, List<T>, Dictionary<K,V>, HashSet<T>, KeyValuePair, IEnumerable<T> and System.Linq.Enumerable (method
 * syntax). LINQ runs eagerly on JS arrays (see docs/expressions.md: deferred execution is not observable in policies
 * except when a source is mutated after the query is built).
 */
import { DotNetException, MAX_COLLECTION_LENGTH, argumentOutOfRange, outOfMemory } from '../../dotnet/exceptions.js';
import { arrayOf, enumerableOf, isNumeric, kvpOf, listOf, named, T, unwrapNullable, type CsType } from '../types.js';
import { Decimal } from '../../dotnet/decimal.js';
import { chargeSteps, CsDictionary, csEquals, KeyValuePair, mapKey, normLong, toCsString } from '../runtime.js';
import { defaultOf, instanceTest } from '../conversions.js';
export { CsDictionary };
import { defineType, elementTypeOf, type Bound, type CallSite, type Closure, type MethodBinder } from './registry.js';
import { located, method, overloads, prop, sig } from './sig.js';

const I = T.int;
const B = T.bool;
const elem = (t: CsType): CsType => t.args[0]!;

function noElements(): DotNetException {
  return new DotNetException('InvalidOperationException', 'Sequence contains no elements');
}
function noMatch(): DotNetException {
  return new DotNetException('InvalidOperationException', 'Sequence contains no matching element');
}
function outOfRange(): DotNetException {
  return new DotNetException(
    'ArgumentOutOfRangeException',
    "Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'index')",
  );
}

// ---- arrays --------------------------------------------------------------------------------------------------------
defineType({
  name: 'Array',
  aliases: ['System.Array'],
  arity: 1,
  bases: (t) => [enumerableOf(elem(t)), named('IList', elem(t))],
  element: elem,
  iterate: (v: unknown[]) => v,
  instance: {
    Length: prop(I, (a: unknown[]) => a.length),
    Count: prop(I, (a: unknown[]) => a.length), // ICollection<T>.Count via LINQ-less access (emulator leniency)
  },
  statics: {
    IndexOf: method(sig([arrayOf(T.object), T.object], I, (a: unknown[], v: unknown) => a.findIndex((x) => csEquals(x, v) || x === v))),
    Empty: {
      kind: 'method',
      bind: (site) => (site.typeArgs?.length === 1 && site.args.length === 0 ? { type: arrayOf(site.typeArgs[0]!), c: () => [] } : null),
    },
  },
});

// ---- List<T> -------------------------------------------------------------------------------------------------------
const E = (s: CallSite): CsType => elem(s.type);
defineType({
  name: 'List',
  aliases: ['System.Collections.Generic.List', 'IList', 'ICollection', 'System.Collections.Generic.IList'],
  arity: 1,
  bases: (t) => [enumerableOf(elem(t))],
  isInstance: (v) => Array.isArray(v),
  element: elem,
  iterate: (v: unknown[]) => [...v],
  ctor: (site) =>
    overloads(
      sig([], listOf(E(site)), () => []),
      sig([I], listOf(E(site)), () => []),
      sig([enumerableOf(E(site))], listOf(E(site)), (src: Iterable<unknown>) => [...src]),
    )(site),
  indexer: {
    type: (t) => elem(t),
    params: () => [I],
    get: (a: unknown[], i: number) => {
      if (i < 0 || i >= a.length) throw outOfRange();
      return a[i];
    },
    set: (a: unknown[], v: unknown, i: number) => {
      if (i < 0 || i >= a.length) throw outOfRange();
      a[i] = v;
    },
  },
  instance: {
    Count: prop(I, (a: unknown[]) => a.length),
    Add: { kind: 'method', bind: (s) => overloads(sig([E(s)], T.void, (a: unknown[], v: unknown) => void a.push(v)))(s) },
    AddRange: { kind: 'method', bind: (s) => overloads(sig([enumerableOf(E(s))], T.void, (a: unknown[], v: Iterable<unknown>) => void a.push(...v)))(s) },
    Insert: {
      kind: 'method',
      bind: (s) =>
        overloads(
          sig([I, E(s)], T.void, (a: unknown[], i: number, v: unknown) => {
            if (i < 0 || i > a.length) throw outOfRange();
            a.splice(i, 0, v);
          }),
        )(s),
    },
    Remove: {
      kind: 'method',
      bind: (s) =>
        overloads(
          sig([E(s)], B, (a: unknown[], v: unknown) => {
            const i = a.findIndex((x) => x === v || csEquals(x, v));
            if (i < 0) return false;
            a.splice(i, 1);
            return true;
          }),
        )(s),
    },
    RemoveAt: method(
      sig([I], T.void, (a: unknown[], i: number) => {
        if (i < 0 || i >= a.length) throw outOfRange();
        a.splice(i, 1);
      }),
    ),
    Clear: method(sig([], T.void, (a: unknown[]) => void (a.length = 0))),
    IndexOf: { kind: 'method', bind: (s) => overloads(sig([E(s)], I, (a: unknown[], v: unknown) => a.findIndex((x) => x === v || csEquals(x, v))))(s) },
    Reverse: method(sig([], T.void, (a: unknown[]) => void a.reverse())),
    Sort: method(sig([], T.void, (a: unknown[]) => void a.sort(compareValues))),
  },
});

// ---- Dictionary<K,V> ---------------------------------------------------------------------------------------------------
const K = (s: CallSite): CsType => s.type.args[0]!;
const V = (s: CallSite): CsType => s.type.args[1]!;
defineType({
  name: 'Dictionary',
  aliases: ['System.Collections.Generic.Dictionary', 'IDictionary', 'IReadOnlyDictionary', 'System.Collections.Generic.IDictionary'],
  arity: 2,
  bases: (t) => [enumerableOf(kvpOf(t.args[0]!, t.args[1]!))],
  isInstance: (v) => v instanceof CsDictionary,
  element: (t) => kvpOf(t.args[0]!, t.args[1]!),
  iterate: (d: CsDictionary) => [...d.entries()],
  ctor: (site) =>
    overloads(
      sig([], site.type, () => new CsDictionary()),
      sig([named('StringComparer')], site.type, (c: { ignoreCase: boolean }) => new CsDictionary(c.ignoreCase)),
    )(site),
  indexer: {
    type: (t) => t.args[1]!,
    params: (t) => [t.args[0]!],
    get: (d: CsDictionary, k: unknown) => d.get(k),
    set: (d: CsDictionary, v: unknown, k: unknown) => d.set(k, v),
  },
  instance: {
    Count: prop(I, (d: CsDictionary) => d.map.size),
    Keys: prop(
      (t) => named('List', t.args[0]!),
      (d: CsDictionary) => [...d.map.values()].map((e) => e[0]),
    ),
    Values: prop(
      (t) => named('List', t.args[1]!),
      (d: CsDictionary) => [...d.map.values()].map((e) => e[1]),
    ),
    Add: { kind: 'method', bind: (s) => overloads(sig([K(s), V(s)], T.void, (d: CsDictionary, k: unknown, v: unknown) => d.add(k, v)))(s) },
    ContainsKey: { kind: 'method', bind: (s) => overloads(sig([K(s)], B, (d: CsDictionary, k: unknown) => d.map.has(d.key(k))))(s) },
    ContainsValue: {
      kind: 'method',
      bind: (s) => overloads(sig([V(s)], B, (d: CsDictionary, v: unknown) => [...d.map.values()].some((e) => csEquals(e[1], v) || e[1] === v)))(s),
    },
    Remove: { kind: 'method', bind: (s) => overloads(sig([K(s)], B, (d: CsDictionary, k: unknown) => d.map.delete(d.key(k))))(s) },
    Clear: method(sig([], T.void, (d: CsDictionary) => d.map.clear())),
    TryGetValue: {
      kind: 'method',
      bind: (s) =>
        overloads(
          sig([K(s), { type: V(s), out: true }], B, (d: CsDictionary, k: unknown, set: (v: unknown) => void) => {
            const e = d.map.get(d.key(k));
            set(e ? e[1] : null);
            return e !== undefined;
          }),
        )(s),
    },
    GetValueOrDefault: {
      kind: 'method',
      bind: (s) =>
        overloads(
          sig([K(s)], V(s), (d: CsDictionary, k: unknown) => d.map.get(d.key(k))?.[1] ?? null),
          sig([K(s), V(s)], V(s), (d: CsDictionary, k: unknown, def: unknown) => {
            const e = d.map.get(d.key(k));
            return e ? e[1] : def;
          }),
        )(s),
    },
  },
});
defineType({
  name: 'StringComparer',
  aliases: ['System.StringComparer'],
  statics: {
    OrdinalIgnoreCase: prop(named('StringComparer'), () => ({ ignoreCase: true })),
    InvariantCultureIgnoreCase: prop(named('StringComparer'), () => ({ ignoreCase: true })),
    Ordinal: prop(named('StringComparer'), () => ({ ignoreCase: false })),
    InvariantCulture: prop(named('StringComparer'), () => ({ ignoreCase: false })),
  },
});

defineType({
  name: 'KeyValuePair',
  aliases: ['System.Collections.Generic.KeyValuePair'],
  arity: 2,
  isInstance: (v) => v instanceof KeyValuePair,
  instance: {
    Key: prop(
      (t) => t.args[0]!,
      (p: KeyValuePair) => p.Key,
    ),
    Value: prop(
      (t) => t.args[1]!,
      (p: KeyValuePair) => p.Value,
    ),
  },
  ctor: (site) => overloads(sig([K(site), V(site)], site.type, (k: unknown, v: unknown) => new KeyValuePair(k, v)))(site),
});

// ---- HashSet<T> -------------------------------------------------------------------------------------------------------
defineType({
  name: 'HashSet',
  aliases: ['System.Collections.Generic.HashSet', 'ISet'],
  arity: 1,
  bases: (t) => [enumerableOf(elem(t))],
  isInstance: (v) => v instanceof Map && (v as { isSet?: boolean }).isSet === true,
  element: elem,
  iterate: (s: Map<unknown, unknown>) => [...s.values()],
  ctor: (site) =>
    overloads(
      sig([], site.type, () => newSet()),
      sig([enumerableOf(E(site))], site.type, (src: Iterable<unknown>) => {
        const s = newSet();
        for (const v of src) s.set(mapKey(v), v);
        return s;
      }),
    )(site),
  instance: {
    Count: prop(I, (s: Map<unknown, unknown>) => s.size),
    Add: {
      kind: 'method',
      bind: (s) =>
        overloads(
          sig([E(s)], B, (m: Map<unknown, unknown>, v: unknown) => {
            const k = mapKey(v);
            if (m.has(k)) return false;
            m.set(k, v);
            return true;
          }),
        )(s),
    },
    Contains: { kind: 'method', bind: (s) => overloads(sig([E(s)], B, (m: Map<unknown, unknown>, v: unknown) => m.has(mapKey(v))))(s) },
    Remove: { kind: 'method', bind: (s) => overloads(sig([E(s)], B, (m: Map<unknown, unknown>, v: unknown) => m.delete(mapKey(v))))(s) },
  },
});
function newSet(): Map<unknown, unknown> {
  const m = new Map<unknown, unknown>();
  (m as unknown as { isSet: boolean }).isSet = true;
  return m;
}

// ---- IEnumerable<T> and LINQ --------------------------------------------------------------------------------------------
defineType({
  name: 'IEnumerable',
  aliases: ['System.Collections.Generic.IEnumerable', 'IReadOnlyCollection', 'IReadOnlyList'],
  arity: 1,
  isInstance: (v) => Array.isArray(v),
  element: elem,
  iterate: (v: Iterable<unknown>) => v,
});

/** Sorting comparer for OrderBy: numbers, strings (ordinal-ish invariant), booleans, formattables via ToString. */
export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return a.localeCompare(b, 'en', { sensitivity: 'variant' });
  if (typeof a === 'boolean' && typeof b === 'boolean') return a ? 1 : -1;
  const ca = (a as { CompareTo?: (o: unknown) => number }).CompareTo;
  if (typeof ca === 'function') return ca.call(a, b);
  const x = toCsString(a);
  const y = toCsString(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

type Fn = (...a: unknown[]) => unknown;

/** A LINQ method: binds lambdas against the receiver's element type. */
function linq(impl: (site: CallSite, src: Bound, el: CsType, iterate: (v: unknown) => Iterable<unknown>) => { type: CsType; c: Closure } | null): {
  kind: 'method';
  bind: MethodBinder;
} {
  return {
    kind: 'method',
    bind: (site) => {
      const src = site.recv;
      if (!src) return null;
      const en = elementTypeOf(src.type);
      if (!en) return null;
      return impl(site, src, en.elem, en.iterate);
    },
  };
}

/** Compiles the source once; returns a closure producing a JS array of its items. */
function items(src: Bound, iterate: (v: unknown) => Iterable<unknown>, pos: number): (ctx: Parameters<Closure>[0], f: Parameters<Closure>[1]) => unknown[] {
  const c = src.c;
  return (ctx, f) => {
    const v = c(ctx, f);
    if (v === null || v === undefined) throw located(new DotNetException('ArgumentNullException', "Value cannot be null. (Parameter 'source')"), pos);
    return Array.isArray(v) ? v : [...iterate(v)];
  };
}

/** Variants: no argument, or one predicate/selector lambda. */
function lambdaArg(site: CallSite, el: CsType, ret?: CsType): { make: (ctx: Parameters<Closure>[0], f: Parameters<Closure>[1]) => Fn; ret: CsType } | null {
  const a = site.args[0];
  if (!a || (a.value.kind !== 'lambda' && !site.b.isDelegate(a.value))) return null;
  return site.b.lambda(a.value, [el], ret);
}

function predicateOp(
  resultType: (el: CsType) => CsType,
  op: (arr: unknown[], pred: Fn | null, dflt: unknown) => unknown,
): { kind: 'method'; bind: MethodBinder } {
  return linq((site, src, el, iterate) => {
    const get = items(src, iterate, site.pos);
    const pos = site.pos;
    const d = defaultOf(el);
    if (site.args.length === 0) return { type: resultType(el), c: (ctx, f) => wrap(pos, () => op(get(ctx, f), null, d)) };
    if (site.args.length !== 1) return null;
    const l = lambdaArg(site, el, T.bool);
    if (!l) return null;
    const make = l.make;
    return {
      type: resultType(el),
      c: (ctx, f) => {
        const arr = get(ctx, f);
        const p = make(ctx, f);
        return wrap(pos, () => op(arr, p, d));
      },
    };
  });
}

function wrap(pos: number, thunk: () => unknown): unknown {
  try {
    return thunk();
  } catch (e) {
    throw located(e, pos);
  }
}

const filter = (arr: unknown[], p: Fn | null): unknown[] => (p ? arr.filter((x) => p(x) === true) : arr);
const LINQ = {
  Where: predicateOp(
    (el) => enumerableOf(el),
    (arr, p) => filter(arr, p),
  ),
  Any: predicateOp(
    () => B,
    (arr, p) => (p ? arr.some((x) => p(x) === true) : arr.length > 0),
  ),
  All: linq((site, src, el, iterate) => {
    const l = lambdaArg(site, el, T.bool);
    if (!l || site.args.length !== 1) return null;
    const get = items(src, iterate, site.pos);
    const make = l.make;
    return {
      type: B,
      c: (ctx, f) => {
        const arr = get(ctx, f);
        const p = make(ctx, f);
        return arr.every((x) => p(x) === true);
      },
    };
  }),
  Count: predicateOp(
    () => I,
    (arr, p) => filter(arr, p).length,
  ),
  LongCount: predicateOp(
    () => T.long,
    (arr, p) => filter(arr, p).length,
  ),
  First: predicateOp(
    (el) => el,
    (arr, p) => {
      const r = filter(arr, p);
      if (r.length === 0) throw p ? noMatch() : noElements();
      return r[0];
    },
  ),
  FirstOrDefault: predicateOp(
    (el) => el,
    (arr, p, d) => {
      const r = filter(arr, p);
      return r.length ? r[0] : d;
    },
  ),
  Last: predicateOp(
    (el) => el,
    (arr, p) => {
      const r = filter(arr, p);
      if (r.length === 0) throw p ? noMatch() : noElements();
      return r[r.length - 1];
    },
  ),
  LastOrDefault: predicateOp(
    (el) => el,
    (arr, p, d) => {
      const r = filter(arr, p);
      return r.length ? r[r.length - 1] : d;
    },
  ),
  Single: predicateOp(
    (el) => el,
    (arr, p) => {
      const r = filter(arr, p);
      if (r.length === 0) throw p ? noMatch() : noElements();
      if (r.length > 1)
        throw new DotNetException(
          'InvalidOperationException',
          p ? 'Sequence contains more than one matching element' : 'Sequence contains more than one element',
        );
      return r[0];
    },
  ),
  SingleOrDefault: predicateOp(
    (el) => el,
    (arr, p, d) => {
      const r = filter(arr, p);
      if (r.length > 1)
        throw new DotNetException(
          'InvalidOperationException',
          p ? 'Sequence contains more than one matching element' : 'Sequence contains more than one element',
        );
      return r.length ? r[0] : d;
    },
  ),
  Select: linq((site, src, el, iterate) => {
    const l = lambdaArg(site, el);
    if (!l || site.args.length !== 1) return null;
    const get = items(src, iterate, site.pos);
    const make = l.make;
    return {
      type: enumerableOf(l.ret),
      c: (ctx, f) => {
        const arr = get(ctx, f);
        const m = make(ctx, f);
        return arr.map((x) => m(x));
      },
    };
  }),
  SelectMany: linq((site, src, el, iterate) => {
    const l = lambdaArg(site, el);
    if (!l || site.args.length !== 1) return null;
    const inner = elementTypeOf(l.ret);
    if (!inner) return null;
    const get = items(src, iterate, site.pos);
    const make = l.make;
    const it = inner.iterate;
    return {
      type: enumerableOf(inner.elem),
      c: (ctx, f) => {
        const arr = get(ctx, f);
        const m = make(ctx, f);
        return arr.flatMap((x) => [...it(m(x))]);
      },
    };
  }),
  OrderBy: orderOp(false),
  OrderByDescending: orderOp(true),
  ThenBy: orderOp(false),
  ThenByDescending: orderOp(true),
  ToArray: linq((site, src, el, iterate) => (site.args.length ? null : { type: arrayOf(el), c: copy(items(src, iterate, site.pos)) })),
  ToList: linq((site, src, el, iterate) => (site.args.length ? null : { type: listOf(el), c: copy(items(src, iterate, site.pos)) })),
  AsEnumerable: linq((site, src, el, iterate) => (site.args.length ? null : { type: enumerableOf(el), c: items(src, iterate, site.pos) })),
  Reverse: linq((site, src, el, iterate) => {
    if (site.args.length) return null;
    const get = items(src, iterate, site.pos);
    return { type: enumerableOf(el), c: (ctx, f) => [...get(ctx, f)].reverse() };
  }),
  Distinct: linq((site, src, el, iterate) => {
    if (site.args.length) return null;
    const get = items(src, iterate, site.pos);
    return {
      type: enumerableOf(el),
      c: (ctx, f) => {
        const seen = new Set<unknown>();
        return get(ctx, f).filter((x) => {
          const k = mapKey(x);
          if (seen.has(k)) return false;
          seen.add(k);
          return true;
        });
      },
    };
  }),
  Skip: countOp((arr, n) => arr.slice(Math.max(0, n))),
  Take: countOp((arr, n) => arr.slice(0, Math.max(0, n))),
  ElementAt: linq((site, src, el, iterate) => {
    if (site.args.length !== 1) return null;
    const get = items(src, iterate, site.pos);
    const n = site.b.convert(site.b.compile(site.args[0]!.value), I);
    const pos = site.pos;
    return {
      type: el,
      c: (ctx, f) => {
        const arr = get(ctx, f);
        const i = n(ctx, f) as number;
        if (i < 0 || i >= arr.length) throw located(outOfRange(), pos);
        return arr[i];
      },
    };
  }),
  // ---- the rest of System.Linq.Enumerable (semantics and exceptions from the .NET API reference of each method)
  ElementAtOrDefault: linq((site, src, el, iterate) => {
    if (site.args.length !== 1) return null;
    const get = items(src, iterate, site.pos);
    const n = site.b.convert(site.b.compile(site.args[0]!.value), I);
    const d = defaultOf(el);
    return {
      type: el,
      c: (ctx, f) => {
        const arr = get(ctx, f);
        const i = n(ctx, f) as number;
        return i < 0 || i >= arr.length ? d : arr[i];
      },
    };
  }),
  DefaultIfEmpty: linq((site, src, el, iterate) => {
    if (site.args.length > 1) return null;
    const get = items(src, iterate, site.pos);
    const dv = site.args[0] ? site.b.convert(site.b.compile(site.args[0].value), el) : null;
    const d = defaultOf(el);
    return {
      type: enumerableOf(el),
      c: (ctx, f) => {
        const arr = get(ctx, f);
        return arr.length ? arr : [dv ? dv(ctx, f) : d];
      },
    };
  }),
  Append: elementOp((arr, x) => [...arr, x]),
  Prepend: elementOp((arr, x) => [x, ...arr]),
  SkipWhile: whileOp((arr, p) => {
    let i = 0;
    while (i < arr.length && p(arr[i]) === true) i++;
    return arr.slice(i);
  }),
  TakeWhile: whileOp((arr, p) => {
    let i = 0;
    while (i < arr.length && p(arr[i]) === true) i++;
    return arr.slice(0, i);
  }),
  Aggregate: linq((site, src, el, iterate) => {
    const get = items(src, iterate, site.pos);
    const pos = site.pos;
    if (site.args.length === 1) {
      const fn = site.b.lambda(site.args[0]!.value, [el, el], el);
      const make = fn.make;
      return {
        type: el,
        c: (ctx, f) => {
          const arr = get(ctx, f);
          if (!arr.length) throw located(noElements(), pos);
          const g = make(ctx, f);
          let acc = arr[0];
          for (let i = 1; i < arr.length; i++) acc = g(acc, arr[i]);
          return acc;
        },
      };
    }
    if (site.args.length !== 2 || site.args[0]!.value.kind === 'lambda') return null;
    const seed = site.b.compile(site.args[0]!.value);
    const fn = site.b.lambda(site.args[1]!.value, [seed.type, el], seed.type);
    const make = fn.make;
    const sc = seed.c;
    return {
      type: seed.type,
      c: (ctx, f) => {
        const arr = get(ctx, f);
        const g = make(ctx, f);
        let acc = sc(ctx, f);
        for (const x of arr) acc = g(acc, x);
        return acc;
      },
    };
  }),
  SequenceEqual: setOp(B, (a, b) => a.length === b.length && a.every((x, i) => x === b[i] || csEquals(x, b[i]))),
  Union: setOp(null, (a, b) => distinct([...a, ...b])),
  Intersect: setOp(null, (a, b) => {
    const keys = new Set(b.map(mapKey));
    return distinct(a).filter((x) => keys.has(mapKey(x)));
  }),
  Except: setOp(null, (a, b) => {
    const keys = new Set(b.map(mapKey));
    return distinct(a).filter((x) => !keys.has(mapKey(x)));
  }),
  Zip: linq((site, src, el, iterate) => {
    if (site.args.length !== 2) return null;
    const other = site.b.compile(site.args[0]!.value);
    const en = elementTypeOf(other.type);
    if (!en) return null;
    const fn = site.b.lambda(site.args[1]!.value, [el, en.elem]);
    const get = items(src, iterate, site.pos);
    const og = items(other, en.iterate, site.pos);
    const make = fn.make;
    return {
      type: enumerableOf(fn.ret),
      c: (ctx, f) => {
        const a = get(ctx, f);
        const b = og(ctx, f);
        const g = make(ctx, f);
        const n = Math.min(a.length, b.length);
        const out: unknown[] = [];
        for (let i = 0; i < n; i++) out.push(g(a[i], b[i]));
        return out;
      },
    };
  }),
  Contains: linq((site, src, el, iterate) => {
    if (site.args.length !== 1 || site.args[0]!.value.kind === 'lambda') return null;
    const get = items(src, iterate, site.pos);
    const v = site.b.compile(site.args[0]!.value);
    if (!site.b.canConvert(v.type, el, v)) return null;
    const vc = site.b.convert(v, el);
    return {
      type: B,
      c: (ctx, f) => {
        const x = vc(ctx, f);
        return get(ctx, f).some((y) => y === x || csEquals(y, x));
      },
    };
  }),
  Sum: aggregateOp('Sum'),
  Min: aggregateOp('Min'),
  Max: aggregateOp('Max'),
  Average: aggregateOp('Average'),
  Concat: linq((site, src, el, iterate) => {
    if (site.args.length !== 1) return null;
    const other = site.b.compile(site.args[0]!.value);
    const en = elementTypeOf(other.type);
    if (!en) return null;
    const get = items(src, iterate, site.pos);
    const og = items(other, en.iterate, site.pos);
    return { type: enumerableOf(el), c: (ctx, f) => [...get(ctx, f), ...og(ctx, f)] };
  }),
  Cast: linq((site, src, _el, iterate) => {
    if (site.args.length || site.typeArgs?.length !== 1) return null;
    return { type: enumerableOf(site.typeArgs[0]!), c: items(src, iterate, site.pos) };
  }),
  OfType: linq((site, src, _el, iterate) => {
    if (site.args.length || site.typeArgs?.length !== 1) return null;
    const t = site.typeArgs[0]!;
    const get = items(src, iterate, site.pos);
    const test = instanceTest(t);
    return { type: enumerableOf(t), c: (ctx, f) => get(ctx, f).filter(test) };
  }),
  ToDictionary: linq((site, src, el, iterate) => {
    if (site.args.length < 1 || site.args.length > 2) return null;
    const kf = lambdaArg(site, el);
    if (!kf) return null;
    const vf = site.args[1] ? site.b.lambda(site.args[1].value, [el]) : null;
    const get = items(src, iterate, site.pos);
    const km = kf.make;
    const vm = vf?.make;
    return {
      type: named('Dictionary', kf.ret, vf ? vf.ret : el),
      c: (ctx, f) => {
        const d = new CsDictionary();
        const k = km(ctx, f);
        const v = vm ? vm(ctx, f) : (x: unknown) => x;
        for (const x of get(ctx, f)) d.add(k(x), v(x));
        return d;
      },
    };
  }),
};

function distinct(arr: unknown[]): unknown[] {
  const seen = new Set<unknown>();
  return arr.filter((x) => {
    const k = mapKey(x);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Append / Prepend: one element of the sequence's type. */
function elementOp(op: (arr: unknown[], x: unknown) => unknown[]): { kind: 'method'; bind: MethodBinder } {
  return linq((site, src, el, iterate) => {
    if (site.args.length !== 1 || site.args[0]!.value.kind === 'lambda') return null;
    const v = site.b.compile(site.args[0]!.value);
    if (!site.b.canConvert(v.type, el, v)) return null;
    const vc = site.b.convert(v, el);
    const get = items(src, iterate, site.pos);
    return { type: enumerableOf(el), c: (ctx, f) => op(get(ctx, f), vc(ctx, f)) };
  });
}

/** SkipWhile / TakeWhile with a predicate. */
function whileOp(op: (arr: unknown[], p: Fn) => unknown[]): { kind: 'method'; bind: MethodBinder } {
  return linq((site, src, el, iterate) => {
    if (site.args.length !== 1) return null;
    const l = lambdaArg(site, el, T.bool);
    if (!l) return null;
    const get = items(src, iterate, site.pos);
    const make = l.make;
    return { type: enumerableOf(el), c: (ctx, f) => op(get(ctx, f), make(ctx, f)) };
  });
}

/** Two-sequence operators (Union, Intersect, Except, SequenceEqual); resultType null = a sequence of the element. */
function setOp(resultType: CsType | null, op: (a: unknown[], b: unknown[]) => unknown): { kind: 'method'; bind: MethodBinder } {
  return linq((site, src, el, iterate) => {
    if (site.args.length !== 1 || site.args[0]!.value.kind === 'lambda') return null;
    const other = site.b.compile(site.args[0]!.value);
    const en = elementTypeOf(other.type);
    if (!en) return null;
    const get = items(src, iterate, site.pos);
    const og = items(other, en.iterate, site.pos);
    return { type: resultType ?? enumerableOf(el), c: (ctx, f) => op(get(ctx, f), og(ctx, f)) };
  });
}

function copy(get: (ctx: Parameters<Closure>[0], f: Parameters<Closure>[1]) => unknown[]): Closure {
  return (ctx, f) => [...get(ctx, f)];
}

function countOp(op: (arr: unknown[], n: number) => unknown[]): { kind: 'method'; bind: MethodBinder } {
  return linq((site, src, el, iterate) => {
    if (site.args.length !== 1) return null;
    const get = items(src, iterate, site.pos);
    const n = site.b.convert(site.b.compile(site.args[0]!.value), I);
    return { type: enumerableOf(el), c: (ctx, f) => op(get(ctx, f), n(ctx, f) as number) };
  });
}

function orderOp(desc: boolean): { kind: 'method'; bind: MethodBinder } {
  return linq((site, src, el, iterate) => {
    const l = lambdaArg(site, el);
    if (!l || site.args.length !== 1) return null;
    const get = items(src, iterate, site.pos);
    const make = l.make;
    return {
      type: named('IOrderedEnumerable', el),
      c: (ctx, f) => {
        const k = make(ctx, f);
        const keyed = get(ctx, f).map((x, i) => ({ x, k: k(x), i }));
        keyed.sort((a, b) => (desc ? compareValues(b.k, a.k) : compareValues(a.k, b.k)) || a.i - b.i);
        return keyed.map((e) => e.x);
      },
    };
  });
}
defineType({ name: 'IOrderedEnumerable', arity: 1, bases: (t) => [enumerableOf(elem(t))], element: elem, iterate: (v: unknown[]) => v });

function aggregateOp(kind: 'Sum' | 'Min' | 'Max' | 'Average'): { kind: 'method'; bind: MethodBinder } {
  return linq((site, src, el, iterate) => {
    let sel: Fn | null = null;
    let valueType = el;
    let make: ((ctx: Parameters<Closure>[0], f: Parameters<Closure>[1]) => Fn) | null = null;
    if (site.args.length === 1) {
      const l = lambdaArg(site, el);
      if (!l) return null;
      make = l.make;
      valueType = l.ret;
    } else if (site.args.length) return null;
    if (!isNumeric(valueType) && kind !== 'Min' && kind !== 'Max') return null;
    const get = items(src, iterate, site.pos);
    const isInt = valueType.name === 'int';
    const isDecimal = unwrapNullable(valueType).name === 'decimal';
    const isLong = unwrapNullable(valueType).name === 'long';
    const type = kind === 'Average' ? (valueType.name === 'decimal' ? T.decimal : T.double) : valueType;
    const pos = site.pos;
    void sel;
    return {
      type,
      c: (ctx, f) => {
        const s = make ? make(ctx, f) : null;
        const vals = get(ctx, f).map((x) => (s ? s(x) : x));
        if (isDecimal && (kind === 'Sum' || kind === 'Average')) {
          if (kind === 'Average' && vals.length === 0) throw located(noElements(), pos);
          let t = Decimal.Zero;
          try {
            for (const v of vals) if (v !== null && v !== undefined) t = t.add(v as Decimal);
            return kind === 'Sum' ? t : t.div(Decimal.fromNumber(vals.length));
          } catch (err) {
            throw located(err, pos);
          }
        }
        if (kind === 'Sum' && isLong) {
          let t = 0n;
          for (const v of vals) if (v !== null && v !== undefined) t += BigInt(v as number | bigint);
          if (t > 9223372036854775807n || t < -9223372036854775808n)
            throw located(new DotNetException('OverflowException', 'Arithmetic operation resulted in an overflow.'), pos);
          return normLong(t);
        }
        if (kind === 'Average' && isLong && vals.length) return Number(vals.reduce((a: bigint, b) => a + BigInt(b as number | bigint), 0n)) / vals.length;
        if (kind === 'Sum') {
          let t = 0;
          for (const v of vals) t += (v as number) ?? 0;
          if (isInt && (t > 2147483647 || t < -2147483648))
            throw located(new DotNetException('OverflowException', 'Arithmetic operation resulted in an overflow.'), pos);
          return t;
        }
        if (vals.length === 0) throw located(noElements(), pos);
        if (kind === 'Average') return vals.reduce((a: number, b) => a + (b as number), 0) / vals.length;
        return vals.reduce((a, b) => (compareValues(a, b) <= 0 ? (kind === 'Min' ? a : b) : kind === 'Min' ? b : a));
      },
    };
  });
}

/** LINQ extension methods are looked up on IEnumerable<T>; every enumerable type lists it among its bases. */
defineType({ name: 'IEnumerable', instance: LINQ });
defineType({
  name: 'Enumerable',
  aliases: ['System.Linq.Enumerable'],
  statics: {
    Range: method(
      sig([I, I], enumerableOf(I), (s: number, n: number) => {
        // Enumerable.Range throws for count < 0 or start + count - 1 > int.MaxValue (.NET reference, Enumerable.Range)
        if (n < 0 || s + n - 1 > 2147483647) throw argumentOutOfRange('count', 'Specified argument was out of the range of valid values.');
        return Array.from({ length: materialised(n) }, (_, i) => s + i);
      }),
    ),
    Repeat: { kind: 'method', bind: (site) => (site.args.length === 2 ? overloadsRepeat(site) : null) },
    Empty: {
      kind: 'method',
      bind: (site) => (site.typeArgs?.length === 1 && !site.args.length ? { type: enumerableOf(site.typeArgs[0]!), c: () => [] } : null),
    },
  },
});
function overloadsRepeat(site: CallSite): { type: CsType; c: Closure } | null {
  const v = site.b.compile(site.args[0]!.value);
  const n = site.b.convert(site.b.compile(site.args[1]!.value), I);
  const vc = v.c;
  return {
    type: enumerableOf(v.type),
    c: (ctx, f) => {
      const value = vc(ctx, f);
      const count = n(ctx, f) as number;
      if (count < 0) throw argumentOutOfRange('count', 'Specified argument was out of the range of valid values.');
      return new Array<unknown>(materialised(count)).fill(value);
    },
  };
}

/**
 * LINQ runs eagerly here, so a generated sequence is materialised: its size is checked (OutOfMemoryException, as .NET
 * raises for a collection it cannot allocate) and charged to the step budget like the loop .NET would run.
 */
function materialised(count: number): number {
  if (count > MAX_COLLECTION_LENGTH) throw outOfMemory();
  chargeSteps(count);
  return count;
}

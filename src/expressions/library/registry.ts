/**
 * Type descriptors: how each .NET type the expressions may use is bound into the language. The compiler resolves
 * every member at compile time through these tables, so at run time a member access is a direct closure call and
 * nothing can reach a JS object's own properties (no prototype, constructor or global access from C#).
 */
import type { Arg, Expr } from '../ast.js';
import { editDistance } from '../../diagnostics/edit-distance.js';
import type { GatewayContext } from '../../engine/context.js';
import { named, type CsType } from '../types.js';

export type Frame = unknown[];
export type Closure = (ctx: GatewayContext, f: Frame) => unknown;

/** A compiled expression with its static type. */
export interface Bound {
  type: CsType;
  c: Closure;
  pos: number;
  /** Known never to be null at run time (context members, literals, `new`). */
  nonNull?: boolean;
  /** Compile-time constant value. */
  constant?: { value: unknown };
}

/** What a library binder may ask of the compiler. */
export interface Binder {
  /** Compiles an argument expression (not a lambda), optionally towards an expected type. */
  compile(e: Expr, expected?: CsType): Bound;
  /** Compiles a lambda for parameter types; returns a factory of JS functions and the body's type. */
  lambda(e: Expr, params: CsType[], expectedReturn?: CsType): { make: (ctx: GatewayContext, f: Frame) => (...a: unknown[]) => unknown; ret: CsType };
  /** Inside `checked(...)` / `checked { }`: integer arithmetic and numeric casts raise OverflowException. */
  readonly checkedCtx: boolean;
  /** Whether a (non-lambda) argument is a delegate value (a Func/Action local) that can stand for a lambda. */
  isDelegate(e: Expr): boolean;
  /** Implicit conversion of a compiled value to a type (reports an error when not allowed). */
  convert(b: Bound, to: CsType): Closure;
  canConvert(from: CsType, to: CsType, b?: Bound): boolean;
  /** An `out` argument: declares (or finds) the variable and returns its setter. */
  outTarget(a: Arg, type: CsType): (ctx: GatewayContext, f: Frame, v: unknown) => void;
  error(pos: number, message: string, hint?: string): never;
}

export interface CallSite {
  name: string;
  /** The receiver for instance calls; null for static calls. */
  recv: Bound | null;
  /** The receiver's static type (instance) or the type itself (static). */
  type: CsType;
  typeArgs: CsType[] | null;
  args: Arg[];
  pos: number;
  b: Binder;
}

/** Produces the compiled call, or null if no overload accepts the arguments (the compiler reports it). */
export type MethodBinder = (site: CallSite) => { type: CsType; c: Closure; nonNull?: boolean } | null;

export interface PropMember {
  kind: 'prop';
  type: CsType | ((recv: CsType) => CsType);
  get: (o: any, ctx: GatewayContext) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any -- receivers are typed by the descriptor
  set?: (o: any, v: unknown) => void; // eslint-disable-line @typescript-eslint/no-explicit-any -- see get
  nonNull?: boolean;
}
export interface MethodMember {
  kind: 'method';
  bind: MethodBinder;
}
export type Member = PropMember | MethodMember;

export interface IndexerDef {
  /** Result type for the receiver type and the index argument types, or null if the indexer does not take them. */
  type: (recv: CsType, args: CsType[]) => CsType | null;
  /** Converts arguments to these types before calling get/set. */
  params: (recv: CsType) => CsType[];
  get: (o: any, ...keys: any[]) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any -- receivers are typed by the descriptor
  set?: (o: any, v: unknown, ...keys: any[]) => void; // eslint-disable-line @typescript-eslint/no-explicit-any -- see get
}

export interface TypeDef {
  name: string;
  /** Other spellings: `String`, `System.String`, `Newtonsoft.Json.Linq.JObject`... */
  aliases?: string[];
  /** .NET full name for messages. */
  clr?: string;
  /** Base type / implemented interfaces for assignability and member lookup. */
  bases?: (t: CsType) => CsType[];
  /** Runtime type test for casts, `is` and `as` from object. */
  isInstance?: (v: unknown, t: CsType) => boolean;
  instance?: Record<string, Member>;
  statics?: Record<string, Member>;
  ctor?: MethodBinder;
  indexer?: IndexerDef;
  /** Element type when enumerated with foreach / LINQ. */
  element?: (t: CsType) => CsType;
  /** How to enumerate a runtime value. */
  iterate?: (v: any) => Iterable<unknown>; // eslint-disable-line @typescript-eslint/no-explicit-any -- typed by the descriptor
  /** Number of generic parameters (List=1, Dictionary=2). */
  arity?: number;
  /** A family of generic types with a varying number of parameters (Func<...>, Action<...>). */
  variadic?: { min: number; max: number };
  /** Enum members (name → value). */
  enumMembers?: Record<string, number>;
  flags?: boolean;
  /** Value returned by `default(T)`. */
  defaultValue?: unknown;
}

const types = new Map<string, TypeDef>();
const aliases = new Map<string, string>();
const namespaces = new Set<string>();

export function defineType(def: TypeDef): TypeDef {
  const existing = types.get(def.name);
  if (existing) {
    // merge (several library files may contribute members to one type)
    existing.instance = { ...existing.instance, ...def.instance };
    existing.statics = { ...existing.statics, ...def.statics };
    for (const k of Object.keys(def) as Array<keyof TypeDef>) {
      if (k !== 'instance' && k !== 'statics' && def[k] !== undefined) (existing as unknown as Record<string, unknown>)[k] = def[k];
    }
    for (const a of def.aliases ?? []) addAlias(a, def.name);
    return existing;
  }
  types.set(def.name, def);
  for (const a of def.aliases ?? []) addAlias(a, def.name);
  return def;
}

function addAlias(alias: string, name: string): void {
  aliases.set(alias, name);
  const parts = alias.split('.');
  for (let i = 1; i < parts.length; i++) namespaces.add(parts.slice(0, i).join('.'));
}

export function defineNamespaces(...ns: string[]): void {
  for (const n of ns) {
    const parts = n.split('.');
    for (let i = 1; i <= parts.length; i++) namespaces.add(parts.slice(0, i).join('.'));
  }
}

export function lookupType(name: string): TypeDef | undefined {
  return types.get(aliases.get(name) ?? name);
}
export function canonicalTypeName(name: string): string | undefined {
  const n = aliases.get(name) ?? name;
  return types.has(n) ? n : undefined;
}
export function isNamespace(name: string): boolean {
  return namespaces.has(name);
}

export function typeDefOf(t: CsType): TypeDef | undefined {
  return types.get(t.name);
}

/** Direct bases of a type (from its descriptor), object last. */
export function basesOf(t: CsType): CsType[] {
  const d = types.get(t.name);
  return d?.bases ? d.bases(t) : [];
}

/** The type, then its bases breadth-first, each once: the order member, indexer and element lookups search. */
function* typeAndBases(t: CsType, withBases = true): Generator<CsType> {
  const queue: CsType[] = [t];
  const seen = new Set<string>();
  while (queue.length) {
    const cur = queue.shift()!;
    if (seen.has(cur.name)) continue;
    seen.add(cur.name);
    yield cur;
    if (withBases) queue.push(...basesOf(cur));
  }
}

/** Finds a member on a type or its bases. */
export function findMember(t: CsType, name: string, isStatic: boolean, only?: 'method'): { member: Member; owner: CsType } | undefined {
  for (const cur of typeAndBases(t, !isStatic)) {
    const d = types.get(cur.name);
    const m = own(isStatic ? d?.statics : d?.instance, name);
    if (m && (!only || m.kind === only)) return { member: m, owner: cur };
  }
  if (!isStatic && t.name !== 'object') {
    const m = own(types.get('object')?.instance, name);
    if (m && (!only || m.kind === only)) return { member: m, owner: named('object') };
  }
  return undefined;
}

/** Own-property lookup: member tables are plain objects, so `constructor`/`__proto__` must never resolve. */
export function own<V>(table: Record<string, V> | undefined, name: string): V | undefined {
  return table !== undefined && Object.hasOwn(table, name) ? table[name] : undefined;
}

/** All members names (for "did you mean" hints). */
export function memberNames(t: CsType, isStatic: boolean): string[] {
  const out = new Set<string>();
  for (const cur of typeAndBases(t, !isStatic)) {
    const d = types.get(cur.name);
    for (const k of Object.keys((isStatic ? d?.statics : d?.instance) ?? {})) out.add(k);
  }
  return [...out];
}

export function findIndexer(t: CsType): { def: IndexerDef; owner: CsType } | undefined {
  for (const cur of typeAndBases(t)) {
    const d = types.get(cur.name);
    if (d?.indexer) return { def: d.indexer, owner: cur };
  }
  return undefined;
}

/** The element type when `t` is enumerable, searching bases; undefined if not enumerable. */
export function elementTypeOf(t: CsType): { elem: CsType; iterate: (v: unknown) => Iterable<unknown> } | undefined {
  for (const cur of typeAndBases(t)) {
    const d = types.get(cur.name);
    if (d?.element && d.iterate) return { elem: d.element(cur), iterate: d.iterate };
  }
  return undefined;
}

/** Levenshtein-based suggestion for unknown names. */
export function suggestName(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const lower = name.toLowerCase();
  for (const c of candidates) {
    const d = editDistance(lower, c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

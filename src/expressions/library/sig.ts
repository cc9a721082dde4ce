/**
 * Overload resolution for library methods described by signatures. Arguments are compiled once, the best
 * applicable signature is chosen (exact type matches preferred, as C# does for the cases policies use), and a
 * closure specialised by arity is returned.
 */
import type { GatewayContext } from '../../engine/context.js';
import { DotNetException } from '../../dotnet/exceptions.js';
import { arrayOf, sameType, T, type CsType } from '../types.js';
import type { Bound, CallSite, Closure, Frame, MethodBinder, PropMember } from './registry.js';

export interface Param {
  type: CsType | ((site: CallSite) => CsType);
  name?: string;
  /** Optional parameter with this default value. */
  def?: unknown;
  optional?: boolean;
  out?: boolean;
  /** `params T[]`: collects the remaining arguments (type is the element type). */
  rest?: boolean;
}

export interface Sig {
  p: Array<CsType | Param>;
  ret: CsType | ((site: CallSite, args: Bound[]) => CsType);
  /** Implementation: (recv?, ...args) for instance/static; with `ctx: true` the GatewayContext comes first. */
  fn: (...a: any[]) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any -- argument types are guaranteed by the signature
  ctx?: boolean;
  nonNull?: boolean;
  /** Number of explicit generic type arguments this overload takes (default 0). */
  generic?: number;
  /** The generic arguments may be inferred from the arguments (then typeArgs is null). */
  infer?: boolean;
  /** The implementation takes long arguments exact: a number, or a bigint beyond ±2^53 (ticks). */
  exactLong?: boolean;
}

export function prop(type: PropMember['type'], get: PropMember['get'], set?: PropMember['set'], nonNull?: boolean): PropMember {
  return { kind: 'prop', type, get, ...(set ? { set } : {}), ...(nonNull ? { nonNull } : {}) };
}

export function opt(type: CsType, def: unknown, name?: string): Param {
  return { type, def, optional: true, ...(name ? { name } : {}) };
}
export function out(type: CsType): Param {
  return { type, out: true };
}
export function rest(type: CsType): Param {
  return { type, rest: true };
}
export function named(type: CsType, name: string): Param {
  return { type, name };
}

function asParam(p: CsType | Param): Param {
  return 'type' in p ? p : { type: p };
}

/** Wraps a library exception with the position of the call that raised it (first one wins). */
export function located(e: unknown, pos: number): unknown {
  if (e instanceof DotNetException && (e as { csPos?: number }).csPos === undefined) (e as { csPos?: number }).csPos = pos;
  return e;
}

export function method(...sigs: Sig[]): { kind: 'method'; bind: MethodBinder } {
  return { kind: 'method', bind: overloads(...sigs) };
}

export function overloads(...sigs: Sig[]): MethodBinder {
  return (site) => {
    const b = site.b;
    if (site.args.some((a) => a.value.kind === 'lambda')) return null;
    const ntype = site.typeArgs?.length ?? 0;
    const compiled: Array<Bound | null> = site.args.map((a) => (a.modifier === 'out' ? null : b.compile(a.value)));
    let best: { sig: Sig; score: number; map: Array<number[]> } | null = null;
    for (const sig of sigs) {
      if ((sig.generic ?? 0) !== ntype && !(ntype === 0 && sig.infer)) continue;
      const params = sig.p.map(asParam);
      // map args to params: map[i] = arg indexes
      const map: number[][] = params.map(() => []);
      let ok = true;
      let pi = 0;
      for (let ai = 0; ai < site.args.length; ai++) {
        const a = site.args[ai]!;
        if (a.name) {
          const idx = params.findIndex((p) => p.name === a.name);
          if (idx < 0) {
            ok = false;
            break;
          }
          map[idx]!.push(ai);
          continue;
        }
        if (pi >= params.length) {
          ok = false;
          break;
        }
        map[pi]!.push(ai);
        if (!params[pi]!.rest) pi++;
      }
      if (!ok) continue;
      let score = 0;
      for (let i = 0; i < params.length && ok; i++) {
        const p = params[i]!;
        const ptype = typeof p.type === 'function' ? p.type(site) : p.type;
        const got = map[i]!;
        if (got.length === 0) {
          if (!p.optional && !p.rest) ok = false;
          continue;
        }
        if (!p.rest && got.length > 1) ok = false;
        for (const ai of got) {
          const a = site.args[ai]!;
          if (p.out) {
            if (a.modifier !== 'out') ok = false;
            else score += 2;
            continue;
          }
          if (a.modifier === 'out') {
            ok = false;
            continue;
          }
          const bound = compiled[ai]!;
          // `params T[]` also accepts an array passed directly
          if (p.rest && got.length === 1 && b.canConvert(bound.type, arrayOf(ptype), bound)) {
            score += sameType(bound.type, arrayOf(ptype)) || bound.type.name === 'null' ? 4 : 1;
            continue;
          }
          if (!b.canConvert(bound.type, ptype, bound)) ok = false;
          else score += sameType(bound.type, ptype) ? 3 : bound.type.name === 'null' ? 2 : ptype.name === 'object' ? 0 : 1;
        }
      }
      if (!ok) continue;
      if (params.some((p) => p.rest)) score -= 1;
      if (!best || score > best.score) best = { sig, score, map };
    }
    if (!best) return null;
    const { sig, map } = best;
    const params = sig.p.map(asParam);
    const argClosures: Closure[] = [];
    for (let i = 0; i < params.length; i++) {
      const p = params[i]!;
      const ptype = typeof p.type === 'function' ? p.type(site) : p.type;
      const got = map[i]!;
      if (p.out) {
        const set = b.outTarget(site.args[got[0]!]!, ptype);
        argClosures.push((ctx, f) => (v: unknown) => set(ctx, f, v));
      } else if (p.rest) {
        const single = got.length === 1 ? compiled[got[0]!]! : null;
        if (single && b.canConvert(single.type, arrayOf(ptype), single) && (single.type.name === 'Array' || single.type.name === 'null')) {
          argClosures.push(b.convert(single, arrayOf(ptype)));
        } else {
          const items = got.map((ai) => b.convert(compiled[ai]!, ptype));
          argClosures.push((ctx, f) => items.map((c) => c(ctx, f)));
        }
      } else if (got.length === 0) {
        const d = p.def;
        argClosures.push(() => d);
      } else if ((ptype.name === 'long' || ptype.name === 'ulong') && !sig.exactLong) {
        // library implementations take longs as JS numbers: a long beyond ±2^53 (a bigint) arrives as the nearest double
        const c = b.convert(compiled[got[0]!]!, ptype);
        argClosures.push((ctx, f) => {
          const v = c(ctx, f);
          return typeof v === 'bigint' ? Number(v) : v;
        });
      } else argClosures.push(b.convert(compiled[got[0]!]!, ptype));
    }
    const type =
      typeof sig.ret === 'function'
        ? sig.ret(
            site,
            compiled.filter((x): x is Bound => x !== null),
          )
        : sig.ret;
    return { type, c: makeCall(site, sig, argClosures), ...(sig.nonNull ? { nonNull: true } : {}) };
  };
}

function makeCall(site: CallSite, sig: Sig, args: Closure[]): Closure {
  const fn = sig.fn;
  const pos = site.pos;
  const recv = site.recv;
  const withCtx = sig.ctx === true;
  const [a0, a1, a2] = args;
  if (recv) {
    const r = recv.c;
    const check = !recv.nonNull;
    const get = (ctx: GatewayContext, f: Frame): unknown => {
      const o = r(ctx, f);
      if (check && (o === null || o === undefined)) throw located(nullRef(), pos);
      return o;
    };
    if (withCtx) return (ctx, f) => call(pos, () => fn(ctx, get(ctx, f), ...args.map((a) => a(ctx, f))));
    switch (args.length) {
      case 0:
        return (ctx, f) => {
          const o = get(ctx, f);
          try {
            return fn(o);
          } catch (e) {
            throw located(e, pos);
          }
        };
      case 1:
        return (ctx, f) => {
          const o = get(ctx, f);
          const x = a0!(ctx, f);
          try {
            return fn(o, x);
          } catch (e) {
            throw located(e, pos);
          }
        };
      case 2:
        return (ctx, f) => {
          const o = get(ctx, f);
          const x = a0!(ctx, f);
          const y = a1!(ctx, f);
          try {
            return fn(o, x, y);
          } catch (e) {
            throw located(e, pos);
          }
        };
      default:
        return (ctx, f) => {
          const o = get(ctx, f);
          const xs = args.map((a) => a(ctx, f));
          return call(pos, () => fn(o, ...xs));
        };
    }
  }
  if (withCtx)
    return (ctx, f) => {
      const xs = args.map((a) => a(ctx, f));
      return call(pos, () => fn(ctx, ...xs));
    };
  switch (args.length) {
    case 0:
      return () => call(pos, fn);
    case 1:
      return (ctx, f) => {
        const x = a0!(ctx, f);
        try {
          return fn(x);
        } catch (e) {
          throw located(e, pos);
        }
      };
    case 2:
      return (ctx, f) => {
        const x = a0!(ctx, f);
        const y = a1!(ctx, f);
        try {
          return fn(x, y);
        } catch (e) {
          throw located(e, pos);
        }
      };
    case 3:
      return (ctx, f) => {
        const x = a0!(ctx, f);
        const y = a1!(ctx, f);
        const z = a2!(ctx, f);
        try {
          return fn(x, y, z);
        } catch (e) {
          throw located(e, pos);
        }
      };
    default:
      return (ctx, f) => {
        const xs = args.map((a) => a(ctx, f));
        return call(pos, () => fn(...xs));
      };
  }
}

function call(pos: number, thunk: () => unknown): unknown {
  try {
    return thunk();
  } catch (e) {
    throw located(e, pos);
  }
}

function nullRef(): DotNetException {
  return new DotNetException('NullReferenceException', 'Object reference not set to an instance of an object.');
}

/** Shorthand for a signature. */
export function sig(p: Sig['p'], ret: Sig['ret'], fn: Sig['fn'], extra: Partial<Pick<Sig, 'ctx' | 'nonNull' | 'generic' | 'infer' | 'exactLong'>> = {}): Sig {
  return { p, ret, fn, ...extra };
}

export { T };

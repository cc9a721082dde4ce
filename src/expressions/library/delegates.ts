/**
 * Delegate types as values (C# "Lambda expressions": a lambda converts to a Func<...> or Action<...>): a local such
 * as `Func<string, string> f = s => s.ToUpper();` holds a JS function; `f(x)` and `f.Invoke(x)` call it, and it can
 * be passed where LINQ expects a lambda. See docs/expressions.md.
 */
import { T, type CsType } from '../types.js';
import { defineType, type Closure } from './registry.js';
import { located } from './sig.js';
import { nre } from '../runtime.js';

/** Parameter types and return type of a delegate type, or null when `t` is not Func/Action. */
export function delegateSignature(t: CsType): { params: CsType[]; ret: CsType } | null {
  if (t.name === 'Func' && t.args.length >= 1) return { params: t.args.slice(0, -1), ret: t.args[t.args.length - 1]! };
  if (t.name === 'Action') return { params: [...t.args], ret: T.void };
  return null;
}

/** Calls a delegate value with compiled arguments (null delegate: NullReferenceException as in .NET). */
export function invokeDelegateClosure(target: Closure, args: Closure[], pos: number): Closure {
  const n = args.length;
  return (ctx, f) => {
    const fn = target(ctx, f) as ((...a: unknown[]) => unknown) | null;
    if (fn === null || fn === undefined) throw located(nre(), pos);
    const vals = new Array<unknown>(n);
    for (let i = 0; i < n; i++) vals[i] = args[i]!(ctx, f);
    return fn(...vals);
  };
}

for (const name of ['Func', 'Action']) {
  defineType({
    name,
    aliases: [`System.${name}`],
    // Func<T1..T16, TResult> / Action<T1..T16>: the number of type arguments varies
    variadic: name === 'Func' ? { min: 1, max: 17 } : { min: 0, max: 16 },
    isInstance: (v) => typeof v === 'function',
    instance: {
      Invoke: {
        kind: 'method',
        bind: (site) => {
          const sig = delegateSignature(site.type)!;
          if (site.args.length !== sig.params.length || !site.recv) return null;
          const args = site.args.map((a, i) => site.b.convert(site.b.compile(a.value, sig.params[i]), sig.params[i]!));
          return { type: sig.ret, c: invokeDelegateClosure(site.recv.c, args, site.pos) };
        },
      },
    },
  });
}

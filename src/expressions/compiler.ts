/**
 * Binder, static checker and closure compiler for the C# subset. Every name, member and operator is resolved at
 * compile time against the type descriptors in ./library; the output is a tree of closures `(ctx, frame) => value`.
 * Locals live in one frame array per evaluation (allocated only when the expression declares locals or lambdas).
 */
import type { Arg, Expr, Initializer, LocalFuncParam, Stmt, TypeNode } from './ast.js';
import type { GatewayContext } from '../engine/context.js';
import { DotNetException } from '../dotnet/exceptions.js';
import { Decimal } from '../dotnet/decimal.js';
import {
  acceptsNull,
  arrayOf,
  isIntegral,
  isNullable,
  isNumeric,
  isValueType,
  named,
  nullableOf,
  sameType,
  T,
  typeName,
  unwrapNullable,
  type CsType,
} from './types.js';
import {
  canonicalTypeName,
  elementTypeOf,
  findIndexer,
  findMember,
  isNamespace,
  lookupType,
  memberNames,
  own,
  suggestName,
  typeDefOf,
  type Binder,
  type Bound,
  type CallSite,
  type Closure,
  type Frame,
} from './library/registry.js';
import { located } from './library/sig.js';
import { delegateSignature, invokeDelegateClosure } from './library/delegates.js';
import { AnonymousObject, BudgetExceeded, csEquals, enterCall, leaveCall, normLong, nre, step, toCsString, type LongValue } from './runtime.js';
import { stringify, unboxer } from './library/convert.js';
import { defaultOf, exceptionMatches, explicitConv, implicitConv, instanceTest, isExceptionType } from './conversions.js';
import { binaryOp, checkedArithmetic, checkedBig, checkedNarrowing, numericWrapper, promoteUnary } from './operators.js';
import { canComplete, canCompleteList, endPos } from './flow.js';

export class CompileError extends Error {
  constructor(
    message: string,
    readonly pos: number,
    readonly hint?: string,
  ) {
    super(message);
  }
}

interface Local {
  slot: number;
  type: CsType;
  name: string;
}

/**
 * A local function. Its signature is known before its body is compiled (C# lets a block call a local function declared
 * further down); the slots of its parameters and locals are assigned when the body is compiled.
 */
interface LocalFn {
  name: string;
  ret: CsType;
  params: Array<{ name: string; type: CsType; def: { value: unknown } | null }>;
  paramSlots: number[];
  retSlot: number;
  /** Frame slots [start, end) the function's own locals use; saved and restored around a recursive call. */
  start: number;
  end: number;
  body: SC | null;
  /** Calls of this function currently running (recursion). */
  active: number;
}

class Scope {
  readonly vars = new Map<string, Local>();
  readonly funcs = new Map<string, LocalFn>();
  constructor(readonly parent: Scope | null) {}
  lookup(name: string): Local | undefined {
    return this.vars.get(name) ?? this.parent?.lookup(name);
  }
  lookupFn(name: string): LocalFn | undefined {
    return this.funcs.get(name) ?? this.parent?.lookupFn(name);
  }
}

/** The function being compiled (the expression block itself or a lambda body). */
interface FnCtx {
  retSlot: number;
  /** Return types seen (for the block's result type) or the lambda's expected return type. */
  returns: CsType[];
  /** When set, return values are converted to it. */
  retType: CsType | null;
  /** Box return values to object-world representation (top-level block). */
  box: boolean;
}

/** Completion codes of compiled statements. */
const NORMAL = 0;
const BREAK = 1;
const CONTINUE = 2;
const RETURN = 3;
type SC = (ctx: GatewayContext, f: Frame) => number;

export interface CompiledProgram {
  type: CsType;
  /** Frame size; 0 when the expression needs no frame. */
  frameSize: number;
  run: Closure;
}

const EMPTY_FRAME: Frame = [];

export class Compiler implements Binder {
  private frameSize = 1; // slot 0: the block's return value
  private scope = new Scope(null);
  private fn: FnCtx = { retSlot: 0, returns: [], retType: null, box: true };
  private loopDepth = 0;
  private switchDepth = 0;
  private catchSlots: number[] = [];
  /** Inside `checked(...)` / `checked { }`: integer + - * and numeric casts raise OverflowException. */
  checkedCtx = false;

  constructor(readonly text: string) {}

  // ---- entry points ----
  compileExpressionProgram(e: Expr): CompiledProgram {
    const b = this.compile(e);
    if (b.type.name === 'void') this.error(e.pos, 'the expression does not produce a value');
    if (b.type.name === 'lambda') this.error(e.pos, 'a lambda expression cannot be the value of a policy expression');
    const run = this.toObject(b);
    return { type: b.type, frameSize: this.frameSize > 1 ? this.frameSize : 0, run };
  }

  compileBlockProgram(block: Stmt): CompiledProgram {
    const body = this.stmt(block);
    if (canComplete(block))
      this.error(endPos(block, this.text), 'not all code paths return a value', 'every path of an "@{...}" block must end with a return statement');
    const rets = this.fn.returns;
    let type: CsType = rets[0] ?? T.object;
    if (!rets.every((r) => sameType(r, type))) type = T.object;
    if (type.name === 'null') type = T.object;
    const run: Closure = (ctx, f) => {
      body(ctx, f);
      return f[0];
    };
    return { type, frameSize: this.frameSize, run };
  }

  // ---- Binder interface ----
  error(pos: number, message: string, hint?: string): never {
    throw new CompileError(message, pos, hint);
  }

  compile(e: Expr, expected?: CsType): Bound {
    return this.expr(e, expected);
  }

  lambda(e: Expr, params: CsType[], expectedReturn?: CsType): { make: (ctx: GatewayContext, f: Frame) => (...a: unknown[]) => unknown; ret: CsType } {
    if (e.kind !== 'lambda') {
      // a delegate value (`Func<string, bool> p = ...; list.Where(p)`): its parameter types must match exactly
      const d = this.expr(e);
      const sig = delegateSignature(d.type);
      if (!sig) this.error(e.pos, 'expected a lambda expression such as "x => ..." or a Func<...> value');
      if (sig.params.length !== params.length || !sig.params.every((p, i) => sameType(p, params[i]!))) {
        this.error(e.pos, `cannot use ${typeName(d.type)} here: a delegate taking (${params.map(typeName).join(', ')}) is expected`);
      }
      if (expectedReturn && expectedReturn.name !== 'void' && !sameType(sig.ret, expectedReturn))
        this.error(e.pos, `cannot use ${typeName(d.type)} here: it must return ${typeName(expectedReturn)}`);
      const dc = d.c;
      const pos = e.pos;
      return {
        make: (ctx, f) => {
          const fn = dc(ctx, f);
          if (fn === null || fn === undefined) throw located(nre(), pos);
          return fn as (...a: unknown[]) => unknown;
        },
        ret: sig.ret,
      };
    }
    if (e.params.length !== params.length) this.error(e.pos, `the lambda takes ${e.params.length} parameter(s) but ${params.length} are expected here`);
    const saved = this.scope;
    this.scope = new Scope(saved);
    const slots: number[] = [];
    e.params.forEach((p, i) => {
      const type = p.type ? this.resolveType(p.type) : params[i]!;
      slots.push(this.declare(p.name, type, p.pos).slot);
    });
    let make: (ctx: GatewayContext, f: Frame) => (...a: unknown[]) => unknown;
    let ret: CsType;
    try {
      if (e.body.kind === 'block' || !('op' in e.body || 'callee' in e.body || true)) {
        ret = T.void;
      }
      if (isStmt(e.body)) {
        const savedFn = this.fn;
        const savedLoop = this.loopDepth;
        const savedSwitch = this.switchDepth;
        this.loopDepth = 0;
        this.switchDepth = 0;
        const retSlot = this.frameSize++;
        this.fn = { retSlot, returns: [], retType: expectedReturn ?? null, box: false };
        const body = this.stmt(e.body);
        const rets = this.fn.returns;
        this.fn = savedFn;
        this.loopDepth = savedLoop;
        this.switchDepth = savedSwitch;
        ret = expectedReturn ?? rets[0] ?? T.void;
        const [s0, s1] = slots;
        make =
          slots.length > 2
            ? (ctx, f) =>
                (...a: unknown[]) => {
                  step();
                  for (let i = 0; i < slots.length; i++) f[slots[i]!] = a[i];
                  body(ctx, f);
                  return f[retSlot];
                }
            : (ctx, f) => (a?: unknown, b?: unknown) => {
                step();
                if (s0 !== undefined) f[s0] = a;
                if (s1 !== undefined) f[s1] = b;
                body(ctx, f);
                return f[retSlot];
              };
      } else {
        const b = this.expr(e.body as Expr, expectedReturn);
        const c = expectedReturn && expectedReturn.name !== 'void' ? this.convert(b, expectedReturn) : b.c;
        ret = expectedReturn ?? b.type;
        const [s0, s1] = slots;
        if (slots.length === 1) {
          make = (ctx, f) => (a?: unknown) => {
            step();
            f[s0!] = a;
            return c(ctx, f);
          };
        } else if (slots.length > 2) {
          make =
            (ctx, f) =>
            (...a: unknown[]) => {
              step();
              for (let i = 0; i < slots.length; i++) f[slots[i]!] = a[i];
              return c(ctx, f);
            };
        } else {
          make = (ctx, f) => (a?: unknown, b2?: unknown) => {
            step();
            if (s0 !== undefined) f[s0] = a;
            if (s1 !== undefined) f[s1] = b2;
            return c(ctx, f);
          };
        }
      }
    } finally {
      this.scope = saved;
    }
    return { make, ret };
  }

  isDelegate(e: Expr): boolean {
    if (e.kind !== 'name' && e.kind !== 'member') return false;
    try {
      return delegateSignature(this.expr(e).type) !== null;
    } catch (err) {
      if (err instanceof CompileError) return false;
      throw err;
    }
  }

  outTarget(a: Arg, type: CsType): (ctx: GatewayContext, f: Frame, v: unknown) => void {
    if (a.outDecl) {
      const t = a.outDecl.type ? this.resolveType(a.outDecl.type) : type;
      if (!this.canConvert(type, t)) this.error(a.pos, `cannot use "out ${typeName(t)}" for a parameter of type ${typeName(type)}`);
      const local = this.declare(a.outDecl.name, t, a.outDecl.pos);
      const slot = local.slot;
      return (_ctx, f, v) => {
        f[slot] = v;
      };
    }
    if (a.value.kind !== 'name') this.error(a.pos, 'an out argument must be a variable');
    const local = this.scope.lookup(a.value.name);
    if (!local) this.error(a.value.pos, `the name "${a.value.name}" does not exist in the current context`);
    if (!this.canConvert(type, local.type)) this.error(a.pos, `cannot pass variable "${local.name}" of type ${typeName(local.type)} as out ${typeName(type)}`);
    const slot = local.slot;
    return (_ctx, f, v) => {
      f[slot] = v;
    };
  }

  // ---- types ----
  resolveType(n: TypeNode): CsType {
    let t: CsType;
    const args = n.args.map((a) => this.resolveType(a));
    const canon = canonicalTypeName(n.name);
    if (!canon) {
      notInAllowList(this, n.name, n.pos);
      const hint = suggestName(n.name.split('.').pop()!, knownTypeNames());
      this.error(n.pos, `the type "${n.name}" is not available in policy expressions`, hint ? `did you mean "${hint}"?` : undefined);
    }
    const def = lookupType(canon)!;
    if (def.variadic) {
      if (args.length < def.variadic.min || args.length > def.variadic.max)
        this.error(n.pos, `the type "${n.name}" takes ${def.variadic.min} to ${def.variadic.max} type arguments, not ${args.length}`);
    } else if ((def.arity ?? 0) !== args.length) {
      this.error(n.pos, `the type "${n.name}" takes ${def.arity ?? 0} type argument(s), not ${args.length}`);
    }
    t = named(canon, ...args);
    if (n.nullable) t = isValueType(t) ? nullableOf(t) : t;
    for (let i = 0; i < n.arrayRank; i++) t = arrayOf(t);
    return t;
  }

  canConvert(from: CsType, to: CsType, b?: Bound): boolean {
    return implicitConv(from, to, b) !== undefined;
  }

  convert(b: Bound, to: CsType): Closure {
    this.notATypeOrNamespace(b);
    const conv = implicitConv(b.type, to, b);
    if (conv === undefined) this.error(b.pos, `cannot implicitly convert type ${typeName(b.type)} to ${typeName(to)}`, explicitHint(b.type, to));
    return conv === null ? b.c : conv(b.c);
  }

  /** Object-world value of a bound expression (boxing non-int numbers). */
  /** C# error CS0119: a type or namespace name where a value is expected is caught at load, not at run time. */
  notATypeOrNamespace(b: Bound): void {
    if (b.type.name === '$type')
      this.error(b.pos, `"${typeName(b.type.args[0]!)}" is a type, which is not valid in the given context (a value is expected here)`);
    if (b.type.name === '$ns')
      this.error(b.pos, `"${typeName(b.type.args[0]!)}" is a namespace, which is not valid in the given context (a value is expected here)`);
  }

  toObject(b: Bound): Closure {
    return this.convert(b, T.object);
  }

  private declare(name: string, type: CsType, pos: number): Local {
    if (this.scope.lookup(name)) this.error(pos, `a local variable named "${name}" is already defined in this scope`);
    if (name === 'context') this.error(pos, 'the name "context" is reserved for the policy context');
    const local: Local = { slot: this.frameSize++, type, name };
    this.scope.vars.set(name, local);
    return local;
  }

  // ---- expressions ----
  private expr(e: Expr, expected?: CsType): Bound {
    switch (e.kind) {
      case 'literal':
        return literal(e);
      case 'interp':
        return this.interp(e);
      case 'name':
        return this.name(e);
      case 'member':
        return this.member(e);
      case 'call':
        return this.call(e);
      case 'index':
        return this.index(e);
      case 'unary':
        return this.unary(e);
      case 'prefix':
      case 'postfix':
        return this.incDec(e);
      case 'binary':
        return this.binary(e);
      case 'assign':
        return this.assign(e);
      case 'conditional':
        return this.conditional(e, expected);
      case 'cast':
        return this.cast(e.pos, this.resolveType(e.type), this.expr(e.operand));
      case 'is':
        return this.isExpr(e);
      case 'as':
        return this.asExpr(e);
      case 'new':
        return this.newObj(e);
      case 'newArray':
        return this.newArray(e);
      case 'newAnon':
        return this.newAnon(e);
      case 'lambda': {
        const sig = expected ? delegateSignature(expected) : null;
        if (sig && expected) {
          // lambda → Func<...>/Action<...> (C# "Lambda expressions"): the delegate value is a JS function. It may call
          // itself through the variable it is stored in, so its frame slots are kept across re-entry like a local
          // function's.
          const start = this.frameSize;
          const make = this.lambda(e, sig.params, sig.ret).make;
          const end = this.frameSize;
          return {
            type: expected,
            pos: e.pos,
            nonNull: true,
            c: (ctx, f) => {
              const inner = make(ctx, f);
              const state = { active: 0 };
              return (...a: unknown[]) => reentrant(state, f, start, end, () => inner(...a));
            },
          };
        }
        return { type: T.lambda, c: () => this.error(e.pos, 'lambda used as a value'), pos: e.pos };
      }
      case 'checkedExpr': {
        const saved = this.checkedCtx;
        this.checkedCtx = e.checked;
        try {
          return this.expr(e.operand, expected);
        } finally {
          this.checkedCtx = saved;
        }
      }
      case 'typeof':
        this.error(e.pos, 'typeof is not supported in policy expressions');
        break;
      case 'default': {
        const t = e.type ? this.resolveType(e.type) : expected;
        if (!t) this.error(e.pos, '"default" needs a type here; write default(T)');
        const v = defaultOf(t);
        return { type: t, c: () => v, pos: e.pos, constant: { value: v } };
      }
      case 'typeExpr':
        return this.typeRef(this.resolveType(e.type), e.pos);
    }
    this.error(e.pos, 'unsupported expression');
  }

  private typeRef(t: CsType, pos: number): Bound {
    return { type: named('$type', t), c: () => this.error(pos, `"${typeName(t)}" is a type, not a value`), pos };
  }

  private interp(e: Extract<Expr, { kind: 'interp' }>): Bound {
    const parts: Array<string | Closure> = [];
    for (const p of e.parts) {
      if ('text' in p) {
        parts.push(p.text);
        continue;
      }
      const b = this.expr(p.expr);
      const align = p.align ? this.convert(this.expr(p.align), T.int) : null;
      const str = stringify(b.type, p.format ?? undefined);
      const c = b.c;
      const pos = p.expr.pos;
      let piece: Closure = (ctx, f) => {
        const v = c(ctx, f);
        try {
          return str(v);
        } catch (err) {
          throw located(err, pos);
        }
      };
      if (align) {
        const inner = piece;
        piece = (ctx, f) => {
          const s = inner(ctx, f) as string;
          const w = align(ctx, f) as number;
          return w < 0 ? s.padEnd(-w, ' ') : s.padStart(w, ' ');
        };
      }
      parts.push(piece);
    }
    const n = parts.length;
    if (n === 1 && typeof parts[0] === 'string') {
      const s = parts[0];
      return { type: T.string, c: () => s, pos: e.pos, nonNull: true, constant: { value: s } };
    }
    return {
      type: T.string,
      nonNull: true,
      pos: e.pos,
      c: (ctx, f) => {
        let s = '';
        for (let i = 0; i < n; i++) {
          const p = parts[i]!;
          s += typeof p === 'string' ? p : (p(ctx, f) as string);
        }
        return s;
      },
    };
  }

  private name(e: Extract<Expr, { kind: 'name' }>): Bound {
    const local = this.scope.lookup(e.name);
    if (local) {
      const slot = local.slot;
      return { type: local.type, c: (_ctx, f) => f[slot], pos: e.pos };
    }
    if (e.name === 'context') {
      return { type: named('IContext'), c: (ctx) => ctx, pos: e.pos, nonNull: true };
    }
    const tn = canonicalTypeName(e.name);
    if (tn) {
      const args = (e.typeArgs ?? []).map((a) => this.resolveType(a));
      return this.typeRef(named(tn, ...args), e.pos);
    }
    if (isNamespace(e.name)) return { type: named('$ns', named(e.name)), c: () => null, pos: e.pos };
    notInAllowList(this, e.name, e.pos);
    const candidates = [...this.allLocals(), 'context'];
    const hint = suggestName(e.name, candidates);
    this.error(e.pos, `the name "${e.name}" does not exist in the current context`, hint ? `did you mean "${hint}"?` : undefined);
  }

  private allLocals(): string[] {
    const out: string[] = [];
    for (let s: Scope | null = this.scope; s; s = s.parent) out.push(...s.vars.keys());
    return out;
  }

  /** `a.b` where a is a namespace or a type: resolves to a nested namespace, a type, or a static member. */
  private member(e: Extract<Expr, { kind: 'member' }>): Bound {
    const target = this.expr(e.target);
    if (target.type.name === '$ns') {
      const full = `${target.type.args[0]!.name}.${e.name}`;
      const tn = canonicalTypeName(full);
      if (tn) return this.typeRef(named(tn, ...(e.typeArgs ?? []).map((a) => this.resolveType(a))), e.pos);
      if (isNamespace(full)) return { type: named('$ns', named(full)), c: () => null, pos: e.pos };
      notInAllowList(this, full, e.namePos);
      this.error(e.namePos, `"${full}" is not an available namespace or type`);
    }
    if (target.type.name === '$type') {
      const t = target.type.args[0]!;
      const def = typeDefOf(t);
      if (def?.enumMembers) {
        const v = own(def.enumMembers, e.name);
        if (v === undefined) this.error(e.namePos, `"${typeName(t)}" has no member "${e.name}"`, hintFor(e.name, Object.keys(def.enumMembers)));
        return { type: t, c: () => v, pos: e.pos, constant: { value: v }, nonNull: true };
      }
      const m = findMember(t, e.name, true);
      if (!m) this.error(e.namePos, `the type "${typeName(t)}" has no static member "${e.name}"`, hintFor(e.name, memberNames(t, true)));
      if (m.member.kind === 'method') this.error(e.namePos, `"${typeName(t)}.${e.name}" is a method; call it with (...)`);
      const p = m.member;
      const get = p.get;
      const type = typeof p.type === 'function' ? p.type(t) : p.type;
      return { type, c: (ctx) => get(null, ctx), pos: e.pos, ...(p.nonNull ? { nonNull: true } : {}) };
    }
    return this.instanceMember(target, e);
  }

  private instanceMember(target: Bound, e: Extract<Expr, { kind: 'member' }>): Bound {
    const t0 = target.type;
    if (t0.name === 'null') this.error(e.pos, `cannot access member "${e.name}" of null`);
    if (t0.name === 'Anon') {
      const idx = t0.fields!.findIndex((f) => f.name === e.name);
      if (idx < 0)
        this.error(
          e.namePos,
          `the anonymous type has no member "${e.name}"`,
          hintFor(
            e.name,
            t0.fields!.map((f) => f.name),
          ),
        );
      const ft = t0.fields![idx]!.type;
      const r = target.c;
      const unbox = unboxer(ft);
      return {
        type: ft,
        pos: e.pos,
        c: (ctx, f) => {
          const v = (r(ctx, f) as AnonymousObject).values[idx];
          return unbox && v !== null ? unbox(v) : v;
        },
      };
    }
    if (isNullable(t0) && (e.name === 'Value' || e.name === 'HasValue')) {
      const r = target.c;
      const pos = e.pos;
      if (e.name === 'HasValue') return { type: T.bool, pos, c: (ctx, f) => (r(ctx, f) ?? null) !== null };
      return {
        type: t0.args[0]!,
        pos,
        c: (ctx, f) => {
          const v = r(ctx, f);
          if (v === null || v === undefined) throw located(new DotNetException('InvalidOperationException', 'Nullable object must have a value.'), pos);
          return v;
        },
      };
    }
    const lifted = isNullable(t0);
    const t = lifted ? unwrapNullable(t0) : t0;
    const m = findMember(t, e.name, false);
    if (!m) this.error(e.namePos, `"${typeName(t)}" has no member "${e.name}"`, hintFor(e.name, memberNames(t, false)));
    if (m.member.kind === 'method') this.error(e.namePos, `"${e.name}" is a method of ${typeName(t)}; call it with (...)`);
    const p = m.member;
    let type = typeof p.type === 'function' ? p.type(t) : p.type;
    const get = p.get;
    const r = target.c;
    const pos = e.pos;
    if (e.conditional) {
      if (!acceptsNull(t0)) this.error(e.pos, `"?." needs a reference or nullable type, not ${typeName(t0)}`);
      if (isValueType(type) && !isNullable(type)) type = nullableOf(type);
      return {
        type,
        pos,
        c: (ctx, f) => {
          const o = r(ctx, f);
          return o === null || o === undefined ? null : get(o, ctx);
        },
      };
    }
    if (target.nonNull || !acceptsNull(t0)) {
      return { type, c: (ctx, f) => get(r(ctx, f), ctx), pos, ...(p.nonNull ? { nonNull: true } : {}) };
    }
    return {
      type,
      pos,
      ...(p.nonNull ? { nonNull: true } : {}),
      c: (ctx, f) => {
        const o = r(ctx, f);
        if (o === null || o === undefined) throw located(nre(), pos);
        try {
          return get(o, ctx);
        } catch (err) {
          throw located(err, pos);
        }
      },
    };
  }

  private call(e: Extract<Expr, { kind: 'call' }>): Bound {
    const callee = e.callee;
    if (callee.kind === 'name') {
      const fn = this.scope.lookupFn(callee.name);
      if (fn) return this.callLocal(fn, e);
      const local = this.scope.lookup(callee.name);
      if (local) return this.invokeDelegate({ type: local.type, c: (_ctx, f) => f[local.slot], pos: callee.pos }, e);
      if (this.scope.lookup(callee.name)) this.error(callee.pos, `"${callee.name}" is a variable, not a method`);
      this.error(
        callee.pos,
        `the method "${callee.name}" does not exist in the current context`,
        'call methods on a type or value, e.g. string.IsNullOrEmpty(x)',
      );
    }
    if (callee.kind !== 'member') {
      // `make()(x)`: calling a delegate value returned by an expression
      const target = this.expr(callee);
      if (!delegateSignature(target.type)) this.error(e.pos, 'this expression cannot be called');
      return this.invokeDelegate(target, e);
    }
    const target = this.expr(callee.target);
    const typeArgs = callee.typeArgs ? callee.typeArgs.map((a) => this.resolveType(a)) : null;
    if (target.type.name === '$ns') this.error(callee.namePos, `"${target.type.args[0]!.name}.${callee.name}" is not an available type or method`);
    const isStatic = target.type.name === '$type';
    const t0 = isStatic ? target.type.args[0]! : target.type;
    if (t0.name === 'null') this.error(e.pos, `cannot call "${callee.name}" on null`);
    const lifted = !isStatic && isNullable(t0) && !['GetValueOrDefault', 'HasValue'].includes(callee.name);
    const t = lifted ? unwrapNullable(t0) : t0;
    let found = findMember(t, callee.name, isStatic);
    // `list.Count(x => ...)`: a property hides nothing from extension-method lookup in an invocation
    if (found && found.member.kind !== 'method') found = findMember(t, callee.name, isStatic, 'method') ?? found;
    if (!found || found.member.kind !== 'method') {
      if (found) this.error(callee.namePos, `"${callee.name}" is a property, not a method`);
      const hint = hintFor(callee.name, memberNames(t, isStatic));
      this.error(
        callee.namePos,
        isStatic ? `the type "${typeName(t)}" has no static method "${callee.name}"` : `"${typeName(t)}" has no method "${callee.name}"`,
        hint,
      );
    }
    let recv: Bound | null = null;
    let condRecv: Closure | null = null;
    if (!isStatic) {
      if (callee.conditional) {
        if (!acceptsNull(t0)) this.error(callee.pos, `"?." needs a reference or nullable type, not ${typeName(t0)}`);
        // evaluate the receiver once; the call reads it from a frame slot
        const slot = this.frameSize++;
        const rc = target.c;
        condRecv = (ctx, f) => (f[slot] = rc(ctx, f));
        recv = { type: t, c: (_ctx, f) => f[slot], pos: target.pos, nonNull: true };
      } else recv = { ...target, type: t };
    }
    const site: CallSite = { name: callee.name, recv, type: t, typeArgs, args: e.args, pos: callee.namePos, b: this };
    const res = found.member.bind(site);
    if (!res)
      this.error(callee.namePos, `no overload of "${typeName(t)}.${callee.name}" takes these arguments (${e.args.map((a) => this.argDesc(a)).join(', ')})`);
    if (condRecv) {
      const cr = condRecv;
      const c = res.c;
      let type = res.type;
      if (isValueType(type) && !isNullable(type)) type = nullableOf(type);
      return {
        type,
        pos: e.pos,
        c: (ctx, f) => {
          const o = cr(ctx, f);
          return o === null || o === undefined ? null : c(ctx, f);
        },
      };
    }
    return { type: res.type, c: res.c, pos: e.pos, ...(res.nonNull ? { nonNull: true } : {}) };
  }

  /** A call of a local function: arguments by position or name, optional parameters, C#'s implicit conversions. */
  private callLocal(fn: LocalFn, e: Extract<Expr, { kind: 'call' }>): Bound {
    const argCs = this.bindArgs(fn.name, fn.params, e.args, e.pos);
    const n = argCs.length;
    const pos = e.pos;
    return {
      type: fn.ret,
      pos,
      c: (ctx, f) => {
        const args = new Array<unknown>(n);
        for (let i = 0; i < n; i++) args[i] = argCs[i]!(ctx, f);
        return invokeLocal(fn, ctx, f, args);
      },
    };
  }

  /** `f(x)` on a local holding a Func/Action. */
  private invokeDelegate(target: Bound, e: Extract<Expr, { kind: 'call' }>): Bound {
    const sig = delegateSignature(target.type);
    if (!sig) this.error(target.pos, `a value of type ${typeName(target.type)} is not a method or delegate and cannot be called`);
    const params = sig.params.map((type, i) => ({ name: `arg${i + 1}`, type, def: null }));
    const args = this.bindArgs(typeName(target.type), params, e.args, e.pos);
    return { type: sig.ret, pos: e.pos, c: invokeDelegateClosure(target.c, args, e.callee.pos) };
  }

  /** Maps call arguments onto declared parameters (positional, then named), filling defaults of optional ones. */
  private bindArgs(what: string, params: Array<{ name: string; type: CsType; def: { value: unknown } | null }>, args: Arg[], pos: number): Closure[] {
    const out: Array<Closure | undefined> = new Array(params.length);
    args.forEach((a, i) => {
      if (a.modifier) this.error(a.pos, `"${a.modifier}" arguments are not supported for "${what}"`);
      const idx = a.name ? params.findIndex((p) => p.name === a.name) : i;
      if (a.name && idx < 0) this.error(a.pos, `"${what}" has no parameter named "${a.name}"`);
      if (idx >= params.length) this.error(a.pos, `"${what}" takes ${params.length} argument(s), not ${args.length}`);
      if (out[idx]) this.error(a.pos, `the parameter "${params[idx]!.name}" is given twice`);
      const p = params[idx]!;
      out[idx] = this.convert(this.expr(a.value, p.type), p.type);
    });
    return params.map((p, i) => {
      const c = out[i];
      if (c) return c;
      if (!p.def) this.error(pos, `there is no argument given for the parameter "${p.name}" of "${what}"`);
      const v = p.def.value;
      return () => v;
    });
  }

  private argDesc(a: Arg): string {
    if (a.value.kind === 'lambda') return 'lambda';
    if (a.modifier === 'out') return 'out ...';
    try {
      return typeName(this.expr(a.value).type);
    } catch {
      return '?';
    }
  }

  private index(e: Extract<Expr, { kind: 'index' }>): Bound {
    const target = this.expr(e.target);
    const t0 = target.type;
    if (t0.name === '$type' || t0.name === '$ns') this.error(e.pos, 'cannot index a type');
    const keys = e.args.map((a) => this.expr(a.value));
    const access = this.indexAccess(target, keys, e.pos);
    const get = access.get;
    let type = access.type;
    const r = target.c;
    const pos = e.pos;
    const k0 = access.keys[0]!;
    const check = !target.nonNull;
    if (e.conditional) {
      if (isValueType(type) && !isNullable(type)) type = nullableOf(type);
      return {
        type,
        pos,
        c: (ctx, f) => {
          const o = r(ctx, f);
          if (o === null || o === undefined) return null;
          try {
            return get(o, k0(ctx, f));
          } catch (err) {
            throw located(err, pos);
          }
        },
      };
    }
    if (access.keys.length === 1) {
      return {
        type,
        pos,
        c: (ctx, f) => {
          const o = r(ctx, f);
          if (check && (o === null || o === undefined)) throw located(nre(), pos);
          const k = k0(ctx, f);
          try {
            return get(o, k);
          } catch (err) {
            throw located(err, pos);
          }
        },
      };
    }
    const ks = access.keys;
    return {
      type,
      pos,
      c: (ctx, f) => {
        const o = r(ctx, f);
        if (check && (o === null || o === undefined)) throw located(nre(), pos);
        try {
          return get(o, ...ks.map((k) => k(ctx, f)));
        } catch (err) {
          throw located(err, pos);
        }
      },
    };
  }

  private indexAccess(
    target: Bound,
    keys: Bound[],
    pos: number,
  ): { type: CsType; keys: Closure[]; get: (o: unknown, ...k: unknown[]) => unknown; set?: (o: unknown, v: unknown, ...k: unknown[]) => void } {
    const t = target.type;
    if (t.name === 'Array') {
      if (keys.length !== 1) this.error(pos, 'arrays have one dimension');
      const k = this.convert(keys[0]!, T.int);
      return { type: t.args[0]!, keys: [k], get: arrayGet, set: arraySet };
    }
    if (t.name === 'string') {
      const k = this.convert(keys[0]!, T.int);
      return { type: T.char, keys: [k], get: stringCharAt };
    }
    const ix = findIndexer(t);
    if (!ix) this.error(pos, `cannot apply indexing with [] to ${typeName(t)}`);
    const params = ix.def.params(t);
    if (params.length !== keys.length) this.error(pos, `the indexer of ${typeName(t)} takes ${params.length} argument(s)`);
    const type = ix.def.type(
      t,
      keys.map((k) => k.type),
    );
    if (!type) this.error(pos, `cannot index ${typeName(t)} with ${keys.map((k) => typeName(k.type)).join(', ')}`);
    const kc = keys.map((k, i) => this.convert(k, params[i]!));
    return { type, keys: kc, get: ix.def.get, ...(ix.def.set ? { set: ix.def.set } : {}) };
  }

  private unary(e: Extract<Expr, { kind: 'unary' }>): Bound {
    const b = this.expr(e.operand);
    const c = b.c;
    const pos = e.pos;
    const t = unwrapNullable(b.type);
    switch (e.op) {
      case '!':
        if (t.name !== 'bool') this.error(pos, `operator "!" cannot be applied to ${typeName(b.type)}`);
        return { type: T.bool, c: (ctx, f) => !c(ctx, f), pos };
      case '-': {
        if (!isNumeric(t)) this.error(pos, `operator "-" cannot be applied to ${typeName(b.type)}`);
        const pt = promoteUnary(t);
        if (pt.name === 'decimal') {
          if (b.constant && b.constant.value instanceof Decimal) {
            const v = b.constant.value.neg();
            return { type: pt, c: () => v, pos, constant: { value: v } };
          }
          return { type: b.type, pos, c: (ctx, f) => (c(ctx, f) as Decimal | null)?.neg() ?? null };
        }
        if (b.constant && typeof b.constant.value === 'number' && !(this.checkedCtx && pt.name === 'int' && b.constant.value === -2147483648)) {
          const v = pt.name === 'int' ? -(b.constant.value as number) | 0 : -(b.constant.value as number);
          return { type: pt, c: () => v, pos, constant: { value: v } };
        }
        const ck = this.checkedCtx ? checkedArithmetic(pt, '-') : null;
        if (ck)
          return {
            type: pt,
            pos,
            c: (ctx, f) => {
              try {
                return ck(0, c(ctx, f) as number);
              } catch (err) {
                throw located(err, pos);
              }
            },
          };
        if (pt.name === 'int') return { type: pt, c: (ctx, f) => -(c(ctx, f) as number) | 0, pos };
        if (pt.name === 'long')
          return {
            type: pt,
            c: (ctx, f) => {
              const v = c(ctx, f) as LongValue;
              return typeof v === 'bigint' ? normLong(-v) : -v;
            },
            pos,
          };
        return { type: pt, c: (ctx, f) => -(c(ctx, f) as number), pos };
      }
      case '+':
        if (!isNumeric(t)) this.error(pos, `operator "+" cannot be applied to ${typeName(b.type)}`);
        return { ...b, type: promoteUnary(t) };
      case '~':
        if (!isIntegral(t)) this.error(pos, `operator "~" cannot be applied to ${typeName(b.type)}`);
        if (promoteUnary(t).name === 'long') return { type: T.long, c: (ctx, f) => normLong(~BigInt(c(ctx, f) as LongValue)), pos };
        return { type: promoteUnary(t), c: (ctx, f) => ~(c(ctx, f) as number), pos };
    }
    this.error(pos, `unknown operator ${e.op}`);
  }

  private binary(e: Extract<Expr, { kind: 'binary' }>): Bound {
    const pos = e.pos;
    if (e.op === '&&' || e.op === '||') {
      const l = this.expr(e.left);
      const r = this.expr(e.right);
      if (unwrapNullable(l.type).name !== 'bool' || unwrapNullable(r.type).name !== 'bool') {
        this.error(pos, `operator "${e.op}" cannot be applied to ${typeName(l.type)} and ${typeName(r.type)}`);
      }
      const lc = l.c;
      const rc = r.c;
      return e.op === '&&'
        ? { type: T.bool, c: (ctx, f) => (lc(ctx, f) as boolean) && (rc(ctx, f) as boolean), pos }
        : { type: T.bool, c: (ctx, f) => (lc(ctx, f) as boolean) || (rc(ctx, f) as boolean), pos };
    }
    if (e.op === '??') return this.coalesce(e);
    const l = this.expr(e.left);
    const r = this.expr(e.right);
    this.notATypeOrNamespace(l);
    this.notATypeOrNamespace(r);
    return binaryOp(this, e.op, l, r, pos);
  }

  private coalesce(e: Extract<Expr, { kind: 'binary' }>): Bound {
    const l = this.expr(e.left);
    if (!acceptsNull(l.type)) this.error(e.pos, `operator "??" cannot be applied to a non-nullable ${typeName(l.type)}`);
    const lt = l.type.name === 'null' ? T.object : l.type;
    const r = this.expr(e.right, unwrapNullable(lt));
    let type: CsType;
    let lc = l.c;
    let rc: Closure;
    const u = unwrapNullable(lt);
    if (this.canConvert(r.type, u, r)) {
      type = isNullable(lt) && !acceptsNull(r.type) ? u : isNullable(lt) ? lt : u;
      rc = this.convert(r, type);
    } else if (this.canConvert(lt, r.type, l)) {
      type = r.type;
      lc = this.convert(l, r.type);
      rc = r.c;
    } else this.error(e.pos, `operator "??" cannot be applied to ${typeName(l.type)} and ${typeName(r.type)}`);
    return {
      type,
      pos: e.pos,
      c: (ctx, f) => {
        const v = lc(ctx, f);
        return v === null || v === undefined ? rc(ctx, f) : v;
      },
    };
  }

  private conditional(e: Extract<Expr, { kind: 'conditional' }>, expected?: CsType): Bound {
    const cond = this.convert(this.expr(e.cond), T.bool);
    const a = this.expr(e.then, expected);
    const b = this.expr(e.else, expected);
    let type: CsType;
    if (sameType(a.type, b.type)) type = a.type;
    else if (a.type.name === 'null' && acceptsNull(b.type)) type = b.type;
    else if (b.type.name === 'null' && acceptsNull(a.type)) type = a.type;
    else if (a.type.name === 'null' && isValueType(b.type)) type = nullableOf(b.type);
    else if (b.type.name === 'null' && isValueType(a.type)) type = nullableOf(a.type);
    else if (this.canConvert(b.type, a.type, b) && !this.canConvert(a.type, b.type, a)) type = a.type;
    else if (this.canConvert(a.type, b.type, a) && !this.canConvert(b.type, a.type, b)) type = b.type;
    else if (expected && this.canConvert(a.type, expected, a) && this.canConvert(b.type, expected, b)) type = expected;
    else this.error(e.pos, `type of conditional expression cannot be determined: no implicit conversion between ${typeName(a.type)} and ${typeName(b.type)}`);
    const ac = this.convert(a, type);
    const bc = this.convert(b, type);
    return { type, pos: e.pos, c: (ctx, f) => (cond(ctx, f) ? ac(ctx, f) : bc(ctx, f)), ...(a.nonNull && b.nonNull ? { nonNull: true } : {}) };
  }

  cast(pos: number, to: CsType, b: Bound): Bound {
    const from = b.type;
    if (from.name === '$type' || from.name === '$ns') this.error(b.pos, 'a type is not a value');
    if (sameType(from, to)) return { ...b, pos };
    const implicit = implicitConv(from, to, b);
    if (implicit !== undefined && !(from.name === 'object')) {
      return { type: to, c: implicit === null ? b.c : implicit(b.c), pos, ...(b.nonNull ? { nonNull: true } : {}) };
    }
    let conv = explicitConv(from, to);
    if (!conv) this.error(pos, `cannot convert type ${typeName(from)} to ${typeName(to)}`);
    const narrow = this.checkedCtx && isNumeric(unwrapNullable(from)) ? checkedNarrowing(unwrapNullable(to)) : null;
    if (narrow) {
      const inner = conv;
      conv = (v) =>
        v === null || v === undefined
          ? inner(v)
          : v instanceof Decimal
            ? inner(v)
            : typeof v === 'bigint'
              ? inner(checkedBig(v, unwrapNullable(to)))
              : inner(narrow(v as number));
    }
    const c = b.c;
    return {
      type: to,
      pos,
      c: (ctx, f) => {
        const v = c(ctx, f);
        try {
          return conv(v);
        } catch (err) {
          throw located(err, pos);
        }
      },
    };
  }

  private isExpr(e: Extract<Expr, { kind: 'is' }>): Bound {
    const b = this.expr(e.operand);
    const c = b.c;
    const neg = e.negated;
    if (e.nullPattern) {
      return { type: T.bool, pos: e.pos, c: (ctx, f) => ((c(ctx, f) ?? null) === null) !== neg };
    }
    const t = this.resolveType(e.type!);
    const test = instanceTest(t);
    const boxed = this.toObject(b);
    if (e.declName) {
      if (neg) this.error(e.pos, '"is not T name" is not supported');
      const local = this.declare(e.declName, t, e.pos);
      const slot = local.slot;
      const unbox = explicitConv(T.object, t) ?? ((v: unknown) => v);
      return {
        type: T.bool,
        pos: e.pos,
        c: (ctx, f) => {
          const v = boxed(ctx, f);
          if (!test(v)) return false;
          f[slot] = unbox(v);
          return true;
        },
      };
    }
    return { type: T.bool, pos: e.pos, c: (ctx, f) => test(boxed(ctx, f)) !== neg };
  }

  private asExpr(e: Extract<Expr, { kind: 'as' }>): Bound {
    const b = this.expr(e.operand);
    const t = this.resolveType(e.type);
    if (!acceptsNull(t)) this.error(e.pos, `the "as" operator needs a reference or nullable type, not ${typeName(t)}`);
    const test = instanceTest(t);
    const boxed = this.toObject(b);
    const unbox = explicitConv(T.object, t) ?? ((v: unknown) => v);
    return {
      type: t,
      pos: e.pos,
      c: (ctx, f) => {
        const v = boxed(ctx, f);
        return test(v) ? unbox(v) : null;
      },
    };
  }

  private newObj(e: Extract<Expr, { kind: 'new' }>): Bound {
    const t = this.resolveType(e.type);
    const def = typeDefOf(t);
    if (!def?.ctor) this.error(e.pos, `cannot create instances of ${typeName(t)} in policy expressions`);
    const site: CallSite = { name: '.ctor', recv: null, type: t, typeArgs: null, args: e.args ?? [], pos: e.pos, b: this };
    const res = def.ctor(site);
    if (!res) this.error(e.pos, `no constructor of ${typeName(t)} takes these arguments (${(e.args ?? []).map((a) => this.argDesc(a)).join(', ')})`);
    let c = res.c;
    if (e.init) c = this.initializer(t, c, e.init);
    return { type: t, c, pos: e.pos, nonNull: true };
  }

  private initializer(t: CsType, create: Closure, init: Initializer): Closure {
    const tmpType = t;
    const steps: Array<(o: unknown, ctx: GatewayContext, f: Frame) => void> = [];
    const self: Bound = { type: tmpType, c: () => null, pos: init.pos, nonNull: true };
    if (init.kind === 'collection') {
      const add = findMember(t, 'Add', false);
      if (!add || add.member.kind !== 'method') this.error(init.pos, `${typeName(t)} has no Add method for a collection initializer`);
      for (const item of init.items) {
        // Compile `tmp.Add(args)` with the receiver read from a slot.
        const slot = this.frameSize++;
        const recv: Bound = { ...self, c: (_ctx, f) => f[slot] };
        const args: Arg[] = item.args.map((a) => ({ pos: a.pos, name: null, modifier: null, outDecl: null, value: a }));
        const site: CallSite = { name: 'Add', recv, type: t, typeArgs: null, args, pos: item.pos, b: this };
        const res = add.member.bind(site);
        if (!res) this.error(item.pos, `no Add overload of ${typeName(t)} takes (${args.map((a) => this.argDesc(a)).join(', ')})`);
        const c = res.c;
        steps.push((o, ctx, f) => {
          f[slot] = o;
          c(ctx, f);
        });
      }
    } else {
      for (const m of init.members) {
        if (m.index) {
          const keys = m.index.map((k) => this.expr(k));
          const acc = this.indexAccess(self, keys, m.pos);
          if (!acc.set) this.error(m.pos, `the indexer of ${typeName(t)} is read-only`);
          const v = this.convert(this.expr(m.value, acc.type), acc.type);
          const set = acc.set;
          const k0 = acc.keys[0]!;
          steps.push((o, ctx, f) => set(o, v(ctx, f), k0(ctx, f)));
        } else {
          const found = findMember(t, m.name!, false);
          if (!found || found.member.kind !== 'prop' || !found.member.set) this.error(m.pos, `${typeName(t)} has no settable property "${m.name}"`);
          const p = found.member;
          const pt = typeof p.type === 'function' ? p.type(t) : p.type;
          const v = this.convert(this.expr(m.value, pt), pt);
          const set = p.set!;
          steps.push((o, ctx, f) => set(o, v(ctx, f)));
        }
      }
    }
    return (ctx, f) => {
      const o = create(ctx, f);
      for (const s of steps) s(o, ctx, f);
      return o;
    };
  }

  private newArray(e: Extract<Expr, { kind: 'newArray' }>): Bound {
    let elem: CsType | null = e.elemType ? this.resolveType(e.elemType) : null;
    const items = e.items?.map((i) => this.expr(i, elem ?? undefined)) ?? null;
    if (!elem) {
      // best common type of the items
      const ts = items!.map((i) => i.type).filter((t) => t.name !== 'null');
      if (ts.length === 0) this.error(e.pos, 'no best type found for the implicitly typed array');
      elem = ts.find((cand) => items!.every((i) => this.canConvert(i.type, cand, i))) ?? null;
      if (!elem) this.error(e.pos, 'no best type found for the implicitly typed array');
    }
    const type = arrayOf(elem);
    const isBytes = elem.name === 'byte';
    if (items) {
      const cs = items.map((i) => this.convert(i, elem));
      if (isBytes) return { type, pos: e.pos, nonNull: true, c: (ctx, f) => Uint8Array.from(cs.map((c) => c(ctx, f) as number)) };
      return { type, pos: e.pos, nonNull: true, c: (ctx, f) => cs.map((c) => c(ctx, f)) };
    }
    const size = this.convert(this.expr(e.size!), T.int);
    const d = defaultOf(elem);
    const pos = e.pos;
    return {
      type,
      pos,
      nonNull: true,
      c: (ctx, f) => {
        const n = size(ctx, f) as number;
        if (n < 0) throw located(new DotNetException('OverflowException', 'Arithmetic operation resulted in an overflow.'), pos);
        if (n > 10_000_000) throw located(new DotNetException('OutOfMemoryException' as 'Exception', 'Array dimensions exceeded supported range.'), pos);
        return isBytes ? new Uint8Array(n) : new Array<unknown>(n).fill(d);
      },
    };
  }

  private newAnon(e: Extract<Expr, { kind: 'newAnon' }>): Bound {
    const fields = e.fields.map((f) => ({ name: f.name, b: this.expr(f.value) }));
    const seen = new Set<string>();
    for (const f of e.fields) {
      if (seen.has(f.name)) this.error(f.pos, `an anonymous type cannot have two members named "${f.name}"`);
      seen.add(f.name);
    }
    const type: CsType = { name: 'Anon', args: [], fields: fields.map((f) => ({ name: f.name, type: f.b.type })) };
    const names = fields.map((f) => f.name);
    const cs = fields.map((f) => this.toObjectKeepRaw(f.b));
    return {
      type,
      pos: e.pos,
      nonNull: true,
      c: (ctx, f) =>
        new AnonymousObject(
          names,
          cs.map((c) => c(ctx, f)),
        ),
    };
  }

  /** Anonymous object members keep their static representation but are boxed so serializers know their type. */
  private toObjectKeepRaw(b: Bound): Closure {
    if (b.type.name === 'lambda') this.error(b.pos, 'cannot assign a lambda to an anonymous type member');
    return this.toObject(b);
  }

  private assign(e: Extract<Expr, { kind: 'assign' }>): Bound {
    const target = e.target;
    const pos = e.pos;
    if (e.op === '=') {
      if (target.kind === 'name') {
        const local = this.scope.lookup(target.name);
        if (!local) this.name(target);
        const l = local!;
        const v = this.convert(this.expr(e.value, l.type), l.type);
        const slot = l.slot;
        return { type: l.type, pos, c: (ctx, f) => (f[slot] = v(ctx, f)) };
      }
      if (target.kind === 'index') {
        const tb = this.expr(target.target);
        const keys = target.args.map((a) => this.expr(a.value));
        const acc = this.indexAccess(tb, keys, target.pos);
        if (!acc.set) this.error(target.pos, `the indexer of ${typeName(tb.type)} is read-only`);
        const v = this.convert(this.expr(e.value, acc.type), acc.type);
        const set = acc.set;
        const r = tb.c;
        const k0 = acc.keys[0]!;
        return {
          type: acc.type,
          pos,
          c: (ctx, f) => {
            const o = r(ctx, f);
            if (o === null || o === undefined) throw located(nre(), target.pos);
            const k = k0(ctx, f);
            const val = v(ctx, f);
            try {
              set(o, val, k);
            } catch (err) {
              throw located(err, pos);
            }
            return val;
          },
        };
      }
      if (target.kind === 'member') {
        const tb = this.expr(target.target);
        if (tb.type.name === '$type' || tb.type.name === '$ns') this.error(target.pos, 'static members cannot be assigned in policy expressions');
        const found = findMember(tb.type, target.name, false);
        if (!found || found.member.kind !== 'prop') this.error(target.namePos, `"${typeName(tb.type)}" has no property "${target.name}"`);
        const p = found.member;
        if (!p.set) this.error(target.namePos, `property "${target.name}" of ${typeName(tb.type)} is read-only`);
        const pt = typeof p.type === 'function' ? p.type(tb.type) : p.type;
        const v = this.convert(this.expr(e.value, pt), pt);
        const set = p.set;
        const r = tb.c;
        return {
          type: pt,
          pos,
          c: (ctx, f) => {
            const o = r(ctx, f);
            if (o === null || o === undefined) throw located(nre(), target.pos);
            const val = v(ctx, f);
            set(o, val);
            return val;
          },
        };
      }
      this.error(target.pos, 'the left-hand side of an assignment must be a variable, property or indexer');
    }
    // compound: a op= b  →  a = (T)(a op b)
    const ref = this.lvalue(target);
    const op = e.op.slice(0, -1);
    if (op === '??') {
      const r = this.expr(e.value, ref.type);
      const rc = this.convert(r, ref.type);
      if (ref.slot !== undefined) {
        const local = ref.slot;
        return {
          type: ref.type,
          pos,
          c: (ctx, f) => {
            const cur = f[local];
            if (cur !== null && cur !== undefined) return cur;
            return (f[local] = rc(ctx, f));
          },
        };
      }
      const { prepare } = ref;
      return {
        type: ref.type,
        pos,
        c: (ctx, f) => {
          const h = prepare(ctx, f);
          const cur = h.get();
          if (cur !== null && cur !== undefined) return cur;
          const v = rc(ctx, f);
          h.set(v);
          return v;
        },
      };
    }
    const slot = this.frameSize++;
    const cur: Bound = { type: ref.type, c: (_ctx, f) => f[slot], pos: target.pos };
    const rhs = this.expr(e.value);
    const res = binaryOp(this, op, cur, rhs, pos);
    let rc: Closure;
    if (this.canConvert(res.type, ref.type, res)) rc = this.convert(res, ref.type);
    else {
      const ex = explicitConv(res.type, ref.type);
      if (!ex || !isNumeric(ref.type)) this.error(pos, `cannot apply "${e.op}" to ${typeName(ref.type)} and ${typeName(rhs.type)}`);
      const c = res.c;
      rc = (ctx, f) => ex(c(ctx, f));
    }
    if (ref.slot !== undefined) {
      // A local: read and write its frame slot directly (no location object per evaluation: `s += x` in a loop).
      const local = ref.slot;
      return {
        type: ref.type,
        pos,
        c: (ctx, f) => {
          f[slot] = f[local];
          const v = rc(ctx, f);
          f[local] = v;
          return v;
        },
      };
    }
    const { prepare } = ref;
    return {
      type: ref.type,
      pos,
      c: (ctx, f) => {
        const h = prepare(ctx, f);
        f[slot] = h.get();
        const v = rc(ctx, f);
        h.set(v);
        return v;
      },
    };
  }

  private incDec(e: Extract<Expr, { kind: 'prefix' | 'postfix' }>): Bound {
    const ref = this.lvalue(e.operand);
    const t = unwrapNullable(ref.type);
    if (!isNumeric(t)) this.error(e.pos, `operator "${e.op}" cannot be applied to ${typeName(ref.type)}`);
    const d = e.op === '++' ? 1 : -1;
    const pos = e.pos;
    const next = this.stepFn(t, d, pos);
    const post = e.kind === 'postfix';
    const { prepare } = ref;
    if (ref.slot !== undefined) {
      const slot = ref.slot;
      return {
        type: ref.type,
        pos: e.pos,
        c: (_ctx, f) => {
          const old = f[slot];
          const nv = next(old);
          f[slot] = nv;
          return post ? old : nv;
        },
      };
    }
    return {
      type: ref.type,
      pos: e.pos,
      c: (ctx, f) => {
        const h = prepare(ctx, f);
        const old = h.get();
        const nv = next(old);
        h.set(nv);
        return post ? old : nv;
      },
    };
  }

  /** The value after `++`/`--` for a numeric type: wraps (unchecked), raises OverflowException (checked), or Decimal. */
  private stepFn(t: CsType, d: 1 | -1, pos: number): (v: unknown) => unknown {
    if (t.name === 'decimal') {
      const one = d === 1 ? Decimal.One : Decimal.MinusOne;
      return (v) => (v as Decimal).add(one);
    }
    const ck = this.checkedCtx ? checkedArithmetic(t, '+') : null;
    if (ck) {
      return (v) => {
        try {
          return ck(v as number, d);
        } catch (err) {
          throw located(err, pos);
        }
      };
    }
    if (t.name === 'long' || t.name === 'ulong') {
      return (v) => (typeof v === 'number' && Number.isSafeInteger(v + d) ? v + d : normLong(BigInt(v as LongValue) + BigInt(d)));
    }
    const wrap = numericWrapper(t);
    return (v) => wrap((v as number) + d);
  }

  /** A reference to an assignable location, evaluating receiver and index once. */
  private lvalue(target: Expr): { type: CsType; slot?: number; prepare: (ctx: GatewayContext, f: Frame) => { get(): unknown; set(v: unknown): void } } {
    if (target.kind === 'name') {
      const local = this.scope.lookup(target.name);
      if (!local) this.name(target);
      const slot = local!.slot;
      return { type: local!.type, slot, prepare: (_ctx, f) => ({ get: () => f[slot], set: (v) => void (f[slot] = v) }) };
    }
    if (target.kind === 'index') {
      const tb = this.expr(target.target);
      const keys = target.args.map((a) => this.expr(a.value));
      const acc = this.indexAccess(tb, keys, target.pos);
      if (!acc.set) this.error(target.pos, `the indexer of ${typeName(tb.type)} is read-only`);
      const { get, set } = acc;
      const r = tb.c;
      const k0 = acc.keys[0]!;
      const pos = target.pos;
      return {
        type: acc.type,
        prepare: (ctx, f) => {
          const o = r(ctx, f);
          if (o === null || o === undefined) throw located(nre(), pos);
          const k = k0(ctx, f);
          return { get: () => get(o, k), set: (v) => set!(o, v, k) };
        },
      };
    }
    if (target.kind === 'member') {
      const tb = this.expr(target.target);
      const found = findMember(tb.type, target.name, false);
      if (!found || found.member.kind !== 'prop' || !found.member.set)
        this.error(target.namePos, `"${target.name}" is not an assignable property of ${typeName(tb.type)}`);
      const p = found.member;
      const r = tb.c;
      const pos = target.pos;
      return {
        type: typeof p.type === 'function' ? p.type(tb.type) : p.type,
        prepare: (ctx, f) => {
          const o = r(ctx, f);
          if (o === null || o === undefined) throw located(nre(), pos);
          return { get: () => p.get(o, ctx), set: (v) => p.set!(o, v) };
        },
      };
    }
    this.error(target.pos, 'the operand must be a variable, property or indexer');
  }

  // ---- statements ----
  private stmt(s: Stmt): SC {
    switch (s.kind) {
      case 'block': {
        const saved = this.scope;
        this.scope = new Scope(saved);
        try {
          // local functions are in scope in their whole block, before their declaration too (C# "Local functions")
          for (const x of s.body) if (x.kind === 'localFunc') this.declareLocalFn(x);
          const body = s.body.map((x) => this.stmt(x));
          const n = body.length;
          if (n === 1) return body[0]!;
          return (ctx, f) => {
            for (let i = 0; i < n; i++) {
              const r = body[i]!(ctx, f);
              if (r !== NORMAL) return r;
            }
            return NORMAL;
          };
        } finally {
          this.scope = saved;
        }
      }
      case 'empty':
        return () => NORMAL;
      case 'localFunc':
        this.compileLocalFn(s);
        return () => NORMAL;
      case 'checked': {
        const saved = this.checkedCtx;
        this.checkedCtx = s.checked;
        try {
          return this.stmt(s.body);
        } finally {
          this.checkedCtx = saved;
        }
      }
      case 'expr': {
        const b = this.expr(s.expr);
        const c = b.c;
        return (ctx, f) => {
          c(ctx, f);
          return NORMAL;
        };
      }
      case 'decl':
        return this.decl(s);
      case 'if': {
        const cond = this.convert(this.expr(s.cond), T.bool);
        const then = this.scoped(s.then);
        const els = s.else ? this.scoped(s.else) : null;
        if (els) return (ctx, f) => (cond(ctx, f) ? then(ctx, f) : els(ctx, f));
        return (ctx, f) => (cond(ctx, f) ? then(ctx, f) : NORMAL);
      }
      case 'while': {
        const cond = this.convert(this.expr(s.cond), T.bool);
        const body = this.loopBody(s.body);
        return (ctx, f) => {
          while (cond(ctx, f)) {
            step();
            const r = body(ctx, f);
            if (r === BREAK) break;
            if (r === RETURN) return r;
          }
          return NORMAL;
        };
      }
      case 'do': {
        const body = this.loopBody(s.body);
        const cond = this.convert(this.expr(s.cond), T.bool);
        return (ctx, f) => {
          do {
            step();
            const r = body(ctx, f);
            if (r === BREAK) break;
            if (r === RETURN) return r;
          } while (cond(ctx, f));
          return NORMAL;
        };
      }
      case 'for': {
        const saved = this.scope;
        this.scope = new Scope(saved);
        try {
          const init = s.init.map((x) => this.stmt(x));
          const cond = s.cond ? this.convert(this.expr(s.cond), T.bool) : () => true;
          const update = s.update.map((u) => this.expr(u).c);
          const body = this.loopBody(s.body);
          return (ctx, f) => {
            for (const i of init) i(ctx, f);
            for (; cond(ctx, f);) {
              step();
              const r = body(ctx, f);
              if (r === BREAK) break;
              if (r === RETURN) return r;
              for (const u of update) u(ctx, f);
            }
            return NORMAL;
          };
        } finally {
          this.scope = saved;
        }
      }
      case 'foreach':
        return this.foreach(s);
      case 'switch':
        return this.switchStmt(s);
      case 'break':
        if (this.loopDepth === 0 && this.switchDepth === 0) this.error(s.pos, '"break" outside of a loop or switch');
        return () => BREAK;
      case 'continue':
        if (this.loopDepth === 0) this.error(s.pos, '"continue" outside of a loop');
        return () => CONTINUE;
      case 'return': {
        const fn = this.fn;
        const slot = fn.retSlot;
        if (!s.value) {
          if (fn.box || (fn.retType && fn.retType.name !== 'void')) this.error(s.pos, 'the block must return a value');
          return () => RETURN;
        }
        if (fn.retType?.name === 'void') this.error(s.value.pos, 'a function returning void cannot return a value');
        const b = this.expr(s.value, fn.retType ?? undefined);
        if (b.type.name === 'void') this.error(s.value.pos, 'cannot return a void expression');
        fn.returns.push(b.type);
        const c = fn.box ? this.toObject(b) : fn.retType && fn.retType.name !== 'void' ? this.convert(b, fn.retType) : b.c;
        return (ctx, f) => {
          f[slot] = c(ctx, f);
          return RETURN;
        };
      }
      case 'throw': {
        if (!s.value) {
          const slot = this.catchSlots[this.catchSlots.length - 1];
          if (slot === undefined) this.error(s.pos, '"throw;" is only allowed inside a catch block');
          return (_ctx, f) => {
            throw f[slot];
          };
        }
        const b = this.expr(s.value);
        if (!isExceptionType(b.type)) this.error(s.value.pos, `only exceptions can be thrown, not ${typeName(b.type)}`);
        const c = b.c;
        const pos = s.pos;
        return (ctx, f) => {
          const ex = c(ctx, f);
          if (ex === null || ex === undefined) throw located(nre(), pos);
          throw located(ex, pos);
        };
      }
      case 'try':
        return this.tryStmt(s);
      case 'using': {
        const saved = this.scope;
        this.scope = new Scope(saved);
        try {
          const init = s.decl ? this.stmt(s.decl) : s.expr ? this.stmt({ kind: 'expr', pos: s.pos, expr: s.expr }) : () => NORMAL;
          const body = this.stmt(s.body);
          return (ctx, f) => {
            init(ctx, f);
            return body(ctx, f);
          };
        } finally {
          this.scope = saved;
        }
      }
    }
  }

  private declareLocalFn(s: Extract<Stmt, { kind: 'localFunc' }>): void {
    if (this.scope.funcs.has(s.name) || this.scope.lookup(s.name))
      this.error(s.namePos, `a local variable or function named "${s.name}" is already defined in this scope`);
    if (s.name === 'context') this.error(s.namePos, 'the name "context" is reserved for the policy context');
    const ret = s.ret.name === 'void' && s.ret.arrayRank === 0 ? T.void : this.resolveType(s.ret);
    const seen = new Set<string>();
    const params = s.params.map((p: LocalFuncParam) => {
      if (seen.has(p.name)) this.error(p.pos, `the parameter name "${p.name}" is a duplicate`);
      seen.add(p.name);
      const type = this.resolveType(p.type);
      let def: { value: unknown } | null = null;
      if (p.def) {
        const b = this.expr(p.def, type);
        if (!b.constant && !(p.def.kind === 'default')) this.error(p.def.pos, `the default value of parameter "${p.name}" must be a compile-time constant`);
        def = { value: this.convert(b, type)(null as unknown as GatewayContext, EMPTY_FRAME) };
      }
      return { name: p.name, type, def };
    });
    this.scope.funcs.set(s.name, { name: s.name, ret, params, paramSlots: [], retSlot: -1, start: 0, end: 0, body: null, active: 0 });
  }

  private compileLocalFn(s: Extract<Stmt, { kind: 'localFunc' }>): void {
    // declared up front in blocks; a switch section declares it here (usable from this point on)
    if (!this.scope.funcs.has(s.name)) this.declareLocalFn(s);
    const fn = this.scope.funcs.get(s.name)!;
    const saved = { scope: this.scope, fn: this.fn, loop: this.loopDepth, sw: this.switchDepth, catches: this.catchSlots };
    fn.start = this.frameSize;
    this.scope = new Scope(saved.scope);
    try {
      fn.paramSlots = fn.params.map((p, i) => this.declare(p.name, p.type, s.params[i]!.pos).slot);
      fn.retSlot = this.frameSize++;
      this.fn = { retSlot: fn.retSlot, returns: [], retType: fn.ret, box: false };
      this.loopDepth = 0;
      this.switchDepth = 0;
      this.catchSlots = [];
      fn.body = this.stmt(s.body);
      if (fn.ret.name !== 'void' && canComplete(s.body))
        this.error(endPos(s.body, this.text), `not all code paths of local function "${s.name}" return a value`);
      fn.end = this.frameSize;
    } finally {
      this.scope = saved.scope;
      this.fn = saved.fn;
      this.loopDepth = saved.loop;
      this.switchDepth = saved.sw;
      this.catchSlots = saved.catches;
    }
  }

  private scoped(s: Stmt): SC {
    const saved = this.scope;
    this.scope = new Scope(saved);
    try {
      return this.stmt(s);
    } finally {
      this.scope = saved;
    }
  }

  private loopBody(s: Stmt): SC {
    this.loopDepth++;
    const savedSwitch = this.switchDepth;
    this.switchDepth = 0;
    try {
      return this.scoped(s);
    } finally {
      this.loopDepth--;
      this.switchDepth = savedSwitch;
    }
  }

  private decl(s: Extract<Stmt, { kind: 'decl' }>): SC {
    const parts: SC[] = [];
    for (const v of s.vars) {
      let type: CsType;
      let init: Closure | null = null;
      if (s.type) {
        type = this.resolveType(s.type);
        if (v.init) init = this.convert(this.expr(v.init, type), type);
      } else {
        const b = this.expr(v.init!);
        if (b.type.name === 'null') this.error(v.pos, 'cannot assign null to an implicitly typed variable');
        if (b.type.name === 'void') this.error(v.pos, 'cannot assign void to an implicitly typed variable');
        if (b.type.name === 'lambda') this.error(v.pos, 'cannot assign a lambda expression to an implicitly typed variable');
        if (b.type.name === '$type' || b.type.name === '$ns') this.error(v.pos, 'a type is not a value');
        type = b.type;
        init = b.c;
      }
      // declare after compiling the initializer (C# scoping: `var x = x;` is an error anyway)
      const local = this.declare(v.name, type, v.pos);
      const slot = local.slot;
      const d = defaultOf(type);
      const ic = init;
      parts.push(
        ic
          ? (ctx, f) => {
              f[slot] = ic(ctx, f);
              return NORMAL;
            }
          : (_ctx, f) => {
              f[slot] = d;
              return NORMAL;
            },
      );
    }
    if (parts.length === 1) return parts[0]!;
    return (ctx, f) => {
      for (const p of parts) p(ctx, f);
      return NORMAL;
    };
  }

  private foreach(s: Extract<Stmt, { kind: 'foreach' }>): SC {
    const coll = this.expr(s.iter);
    const en =
      elementTypeOf(coll.type) ?? (coll.type.name === 'Array' ? { elem: coll.type.args[0]!, iterate: (v: unknown) => v as Iterable<unknown> } : undefined);
    if (!en) this.error(s.iter.pos, `foreach cannot iterate over ${typeName(coll.type)}`);
    const saved = this.scope;
    this.scope = new Scope(saved);
    try {
      let conv: ((v: unknown) => unknown) | null = null;
      let vt = en.elem;
      if (s.varType) {
        vt = this.resolveType(s.varType);
        if (!sameType(vt, en.elem)) {
          // foreach performs an explicit conversion (e.g. `foreach (JObject o in jarray)`)
          const ex = implicitConv(en.elem, vt) === undefined ? explicitConv(en.elem, vt) : null;
          if (ex === undefined) this.error(s.pos, `cannot convert ${typeName(en.elem)} to ${typeName(vt)} in foreach`);
          conv = ex;
        }
      }
      const local = this.declare(s.name, vt, s.namePos);
      const slot = local.slot;
      const body = this.loopBody(s.body);
      const c = coll.c;
      const iterate = en.iterate;
      const pos = s.iter.pos;
      const cv = conv;
      return (ctx, f) => {
        const v = c(ctx, f);
        if (v === null || v === undefined) throw located(nre(), pos);
        for (const item of iterate(v)) {
          step();
          if (cv) {
            try {
              f[slot] = cv(item);
            } catch (err) {
              throw located(err, pos);
            }
          } else f[slot] = item;
          const r = body(ctx, f);
          if (r === BREAK) break;
          if (r === RETURN) return r;
        }
        return NORMAL;
      };
    } finally {
      this.scope = saved;
    }
  }

  private switchStmt(s: Extract<Stmt, { kind: 'switch' }>): SC {
    const subj = this.expr(s.subject);
    const sc = subj.c;
    const isStr = subj.type.name === 'string';
    const sections: Array<{ labels: Array<unknown>; isDefault: boolean; body: SC[] }> = [];
    this.switchDepth++;
    try {
      for (const sec of s.sections) {
        const labels: unknown[] = [];
        let isDefault = false;
        for (const l of sec.labels) {
          if (l === null) {
            isDefault = true;
            continue;
          }
          const b = this.expr(l);
          if (!b.constant) this.error(l.pos, 'a case label must be a constant value');
          if (!this.canConvert(b.type, subj.type, b))
            this.error(l.pos, `a case label of type ${typeName(b.type)} does not match the switch type ${typeName(subj.type)}`);
          labels.push(b.constant.value);
        }
        const saved = this.scope;
        this.scope = new Scope(saved);
        const body = sec.body.map((x) => this.stmt(x));
        this.scope = saved;
        if (sec.body.length && canCompleteList(sec.body))
          this.error(sec.pos, 'control cannot fall through from one case label to another; end the section with break or return');
        sections.push({ labels, isDefault, body });
      }
    } finally {
      this.switchDepth--;
    }
    void isStr;
    return (ctx, f) => {
      const v = sc(ctx, f);
      let chosen = sections.find((sec) => sec.labels.some((l) => l === v || csEquals(l, v)));
      if (!chosen) chosen = sections.find((sec) => sec.isDefault);
      if (!chosen) return NORMAL;
      for (const st of chosen.body) {
        const r = st(ctx, f);
        if (r === BREAK) return NORMAL;
        if (r !== NORMAL) return r;
      }
      return NORMAL;
    };
  }

  private tryStmt(s: Extract<Stmt, { kind: 'try' }>): SC {
    const body = this.scoped(s.body);
    const catches = s.catches.map((c) => {
      const saved = this.scope;
      this.scope = new Scope(saved);
      const slot = this.frameSize++;
      let typeNameFilter = 'Exception';
      let varSlot = -1;
      if (c.type) {
        const t = this.resolveType(c.type);
        if (!isExceptionType(t)) this.error(c.type.pos, `${typeName(t)} is not an exception type`);
        typeNameFilter = t.name;
        if (c.name) varSlot = this.declare(c.name, t, c.pos).slot;
      }
      const when = c.when ? this.convert(this.expr(c.when), T.bool) : null;
      this.catchSlots.push(slot);
      const cbody = this.stmt(c.body);
      this.catchSlots.pop();
      this.scope = saved;
      return { slot, filter: typeNameFilter, varSlot, when, body: cbody };
    });
    const fin = s.fin ? this.scoped(s.fin) : null;
    return (ctx, f) => {
      try {
        return body(ctx, f);
      } catch (e) {
        if (!(e instanceof DotNetException) || e instanceof BudgetExceeded) throw e;
        for (const c of catches) {
          if (!exceptionMatches(e, c.filter)) continue;
          f[c.slot] = e;
          if (c.varSlot >= 0) f[c.varSlot] = e;
          if (c.when && !c.when(ctx, f)) continue;
          return c.body(ctx, f);
        }
        throw e;
      } finally {
        if (fin) fin(ctx, f);
      }
    };
  }
}

// ---- helpers -----------------------------------------------------------------------------------------------------

/** Runs a local function: parameters into their slots, the caller's copies of the slots kept across a recursive call. */
function invokeLocal(fn: LocalFn, ctx: GatewayContext, f: Frame, args: unknown[]): unknown {
  return reentrant(fn, f, fn.start, fn.end, () => {
    const slots = fn.paramSlots;
    for (let i = 0; i < slots.length; i++) f[slots[i]!] = args[i];
    f[fn.retSlot] = undefined;
    fn.body!(ctx, f);
    return f[fn.retSlot];
  });
}

/**
 * Runs a function body whose locals live in frame slots [start, end): a recursive call would overwrite the caller's
 * values, so they are saved on re-entry and restored after. The call depth is bounded (runtime.ts MAX_CALL_DEPTH).
 */
function reentrant(state: { active: number }, f: Frame, start: number, end: number, run: () => unknown): unknown {
  enterCall();
  const saved = state.active > 0 ? f.slice(start, end) : null;
  state.active++;
  try {
    return run();
  } finally {
    state.active--;
    leaveCall();
    if (saved) for (let i = start; i < end; i++) f[i] = saved[i - start];
  }
}

function isStmt(x: Expr | Stmt): x is Stmt {
  return x.kind === 'block';
}

function literal(e: Extract<Expr, { kind: 'literal' }>): Bound {
  const v = e.value;
  const type = e.litType === 'null' ? T.null : named(e.litType);
  return { type, c: () => v, pos: e.pos, constant: { value: v }, ...(v !== null ? { nonNull: true } : {}) };
}

/**
 * Well-known .NET types outside Microsoft's allowed-types list for policy expressions: a user reaching for them gets
 * told so, rather than "does not exist".
 */
const OUTSIDE_ALLOW_LIST = new Set([
  'XmlReader',
  'XmlWriter',
  'XmlDocument',
  'XmlNode',
  'XmlElement',
  'XPathNavigator',
  'XPathDocument',
  'XmlSerializer',
  'File',
  'Directory',
  'Path',
  'Stream',
  'StreamReader',
  'MemoryStream',
  'HttpClient',
  'WebClient',
  'WebRequest',
  'Process',
  'Thread',
  'Task',
  'Environment',
  'Assembly',
  'Activator',
  'Type',
  'AppDomain',
]);
function notInAllowList(b: Compiler, name: string, pos: number): void {
  const simple = name.split('.').pop()!;
  if (OUTSIDE_ALLOW_LIST.has(simple))
    b.error(
      pos,
      `"${name}" is not available in APIM policy expressions (it is not in Microsoft's list of allowed .NET types)`,
      simple.startsWith('Xml') || simple.startsWith('XPath')
        ? 'use System.Xml.Linq: XDocument.Parse(text), XElement, context.Request.Body.As<XDocument>()'
        : undefined,
    );
}

function hintFor(name: string, candidates: string[]): string | undefined {
  const s = suggestName(name, candidates);
  return s ? `did you mean "${s}"?` : undefined;
}

let knownTypeNamesCache: string[] | null = null;
function knownTypeNames(): string[] {
  knownTypeNamesCache ??= [
    'string',
    'int',
    'long',
    'double',
    'bool',
    'JObject',
    'JArray',
    'JToken',
    'DateTime',
    'TimeSpan',
    'Guid',
    'Regex',
    'Encoding',
    'Convert',
    'Math',
    'List',
    'Dictionary',
    'Uri',
    'Jwt',
    'IResponse',
    'StringBuilder',
    'WebUtility',
  ];
  return knownTypeNamesCache;
}

function explicitHint(from: CsType, to: CsType): string | undefined {
  if (explicitConv(from, to)) return `an explicit conversion exists: write (${typeName(to)})`;
  return undefined;
}

export { EMPTY_FRAME, toCsString };

function arrayGet(o: unknown, i: unknown): unknown {
  const a = o as unknown[] | Uint8Array;
  const k = i as number;
  if (k < 0 || k >= a.length) throw new DotNetException('IndexOutOfRangeException', 'Index was outside the bounds of the array.');
  return a[k];
}
function arraySet(o: unknown, v: unknown, i: unknown): void {
  const a = o as unknown[];
  const k = i as number;
  if (k < 0 || k >= a.length) throw new DotNetException('IndexOutOfRangeException', 'Index was outside the bounds of the array.');
  a[k] = v;
}
function stringCharAt(o: unknown, i: unknown): unknown {
  const s = o as string;
  const k = i as number;
  if (k < 0 || k >= s.length) throw new DotNetException('IndexOutOfRangeException', 'Index was outside the bounds of the array.');
  return s.charCodeAt(k);
}

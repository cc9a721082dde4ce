import { createHash } from 'node:crypto';
import { type JsonNode, JsonSyntaxError, fromPlain, memberCI, parseJsonWithPositions, pathJoin, toPlain } from '../source/json.js';
import type { DiagnosticCode } from '../diagnostics/codes.js';

/**
 * A small offline evaluator for ARM template expressions (`"[format('{0}/{1}', parameters('apim'), 'b1')]"`), enough
 * for what `bicep build` emits for backend resources. Functions that need Azure (reference, listKeys, subscription…)
 * fail with a clear "not supported offline" error rather than a guess.
 */

export class ArmError extends Error {
  constructor(
    message: string,
    readonly code: DiagnosticCode,
    /** Offset in the template text of the string holding the expression. */
    readonly offset: number,
    readonly jsonPath: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'ArmError';
  }
}

/** Placeholder ids used by resourceId() offline; only the trailing `/backends/{name}` matters to the emulator. */
export const OFFLINE_SUBSCRIPTION_ID = '00000000-0000-0000-0000-000000000000';
export const OFFLINE_RESOURCE_GROUP = 'emulator-rg';

const OFFLINE_UNSUPPORTED = new Set([
  'reference',
  'list',
  'listkeys',
  'listsecrets',
  'listaccountsas',
  'listservicesas',
  'listcallbackurl',
  'subscription',
  'resourcegroup',
  'deployment',
  'environment',
  'tenant',
  'managementgroup',
  'pickzones',
  'newguid',
  'utcnow',
  'providers',
  'extensionresourceid',
  'managementgroupresourceid',
  'getsecret',
]);

type Value = unknown;

/**
 * Limits that keep a hostile template from hanging or exhausting memory (docs/limits.md). Where ARM has its own
 * limit the emulator uses ARM's figure, so a template refused here is refused by a real deployment too.
 */
export const ARM_LIMITS = {
  /** ARM: "24,576 characters in a template expression". */
  expressionLength: 24_576,
  /** Emulator: calls nested inside calls; deployed templates stay far below (bicep emits < 10). */
  expressionDepth: 100,
  /** ARM: copy `count` "can't exceed 800". */
  copyCount: 800,
  /** ARM: range() "count ... up to 10000". */
  rangeCount: 10_000,
  /**
   * Emulator: approximate size in bytes of any value an expression produces (string characters, plus NODE_WEIGHT per
   * array item or object member, counted deeply). ARM refuses templates and deployments over 4 MB, so no real value
   * comes near it.
   */
  valueSize: 4 * 1024 * 1024,
} as const;

interface Ast {
  pos: number;
  kind: 'string' | 'number' | 'call' | 'member' | 'index' | 'literal';
}
interface StrAst extends Ast {
  kind: 'string';
  value: string;
}
interface NumAst extends Ast {
  kind: 'number';
  value: number;
}
interface LitAst extends Ast {
  kind: 'literal';
  value: boolean | null;
}
interface CallAst extends Ast {
  kind: 'call';
  name: string;
  args: Expr[];
}
interface MemberAst extends Ast {
  kind: 'member';
  target: Expr;
  name: string;
}
interface IndexAst extends Ast {
  kind: 'index';
  target: Expr;
  index: Expr;
}
type Expr = StrAst | NumAst | LitAst | CallAst | MemberAst | IndexAst;

class ExprSyntaxError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

function parseExpression(src: string): Expr {
  let i = 0;
  let depth = 0;
  const ws = () => {
    while (i < src.length && /\s/.test(src[i]!)) i++;
  };
  const expect = (c: string) => {
    ws();
    if (src[i] !== c) throw new ExprSyntaxError(`expected '${c}' but found ${i < src.length ? `'${src[i]}'` : 'the end of the expression'}`, i);
    i++;
  };
  const primary = (): Expr => {
    ws();
    const pos = i;
    const c = src[i];
    if (c === "'") {
      let out = '';
      i++;
      for (;;) {
        if (i >= src.length) throw new ExprSyntaxError('unterminated string literal', pos);
        if (src[i] === "'") {
          if (src[i + 1] === "'") {
            out += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        out += src[i++];
      }
      return { kind: 'string', value: out, pos };
    }
    const num = /^-?\d+(?:\.\d+)?/.exec(src.slice(i));
    if (num) {
      i += num[0].length;
      return { kind: 'number', value: Number(num[0]), pos };
    }
    const id = /^[A-Za-z_][\w]*/.exec(src.slice(i));
    if (!id) throw new ExprSyntaxError(`unexpected ${c === undefined ? 'end of expression' : `'${c}'`}`, i);
    i += id[0].length;
    ws();
    if (src[i] !== '(') {
      const lower = id[0].toLowerCase();
      if (lower === 'true' || lower === 'false') return { kind: 'literal', value: lower === 'true', pos };
      if (lower === 'null') return { kind: 'literal', value: null, pos };
      throw new ExprSyntaxError(`'${id[0]}' must be a function call, e.g. ${id[0]}(...)`, pos);
    }
    i++;
    const args: Expr[] = [];
    ws();
    if (src[i] === ')') i++;
    else {
      for (;;) {
        args.push(expr());
        ws();
        if (src[i] === ',') {
          i++;
          continue;
        }
        expect(')');
        break;
      }
    }
    return { kind: 'call', name: id[0], args, pos };
  };
  const expr = (): Expr => {
    // The parser and the evaluator recurse per nested call; bounded here so neither can overflow the stack.
    if (++depth > ARM_LIMITS.expressionDepth) {
      throw new ExprSyntaxError(`calls are nested deeper than ${ARM_LIMITS.expressionDepth} levels (the emulator's limit; see docs/limits.md)`, i);
    }
    try {
      return postfix(primary());
    } finally {
      depth--;
    }
  };
  const postfix = (first: Expr): Expr => {
    let e = first;
    for (;;) {
      ws();
      if (src[i] === '.') {
        i++;
        ws();
        const id = /^[A-Za-z_$][\w$]*/.exec(src.slice(i));
        if (!id) throw new ExprSyntaxError('expected a property name after "."', i);
        e = { kind: 'member', target: e, name: id[0], pos: i };
        i += id[0].length;
      } else if (src[i] === '[') {
        const pos = i++;
        const index = expr();
        expect(']');
        e = { kind: 'index', target: e, index, pos };
      } else return e;
    }
  };
  const e = expr();
  ws();
  if (i < src.length) throw new ExprSyntaxError(`unexpected '${src[i]}' after the expression`, i);
  return e;
}

/** `[…]` is an expression; `[[…` is a literal starting with `[`. */
export function isExpression(s: string): boolean {
  return s.length >= 2 && s[0] === '[' && s[1] !== '[' && s[s.length - 1] === ']';
}

interface ParamDecl {
  type: string;
  node?: JsonNode;
  override?: { value: unknown };
  allowed?: JsonNode;
}

export interface EvalContext {
  /** copyIndex() value of the resource copy loop being expanded. */
  copyIndex?: number;
  copyName?: string;
}

/** One template's parameters and variables (a nested deployment with inner scope gets its own). */
export class ArmTemplate {
  private readonly params = new Map<string, ParamDecl>();
  private readonly variables = new Map<string, { node: JsonNode; path: string }>();
  private readonly variableCache = new Map<string, Value>();
  private readonly evaluating = new Set<string>();
  private readonly evaluatingParams = new Set<string>();

  constructor(
    readonly root: JsonNode,
    overrides: Record<string, unknown>,
    /** How the overrides were given, for messages ("--parameter", "nested deployment parameters"). */
    private readonly overrideOrigin = 'the parameters passed in',
  ) {
    const params = memberCI(root, 'parameters')?.value;
    if (params?.kind === 'object') {
      for (const e of params.entries) {
        const type = memberCI(e.value, 'type')?.value;
        const def = memberCI(e.value, 'defaultValue')?.value;
        const allowed = memberCI(e.value, 'allowedValues')?.value;
        this.params.set(e.key.toLowerCase(), {
          type: type?.kind === 'string' ? type.value.toLowerCase() : 'string',
          ...(def ? { node: def } : {}),
          ...(allowed ? { allowed } : {}),
        });
      }
    }
    for (const [k, v] of Object.entries(overrides)) {
      const decl = this.params.get(k.toLowerCase());
      if (decl) decl.override = { value: v };
    }
    const vars = memberCI(root, 'variables')?.value;
    if (vars?.kind === 'object') {
      for (const e of vars.entries) this.variables.set(e.key.toLowerCase(), { node: e.value, path: pathJoin('$.variables', e.key) });
    }
  }

  /** Evaluates every expression string in `node` (deeply); results are attributed to the expression's offset. */
  evaluateNode(node: JsonNode, path: string, ctx: EvalContext = {}): JsonNode {
    switch (node.kind) {
      case 'string': {
        const s = node.value;
        if (s.startsWith('[[')) return { kind: 'string', offset: node.offset, value: s.slice(1) };
        if (!isExpression(s)) return node;
        return fromPlain(this.evaluateString(s, node.offset, path, ctx), node.offset);
      }
      case 'object': {
        if (memberCI(node, 'copy') && path !== '$') {
          throw new ArmError(
            'property copy loops (`copy` inside properties) are not supported offline',
            'backend/arm-unsupported',
            node.offset,
            path,
            'write the array out, or run the deployment and export the backends',
          );
        }
        return {
          kind: 'object',
          offset: node.offset,
          entries: node.entries.map((e) => ({ key: e.key, keyOffset: e.keyOffset, value: this.evaluateNode(e.value, pathJoin(path, e.key), ctx) })),
        };
      }
      case 'array':
        return { kind: 'array', offset: node.offset, items: node.items.map((n, i) => this.evaluateNode(n, pathJoin(path, i), ctx)) };
      default:
        return node;
    }
  }

  /** Plain value of a node, evaluating expressions. */
  evaluateValue(node: JsonNode, path: string, ctx: EvalContext = {}): Value {
    return toPlain(this.evaluateNode(node, path, ctx));
  }

  private evaluateString(s: string, offset: number, path: string, ctx: EvalContext): Value {
    if (s.length > ARM_LIMITS.expressionLength) {
      throw new ArmError(
        `the template expression is ${s.length} characters long; ARM allows at most ${ARM_LIMITS.expressionLength}`,
        'backend/arm-limit',
        offset,
        path,
        'split it into variables',
      );
    }
    let ast: Expr;
    try {
      ast = parseExpression(s.slice(1, -1));
    } catch (e) {
      if (e instanceof ExprSyntaxError) {
        throw new ArmError(`ARM expression syntax error: ${e.message} in ${s}`, 'backend/arm-expression', offset + 2 + e.pos, path);
      }
      throw e;
    }
    return this.eval(ast, { offset, path, ctx, text: s });
  }

  private eval(e: Expr, at: At): Value {
    switch (e.kind) {
      case 'string':
      case 'number':
      case 'literal':
        return e.value;
      case 'member': {
        const t = this.eval(e.target, at);
        if (t === null || typeof t !== 'object' || Array.isArray(t)) {
          throw this.err(at, e, `cannot read property '${e.name}' of ${describeValue(t)}`);
        }
        const o = t as Record<string, Value>;
        if (e.name in o) return o[e.name];
        const k = Object.keys(o).find((x) => x.toLowerCase() === e.name.toLowerCase());
        if (k === undefined) throw this.err(at, e, `the object has no property '${e.name}' (it has: ${Object.keys(o).join(', ') || 'none'})`);
        return o[k];
      }
      case 'index': {
        const t = this.eval(e.target, at);
        const i = this.eval(e.index, at);
        if (Array.isArray(t) && typeof i === 'number') {
          if (i < 0 || i >= t.length) throw this.err(at, e, `index ${i} is outside the array (length ${t.length})`);
          return t[i];
        }
        if (t && typeof t === 'object' && typeof i === 'string') return (t as Record<string, Value>)[i];
        throw this.err(at, e, `cannot index ${describeValue(t)} with ${describeValue(i)}`);
      }
      case 'call': {
        const v = this.call(e, at);
        if (sizeOf(v, ARM_LIMITS.valueSize) > ARM_LIMITS.valueSize) throw this.tooLarge(at, e);
        return v;
      }
    }
  }

  private tooLarge(at: At, e: CallAst): ArmError {
    return this.err(
      at,
      e,
      `${e.name}() would produce a value larger than 4 MiB (the emulator's limit; ARM refuses deployments over 4 MB)`,
      'backend/arm-limit',
      'check for variables that repeat or double each other',
    );
  }

  /** Refuses string-building calls whose result would pass the size limit, before building it. */
  private checkBuilt(at: At, e: CallAst, parts: readonly Value[], extra = 0): void {
    let total = extra;
    for (const p of parts) {
      total += sizeOf(p, ARM_LIMITS.valueSize);
      if (total > ARM_LIMITS.valueSize) throw this.tooLarge(at, e);
    }
  }

  private err(at: At, e: Expr, message: string, code: DiagnosticCode = 'backend/arm-expression', hint?: string): ArmError {
    return new ArmError(`${message} in ${at.text}`, code, at.offset, at.path, hint);
  }

  private call(e: CallAst, at: At): Value {
    const name = e.name.toLowerCase();
    if (OFFLINE_UNSUPPORTED.has(name) || name.startsWith('list')) {
      throw this.err(
        at,
        e,
        `ARM function ${e.name}() is not supported offline (it needs a live Azure deployment)`,
        'backend/arm-unsupported-function',
        'replace it with a parameter and pass the value with --parameter, or export the deployed backends as JSON',
      );
    }
    if (name === 'if') {
      if (e.args.length !== 3) throw this.err(at, e, 'if() takes 3 arguments');
      return this.eval(e.args[0]!, at) === true ? this.eval(e.args[1]!, at) : this.eval(e.args[2]!, at);
    }
    const args = e.args.map((a) => this.eval(a, at));
    const str = (i: number): string => {
      const v = args[i];
      if (typeof v !== 'string') throw this.err(at, e, `${e.name}() argument ${i + 1} must be a string, got ${describeValue(v)}`);
      return v;
    };
    const num = (i: number): number => {
      const v = args[i];
      if (typeof v !== 'number') throw this.err(at, e, `${e.name}() argument ${i + 1} must be an integer, got ${describeValue(v)}`);
      return v;
    };
    const arity = (min: number, max = min) => {
      if (args.length < min || args.length > max) {
        throw this.err(
          at,
          e,
          `${e.name}() takes ${min === max ? min : `${min} to ${max === Infinity ? 'any number of' : max}`} argument(s), got ${args.length}`,
        );
      }
    };
    switch (name) {
      case 'parameters':
        arity(1);
        return this.parameter(str(0), at, e);
      case 'variables':
        arity(1);
        return this.variable(str(0), at, e);
      case 'concat':
        this.checkBuilt(at, e, args);
        if (args.some(Array.isArray)) return args.flatMap((a) => (Array.isArray(a) ? a : [a]));
        return args.map((a) => toArmString(a)).join('');
      case 'format': {
        arity(1, Infinity);
        // A placeholder may repeat: count each use against the limit.
        this.checkBuilt(
          at,
          e,
          [str(0)],
          [...str(0).matchAll(/\{(\d+)(?::[^}]*)?\}/g)].reduce((n, m) => n + sizeOf(args[Number(m[1]) + 1], ARM_LIMITS.valueSize), 0),
        );
        return str(0).replace(/\{(\d+)(?::[^}]*)?\}/g, (m, n: string) => {
          const idx = Number(n) + 1;
          if (idx >= args.length) throw this.err(at, e, `format() placeholder ${m} has no argument`);
          return toArmString(args[idx]);
        });
      }
      case 'resourceid':
      case 'subscriptionresourceid':
      case 'tenantresourceid':
        return this.resourceId(name, args, at, e);
      case 'tolower':
        arity(1);
        return str(0).toLowerCase();
      case 'toupper':
        arity(1);
        return str(0).toUpperCase();
      case 'trim':
        arity(1);
        return str(0).trim();
      case 'string':
        arity(1);
        return typeof args[0] === 'string' ? args[0] : toArmString(args[0]);
      case 'int': {
        arity(1);
        const v = args[0];
        const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
        if (Number.isNaN(n)) throw this.err(at, e, `int() cannot convert ${describeValue(v)}`);
        return Math.trunc(n);
      }
      case 'bool': {
        arity(1);
        const v = args[0];
        if (typeof v === 'boolean') return v;
        if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
        if (typeof v === 'number') return v !== 0;
        throw this.err(at, e, `bool() cannot convert ${describeValue(v)}`);
      }
      case 'true':
        return true;
      case 'false':
        return false;
      case 'null':
        return null;
      case 'json':
        arity(1);
        try {
          // The position-keeping reader, for its nesting limit: results are walked recursively later.
          return toPlain(parseJsonWithPositions(str(0)));
        } catch (x) {
          if (!(x instanceof JsonSyntaxError)) throw x;
          throw this.err(at, e, `json() argument is not valid JSON: ${x.message}`);
        }
      case 'equals':
        arity(2);
        return JSON.stringify(args[0]) === JSON.stringify(args[1]);
      case 'not':
        arity(1);
        return args[0] !== true;
      case 'and':
        return args.every((a) => a === true);
      case 'or':
        return args.some((a) => a === true);
      case 'less':
      case 'lessorequals':
      case 'greater':
      case 'greaterorequals': {
        arity(2);
        const [a, b] = args as [number | string, number | string];
        return name === 'less' ? a < b : name === 'lessorequals' ? a <= b : name === 'greater' ? a > b : a >= b;
      }
      case 'add':
        arity(2);
        return num(0) + num(1);
      case 'sub':
        arity(2);
        return num(0) - num(1);
      case 'mul':
        arity(2);
        return num(0) * num(1);
      case 'div':
        arity(2);
        if (num(1) === 0) throw this.err(at, e, 'div() by zero');
        return Math.trunc(num(0) / num(1));
      case 'mod':
        arity(2);
        if (num(1) === 0) throw this.err(at, e, 'mod() by zero');
        return num(0) % num(1);
      case 'min':
      case 'max': {
        const list = (args.length === 1 && Array.isArray(args[0]) ? args[0] : args) as number[];
        // No spread: a long array would overflow the argument stack.
        return list.reduce((m, x) => (name === 'min' ? Math.min(m, x) : Math.max(m, x)), name === 'min' ? Infinity : -Infinity);
      }
      case 'length': {
        arity(1);
        const v = args[0];
        if (typeof v === 'string' || Array.isArray(v)) return v.length;
        if (v && typeof v === 'object') return Object.keys(v).length;
        throw this.err(at, e, `length() of ${describeValue(v)}`);
      }
      case 'empty': {
        arity(1);
        const v = args[0];
        if (v === null || v === undefined) return true;
        if (typeof v === 'string' || Array.isArray(v)) return v.length === 0;
        if (typeof v === 'object') return Object.keys(v).length === 0;
        return false;
      }
      case 'contains': {
        arity(2);
        const [c, x] = args;
        if (typeof c === 'string') return c.toLowerCase().includes(String(x).toLowerCase());
        if (Array.isArray(c)) return c.some((v) => JSON.stringify(v) === JSON.stringify(x));
        if (c && typeof c === 'object') return Object.keys(c).some((k) => k.toLowerCase() === String(x).toLowerCase());
        return false;
      }
      case 'first':
      case 'last': {
        arity(1);
        const v = args[0];
        if (typeof v === 'string' || Array.isArray(v)) return name === 'first' ? v[0] : v[v.length - 1];
        throw this.err(at, e, `${e.name}() of ${describeValue(v)}`);
      }
      case 'split': {
        arity(2);
        const seps = Array.isArray(args[1]) ? (args[1] as string[]) : [str(1)];
        return seps.reduce<string[]>((parts, sep) => parts.flatMap((p) => p.split(sep)), [str(0)]);
      }
      case 'join':
        arity(2);
        if (!Array.isArray(args[0])) throw this.err(at, e, 'join() argument 1 must be an array');
        this.checkBuilt(at, e, args[0] as Value[], str(1).length * (args[0] as Value[]).length);
        return (args[0] as Value[]).map(toArmString).join(str(1));
      case 'replace': {
        arity(3);
        const parts = str(0).split(str(1));
        this.checkBuilt(at, e, parts, (parts.length - 1) * str(2).length);
        return parts.join(str(2));
      }
      case 'substring': {
        arity(1, 3);
        const s = str(0);
        const start = args.length > 1 ? num(1) : 0;
        return args.length > 2 ? s.substr(start, num(2)) : s.slice(start);
      }
      case 'startswith':
        arity(2);
        return str(0).toLowerCase().startsWith(str(1).toLowerCase());
      case 'endswith':
        arity(2);
        return str(0).toLowerCase().endsWith(str(1).toLowerCase());
      case 'indexof':
        arity(2);
        return str(0).toLowerCase().indexOf(str(1).toLowerCase());
      case 'lastindexof':
        arity(2);
        return str(0).toLowerCase().lastIndexOf(str(1).toLowerCase());
      case 'coalesce':
        return args.find((a) => a !== null && a !== undefined) ?? null;
      case 'createarray':
        return args;
      case 'createobject': {
        if (args.length % 2) throw this.err(at, e, 'createObject() takes key/value pairs');
        const o: Record<string, Value> = {};
        for (let i = 0; i < args.length; i += 2) o[str(i)] = args[i + 1];
        return o;
      }
      case 'union': {
        if (args.every(Array.isArray)) return [...new Set((args as Value[][]).flat().map((v) => JSON.stringify(v)))].map((s) => JSON.parse(s) as Value);
        return Object.assign({}, ...(args as object[]));
      }
      case 'take':
      case 'skip': {
        arity(2);
        const v = args[0];
        if (typeof v !== 'string' && !Array.isArray(v)) throw this.err(at, e, `${e.name}() argument 1 must be an array or string`);
        return name === 'take' ? v.slice(0, Math.max(0, num(1))) : v.slice(Math.max(0, num(1)));
      }
      case 'range':
        arity(2);
        if (num(1) < 0 || num(1) > ARM_LIMITS.rangeCount || !Number.isInteger(num(1))) {
          throw this.err(at, e, `range() count ${num(1)} must be an integer from 0 to ${ARM_LIMITS.rangeCount} (ARM's limit)`, 'backend/arm-limit');
        }
        return Array.from({ length: num(1) }, (_, i) => num(0) + i);
      case 'uniquestring':
        arity(1, Infinity);
        return uniqueString(args.map(toArmString));
      case 'guid':
        arity(1, Infinity);
        return deterministicGuid(args.map(toArmString));
      case 'base64':
        arity(1);
        return Buffer.from(str(0), 'utf8').toString('base64');
      case 'copyindex': {
        arity(0, 2);
        if (at.ctx.copyIndex === undefined) throw this.err(at, e, 'copyIndex() used outside a resource copy loop');
        const offsetArg = args.find((a) => typeof a === 'number') as number | undefined;
        const loop = args.find((a) => typeof a === 'string') as string | undefined;
        if (loop !== undefined && at.ctx.copyName !== undefined && loop.toLowerCase() !== at.ctx.copyName.toLowerCase()) {
          throw this.err(at, e, `copyIndex('${loop}') names a loop other than this resource's copy '${at.ctx.copyName}'`);
        }
        return at.ctx.copyIndex + (offsetArg ?? 0);
      }
      default:
        throw this.err(
          at,
          e,
          `unknown ARM template function ${e.name}()`,
          'backend/arm-unsupported-function',
          'supported offline: parameters, variables, concat, format, resourceId, toLower, toUpper, string, int, bool, if, equals, last, split, replace, uniqueString, copyIndex and similar pure functions',
        );
    }
  }

  private parameter(name: string, at: At, e: Expr): Value {
    const decl = this.params.get(name.toLowerCase());
    if (!decl) throw this.err(at, e, `parameter '${name}' is not declared in the template's parameters`, 'backend/arm-parameter');
    let value: Value;
    if (decl.override) value = coerceParameter(decl.override.value, decl.type);
    else if (decl.node) {
      const key = name.toLowerCase();
      if (this.evaluatingParams.has(key)) {
        throw this.err(
          at,
          e,
          `the defaultValue of parameter '${name}' refers to itself (through ${[...this.evaluatingParams].join(' → ')})`,
          'backend/arm-parameter',
          'a defaultValue may use other parameters, never one that leads back to itself',
        );
      }
      this.evaluatingParams.add(key);
      try {
        value = this.evaluateValue(decl.node, pathJoin('$.parameters', name) + '.defaultValue');
      } finally {
        this.evaluatingParams.delete(key);
      }
    } else {
      throw this.err(
        at,
        e,
        `parameter '${name}' has no defaultValue and no value was given`,
        'backend/arm-parameter',
        `pass it in ${this.overrideOrigin} (e.g. --parameter ${name}=...)`,
      );
    }
    if (decl.allowed?.kind === 'array') {
      const allowed = decl.allowed.items.map((n) => toPlain(n));
      if (!allowed.some((a) => JSON.stringify(a) === JSON.stringify(value))) {
        throw this.err(
          at,
          e,
          `parameter '${name}' value ${JSON.stringify(value)} is not one of its allowedValues`,
          'backend/arm-parameter',
          `allowed: ${allowed.map((a) => JSON.stringify(a)).join(', ')}`,
        );
      }
    }
    return value;
  }

  private variable(name: string, at: At, e: Expr): Value {
    const key = name.toLowerCase();
    if (this.variableCache.has(key)) return this.variableCache.get(key);
    const v = this.variables.get(key);
    if (!v) throw this.err(at, e, `variable '${name}' is not declared in the template's variables`, 'backend/arm-variable');
    if (this.evaluating.has(key)) throw this.err(at, e, `variable '${name}' refers to itself`, 'backend/arm-variable');
    this.evaluating.add(key);
    try {
      if (memberCI(v.node, 'copy') && v.node.kind === 'object' && v.node.entries.length === 1) {
        throw new ArmError(`variable copy loops are not supported offline (variable '${name}')`, 'backend/arm-unsupported', v.node.offset, v.path);
      }
      const value = this.evaluateValue(v.node, v.path);
      this.variableCache.set(key, value);
      return value;
    } finally {
      this.evaluating.delete(key);
    }
  }

  private resourceId(fn: string, args: Value[], at: At, e: Expr): string {
    if (!args.every((a) => typeof a === 'string')) throw this.err(at, e, `${fn}() arguments must be strings`);
    const s = args as string[];
    const typeIdx = s.findIndex((a) => /^[A-Za-z0-9]+\.[A-Za-z0-9.]+\/[^/]/.test(a));
    if (typeIdx < 0) throw this.err(at, e, `${fn}() needs a resource type such as 'Microsoft.ApiManagement/service/backends'`);
    const [ns, ...types] = s[typeIdx]!.split('/');
    const names = s.slice(typeIdx + 1).flatMap((n) => n.split('/'));
    if (names.length !== types.length) {
      throw this.err(at, e, `${fn}() for type '${s[typeIdx]}' needs ${types.length} name segment(s), got ${names.length}`);
    }
    const tail = `/providers/${ns}` + types.map((t, i) => `/${t}/${names[i]}`).join('');
    if (fn === 'tenantresourceid') return tail;
    const before = s.slice(0, typeIdx);
    const sub = fn === 'subscriptionresourceid' ? (before[0] ?? OFFLINE_SUBSCRIPTION_ID) : before.length === 2 ? before[0]! : OFFLINE_SUBSCRIPTION_ID;
    if (fn === 'subscriptionresourceid') return `/subscriptions/${sub}${tail}`;
    const rg = before.length >= 1 ? before[before.length - 1]! : OFFLINE_RESOURCE_GROUP;
    return `/subscriptions/${sub}/resourceGroups/${rg}${tail}`;
  }
}

interface At {
  offset: number;
  path: string;
  ctx: EvalContext;
  text: string;
}

function coerceParameter(v: unknown, type: string): unknown {
  if (typeof v !== 'string') return v;
  if (type === 'int' && /^-?\d+$/.test(v.trim())) return Number(v);
  if (type === 'bool' && /^(true|false)$/i.test(v.trim())) return v.trim().toLowerCase() === 'true';
  if ((type === 'object' || type === 'array' || type === 'secureobject') && /^\s*[[{]/.test(v)) {
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  }
  return v;
}

function toArmString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return '';
  return JSON.stringify(v);
}

function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Deterministic 13-character stand-in for ARM's uniqueString (the real hash is not published; any stable value will do offline). */
function uniqueString(parts: string[]): string {
  const h = createHash('sha256').update(parts.join('|')).digest();
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let out = '';
  for (let i = 0; i < 13; i++) out += alphabet[h[i]! % 32];
  return out;
}

function deterministicGuid(parts: string[]): string {
  const h = createHash('sha256').update(parts.join('|')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** What one array item or object member costs in memory once the value is a tree, roughly, in bytes. */
const NODE_WEIGHT = 64;

/**
 * Size of a value for ARM_LIMITS.valueSize: string characters plus NODE_WEIGHT per array item and object member,
 * counted deeply. Stops counting past `budget`, so a value built from shared parts (a DAG that would print exponentially) costs
 * at most `budget` steps to measure.
 */
function sizeOf(v: Value, budget: number): number {
  let total = 0;
  const stack: Value[] = [v];
  while (stack.length > 0 && total <= budget) {
    const x = stack.pop();
    if (typeof x === 'string') total += x.length;
    else if (Array.isArray(x)) {
      total += x.length * NODE_WEIGHT;
      for (const item of x) stack.push(item);
    } else if (x !== null && typeof x === 'object') {
      const values = Object.values(x);
      total += values.length * NODE_WEIGHT;
      for (const item of values) stack.push(item);
    } else total += 1;
  }
  return total;
}

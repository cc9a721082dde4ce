import type { Arg, Expr, Initializer, LocalFuncParam, Stmt, TypeNode } from './ast.js';
import { lex, LexError, type Token } from './lexer.js';
import { Decimal } from '../dotnet/decimal.js';

/** A C# syntax error at an index of the expression text. */
export class ParseError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

export const PREDEFINED_TYPES = new Set([
  'bool',
  'byte',
  'sbyte',
  'char',
  'decimal',
  'double',
  'float',
  'int',
  'uint',
  'long',
  'ulong',
  'object',
  'short',
  'ushort',
  'string',
  'void',
  'dynamic',
]);

const RESERVED = new Set([
  'abstract',
  'as',
  'base',
  'break',
  'case',
  'catch',
  'checked',
  'class',
  'const',
  'continue',
  'default',
  'delegate',
  'do',
  'else',
  'enum',
  'event',
  'explicit',
  'extern',
  'false',
  'finally',
  'fixed',
  'for',
  'foreach',
  'goto',
  'if',
  'implicit',
  'in',
  'interface',
  'internal',
  'is',
  'lock',
  'namespace',
  'new',
  'null',
  'operator',
  'out',
  'override',
  'params',
  'private',
  'protected',
  'public',
  'readonly',
  'ref',
  'return',
  'sealed',
  'sizeof',
  'stackalloc',
  'static',
  'struct',
  'switch',
  'this',
  'throw',
  'true',
  'try',
  'typeof',
  'unchecked',
  'unsafe',
  'using',
  'virtual',
  'volatile',
  'while',
]);

/** Tokens after which `name<...>` is read as a generic name (C# spec §6.2.5 disambiguation). */
const AFTER_TYPE_ARGS = new Set(['(', ')', ']', '}', ':', ';', ',', '.', '?', '==', '!=', '|', '^', '&&', '||', '&', '[', '?.']);

const BINARY_PRECEDENCE: Record<string, number> = {
  '||': 1,
  '&&': 2,
  '|': 3,
  '^': 4,
  '&': 5,
  '==': 6,
  '!=': 6,
  '<': 7,
  '>': 7,
  '<=': 7,
  '>=': 7,
  '<<': 8,
  '>>': 8,
  '+': 9,
  '-': 9,
  '*': 10,
  '/': 10,
  '%': 10,
};
const ASSIGN_OPS = new Set(['=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<=', '??=']);

class Parser {
  private i = 0;

  constructor(
    private readonly toks: Token[],
    private readonly text: string,
  ) {}

  // ---- token helpers ----
  private get t(): Token {
    return this.toks[this.i]!;
  }
  private peek(n = 1): Token {
    return this.toks[Math.min(this.i + n, this.toks.length - 1)]!;
  }
  private isP(text: string, tok: Token = this.t): boolean {
    return tok.kind === 'punct' && tok.text === text;
  }
  private isKw(text: string, tok: Token = this.t): boolean {
    return tok.kind === 'ident' && !tok.verbatim && tok.text === text;
  }
  private eatP(text: string): boolean {
    if (this.isP(text)) {
      this.i++;
      return true;
    }
    return false;
  }
  private eatKw(text: string): boolean {
    if (this.isKw(text)) {
      this.i++;
      return true;
    }
    return false;
  }
  private expectP(text: string, what?: string): Token {
    if (!this.isP(text)) throw this.err(`expected "${text}"${what ? ` ${what}` : ''} but found ${this.describe(this.t)}`);
    return this.toks[this.i++]!;
  }
  private expectKw(text: string): Token {
    if (!this.isKw(text)) throw this.err(`expected "${text}" but found ${this.describe(this.t)}`);
    return this.toks[this.i++]!;
  }
  private identName(): { name: string; pos: number } {
    const t = this.t;
    if (t.kind !== 'ident' || (!t.verbatim && RESERVED.has(t.text))) throw this.err(`expected an identifier but found ${this.describe(t)}`);
    this.i++;
    return { name: t.text, pos: t.pos };
  }
  describe(t: Token): string {
    if (t.kind === 'eof') return 'the end of the expression';
    if (t.kind === 'string' || t.kind === 'interp') return 'a string literal';
    return `"${t.text.length > 30 ? t.text.slice(0, 30) + '…' : t.text}"`;
  }
  err(message: string, pos = this.t.pos): ParseError {
    return new ParseError(message, pos);
  }
  private isIdent(tok: Token = this.t): boolean {
    return tok.kind === 'ident' && (tok.verbatim === true || !RESERVED.has(tok.text));
  }

  atEnd(): boolean {
    return this.t.kind === 'eof';
  }
  get position(): number {
    return this.t.pos;
  }
  get current(): Token {
    return this.t;
  }

  // ---- types ----
  /** Tries to read a type at the current position; restores the position and returns null if it is not one. */
  tryType(allowArray = true, allowNullable = true): TypeNode | null {
    const save = this.i;
    try {
      const ty = this.parseType(allowArray, allowNullable);
      return ty;
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      this.i = save;
      return null;
    }
  }

  parseType(allowArray = true, allowNullable = true): TypeNode {
    this.enter();
    try {
      return this.parseTypeInner(allowArray, allowNullable);
    } finally {
      nesting--;
    }
  }

  private parseTypeInner(allowArray: boolean, allowNullable: boolean): TypeNode {
    const t = this.t;
    if (t.kind !== 'ident') throw this.err(`expected a type but found ${this.describe(t)}`);
    const pos = t.pos;
    let name: string;
    let args: TypeNode[] = [];
    if (!t.verbatim && PREDEFINED_TYPES.has(t.text)) {
      name = t.text;
      this.i++;
    } else {
      name = this.identName().name;
      if (this.isP('<')) args = this.parseTypeArgs();
      while (this.isP('.') && this.isIdent(this.peek())) {
        this.i++;
        if (args.length) throw this.err('nested generic type names are not supported');
        name += '.' + this.identName().name;
        if (this.isP('<')) args = this.parseTypeArgs();
      }
    }
    let nullable = false;
    if (allowNullable && this.isP('?')) {
      const n = this.peek();
      if (this.isIdent(n) || this.isP(')', n) || this.isP('>', n) || this.isP(',', n) || this.isP('[', n) || this.isP(']', n)) {
        nullable = true;
        this.i++;
      }
    }
    let arrayRank = 0;
    while (allowArray && this.isP('[') && this.isP(']', this.peek())) {
      this.i += 2;
      arrayRank++;
    }
    return { kind: 'type', pos, name, args, arrayRank, nullable };
  }

  private parseTypeArgs(): TypeNode[] {
    this.expectP('<');
    const args: TypeNode[] = [this.parseType()];
    while (this.eatP(',')) args.push(this.parseType());
    if (!this.isP('>')) throw this.err('expected ">"');
    this.i++;
    return args;
  }

  /** `<T,...>` after a name in an expression, only when followed by a token that makes it unambiguous. */
  private tryGenericArgs(): TypeNode[] | null {
    if (!this.isP('<')) return null;
    const save = this.i;
    try {
      const args = this.parseTypeArgs();
      const n = this.t;
      if (n.kind === 'eof' || (n.kind === 'punct' && AFTER_TYPE_ARGS.has(n.text))) return args;
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
    }
    this.i = save;
    return null;
  }

  // ---- expressions ----
  parseExpression(): Expr {
    this.enter();
    try {
      return this.parseExpressionInner();
    } finally {
      nesting--;
    }
  }

  /** Bounds recursion so hostile input gets a positioned diagnostic instead of a JS stack overflow (docs/limits). */
  private enter(): void {
    if (++nesting > MAX_NESTING) {
      nesting--;
      throw this.err(
        `the expression is nested too deeply (more than ${MAX_NESTING} levels of parentheses, blocks, lambdas, unary operators or generic arguments)`,
      );
    }
  }

  private parseExpressionInner(): Expr {
    if (this.isLambdaStart()) return this.parseLambda();
    const left = this.parseConditional();
    if (this.t.kind === 'punct' && ASSIGN_OPS.has(this.t.text)) {
      const op = this.t;
      this.i++;
      const value = this.parseExpression();
      return { kind: 'assign', pos: op.pos, op: op.text, target: left, value };
    }
    // `>>=` arrives as '>' '>='
    if (this.isP('>') && this.isP('>=', this.peek()) && this.peek().pos === this.t.end) {
      const pos = this.t.pos;
      this.i += 2;
      const value = this.parseExpression();
      return { kind: 'assign', pos, op: '>>=', target: left, value };
    }
    return left;
  }

  private isLambdaStart(): boolean {
    if (this.isIdent() && this.isP('=>', this.peek())) return true;
    if (!this.isP('(')) return false;
    // find the matching ')'
    let depth = 0;
    let j = this.i;
    for (; j < this.toks.length; j++) {
      const tk = this.toks[j]!;
      if (tk.kind === 'eof') return false;
      if (tk.kind === 'punct' && (tk.text === '(' || tk.text === '[' || tk.text === '{')) depth++;
      else if (tk.kind === 'punct' && (tk.text === ')' || tk.text === ']' || tk.text === '}')) {
        depth--;
        if (depth === 0) break;
      }
    }
    const after = this.toks[j + 1];
    return after !== undefined && after.kind === 'punct' && after.text === '=>';
  }

  private parseLambda(): Expr {
    const pos = this.t.pos;
    const params: Array<{ name: string; pos: number; type: TypeNode | null }> = [];
    if (this.isIdent()) {
      const p = this.identName();
      params.push({ name: p.name, pos: p.pos, type: null });
    } else {
      this.expectP('(');
      if (!this.isP(')')) {
        do {
          let type: TypeNode | null = null;
          if (!(this.isIdent() && (this.isP(',', this.peek()) || this.isP(')', this.peek())))) type = this.parseType();
          const p = this.identName();
          params.push({ name: p.name, pos: p.pos, type });
        } while (this.eatP(','));
      }
      this.expectP(')');
    }
    this.expectP('=>');
    const body: Expr | Stmt = this.isP('{') ? this.parseBlock() : this.parseExpression();
    return { kind: 'lambda', pos, params, body };
  }

  private parseConditional(): Expr {
    const cond = this.parseNullCoalescing();
    if (this.isP('?')) {
      const pos = this.t.pos;
      this.i++;
      const then = this.parseExpression();
      this.expectP(':', 'in the conditional operator "c ? a : b"');
      const els = this.parseExpression();
      return { kind: 'conditional', pos, cond, then, else: els };
    }
    return cond;
  }

  private parseNullCoalescing(): Expr {
    const left = this.parseBinary(1);
    if (this.isP('??')) {
      const pos = this.t.pos;
      this.i++;
      const right = this.isP('throw') ? this.parseNullCoalescing() : this.parseNullCoalescing();
      return { kind: 'binary', pos, op: '??', left, right };
    }
    return left;
  }

  /** The binary operator at the current token, combining '>' '>' into '>>'. */
  private binaryOp(): { op: string; len: number } | null {
    const t = this.t;
    if (t.kind !== 'punct') return null;
    if (t.text === '>' && this.isP('>', this.peek()) && this.peek().pos === t.end && !this.isP('>=', this.peek(2))) {
      // '>' '>' followed by '=' would be '>>=' (handled in parseExpression)
      const third = this.peek(2);
      if (third.kind === 'punct' && third.text === '=' && third.pos === this.peek().end) return null;
      return { op: '>>', len: 2 };
    }
    if (t.text === '>' && this.isP('>=', this.peek()) && this.peek().pos === t.end) return null;
    return BINARY_PRECEDENCE[t.text] !== undefined ? { op: t.text, len: 1 } : null;
  }

  private parseBinary(minPrec: number): Expr {
    let left = this.parseUnary();
    while (true) {
      // `is` / `as` bind at relational precedence (7)
      if (minPrec <= 7 && this.isKw('is')) {
        const pos = this.t.pos;
        this.i++;
        const negated = this.eatKw('not');
        if (this.isKw('null')) {
          this.i++;
          left = { kind: 'is', pos, operand: left, type: null, negated, nullPattern: true, declName: null };
          continue;
        }
        const type = this.parseType(true, false);
        let declName: string | null = null;
        if (this.isIdent() && !this.isKw('when')) declName = this.identName().name;
        left = { kind: 'is', pos, operand: left, type, negated, nullPattern: false, declName };
        continue;
      }
      if (minPrec <= 7 && this.isKw('as')) {
        const pos = this.t.pos;
        this.i++;
        const type = this.parseType(true, false);
        left = { kind: 'as', pos, operand: left, type };
        continue;
      }
      const b = this.binaryOp();
      if (!b) return left;
      const prec = BINARY_PRECEDENCE[b.op]!;
      if (prec < minPrec) return left;
      const pos = this.t.pos;
      this.i += b.len;
      const right = this.parseBinary(prec + 1);
      left = { kind: 'binary', pos, op: b.op, left, right };
    }
  }

  private parseUnary(): Expr {
    this.enter();
    try {
      return this.parseUnaryInner();
    } finally {
      nesting--;
    }
  }

  private parseUnaryInner(): Expr {
    const t = this.t;
    if (t.kind === 'punct') {
      if (t.text === '!' || t.text === '-' || t.text === '+' || t.text === '~') {
        this.i++;
        const operand = this.parseUnary();
        return { kind: 'unary', pos: t.pos, op: t.text, operand };
      }
      if (t.text === '++' || t.text === '--') {
        this.i++;
        const operand = this.parseUnary();
        return { kind: 'prefix', pos: t.pos, op: t.text, operand };
      }
      if (t.text === '(') {
        const cast = this.tryCast();
        if (cast) return cast;
      }
    }
    return this.parsePostfix(this.parsePrimary());
  }

  private tryCast(): Expr | null {
    const save = this.i;
    const pos = this.t.pos;
    this.i++;
    const type = this.tryType();
    if (!type || !this.isP(')')) {
      this.i = save;
      return null;
    }
    this.i++;
    const n = this.t;
    const predefined = type.args.length === 0 && PREDEFINED_TYPES.has(type.name);
    let isCast: boolean;
    if (predefined) {
      isCast = !(n.kind === 'punct' && [')', ',', ';', ']', '}', '.', '?', ':', '=='].includes(n.text)) && n.kind !== 'eof';
    } else {
      isCast =
        (n.kind === 'ident' && !['is', 'as', 'when', 'in'].includes(n.text)) ||
        n.kind === 'int' ||
        n.kind === 'real' ||
        n.kind === 'string' ||
        n.kind === 'char' ||
        n.kind === 'interp' ||
        (n.kind === 'punct' && (n.text === '(' || n.text === '!' || n.text === '~'));
    }
    if (!isCast) {
      this.i = save;
      return null;
    }
    const operand = this.parseUnary();
    return { kind: 'cast', pos, type, operand };
  }

  private parseArgs(close: ')' | ']'): Arg[] {
    const args: Arg[] = [];
    if (this.eatP(close)) return args;
    do {
      const pos = this.t.pos;
      let name: string | null = null;
      if (this.isIdent() && this.isP(':', this.peek())) {
        name = this.t.text;
        this.i += 2;
      }
      let modifier: 'out' | 'ref' | null = null;
      let outDecl: Arg['outDecl'] = null;
      if (this.isKw('out') || this.isKw('ref')) {
        modifier = this.t.text as 'out' | 'ref';
        this.i++;
        if (modifier === 'out') {
          // `out var x` / `out T x` / `out x`
          const save = this.i;
          if (this.isKw('var') && this.isIdent(this.peek())) {
            this.i++;
            const id = this.identName();
            outDecl = { name: id.name, type: null, pos: id.pos };
          } else {
            const ty = this.tryType();
            if (ty && this.isIdent()) {
              const id = this.identName();
              outDecl = { name: id.name, type: ty, pos: id.pos };
            } else this.i = save;
          }
        }
      }
      const value: Expr = outDecl ? { kind: 'name', pos: outDecl.pos, name: outDecl.name, typeArgs: null } : this.parseExpression();
      args.push({ pos, name, modifier, outDecl, value });
    } while (this.eatP(','));
    this.expectP(close, 'to close the argument list');
    return args;
  }

  private parsePostfix(e: Expr): Expr {
    while (true) {
      const t = this.t;
      if (t.kind !== 'punct') return e;
      if (t.text === '.' || t.text === '?.') {
        this.i++;
        const id = this.identName();
        const typeArgs = this.tryGenericArgs();
        e = { kind: 'member', pos: t.pos, target: e, name: id.name, namePos: id.pos, typeArgs, conditional: t.text === '?.' };
      } else if (t.text === '(') {
        this.i++;
        const args = this.parseArgs(')');
        e = { kind: 'call', pos: t.pos, callee: e, args };
      } else if (t.text === '[' || t.text === '?[') {
        this.i++;
        const args = this.parseArgs(']');
        if (args.length === 0) throw this.err('an index needs at least one argument', t.pos);
        e = { kind: 'index', pos: t.pos, target: e, args, conditional: t.text === '?[' };
      } else if (t.text === '++' || t.text === '--') {
        this.i++;
        e = { kind: 'postfix', pos: t.pos, op: t.text, operand: e };
      } else if (t.text === '!' && this.isP('.', this.peek())) {
        this.i++; // null-forgiving operator: no runtime effect
      } else return e;
    }
  }

  private parsePrimary(): Expr {
    const t = this.t;
    switch (t.kind) {
      case 'int': {
        this.i++;
        const suffix = t.suffix ?? '';
        let litType: 'int' | 'long' | 'uint' | 'ulong' = suffix === 'l' ? 'long' : suffix === 'u' ? 'uint' : suffix === 'ul' ? 'ulong' : 'int';
        const v = t.num!;
        if (litType === 'int' && v > 2147483647) litType = v > 4294967295 ? 'long' : 'uint';
        if (v > Number.MAX_SAFE_INTEGER) {
          // beyond 2^53 a long is a bigint, exact (C# spec "Integer literals": long, else ulong, else an error)
          const big = BigInt(t.text.replace(/_/g, '').replace(/[uUlL]+$/, ''));
          if (big > 18446744073709551615n) throw this.err(`integral constant ${t.text} is too large`, t.pos);
          if (big > 9223372036854775807n || suffix === 'u' || suffix === 'ul') litType = 'ulong';
          else if (litType === 'int' || litType === 'uint') litType = 'long';
          return { kind: 'literal', pos: t.pos, value: big, litType };
        }
        return { kind: 'literal', pos: t.pos, value: v, litType };
      }
      case 'real': {
        this.i++;
        const litType = t.suffix === 'f' ? 'float' : t.suffix === 'm' ? 'decimal' : 'double';
        if (litType === 'decimal') {
          // a decimal literal keeps its scale (C# spec "Real literals": 1.50m has scale 2)
          const d = Decimal.parse(t.text.slice(0, -1).replace(/_/g, ''));
          if (!d) throw this.err(`the decimal literal ${t.text} is not supported (write it without an exponent)`, t.pos);
          return { kind: 'literal', pos: t.pos, value: d, litType };
        }
        return { kind: 'literal', pos: t.pos, value: t.num!, litType };
      }
      case 'string':
        this.i++;
        return { kind: 'literal', pos: t.pos, value: t.str!, litType: 'string' };
      case 'char':
        this.i++;
        return { kind: 'literal', pos: t.pos, value: t.str!.charCodeAt(0), litType: 'char' };
      case 'interp':
        this.i++;
        return this.interp(t);
      case 'punct':
        if (t.text === '(') {
          this.i++;
          const e = this.parseExpression();
          this.expectP(')', 'to close "("');
          return e;
        }
        throw this.err(`expected an expression but found ${this.describe(t)}`);
      case 'eof':
        throw this.err('expected an expression but the expression ended');
      case 'ident':
        break;
    }
    if (!t.verbatim) {
      switch (t.text) {
        case 'true':
        case 'false':
          this.i++;
          return { kind: 'literal', pos: t.pos, value: t.text === 'true', litType: 'bool' };
        case 'null':
          this.i++;
          return { kind: 'literal', pos: t.pos, value: null, litType: 'null' };
        case 'new':
          return this.parseNew();
        case 'typeof': {
          this.i++;
          this.expectP('(');
          const type = this.parseType();
          this.expectP(')');
          return { kind: 'typeof', pos: t.pos, type };
        }
        case 'default': {
          this.i++;
          if (this.eatP('(')) {
            const type = this.parseType();
            this.expectP(')');
            return { kind: 'default', pos: t.pos, type };
          }
          return { kind: 'default', pos: t.pos, type: null };
        }
        case 'checked':
        case 'unchecked': {
          this.i++;
          this.expectP('(');
          const e = this.parseExpression();
          this.expectP(')');
          return { kind: 'checkedExpr', pos: t.pos, checked: t.text === 'checked', operand: e };
        }
        case 'nameof': {
          if (this.isP('(', this.peek())) {
            this.i += 2;
            const e = this.parseExpression();
            this.expectP(')');
            const name = e.kind === 'member' ? e.name : e.kind === 'name' ? e.name : null;
            if (!name) throw this.err('nameof needs a name', t.pos);
            return { kind: 'literal', pos: t.pos, value: name, litType: 'string' };
          }
          break;
        }
        case 'this':
        case 'base':
          throw this.err(`"${t.text}" is not available in policy expressions`);
      }
      if (PREDEFINED_TYPES.has(t.text)) {
        const type = this.parseType(false, false);
        return { kind: 'typeExpr', pos: t.pos, type };
      }
      if (RESERVED.has(t.text)) throw this.err(`unexpected keyword "${t.text}"`);
    }
    this.i++;
    const typeArgs = this.tryGenericArgs();
    return { kind: 'name', pos: t.pos, name: t.text, typeArgs };
  }

  private interp(t: Token): Expr {
    const parts: Array<{ text: string } | { expr: Expr; align: Expr | null; format: string | null }> = [];
    for (const p of t.parts!) {
      if (p.kind === 'text') parts.push({ text: p.value });
      else {
        const h = p.hole;
        if (h.end <= h.start || !this.text.slice(h.start, h.end).trim()) throw this.err('empty interpolation hole "{}"', h.start - 1);
        const expr = parseSub(this.text, h.start, h.end);
        const align = h.align ? parseSub(this.text, h.align.start, h.align.end) : null;
        parts.push({ expr, align, format: h.format ?? null });
      }
    }
    return { kind: 'interp', pos: t.pos, parts };
  }

  private parseNew(): Expr {
    const pos = this.t.pos;
    this.expectKw('new');
    // new[] { ... }
    if (this.isP('[')) {
      this.i++;
      this.expectP(']', 'in "new[]"');
      const items = this.parseArrayItems();
      return { kind: 'newArray', pos, elemType: null, size: null, items };
    }
    // anonymous object
    if (this.isP('{')) {
      this.i++;
      const fields: Array<{ name: string; pos: number; value: Expr }> = [];
      while (!this.isP('}')) {
        const fpos = this.t.pos;
        if (this.isIdent() && this.isP('=', this.peek())) {
          const id = this.identName();
          this.i++;
          fields.push({ name: id.name, pos: fpos, value: this.parseExpression() });
        } else {
          const value = this.parseExpression();
          const name = value.kind === 'member' ? value.name : value.kind === 'name' ? value.name : null;
          if (!name) throw this.err('an anonymous type member needs a name ("name = value")', fpos);
          fields.push({ name, pos: fpos, value });
        }
        if (!this.eatP(',')) break;
      }
      this.expectP('}', 'to close the anonymous object');
      return { kind: 'newAnon', pos, fields };
    }
    const type = this.parseType(false, true);
    if (this.isP('[')) {
      this.i++;
      let size: Expr | null = null;
      if (!this.isP(']')) size = this.parseExpression();
      this.expectP(']');
      let arrayRank = 0;
      while (this.isP('[') && this.isP(']', this.peek())) {
        this.i += 2;
        arrayRank++;
      }
      const elemType: TypeNode = { ...type, arrayRank };
      const items = this.isP('{') ? this.parseArrayItems() : null;
      if (!size && !items) throw this.err('an array creation needs a size or an initializer', pos);
      return { kind: 'newArray', pos, elemType, size, items };
    }
    let args: Arg[] | null = null;
    if (this.eatP('(')) args = this.parseArgs(')');
    let init: Initializer | null = null;
    if (this.isP('{')) init = this.parseInitializer();
    if (!args && !init) throw this.err(`expected "(" or "{" after "new ${type.name}"`);
    return { kind: 'new', pos, type, args, init };
  }

  private parseArrayItems(): Expr[] {
    this.expectP('{');
    const items: Expr[] = [];
    while (!this.isP('}')) {
      items.push(this.parseExpression());
      if (!this.eatP(',')) break;
    }
    this.expectP('}', 'to close the array initializer');
    return items;
  }

  private parseInitializer(): Initializer {
    const pos = this.expectP('{').pos;
    const isObject = this.isP('[') || (this.isIdent() && this.isP('=', this.peek()));
    if (isObject) {
      const members: Array<{ pos: number; name: string | null; index: Expr[] | null; value: Expr }> = [];
      while (!this.isP('}')) {
        const mpos = this.t.pos;
        if (this.eatP('[')) {
          const index = this.parseArgs(']').map((a) => a.value);
          this.expectP('=');
          members.push({ pos: mpos, name: null, index, value: this.parseInitValue() });
        } else {
          const id = this.identName();
          this.expectP('=');
          members.push({ pos: mpos, name: id.name, index: null, value: this.parseInitValue() });
        }
        if (!this.eatP(',')) break;
      }
      this.expectP('}', 'to close the object initializer');
      return { kind: 'object', pos, members };
    }
    const items: Array<{ pos: number; args: Expr[] }> = [];
    while (!this.isP('}')) {
      const ipos = this.t.pos;
      if (this.eatP('{')) {
        const args: Expr[] = [];
        while (!this.isP('}')) {
          args.push(this.parseExpression());
          if (!this.eatP(',')) break;
        }
        this.expectP('}', 'to close the element initializer');
        items.push({ pos: ipos, args });
      } else items.push({ pos: ipos, args: [this.parseExpression()] });
      if (!this.eatP(',')) break;
    }
    this.expectP('}', 'to close the collection initializer');
    return { kind: 'collection', pos, items };
  }

  private parseInitValue(): Expr {
    if (this.isP('{')) throw this.err('nested member initializers are not supported; use "new T { ... }"');
    return this.parseExpression();
  }

  // ---- statements ----
  parseBlock(): Stmt {
    const pos = this.expectP('{').pos;
    const body: Stmt[] = [];
    while (!this.isP('}')) {
      if (this.atEnd()) throw this.err('expected "}" to close the block', pos);
      body.push(this.parseStatement());
    }
    this.i++;
    return { kind: 'block', pos, body };
  }

  parseStatement(): Stmt {
    this.enter();
    try {
      return this.parseStatementInner();
    } finally {
      nesting--;
    }
  }

  private parseStatementInner(): Stmt {
    const t = this.t;
    const pos = t.pos;
    if (this.isP('{')) return this.parseBlock();
    // `checked { ... }` / `unchecked { ... }` statements (C# spec, "The checked and unchecked statements").
    if ((this.isKw('checked') || this.isKw('unchecked')) && this.isP('{', this.peek())) {
      const checked = this.isKw('checked');
      this.i++;
      return { kind: 'checked', pos, checked, body: this.parseBlock() };
    }
    if (this.eatP(';')) return { kind: 'empty', pos };
    if (t.kind === 'ident' && !t.verbatim) {
      switch (t.text) {
        case 'if': {
          this.i++;
          this.expectP('(');
          const cond = this.parseExpression();
          this.expectP(')');
          const then = this.parseEmbedded();
          const els = this.eatKw('else') ? this.parseEmbedded() : null;
          return { kind: 'if', pos, cond, then, else: els };
        }
        case 'while': {
          this.i++;
          this.expectP('(');
          const cond = this.parseExpression();
          this.expectP(')');
          return { kind: 'while', pos, cond, body: this.parseEmbedded() };
        }
        case 'do': {
          this.i++;
          const body = this.parseEmbedded();
          this.expectKw('while');
          this.expectP('(');
          const cond = this.parseExpression();
          this.expectP(')');
          this.expectP(';');
          return { kind: 'do', pos, cond, body };
        }
        case 'for': {
          this.i++;
          this.expectP('(');
          const init: Stmt[] = [];
          if (!this.isP(';')) {
            const d = this.tryDeclaration();
            if (d) init.push(d);
            else {
              do init.push({ kind: 'expr', pos: this.t.pos, expr: this.parseExpression() });
              while (this.eatP(','));
            }
          }
          this.expectP(';');
          const cond = this.isP(';') ? null : this.parseExpression();
          this.expectP(';');
          const update: Expr[] = [];
          if (!this.isP(')')) {
            do update.push(this.parseExpression());
            while (this.eatP(','));
          }
          this.expectP(')');
          return { kind: 'for', pos, init, cond, update, body: this.parseEmbedded() };
        }
        case 'foreach': {
          this.i++;
          this.expectP('(');
          let varType: TypeNode | null = null;
          if (this.isKw('var')) this.i++;
          else varType = this.parseType();
          const id = this.identName();
          this.expectKw('in');
          const iter = this.parseExpression();
          this.expectP(')');
          return { kind: 'foreach', pos, varType, name: id.name, namePos: id.pos, iter, body: this.parseEmbedded() };
        }
        case 'switch':
          return this.parseSwitch();
        case 'break':
          this.i++;
          this.expectP(';');
          return { kind: 'break', pos };
        case 'continue':
          this.i++;
          this.expectP(';');
          return { kind: 'continue', pos };
        case 'return': {
          this.i++;
          const value = this.isP(';') ? null : this.parseExpression();
          this.expectP(';', 'after the return statement');
          return { kind: 'return', pos, value };
        }
        case 'throw': {
          this.i++;
          const value = this.isP(';') ? null : this.parseExpression();
          this.expectP(';');
          return { kind: 'throw', pos, value };
        }
        case 'try':
          return this.parseTry();
        case 'using': {
          this.i++;
          this.expectP('(');
          const decl = this.tryDeclaration();
          const expr = decl ? null : this.parseExpression();
          this.expectP(')');
          return { kind: 'using', pos, decl, expr, body: this.parseEmbedded() };
        }
        case 'else':
          throw this.err('"else" without a matching "if"');
        case 'goto':
        case 'lock':
        case 'unsafe':
        case 'fixed':
          throw this.err(`"${t.text}" statements are not supported in policy expressions`);
      }
    }
    const lf = this.tryLocalFunction();
    if (lf) return lf;
    const d = this.tryDeclaration();
    if (d) {
      this.expectP(';', 'after the declaration');
      return d;
    }
    const expr = this.parseExpression();
    if (!['assign', 'call', 'postfix', 'prefix', 'new'].includes(expr.kind)) {
      throw this.err('only assignment, call, increment, decrement and new expressions can be used as a statement', expr.pos);
    }
    this.expectP(';', 'after the statement');
    return { kind: 'expr', pos, expr };
  }

  /** An if/while/for body: a statement that is not a declaration. */
  private parseEmbedded(): Stmt {
    const s = this.parseStatement();
    if (s.kind === 'decl' || s.kind === 'localFunc') throw this.err('a declaration is not allowed here; wrap it in braces', s.pos);
    return s;
  }

  /**
   * A local function (C# 7.0, "Local functions" on learn.microsoft.com): `[static] T Name(T1 a, T2 b = c) { ... }` or
   * `... => expr;`. Returns null (position restored) when the tokens are not `type identifier (`.
   */
  private tryLocalFunction(): Stmt | null {
    const save = this.i;
    const pos = this.t.pos;
    if (this.isKw('static') || this.isKw('async')) {
      if (this.isKw('async')) throw this.err('async local functions are not supported in policy expressions');
      this.i++;
    }
    const ret = this.tryType();
    if (!ret || !this.isIdent() || !(this.isP('(', this.peek()) || (this.isP('<', this.peek()) && this.isGenericFunctionStart()))) {
      this.i = save;
      return null;
    }
    const id = this.identName();
    if (this.isP('<')) throw this.err('generic local functions are not supported in policy expressions');
    this.expectP('(');
    const params: LocalFuncParam[] = [];
    if (!this.isP(')')) {
      do {
        if (this.isKw('ref') || this.isKw('out') || this.isKw('in') || this.isKw('params') || this.isKw('this')) {
          throw this.err(`"${this.t.text}" parameters of local functions are not supported in policy expressions`);
        }
        const type = this.parseType();
        const p = this.identName();
        const def = this.eatP('=') ? this.parseExpression() : null;
        params.push({ name: p.name, pos: p.pos, type, def });
      } while (this.eatP(','));
    }
    this.expectP(')', 'to close the parameter list');
    let body: Stmt;
    if (this.eatP('=>')) {
      const e = this.parseExpression();
      this.expectP(';', 'after the local function body');
      const isVoid = ret.name === 'void' && ret.arrayRank === 0;
      body = { kind: 'block', pos: e.pos, body: [isVoid ? { kind: 'expr', pos: e.pos, expr: e } : { kind: 'return', pos: e.pos, value: e }] };
    } else if (this.isP('{')) body = this.parseBlock();
    else throw this.err(`expected "{" or "=>" to start the body of local function "${id.name}" but found ${this.describe(this.t)}`);
    return { kind: 'localFunc', pos, name: id.name, namePos: id.pos, ret, params, body };
  }

  /** After `T Name`: whether `<...>(` follows (a generic local function), looking ahead without consuming. */
  private isGenericFunctionStart(): boolean {
    let depth = 0;
    for (let j = this.i + 1; j < this.toks.length; j++) {
      const tk = this.toks[j]!;
      if (tk.kind === 'punct' && tk.text === '<') depth++;
      else if (tk.kind === 'punct' && tk.text === '>') {
        if (--depth === 0) return this.isP('(', this.toks[j + 1]);
      } else if (!(tk.kind === 'ident' || (tk.kind === 'punct' && (tk.text === ',' || tk.text === '.')))) return false;
    }
    return false;
  }

  /** `var x = 1, y;` / `T x = ...` (without the ';'), or null if the tokens do not start a declaration. */
  private tryDeclaration(): Stmt | null {
    const pos = this.t.pos;
    const save = this.i;
    if (this.isKw('const')) this.i++;
    let type: TypeNode | null = null;
    if (this.isKw('var') && this.isIdent(this.peek())) this.i++;
    else {
      type = this.tryType();
      if (!type) {
        this.i = save;
        return null;
      }
    }
    if (!this.isIdent()) {
      this.i = save;
      return null;
    }
    const n = this.peek();
    if (!(this.isP('=', n) || this.isP(';', n) || this.isP(',', n) || this.isP(')', n))) {
      this.i = save;
      return null;
    }
    const vars: Array<{ name: string; pos: number; init: Expr | null }> = [];
    do {
      const id = this.identName();
      let init: Expr | null = null;
      if (this.eatP('=')) {
        if (this.isP('{')) {
          // array initializer shorthand: int[] a = { 1, 2 };
          const items = this.parseArrayItems();
          if (!type || type.arrayRank === 0) throw this.err('an array initializer "{...}" needs an array type', id.pos);
          init = { kind: 'newArray', pos: id.pos, elemType: { ...type, arrayRank: type.arrayRank - 1 }, size: null, items };
        } else init = this.parseExpression();
      }
      if (!type && !init) throw this.err('an implicitly typed variable ("var") must be initialized', id.pos);
      vars.push({ name: id.name, pos: id.pos, init });
    } while (this.eatP(','));
    return { kind: 'decl', pos, type, vars };
  }

  private parseSwitch(): Stmt {
    const pos = this.t.pos;
    this.i++;
    this.expectP('(');
    const subject = this.parseExpression();
    this.expectP(')');
    this.expectP('{');
    const sections: Array<{ pos: number; labels: Array<Expr | null>; body: Stmt[] }> = [];
    while (!this.isP('}')) {
      const spos = this.t.pos;
      const labels: Array<Expr | null> = [];
      while (this.isKw('case') || this.isKw('default')) {
        if (this.eatKw('default')) labels.push(null);
        else {
          this.i++;
          labels.push(this.parseConditional());
        }
        this.expectP(':', 'after the case label');
      }
      if (labels.length === 0) throw this.err(`expected "case" or "default" but found ${this.describe(this.t)}`);
      const body: Stmt[] = [];
      while (!this.isKw('case') && !this.isKw('default') && !this.isP('}')) {
        if (this.atEnd()) throw this.err('expected "}" to close the switch', pos);
        body.push(this.parseStatement());
      }
      sections.push({ pos: spos, labels, body });
    }
    this.i++;
    return { kind: 'switch', pos, subject, sections };
  }

  private parseTry(): Stmt {
    const pos = this.t.pos;
    this.i++;
    const body = this.parseBlock();
    const catches: Array<{ pos: number; type: TypeNode | null; name: string | null; when: Expr | null; body: Stmt }> = [];
    while (this.isKw('catch')) {
      const cpos = this.t.pos;
      this.i++;
      let type: TypeNode | null = null;
      let name: string | null = null;
      if (this.eatP('(')) {
        type = this.parseType();
        if (this.isIdent()) name = this.identName().name;
        this.expectP(')');
      }
      let when: Expr | null = null;
      if (this.eatKw('when')) {
        this.expectP('(');
        when = this.parseExpression();
        this.expectP(')');
      }
      catches.push({ pos: cpos, type, name, when, body: this.parseBlock() });
    }
    let fin: Stmt | null = null;
    if (this.eatKw('finally')) fin = this.parseBlock();
    if (catches.length === 0 && !fin) throw this.err('"try" needs a "catch" or "finally" block', pos);
    return { kind: 'try', pos, body, catches, fin };
  }
}

function parseSub(text: string, start: number, end: number): Expr {
  const p = new Parser(tokenize(text, start, end), text);
  const e = p.parseExpression();
  if (!p.atEnd()) throw p.err(`unexpected ${p.describe(p.current)} in the interpolation hole`);
  return e;
}

function tokenize(text: string, start: number, end: number): Token[] {
  try {
    return lex(text, start, end);
  } catch (e) {
    if (e instanceof LexError) throw new ParseError(e.message, e.pos);
    throw e;
  }
}

export type ParsedExpression = { kind: 'expression'; expr: Expr } | { kind: 'block'; block: Stmt };

/**
 * Parses a policy expression text: `@( expr )` or `@{ statements }`. `start` is the index of '@'; the returned node
 * positions are indexes into `text`.
 */
export function parsePolicyExpression(text: string, start: number, end: number): ParsedExpression {
  nesting = 0;
  const parsed = parsePolicyExpressionInner(text, start, end);
  checkTreeDepth(parsed.kind === 'expression' ? parsed.expr : parsed.block);
  return parsed;
}

/**
 * Maximum syntactic nesting. Real policies stay far below it; the limit keeps parser and compiler recursion well inside the JS stack. Listed in docs/expressions.md.
 */
export const MAX_NESTING = 256;
let nesting = 0;

/**
 * Long left-associative chains (`a + b + ... `, `x.A.B.C...`, `a ?? b ?? ...`) are parsed by loops but produce trees
 * as deep as the chain; the compiler walks them recursively, so the tree depth is bounded too (iterative walk here).
 */
function checkTreeDepth(root: Expr | Stmt): void {
  const stack: Array<[unknown, number]> = [[root, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (Array.isArray(node)) {
      for (const x of node) stack.push([x, depth]);
      continue;
    }
    if (node === null || typeof node !== 'object') continue;
    const isNode = typeof (node as { kind?: unknown }).kind === 'string' && typeof (node as { pos?: unknown }).pos === 'number';
    const d = isNode ? depth + 1 : depth;
    if (d > MAX_NESTING) {
      throw new ParseError(
        `the expression is nested too deeply (more than ${MAX_NESTING} levels; long operator, member-access or call chains count as nesting): split it with local variables`,
        (node as { pos: number }).pos,
      );
    }
    for (const v of Object.values(node)) if (v !== null && typeof v === 'object') stack.push([v, d]);
  }
}

function parsePolicyExpressionInner(text: string, start: number, end: number): ParsedExpression {
  if (text[start] !== '@' || (text[start + 1] !== '(' && text[start + 1] !== '{')) throw new ParseError('a policy expression starts with "@(" or "@{"', start);
  const toks = tokenize(text, start + 1, end);
  const p = new Parser(toks, text);
  if (text[start + 1] === '(') {
    const open = p.position;
    // '(' expr ')'
    if (!(p.current.kind === 'punct' && p.current.text === '(')) throw new ParseError('expected "("', open);
    toks.shift();
    const inner = new Parser(toks, text);
    if (inner.atEnd()) throw new ParseError('the expression "@(...)" is not closed with ")"', start);
    if (toks[0]!.kind === 'punct' && toks[0]!.text === ')') throw new ParseError('empty expression "@()"', start);
    const expr = inner.parseExpression();
    const close = inner.current;
    if (!(close.kind === 'punct' && close.text === ')')) {
      throw inner.err(
        close.kind === 'eof' ? 'the expression "@(...)" is not closed with ")"' : `unexpected ${inner.describe(close)}; expected ")" to end the expression`,
      );
    }
    toks.splice(0, toks.indexOf(close) + 1);
    const rest = new Parser(toks, text);
    if (!rest.atEnd()) throw rest.err(`unexpected ${rest.describe(rest.current)} after the end of the expression`);
    return { kind: 'expression', expr };
  }
  const block = p.parseBlock();
  if (!p.atEnd()) throw p.err(`unexpected ${p.describe(p.current)} after the end of the "@{...}" block`);
  return { kind: 'block', block };
}

/** Parses a standalone C# expression (tests, tools). */
export function parseCSharpExpression(text: string): Expr {
  return parseSub(text, 0, text.length);
}

/** SelectToken / SelectTokens: Newtonsoft's JPath (JSONPath subset with filters). */
import { DotNetException } from '../exceptions.js';
import { contentToString } from './conversions.js';
import { JArray, JObject, JProperty, JToken, JValue, deepEquals } from './tokens.js';

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
    return e.op === 'and'
      ? evalQuery(e.left, current, root) && evalQuery(e.right, current, root)
      : evalQuery(e.left, current, root) || evalQuery(e.right, current, root);
  }
  const left = operandTokens(e.left, current, root);
  if (e.op === 'exists') return left.length > 0;
  const right = operandTokens(e.right!, current, root);
  return left.some((l) => right.some((r) => compareValues(l, r, e.op)));
}

export function selectTokens(token: JToken, path: string, errorWhenNoMatch: boolean): JToken[] {
  const filters = new JPathParser(path).parse();
  const start = path.startsWith('$') ? token.Root : token;
  return applyFilters([start], filters, errorWhenNoMatch);
}

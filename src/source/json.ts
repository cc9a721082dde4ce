/**
 * A small JSON parser that keeps the file offset of every value and key, so backend diagnostics can say
 * `file:line:col` as well as the JSON path. ARM templates allow `//` and `/* *\/` comments, so they are skipped too.
 */

export interface JsonEntry {
  key: string;
  keyOffset: number;
  value: JsonNode;
}

interface NodeBase {
  /** Offset of the first character of the value in the source text. */
  offset: number;
}

export type JsonNode =
  | (NodeBase & { kind: 'object'; entries: JsonEntry[] })
  | (NodeBase & { kind: 'array'; items: JsonNode[] })
  | (NodeBase & { kind: 'string'; value: string })
  | (NodeBase & { kind: 'number'; value: number })
  | (NodeBase & { kind: 'boolean'; value: boolean })
  | (NodeBase & { kind: 'null'; value: null });

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'JsonSyntaxError';
  }
}

/**
 * Deepest nesting of objects and arrays the reader accepts. The reader and every walker of its trees (ARM evaluation,
 * schema checks, toPlain) recurse per level; without a bound a hostile file of a few thousand `[` overflowed the stack.
 * Real backend, config and scenario files nest fewer than 20 levels. See docs/limits.md.
 */
export const MAX_JSON_DEPTH = 512;

export interface JsonReadOptions {
  /** Default MAX_JSON_DEPTH. */
  maxDepth?: number;
}

export function parseJsonWithPositions(text: string, options: JsonReadOptions = {}): JsonNode {
  const p = new Parser(text, options.maxDepth ?? MAX_JSON_DEPTH);
  p.skipWs();
  if (p.pos === text.length) throw new JsonSyntaxError('the file is empty; expected a JSON object or array', 0);
  const v = p.value();
  p.skipWs();
  if (p.pos < text.length) throw new JsonSyntaxError(`unexpected ${describe(text, p.pos)} after the end of the JSON value`, p.pos);
  return v;
}

function describe(text: string, pos: number): string {
  if (pos >= text.length) return 'end of file';
  const c = text[pos]!;
  return c === '\n' || c === '\r' ? 'line break' : `'${c}'`;
}

class Parser {
  pos = 0;
  private depth = 0;
  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
  ) {
    if (text.charCodeAt(0) === 0xfeff) this.pos = 1; // byte-order mark
  }

  skipWs(): void {
    const t = this.text;
    for (;;) {
      const c = t.charCodeAt(this.pos);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.pos++;
      else if (c === 47 && t.charCodeAt(this.pos + 1) === 47) {
        const nl = t.indexOf('\n', this.pos);
        this.pos = nl < 0 ? t.length : nl + 1;
      } else if (c === 47 && t.charCodeAt(this.pos + 1) === 42) {
        const end = t.indexOf('*/', this.pos + 2);
        if (end < 0) throw new JsonSyntaxError('unterminated /* comment', this.pos);
        this.pos = end + 2;
      } else return;
    }
  }

  fail(expected: string): never {
    throw new JsonSyntaxError(`expected ${expected} but found ${describe(this.text, this.pos)}`, this.pos);
  }

  value(): JsonNode {
    this.skipWs();
    const t = this.text;
    const offset = this.pos;
    const c = t[this.pos];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return { kind: 'string', offset, value: this.string() };
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return { kind: 'number', offset, value: this.number() };
    if (t.startsWith('true', this.pos)) return this.literal(4, { kind: 'boolean', offset, value: true });
    if (t.startsWith('false', this.pos)) return this.literal(5, { kind: 'boolean', offset, value: false });
    if (t.startsWith('null', this.pos)) return this.literal(4, { kind: 'null', offset, value: null });
    if (c === "'") throw new JsonSyntaxError('strings must use double quotes (") in JSON, not single quotes', this.pos);
    return this.fail('a value (object, array, string, number, true, false or null)');
  }

  private literal(len: number, node: JsonNode): JsonNode {
    this.pos += len;
    return node;
  }

  /** Called on entering an object or array at `this.pos`. */
  private enter(): void {
    if (++this.depth > this.maxDepth) {
      throw new JsonSyntaxError(`objects and arrays are nested deeper than ${this.maxDepth} levels here (the reader's limit; see docs/limits.md)`, this.pos);
    }
  }

  private object(): JsonNode {
    this.enter();
    const offset = this.pos++;
    const entries: JsonEntry[] = [];
    this.skipWs();
    if (this.text[this.pos] === '}') {
      this.pos++;
      this.depth--;
      return { kind: 'object', offset, entries };
    }
    for (;;) {
      this.skipWs();
      if (this.text[this.pos] !== '"') {
        if (this.text[this.pos] === '}') throw new JsonSyntaxError('trailing comma before } is not allowed in JSON', this.pos);
        this.fail('a property name in double quotes');
      }
      const keyOffset = this.pos;
      const key = this.string();
      this.skipWs();
      if (this.text[this.pos] !== ':') this.fail(`':' after property name "${key}"`);
      this.pos++;
      const value = this.value();
      entries.push({ key, keyOffset, value });
      this.skipWs();
      const c = this.text[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === '}') {
        this.pos++;
        this.depth--;
        return { kind: 'object', offset, entries };
      }
      this.fail("',' or '}'");
    }
  }

  private array(): JsonNode {
    this.enter();
    const offset = this.pos++;
    const items: JsonNode[] = [];
    this.skipWs();
    if (this.text[this.pos] === ']') {
      this.pos++;
      this.depth--;
      return { kind: 'array', offset, items };
    }
    for (;;) {
      this.skipWs();
      if (this.text[this.pos] === ']') throw new JsonSyntaxError('trailing comma before ] is not allowed in JSON', this.pos);
      items.push(this.value());
      this.skipWs();
      const c = this.text[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === ']') {
        this.pos++;
        this.depth--;
        return { kind: 'array', offset, items };
      }
      this.fail("',' or ']'");
    }
  }

  private string(): string {
    const t = this.text;
    const start = this.pos;
    this.pos++;
    let out = '';
    let chunk = this.pos;
    for (;;) {
      if (this.pos >= t.length) throw new JsonSyntaxError('unterminated string', start);
      const c = t.charCodeAt(this.pos);
      if (c === 34) {
        out += t.slice(chunk, this.pos);
        this.pos++;
        return out;
      }
      if (c === 92) {
        out += t.slice(chunk, this.pos);
        const e = t[this.pos + 1];
        const map: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && map[e] !== undefined) {
          out += map[e];
          this.pos += 2;
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(t.slice(this.pos + 2, this.pos + 6))) {
          out += String.fromCharCode(parseInt(t.slice(this.pos + 2, this.pos + 6), 16));
          this.pos += 6;
        } else throw new JsonSyntaxError(`invalid escape sequence '\\${e ?? ''}' in string`, this.pos);
        chunk = this.pos;
        continue;
      }
      if (c < 32) throw new JsonSyntaxError('control character (such as a raw line break) inside a string; escape it as \\n', this.pos);
      this.pos++;
    }
  }

  private number(): number {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.text.slice(this.pos, this.pos + 400));
    if (!m) this.fail('a number');
    this.pos += m[0].length;
    return Number(m[0]);
  }
}

/** Plain JS value of a node. */
export function toPlain(node: JsonNode): JsonValue {
  switch (node.kind) {
    case 'object': {
      const o: { [k: string]: JsonValue } = {};
      for (const e of node.entries) o[e.key] = toPlain(e.value);
      return o;
    }
    case 'array':
      return node.items.map(toPlain);
    default:
      return node.value;
  }
}

/** A node for a computed value (ARM expression result), every part attributed to `offset`. */
export function fromPlain(value: unknown, offset: number): JsonNode {
  if (value === null || value === undefined) return { kind: 'null', offset, value: null };
  if (typeof value === 'string') return { kind: 'string', offset, value };
  if (typeof value === 'number') return { kind: 'number', offset, value };
  if (typeof value === 'boolean') return { kind: 'boolean', offset, value };
  if (Array.isArray(value)) return { kind: 'array', offset, items: value.map((v) => fromPlain(v, offset)) };
  if (typeof value === 'object') {
    return {
      kind: 'object',
      offset,
      entries: Object.entries(value as Record<string, unknown>).map(([key, v]) => ({ key, keyOffset: offset, value: fromPlain(v, offset) })),
    };
  }
  return { kind: 'string', offset, value: String(value) };
}

export function member(node: JsonNode | undefined, key: string): JsonNode | undefined {
  if (node?.kind !== 'object') return undefined;
  for (const e of node.entries) if (e.key === key) return e.value;
  return undefined;
}

/** Case-insensitive member lookup (ARM property names are case-insensitive). */
export function memberCI(node: JsonNode | undefined, key: string): JsonEntry | undefined {
  if (node?.kind !== 'object') return undefined;
  const k = key.toLowerCase();
  for (const e of node.entries) if (e.key.toLowerCase() === k) return e;
  return undefined;
}

/** Appends a property or index to a JSON path, quoting property names that are not identifiers. */
export function pathJoin(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}['${key.replace(/'/g, "\\'")}']`;
}

/**
 * Walks a JSON pointer (ajv instancePath, e.g. `/circuitBreaker/rules/0/failureCondition/count`) from `node`; returns the
 * deepest node reached, the JSON path suffix, and for a final object member also the key's offset.
 */
export function resolvePointer(node: JsonNode, pointer: string): { node: JsonNode; path: string; keyOffset?: number } {
  let cur = node;
  let path = '';
  let keyOffset: number | undefined;
  if (!pointer) return { node, path };
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur.kind === 'array' && /^\d+$/.test(seg) && cur.items[Number(seg)]) {
      path = pathJoin(path, Number(seg));
      cur = cur.items[Number(seg)]!;
      keyOffset = undefined;
    } else if (cur.kind === 'object') {
      const e = cur.entries.find((x) => x.key === seg);
      if (!e) break;
      path = pathJoin(path, seg);
      keyOffset = e.keyOffset;
      cur = e.value;
    } else break;
  }
  return { node: cur, path, ...(keyOffset !== undefined ? { keyOffset } : {}) };
}

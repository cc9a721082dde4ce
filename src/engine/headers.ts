/**
 * HTTP headers as APIM's policies see them: case-insensitive names, each with a list of values, insertion order
 * kept, and the first spelling of a name kept for the wire.
 */
export class HeaderMap {
  private readonly map = new Map<string, { name: string; values: string[] }>();

  constructor(init?: Iterable<[string, string | string[]]>) {
    if (init) for (const [n, v] of init) this.append(n, Array.isArray(v) ? v : [v]);
  }

  /** From Node's `IncomingMessage.rawHeaders` ([name, value, name, value, ...]). */
  static fromRaw(raw: readonly string[]): HeaderMap {
    const h = new HeaderMap();
    for (let i = 0; i + 1 < raw.length; i += 2) h.add(raw[i]!, raw[i + 1]!);
    return h;
  }

  /** From a record such as undici's response headers (values may be string or string[]). */
  static fromRecord(rec: Record<string, string | string[] | undefined>): HeaderMap {
    const h = new HeaderMap();
    for (const n in rec) {
      const v = rec[n];
      if (v === undefined) continue;
      if (typeof v === 'string') h.add(n, v);
      else h.append(n, v);
    }
    return h;
  }

  /** One value, without the array copy of append() (the constructors above run per request). */
  private add(name: string, value: string): void {
    const key = name.toLowerCase();
    const existing = this.map.get(key);
    if (existing) existing.values.push(value);
    else this.map.set(key, { name, values: [value] });
  }

  get(name: string): string[] | undefined {
    return this.map.get(name.toLowerCase())?.values;
  }

  /** Values joined with "," as `Headers.GetValueOrDefault` returns them. */
  getJoined(name: string): string | undefined {
    const v = this.map.get(name.toLowerCase());
    return v ? v.values.join(',') : undefined;
  }

  has(name: string): boolean {
    return this.map.has(name.toLowerCase());
  }

  set(name: string, values: string[]): void {
    const key = name.toLowerCase();
    const existing = this.map.get(key);
    this.map.set(key, { name: existing?.name ?? name, values: [...values] });
  }

  append(name: string, values: string[]): void {
    const key = name.toLowerCase();
    const existing = this.map.get(key);
    if (existing) existing.values.push(...values);
    else this.map.set(key, { name, values: [...values] });
  }

  delete(name: string): boolean {
    return this.map.delete(name.toLowerCase());
  }

  get size(): number {
    return this.map.size;
  }

  /** Calls fn(original name, values) in insertion order: entries() without an iterator and a pair per header. */
  forEach(fn: (name: string, values: readonly string[]) => void): void {
    for (const e of this.map.values()) fn(e.name, e.values);
  }

  /** [original name, values] pairs in insertion order. */
  *entries(): IterableIterator<[string, string[]]> {
    for (const { name, values } of this.map.values()) yield [name, values];
  }

  names(): string[] {
    return [...this.map.values()].map((e) => e.name);
  }

  clone(): HeaderMap {
    // Entry by entry: the keys are already lower-cased (no second toLowerCase and lookup per header).
    const h = new HeaderMap();
    for (const [key, e] of this.map) h.map.set(key, { name: e.name, values: e.values.slice() });
    return h;
  }

  toRecord(): Record<string, string[]> {
    const r: Record<string, string[]> = {};
    for (const e of this.map.values()) r[e.name] = e.values.slice();
    return r;
  }
}

/**
 * A mutable URL as policies see it (`context.Request.Url`, IUrl): scheme, host, port, path and an ordered
 * multi-value query. Kept separate from WHATWG URL because APIM exposes query values as string[] per name and
 * policies rewrite parts independently.
 */
export class RequestUrl {
  constructor(
    public scheme: string,
    public host: string,
    public port: number,
    /** Always starts with "/". Percent-encoding as received. */
    public path: string,
    public query: QueryMap = new QueryMap(),
  ) {}

  static parse(href: string): RequestUrl {
    const u = new URL(href);
    const scheme = u.protocol.replace(/:$/, '');
    const port = u.port ? Number(u.port) : scheme === 'https' ? 443 : 80;
    return new RequestUrl(scheme, u.hostname, port, u.pathname || '/', QueryMap.parse(u.search));
  }

  /** `?a=1&b=2`, or "" with no query. */
  get queryString(): string {
    const q = this.query.toString();
    return q ? `?${q}` : '';
  }

  get isDefaultPort(): boolean {
    return (this.scheme === 'https' && this.port === 443) || (this.scheme === 'http' && this.port === 80);
  }

  get origin(): string {
    return `${this.scheme}://${this.host}${this.isDefaultPort ? '' : `:${this.port}`}`;
  }

  toString(): string {
    return `${this.origin}${this.path}${this.queryString}`;
  }

  clone(): RequestUrl {
    return new RequestUrl(this.scheme, this.host, this.port, this.path, this.query.clone());
  }
}

export class QueryMap {
  private readonly map = new Map<string, string[]>();

  static parse(search: string): QueryMap {
    const q = new QueryMap();
    const s = search.startsWith('?') ? search.slice(1) : search;
    if (!s) return q;
    for (const part of s.split('&')) {
      if (!part) continue;
      const eq = part.indexOf('=');
      const name = decodeQueryComponent(eq < 0 ? part : part.slice(0, eq));
      const value = eq < 0 ? '' : decodeQueryComponent(part.slice(eq + 1));
      q.append(name, [value]);
    }
    return q;
  }

  get(name: string): string[] | undefined {
    return this.map.get(name);
  }

  has(name: string): boolean {
    return this.map.has(name);
  }

  set(name: string, values: string[]): void {
    this.map.set(name, [...values]);
  }

  append(name: string, values: string[]): void {
    const v = this.map.get(name);
    if (v) v.push(...values);
    else this.map.set(name, [...values]);
  }

  delete(name: string): boolean {
    return this.map.delete(name);
  }

  entries(): IterableIterator<[string, string[]]> {
    return this.map.entries();
  }

  get size(): number {
    return this.map.size;
  }

  clone(): QueryMap {
    const q = new QueryMap();
    for (const [k, v] of this.map) q.set(k, v);
    return q;
  }

  toString(): string {
    const parts: string[] = [];
    for (const [k, vs] of this.map) for (const v of vs) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
    return parts.join('&');
  }
}

function decodeQueryComponent(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

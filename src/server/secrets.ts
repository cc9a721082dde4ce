/** What a secret value is replaced with in logs and traces. */
export const MASK = '***';

/**
 * Replaces secret values (secret named values, configured secrets) in text before it reaches a log line or a stored
 * trace. Values shorter than MIN_SECRET_LENGTH are not masked: replacing one or two characters everywhere would make
 * every log unreadable while hiding nothing worth hiding.
 */
export const MIN_SECRET_LENGTH = 3;

export class SecretMasker {
  private readonly secrets: string[];

  constructor(values: Iterable<string>) {
    const set = new Set<string>();
    for (const v of values) {
      if (typeof v !== 'string' || v.length < MIN_SECRET_LENGTH) continue;
      set.add(v);
      // The same secret may appear percent-encoded in a URL.
      const encoded = encodeURIComponent(v);
      if (encoded !== v) set.add(encoded);
    }
    // Longest first, so a secret that contains another is masked whole.
    this.secrets = [...set].sort((a, b) => b.length - a.length);
  }

  get isEmpty(): boolean {
    return this.secrets.length === 0;
  }

  mask(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join(MASK);
    return out;
  }

  /** Masks every string (keys included) inside a JSON-like value; returns a copy, the input is left alone. */
  maskValue<T>(value: T): T {
    if (this.secrets.length === 0) return value;
    return this.walk(value) as T;
  }

  private walk(v: unknown): unknown {
    if (typeof v === 'string') return this.mask(v);
    if (Array.isArray(v)) return v.map((x) => this.walk(x));
    if (v instanceof Map) return this.walk(Object.fromEntries(v));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[this.mask(k)] = this.walk(x);
      return out;
    }
    return v;
  }
}

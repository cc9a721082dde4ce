/** What a secret value is replaced with in logs and traces. */
export const MASK = '***';

/**
 * Replaces secret values (secret named values, configured secrets) in text before it reaches a log line or a stored
 * trace. Values shorter than MIN_SECRET_LENGTH are not masked: replacing one or two characters everywhere would make
 * every log unreadable while hiding nothing worth hiding.
 */
export const MIN_SECRET_LENGTH = 3;

/**
 * Request headers whose values are credentials: masked in traces and logs whatever their value (SECURITY.md).
 * Subscription key headers with a custom name per API are added by the caller.
 */
export const CREDENTIAL_HEADERS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'ocp-apim-subscription-key',
  'apim-debug-authorization',
  'api-key',
  'x-api-key',
  'x-functions-key',
  'cookie',
];

/** Query parameters whose values are credentials (APIM's subscription key parameter, SAS signatures, function keys). */
export const CREDENTIAL_QUERY_PARAMETERS: readonly string[] = ['subscription-key', 'sig', 'code', 'api-key'];

/**
 * The credential values one request carries: whole header values, the token after an auth scheme (`Bearer x` → `x`,
 * so a token echoed alone is masked too), and credential query parameter values.
 */
export function requestCredentials(headers: Record<string, string | string[]>, url: string): string[] {
  const out: string[] = [];
  for (const [name, values] of Object.entries(headers)) {
    if (!CREDENTIAL_HEADERS.includes(name.toLowerCase())) continue;
    for (const v of Array.isArray(values) ? values : [values]) {
      out.push(v);
      const m = /^\s*[A-Za-z][\w-]*\s+(\S.*)$/.exec(v);
      if (m) out.push(m[1]!.trim());
    }
  }
  const q = url.indexOf('?');
  if (q >= 0) {
    for (const [k, v] of new URLSearchParams(url.slice(q + 1))) {
      if (CREDENTIAL_QUERY_PARAMETERS.includes(k.toLowerCase()) && v) out.push(v);
    }
  }
  return out;
}

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

  /** This masker plus more values (one request's credentials). */
  with(values: Iterable<string>): SecretMasker {
    return new SecretMasker([...this.secrets, ...values]);
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

/**
 * System.Text / System.Convert / System.Net / System.Uri pieces policy expressions use. Byte arrays are Uint8Array.
 *
 * Provides: Encoding.UTF8 / ASCII / Unicode (UTF-16LE) GetBytes, GetString([bytes, index, count]), GetByteCount;
 * Convert.ToBase64String([bytes, offset, length]), FromBase64String (FormatException like .NET), ToHexString,
 * FromHexString, plus Convert.ToInt32/ToInt64/ToDouble/ToDecimal/ToBoolean/ToString re-exported from numbers.ts;
 * BitConverter.ToString(bytes[, start[, length]]), BitConverter.GetBytes(int/long/bool);
 * StringBuilder (Append, AppendLine, AppendFormat, Insert, Remove, Replace, Clear, Length, ToString([start, length]));
 * WebUtility.UrlEncode/UrlDecode/HtmlEncode/HtmlDecode; Uri (ctor, Scheme, Host, Port, IsDefaultPort, AbsolutePath,
 * Query, Fragment, PathAndQuery, Authority, UserInfo, AbsoluteUri, OriginalString, Segments, ToString,
 * GetLeftPart, IsAbsoluteUri, Uri.EscapeDataString, Uri.UnescapeDataString, Uri.TryCreate, Uri.IsWellFormedUriString).
 */
import { DotNetException, argumentNull, argumentOutOfRange, formatError, ensureStringLength } from './exceptions.js';
import { type DotNetFormattable, formatComposite, toDotNetString } from './format.js';

export {
  convertToBoolean as ToBoolean,
  convertToDecimal as ToDecimal,
  convertToDouble as ToDouble,
  convertToInt32 as ToInt32,
  convertToInt32FromBase as ToInt32FromBase,
  convertToInt64 as ToInt64,
  convertToString as ToString,
} from './numbers.js';

// ---- Encoding ------------------------------------------------------------------------------------------------------

export interface Encoding {
  readonly WebName: string;
  GetBytes(s: string | null): Uint8Array;
  GetString(bytes: Uint8Array | null, index?: number, count?: number): string;
  GetByteCount(s: string | null): number;
}

function sliceBytes(bytes: Uint8Array | null, index?: number, count?: number): Uint8Array {
  if (bytes === null) throw argumentNull('bytes');
  if (index === undefined) return bytes;
  const c = count ?? bytes.length - index;
  if (index < 0) throw argumentOutOfRange('index', 'Non-negative number required.');
  if (c < 0) throw argumentOutOfRange('count', 'Non-negative number required.');
  if (bytes.length - index < c) throw argumentOutOfRange('bytes', 'Index and count must refer to a location within the buffer.');
  return bytes.subarray(index, index + c);
}

const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const utf16Decoder = new TextDecoder('utf-16le', { ignoreBOM: true });

/** UTF-8: lone surrogates encode as U+FFFD, invalid bytes decode as U+FFFD, a BOM is kept (as .NET's GetString). */
export const UTF8: Encoding = {
  WebName: 'utf-8',
  GetBytes(s) {
    if (s === null) throw argumentNull('s');
    return new Uint8Array(Buffer.from(s, 'utf8'));
  },
  GetString(bytes, index, count) {
    return utf8Decoder.decode(sliceBytes(bytes, index, count));
  },
  GetByteCount(s) {
    if (s === null) throw argumentNull('chars');
    return Buffer.byteLength(s, 'utf8');
  },
};

/** ASCII: characters above U+007F become '?', bytes above 0x7F decode as '?'. */
export const ASCII: Encoding = {
  WebName: 'us-ascii',
  GetBytes(s) {
    if (s === null) throw argumentNull('s');
    // One '?' per unencodable character; a surrogate pair is one character to the replacement fallback.
    const out: number[] = [];
    for (const ch of s) {
      const c = ch.codePointAt(0)!;
      out.push(c < 0x80 ? c : 0x3f);
    }
    return new Uint8Array(out);
  },
  GetString(bytes, index, count) {
    const b = sliceBytes(bytes, index, count);
    let out = '';
    for (const x of b) out += x < 0x80 ? String.fromCharCode(x) : '?';
    return out;
  },
  GetByteCount(s) {
    return ASCII.GetBytes(s).length;
  },
};

/** Encoding.Unicode: UTF-16 little endian. */
export const Unicode: Encoding = {
  WebName: 'utf-16',
  GetBytes(s) {
    if (s === null) throw argumentNull('s');
    return new Uint8Array(Buffer.from(s, 'utf16le'));
  },
  GetString(bytes, index, count) {
    return utf16Decoder.decode(sliceBytes(bytes, index, count));
  },
  GetByteCount(s) {
    if (s === null) throw argumentNull('chars');
    return s.length * 2;
  },
};

// ---- Convert (bytes) -----------------------------------------------------------------------------------------------

export function ToBase64String(bytes: Uint8Array | null, offset?: number, length?: number): string {
  if (bytes === null) throw argumentNull('inArray');
  let b = bytes;
  if (offset !== undefined) {
    const len = length ?? bytes.length - offset;
    if (offset < 0) throw argumentOutOfRange('offset', 'Value must be positive.');
    if (len < 0) throw argumentOutOfRange('length', 'Index was out of range. Must be non-negative and less than the size of the collection.');
    if (offset > bytes.length - len) throw argumentOutOfRange('offset', 'Offset and length must refer to a position in the string.');
    b = bytes.subarray(offset, offset + len);
  }
  return Buffer.from(b).toString('base64');
}

const BAD_BASE64 =
  'The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding characters, or an illegal character among the padding characters.';

/** Convert.FromBase64String: strict alphabet and padding; spaces, tabs, CR and LF are ignored. */
export function FromBase64String(s: string | null): Uint8Array {
  if (s === null) throw argumentNull('s');
  const t = s.replace(/[ \t\r\n]/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(t)) throw formatError(BAD_BASE64);
  if (t.length % 4 !== 0) throw formatError(BAD_BASE64);
  const out = Buffer.from(t, 'base64');
  // Node ignores non-zero bits in the last character; .NET accepts them too, so the bytes agree.
  return new Uint8Array(out);
}

export function ToHexString(bytes: Uint8Array | null, offset?: number, length?: number): string {
  if (bytes === null) throw argumentNull('inArray');
  const b = offset === undefined ? bytes : bytes.subarray(offset, offset + (length ?? bytes.length - offset));
  return Buffer.from(b).toString('hex').toUpperCase();
}

export function FromHexString(s: string | null): Uint8Array {
  if (s === null) throw argumentNull('s');
  if (s.length % 2 !== 0) throw formatError('The input is not a valid hex string as its length is not a multiple of 2.');
  if (!/^[0-9a-fA-F]*$/.test(s)) throw formatError('The input is not a valid hex string as it contains a non-hex character.');
  return new Uint8Array(Buffer.from(s, 'hex'));
}

// ---- BitConverter --------------------------------------------------------------------------------------------------

/** BitConverter.ToString: "0A-1B-FF". */
export function BitConverterToString(bytes: Uint8Array | null, startIndex = 0, length?: number): string {
  if (bytes === null) throw argumentNull('value');
  if (startIndex < 0 || (startIndex >= bytes.length && startIndex > 0)) {
    throw argumentOutOfRange('startIndex', 'Index was out of range. Must be non-negative and less than the size of the collection.');
  }
  const len = length ?? bytes.length - startIndex;
  if (len < 0) throw argumentOutOfRange('length', 'Value must be positive.');
  if (startIndex > bytes.length - len)
    throw new DotNetException(
      'ArgumentException',
      'Destination array is not long enough to copy all the items in the collection. Check array index and length.',
    );
  const parts: string[] = [];
  for (let i = startIndex; i < startIndex + len; i++) parts.push(bytes[i]!.toString(16).toUpperCase().padStart(2, '0'));
  return parts.join('-');
}

/** BitConverter.GetBytes for Int32 (number), Int64 (bigint) and Boolean, little endian. */
export function BitConverterGetBytes(value: number | bigint | boolean): Uint8Array {
  if (typeof value === 'boolean') return new Uint8Array([value ? 1 : 0]);
  if (typeof value === 'bigint') {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(value);
    return new Uint8Array(b);
  }
  const b = Buffer.alloc(4);
  b.writeInt32LE(value | 0);
  return new Uint8Array(b);
}

// ---- StringBuilder -------------------------------------------------------------------------------------------------

/** Environment.NewLine of the emulated gateway (Windows-hosted managed gateway: CRLF; see docs/dotnet.md). */
export const NewLine = '\r\n';

export class StringBuilder implements DotNetFormattable {
  private value: string;

  constructor(initial: string | null = '') {
    this.value = initial ?? '';
  }

  get Length(): number {
    return this.value.length;
  }

  set Length(n: number) {
    if (n < 0) throw argumentOutOfRange('value', 'Length cannot be less than zero.');
    ensureStringLength(n);
    this.value = n <= this.value.length ? this.value.slice(0, n) : this.value + '\0'.repeat(n - this.value.length);
  }

  Append(value: unknown, repeatCount?: number): StringBuilder {
    const s = toDotNetString(value);
    if (repeatCount !== undefined) {
      if (repeatCount < 0) throw argumentOutOfRange('repeatCount', 'Count cannot be less than zero.');
      ensureStringLength(this.value.length + s.length * repeatCount);
    }
    this.value += repeatCount === undefined ? s : s.repeat(repeatCount);
    return this;
  }

  AppendLine(value?: unknown): StringBuilder {
    if (value !== undefined) this.value += toDotNetString(value);
    this.value += NewLine;
    return this;
  }

  AppendFormat(format: string, ...args: unknown[]): StringBuilder {
    this.value += formatComposite(format, args);
    return this;
  }

  Insert(index: number, value: unknown): StringBuilder {
    if (index < 0 || index > this.value.length)
      throw argumentOutOfRange('index', 'Index was out of range. Must be non-negative and less than or equal to the size of the collection.');
    this.value = this.value.slice(0, index) + toDotNetString(value) + this.value.slice(index);
    return this;
  }

  Remove(startIndex: number, length: number): StringBuilder {
    if (length < 0) throw argumentOutOfRange('length', 'Length cannot be less than zero.');
    if (startIndex < 0) throw argumentOutOfRange('startIndex', 'StartIndex cannot be less than zero.');
    if (length > this.value.length - startIndex)
      throw argumentOutOfRange('index', 'Index was out of range. Must be non-negative and less than the size of the collection.');
    this.value = this.value.slice(0, startIndex) + this.value.slice(startIndex + length);
    return this;
  }

  Replace(oldValue: string, newValue: string | null): StringBuilder {
    if (oldValue === '') throw new DotNetException('ArgumentException', "The value cannot be an empty string. (Parameter 'oldValue')", 'oldValue');
    this.value = this.value.split(oldValue).join(newValue ?? '');
    return this;
  }

  Clear(): StringBuilder {
    this.value = '';
    return this;
  }

  ToString(startIndex?: number, length?: number): string {
    if (startIndex === undefined) return this.value;
    const len = length ?? this.value.length - startIndex;
    if (startIndex < 0 || len < 0 || startIndex + len > this.value.length) {
      throw argumentOutOfRange('chunkLength', 'Index and length must refer to a location within the string.');
    }
    return this.value.substr(startIndex, len);
  }

  toString(): string {
    return this.value;
  }

  toDotNetString(): string {
    return this.value;
  }
}

// ---- WebUtility ----------------------------------------------------------------------------------------------------

function hexByte(b: number): string {
  return '%' + b.toString(16).toUpperCase().padStart(2, '0');
}

/** WebUtility.UrlEncode: space → '+', `A-Za-z0-9-_.!*()` kept, everything else %XX (uppercase) of its UTF-8 bytes. */
export function UrlEncode(value: string | null): string | null {
  if (value === null) return null;
  let out = '';
  for (const b of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(b);
    if (b === 0x20) out += '+';
    else if (/[A-Za-z0-9\-_.!*()]/.test(c)) out += c;
    else out += hexByte(b);
  }
  return out;
}

function percentDecode(value: string, plusIsSpace: boolean): string {
  const bytes: number[] = [];
  let out = '';
  const flush = () => {
    if (bytes.length) {
      out += utf8Decoder.decode(new Uint8Array(bytes));
      bytes.length = 0;
    }
  };
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '%' && /^[0-9a-fA-F]{2}$/.test(value.slice(i + 1, i + 3))) {
      bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
      continue;
    }
    flush();
    out += plusIsSpace && c === '+' ? ' ' : c;
  }
  flush();
  return out;
}

/** WebUtility.UrlDecode: '+' → space, %XX sequences decoded as UTF-8, malformed escapes kept as text. */
export function UrlDecode(value: string | null): string | null {
  if (value === null) return null;
  return percentDecode(value, true);
}

/** WebUtility.HtmlEncode: `< > & " '` as entities, U+00A0–U+00FF and astral characters as numeric references. */
export function HtmlEncode(value: string | null): string | null {
  if (value === null) return null;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    const code = value.charCodeAt(i);
    switch (c) {
      case '<':
        out += '&lt;';
        break;
      case '>':
        out += '&gt;';
        break;
      case '&':
        out += '&amp;';
        break;
      case '"':
        out += '&quot;';
        break;
      case "'":
        out += '&#39;';
        break;
      default:
        if (code >= 0xa0 && code < 0x100) out += `&#${code};`;
        else if (code >= 0xd800 && code <= 0xdbff && i + 1 < value.length) {
          const cp = value.codePointAt(i)!;
          if (cp > 0xffff) {
            out += `&#${cp};`;
            i++;
          } else out += c;
        } else out += c;
    }
  }
  return out;
}

const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'", nbsp: '\u00a0', copy: '©', reg: '®' };

export function HtmlDecode(value: string | null): string | null {
  if (value === null) return null;
  return value.replace(/&(#x[0-9a-fA-F]+|#\d+|[A-Za-z]+);/g, (m, e: string) => {
    if (e.startsWith('#x') || e.startsWith('#X')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(Number(e.slice(1)));
    return NAMED_ENTITIES[e] ?? m;
  });
}

// ---- Uri -----------------------------------------------------------------------------------------------------------

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443, ftp: 21, ws: 80, wss: 443 };

export class Uri implements DotNetFormattable {
  private readonly url: URL;

  constructor(readonly OriginalString: string) {
    if (OriginalString === null) throw argumentNull('uriString');
    const t = OriginalString.trim();
    if (t === '') throw new DotNetException('UriFormatException', 'Invalid URI: The URI is empty.');
    if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(t)) throw new DotNetException('UriFormatException', 'Invalid URI: The format of the URI could not be determined.');
    try {
      this.url = new URL(t);
    } catch {
      throw new DotNetException('UriFormatException', 'Invalid URI: The hostname could not be parsed.');
    }
    if (/^https?:$/.test(this.url.protocol) && this.url.hostname === '') {
      throw new DotNetException('UriFormatException', 'Invalid URI: The hostname could not be parsed.');
    }
  }

  static TryCreate(s: string | null): { ok: boolean; value: Uri | null } {
    if (s === null) return { ok: false, value: null };
    try {
      return { ok: true, value: new Uri(s) };
    } catch {
      return { ok: false, value: null };
    }
  }

  static IsWellFormedUriString(s: string | null): boolean {
    if (s === null) return false;
    if (/\s/.test(s)) return false;
    return Uri.TryCreate(s).ok;
  }

  get IsAbsoluteUri(): boolean {
    return true;
  }
  get Scheme(): string {
    return this.url.protocol.slice(0, -1);
  }
  get Host(): string {
    return this.url.hostname.replace(/^\[|\]$/g, (m) => m); // IPv6 keeps brackets in .NET's Host
  }
  get Port(): number {
    if (this.url.port !== '') return Number(this.url.port);
    return DEFAULT_PORTS[this.Scheme] ?? -1;
  }
  get IsDefaultPort(): boolean {
    return this.url.port === '' && this.Scheme in DEFAULT_PORTS;
  }
  get Authority(): string {
    return this.IsDefaultPort ? this.Host : `${this.Host}:${this.Port}`;
  }
  get UserInfo(): string {
    return this.url.username + (this.url.password ? `:${this.url.password}` : '');
  }
  get AbsolutePath(): string {
    return this.url.pathname;
  }
  get Query(): string {
    return this.url.search;
  }
  get Fragment(): string {
    return this.url.hash;
  }
  get PathAndQuery(): string {
    return this.url.pathname + this.url.search;
  }
  get AbsoluteUri(): string {
    return this.url.href;
  }
  /** ["/", "a/", "b"] for "/a/b". */
  get Segments(): string[] {
    const p = this.url.pathname;
    const out: string[] = [];
    let start = 0;
    for (let i = 0; i < p.length; i++) {
      if (p[i] === '/') {
        out.push(p.slice(start, i + 1));
        start = i + 1;
      }
    }
    if (start < p.length) out.push(p.slice(start));
    return out;
  }

  /** GetLeftPart(UriPartial.Scheme | Authority | Path | Query). */
  GetLeftPart(part: 'Scheme' | 'Authority' | 'Path' | 'Query'): string {
    const scheme = `${this.Scheme}://`;
    const auth = scheme + (this.UserInfo ? `${this.UserInfo}@` : '') + this.Authority;
    switch (part) {
      case 'Scheme':
        return scheme;
      case 'Authority':
        return auth;
      case 'Path':
        return auth + this.AbsolutePath;
      case 'Query':
        return auth + this.PathAndQuery;
    }
  }

  /** Uri.ToString(): the canonical form with escapes of non-reserved characters (e.g. %20) decoded. */
  ToString(): string {
    return this.url.href.replace(/%([0-9A-Fa-f]{2})/g, (m, h: string) => {
      const c = String.fromCharCode(parseInt(h, 16));
      return /[:\/?#\[\]@!$&'()*+,;=%]/.test(c) || parseInt(h, 16) >= 0x80 ? m : c;
    });
  }

  toString(): string {
    return this.ToString();
  }

  toDotNetString(): string {
    return this.ToString();
  }

  static EscapeDataString(s: string | null): string {
    if (s === null) throw argumentNull('stringToEscape');
    let out = '';
    for (const b of Buffer.from(s, 'utf8')) {
      const c = String.fromCharCode(b);
      out += /[A-Za-z0-9\-_.~]/.test(c) ? c : hexByte(b);
    }
    return out;
  }

  static UnescapeDataString(s: string | null): string {
    if (s === null) throw argumentNull('stringToUnescape');
    return percentDecode(s, false);
  }
}

export function EscapeDataString(s: string | null): string {
  return Uri.EscapeDataString(s);
}

export function UnescapeDataString(s: string | null): string {
  return Uri.UnescapeDataString(s);
}

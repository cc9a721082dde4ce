/**
 * System.String instance and static methods with .NET semantics and exceptions. Instance methods take the receiver
 * as the first argument (a null receiver is the binder's NullReferenceException, not handled here).
 *
 * Provides: Substring, IndexOf, IndexOfAny, LastIndexOf, Split (char[] → splitChars, string[] → splitStrings, with
 * count and StringSplitOptions), Join, Concat, Trim/TrimStart/TrimEnd ([chars]), PadLeft/PadRight, Replace, Contains,
 * StartsWith/EndsWith/Equals/Compare/CompareOrdinal with StringComparison, ToLower/ToUpper(Invariant),
 * IsNullOrEmpty, IsNullOrWhiteSpace, Insert, Remove, ToCharArray, the `s[i]` indexer (charAt), String.Format
 * (format.ts), String.Empty.
 *
 * Culture-sensitive overloads (IndexOf(string), StartsWith(string), Compare without StringComparison) use the
 * invariant culture; searching is ordinal, comparing/ordering uses an invariant ICU collator (docs/dotnet.md).
 */
import { DotNetException, argument, argumentNull, argumentOutOfRange, indexOutOfRange, ensureStringLength } from './exceptions.js';
import { formatComposite, toDotNetString } from './format.js';

export type StringComparison =
  'CurrentCulture' | 'CurrentCultureIgnoreCase' | 'InvariantCulture' | 'InvariantCultureIgnoreCase' | 'Ordinal' | 'OrdinalIgnoreCase';

export type StringSplitOptions = 'None' | 'RemoveEmptyEntries' | 'TrimEntries' | 'RemoveEmptyEntries, TrimEntries';

export const Empty = '';
export { formatComposite as Format };

/** char.IsWhiteSpace: the Unicode White_Space characters .NET recognises. */
const WHITESPACE = new Set(
  '\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000'.split(''),
);

export function isWhiteSpace(ch: string): boolean {
  return WHITESPACE.has(ch);
}

const cultureCollator = new Intl.Collator('en-US', { sensitivity: 'variant', usage: 'sort' });
const cultureCollatorIgnoreCase = new Intl.Collator('en-US', { sensitivity: 'accent', usage: 'sort' });

/** Simple (1:1) case mapping like .NET's invariant ToUpper/ToLower: 'ß' stays 'ß' (JS would give 'SS'). */
function mapCase(s: string, upper: boolean): string {
  if (/^[\x00-\x7f]*$/.test(s)) return upper ? s.toUpperCase() : s.toLowerCase();
  let out = '';
  for (const ch of s) {
    const m = upper ? ch.toUpperCase() : ch.toLowerCase();
    out += [...m].length === 1 ? m : ch;
  }
  return out;
}

function ignoreCase(c: StringComparison): boolean {
  return c.endsWith('IgnoreCase');
}
function isOrdinal(c: StringComparison): boolean {
  return c.startsWith('Ordinal');
}

// ---- substring and search ------------------------------------------------------------------------------------------

export function substring(s: string, startIndex: number, length?: number): string {
  if (startIndex < 0) throw argumentOutOfRange('startIndex', 'StartIndex cannot be less than zero.');
  if (startIndex > s.length) throw argumentOutOfRange('startIndex', 'startIndex cannot be larger than length of string.');
  if (length === undefined) return s.slice(startIndex);
  if (length < 0) throw argumentOutOfRange('length', 'Length cannot be less than zero.');
  if (startIndex > s.length - length) throw argumentOutOfRange('length', 'Index and length must refer to a location within the string.');
  return s.substr(startIndex, length);
}

/** `s[i]` (String.Chars). */
export function charAt(s: string, index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= s.length) throw indexOutOfRange();
  return s[index]!;
}

function prepare(s: string, v: string, comparison: StringComparison): [string, string] {
  if (!ignoreCase(comparison)) return [s, v];
  return isOrdinal(comparison) ? [mapCase(s, true), mapCase(v, true)] : [mapCase(s, false), mapCase(v, false)];
}

/** IndexOf(value[, startIndex[, count]][, comparison]); value may be a char (1-char string). */
export function indexOf(s: string, value: string | null, startIndex = 0, comparison: StringComparison = 'Ordinal', count?: number): number {
  if (value === null) throw argumentNull('value');
  if (startIndex < 0 || startIndex > s.length)
    throw argumentOutOfRange('startIndex', 'Index was out of range. Must be non-negative and less than the size of the collection.');
  const end = count === undefined ? s.length : startIndex + count;
  if (count !== undefined && (count < 0 || end > s.length))
    throw argumentOutOfRange('count', 'Count must be positive and count must refer to a location within the string/array/collection.');
  const [hs, needle] = prepare(s.slice(0, end), value, comparison);
  return hs.indexOf(needle, startIndex);
}

export function indexOfAny(s: string, anyOf: readonly string[] | null, startIndex = 0): number {
  if (anyOf === null) throw argumentNull('anyOf');
  if (startIndex < 0 || startIndex > s.length)
    throw argumentOutOfRange('startIndex', 'Index was out of range. Must be non-negative and less than the size of the collection.');
  for (let i = startIndex; i < s.length; i++) if (anyOf.includes(s[i]!)) return i;
  return -1;
}

/** LastIndexOf(value[, startIndex][, comparison]): the search runs backward from startIndex (inclusive). */
export function lastIndexOf(s: string, value: string | null, startIndex?: number, comparison: StringComparison = 'Ordinal'): number {
  if (value === null) throw argumentNull('value');
  if (startIndex !== undefined && (startIndex < 0 || startIndex >= Math.max(s.length, 1))) {
    if (!(s.length === 0 && (startIndex === 0 || startIndex === -1))) {
      throw argumentOutOfRange('startIndex', 'Index was out of range. Must be non-negative and less than the size of the collection.');
    }
  }
  const [hs, needle] = prepare(s, value, comparison);
  if (startIndex === undefined) return hs.lastIndexOf(needle);
  const from = startIndex - needle.length + 1;
  if (from < 0) return needle === '' ? startIndex : -1;
  return hs.lastIndexOf(needle, from);
}

export function contains(s: string, value: string | null, comparison: StringComparison = 'Ordinal'): boolean {
  if (value === null) throw argumentNull('value');
  const [hs, needle] = prepare(s, value, comparison);
  return hs.includes(needle);
}

export function startsWith(s: string, value: string | null, comparison: StringComparison = 'CurrentCulture'): boolean {
  if (value === null) throw argumentNull('value');
  const [hs, needle] = prepare(s, value, comparison);
  return hs.startsWith(needle);
}

export function endsWith(s: string, value: string | null, comparison: StringComparison = 'CurrentCulture'): boolean {
  if (value === null) throw argumentNull('value');
  const [hs, needle] = prepare(s, value, comparison);
  return hs.endsWith(needle);
}

// ---- comparison ----------------------------------------------------------------------------------------------------

/** String.Equals(a, b[, comparison]) (static and instance; null-safe like the static form). */
export function equals(a: string | null, b: string | null, comparison: StringComparison = 'Ordinal'): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  if (isOrdinal(comparison)) return ignoreCase(comparison) ? mapCase(a, true) === mapCase(b, true) : false;
  return (ignoreCase(comparison) ? cultureCollatorIgnoreCase : cultureCollator).compare(a, b) === 0;
}

/** String.CompareOrdinal: the difference of the first differing UTF-16 code units (or of the lengths). */
export function compareOrdinal(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** String.Compare(a, b[, ignoreCase | comparison]): culture comparisons give -1/0/1, ordinal ones a difference. */
export function compare(a: string | null, b: string | null, how: boolean | StringComparison = 'CurrentCulture'): number {
  const comparison: StringComparison = typeof how === 'boolean' ? (how ? 'CurrentCultureIgnoreCase' : 'CurrentCulture') : how;
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (comparison === 'Ordinal') return compareOrdinal(a, b);
  if (comparison === 'OrdinalIgnoreCase') return compareOrdinal(mapCase(a, true), mapCase(b, true));
  return Math.sign((ignoreCase(comparison) ? cultureCollatorIgnoreCase : cultureCollator).compare(a, b));
}

// ---- split / join / concat -----------------------------------------------------------------------------------------

function parseOptions(options: StringSplitOptions): { removeEmpty: boolean; trim: boolean } {
  return { removeEmpty: options.includes('RemoveEmptyEntries'), trim: options.includes('TrimEntries') };
}

function splitCore(s: string, findSeparator: (from: number) => [number, number] | null, count: number, options: StringSplitOptions): string[] {
  if (count < 0) throw argumentOutOfRange('count', 'Count cannot be less than zero.');
  const { removeEmpty, trim } = parseOptions(options);
  if (count === 0 || (removeEmpty && s.length === 0)) return [];
  const out: string[] = [];
  const emit = (piece: string): void => {
    const p = trim ? trimChars(piece) : piece;
    if (removeEmpty && p.length === 0) return;
    out.push(p);
  };
  let start = 0;
  let from = 0;
  while (out.length < count - 1) {
    const sep = findSeparator(from);
    if (!sep) break;
    emit(s.slice(start, sep[0]));
    start = sep[0] + sep[1];
    from = start;
  }
  if (removeEmpty && out.length === count - 1) {
    // Like .NET, skip the empty entries right before the final (remainder) piece.
    for (;;) {
      const sep = findSeparator(start);
      if (!sep) break;
      const piece = s.slice(start, sep[0]);
      if ((trim ? trimChars(piece) : piece).length !== 0) break;
      start = sep[0] + sep[1];
    }
  }
  // The last piece holds the rest of the string, separators included.
  emit(s.slice(start));
  return out;
}

/**
 * Split(params char[] separator) / Split(char[], count, options) / Split(char, options): every listed char separates;
 * no separators (null or empty) means white space.
 */
export function splitChars(s: string, separators: readonly string[] | null, count = 2147483647, options: StringSplitOptions = 'None'): string[] {
  const seps = separators ?? [];
  const isSep = seps.length === 0 ? isWhiteSpace : (c: string) => seps.includes(c);
  return splitCore(
    s,
    (from) => {
      for (let i = from; i < s.length; i++) if (isSep(s[i]!)) return [i, 1];
      return null;
    },
    count,
    options,
  );
}

/** Split(string separator | string[] separators, [count,] options): at each position the first listed separator that matches wins. */
export function splitStrings(
  s: string,
  separators: string | readonly (string | null)[] | null,
  count = 2147483647,
  options: StringSplitOptions = 'None',
): string[] {
  const list = (typeof separators === 'string' ? [separators] : (separators ?? [])).filter((x): x is string => x !== null && x !== '');
  if (list.length === 0) {
    // Split((string)null) / Split("") with a single separator: no split at all; a null/empty array means white space.
    if (typeof separators === 'string' || separators === null) return splitCore(s, () => null, count, options);
    return splitChars(s, null, count, options);
  }
  return splitCore(
    s,
    (from) => {
      for (let i = from; i < s.length; i++) for (const sep of list) if (s.startsWith(sep, i)) return [i, sep.length];
      return null;
    },
    count,
    options,
  );
}

/** String.Join(separator, values): null entries print as "". */
export function join(separator: string | null, values: Iterable<unknown> | null): string {
  if (values === null) throw argumentNull('values');
  const parts: string[] = [];
  for (const v of values) parts.push(toDotNetString(v));
  return parts.join(separator ?? '');
}

/** String.Concat(values...). */
export function concat(...values: unknown[]): string {
  return values.map((v) => toDotNetString(v)).join('');
}

// ---- trimming and padding ------------------------------------------------------------------------------------------

function trimChars(s: string, chars?: readonly string[] | null, start = true, end = true): string {
  const test = !chars || chars.length === 0 ? isWhiteSpace : (c: string) => chars.includes(c);
  let a = 0;
  let b = s.length;
  if (start) while (a < b && test(s[a]!)) a++;
  if (end) while (b > a && test(s[b - 1]!)) b--;
  return s.slice(a, b);
}

/** Trim([chars]): no chars → .NET white space (not JS's set: U+FEFF is not white space in .NET). */
export function trim(s: string, chars?: readonly string[] | null): string {
  return trimChars(s, chars);
}
export function trimStart(s: string, chars?: readonly string[] | null): string {
  return trimChars(s, chars, true, false);
}
export function trimEnd(s: string, chars?: readonly string[] | null): string {
  return trimChars(s, chars, false, true);
}

export function padLeft(s: string, totalWidth: number, paddingChar = ' '): string {
  if (totalWidth < 0) throw argumentOutOfRange('totalWidth', 'Non-negative number required.');
  ensureStringLength(totalWidth);
  return s.length >= totalWidth ? s : paddingChar.repeat(totalWidth - s.length) + s;
}

export function padRight(s: string, totalWidth: number, paddingChar = ' '): string {
  if (totalWidth < 0) throw argumentOutOfRange('totalWidth', 'Non-negative number required.');
  ensureStringLength(totalWidth);
  return s.length >= totalWidth ? s : s + paddingChar.repeat(totalWidth - s.length);
}

// ---- editing -------------------------------------------------------------------------------------------------------

/** Replace(oldValue, newValue[, comparison]): ordinal by default, every occurrence; null newValue removes. */
export function replace(s: string, oldValue: string | null, newValue: string | null, comparison: StringComparison = 'Ordinal'): string {
  if (oldValue === null) throw argumentNull('oldValue');
  if (oldValue === '') throw argument('String cannot be of zero length.', 'oldValue');
  const nv = newValue ?? '';
  if (!ignoreCase(comparison)) return s.split(oldValue).join(nv);
  const [hs, needle] = prepare(s, oldValue, comparison);
  let out = '';
  let i = 0;
  for (;;) {
    const j = hs.indexOf(needle, i);
    if (j < 0) break;
    out += s.slice(i, j) + nv;
    i = j + needle.length;
  }
  return out + s.slice(i);
}

export function insert(s: string, startIndex: number, value: string | null): string {
  if (value === null) throw argumentNull('value');
  if (startIndex < 0 || startIndex > s.length)
    throw argumentOutOfRange('startIndex', 'Index was out of range. Must be non-negative and less than or equal to the size of the collection.');
  return s.slice(0, startIndex) + value + s.slice(startIndex);
}

export function remove(s: string, startIndex: number, count?: number): string {
  if (startIndex < 0) throw argumentOutOfRange('startIndex', 'StartIndex cannot be less than zero.');
  if (count === undefined) {
    if (startIndex >= s.length) throw argumentOutOfRange('startIndex', 'startIndex must be less than length of string.');
    return s.slice(0, startIndex);
  }
  if (count < 0) throw argumentOutOfRange('count', 'Count cannot be less than zero.');
  if (count > s.length - startIndex) throw argumentOutOfRange('count', 'Index and count must refer to a location within the string.');
  return s.slice(0, startIndex) + s.slice(startIndex + count);
}

export function toCharArray(s: string): string[] {
  return s.split('');
}

export function toLowerInvariant(s: string): string {
  return mapCase(s, false);
}
export function toUpperInvariant(s: string): string {
  return mapCase(s, true);
}

export function isNullOrEmpty(s: string | null | undefined): boolean {
  return s === null || s === undefined || s.length === 0;
}

export function isNullOrWhiteSpace(s: string | null | undefined): boolean {
  if (s === null || s === undefined) return true;
  for (const c of s) if (!isWhiteSpace(c)) return false;
  return true;
}

/** `new string(c, count)`. */
export function repeatChar(c: string, count: number): string {
  if (count < 0) throw argumentOutOfRange('count', 'Non-negative number required.');
  ensureStringLength(count);
  return c.repeat(count);
}

/** String.Format entry point with a null-format check identical to .NET's. */
export function format(fmt: string | null, ...args: unknown[]): string {
  if (fmt === null) throw new DotNetException('ArgumentNullException', "Value cannot be null. (Parameter 'format')", 'format');
  return formatComposite(fmt, args);
}

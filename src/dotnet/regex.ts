/**
 * System.Text.RegularExpressions on top of JS RegExp: .NET patterns are translated once (and cached) into an
 * equivalent JS pattern; constructs JS cannot express are rejected with RegexUnsupportedError (offset included) so
 * the binder can report them at load time.
 *
 * Provides: RegexOptions (numeric flags), Regex (ctor(pattern[, options]), IsMatch, Match(input[, startat]), Matches,
 * Replace(input, string | MatchEvaluator[, count[, startat]]) with $1 ${name} $$ $& $` $' $+ $_, Split(input[, count]),
 * GetGroupNames, GetGroupNumbers, GroupNameFromNumber, GroupNumberFromName, Options, ToString, static IsMatch / Match /
 * Matches / Replace / Split / Escape / Unescape), Match (Success, Value, Index, Length, Groups, NextMatch, Result,
 * Match.Empty), Group (Success, Name, Captures), Capture (Index, Length, Value), GroupCollection (get by number or
 * name, Count, Keys), MatchCollection (Count, get(i), iteration); translateRegex for load-time checks.
 *
 * Exact .NET semantics kept: `.` excludes only \n, `^`/`$` (with and without Multiline), `$` before a final \n,
 * \A \z \Z, group numbering (unnamed groups first, then named), ExplicitCapture, IgnorePatternWhitespace, inline
 * options at the start of the pattern. Approximations: \d \w \s \b are ASCII/JS classes, a group's Captures holds only
 * its last capture.
 */
import { DotNetException, argumentNull, argumentOutOfRange } from './exceptions.js';
import { makeMatcher, type Matcher, type RegexEngine } from './regex-safety.js';

export { setRegexMatchTimeout, isRiskyPattern } from './regex-safety.js';

export const RegexOptions = {
  None: 0,
  IgnoreCase: 1,
  Multiline: 2,
  ExplicitCapture: 4,
  Compiled: 8,
  Singleline: 16,
  IgnorePatternWhitespace: 32,
  RightToLeft: 64,
  ECMAScript: 256,
  CultureInvariant: 512,
  NonBacktracking: 1024,
} as const;

/** A construct the emulator cannot run on JS RegExp; `offset` is the 0-based position in the .NET pattern. */
export class RegexUnsupportedError extends DotNetException {
  constructor(
    readonly pattern: string,
    readonly offset: number,
    readonly construct: string,
  ) {
    super('NotSupportedException', `Regex construct ${construct} at offset ${offset} of pattern '${pattern}' is not supported by the emulator.`);
  }
}

function parseError(pattern: string, offset: number, reason: string): DotNetException {
  return new DotNetException('RegexParseException', `Invalid pattern '${pattern}' at offset ${offset}. ${reason}`);
}

export interface RegexTranslation {
  source: string;
  flags: string;
  /** .NET group number → JS capture index (0 → 0). */
  numberToJs: number[];
  /** .NET group names by .NET number ("0", "1", …, then the names). */
  groupNames: string[];
  nameToNumber: Map<string, number>;
  /** Number of JS capture groups in `source`. */
  jsGroups: number;
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

// ---- .NET character classes ------------------------------------------------------------------------------------------
// .NET matches UTF-16 code units, as JS RegExp without the `u` flag does, and its classes are Unicode-aware unless
// RegexOptions.ECMAScript is set ("Character classes in regular expressions" on learn.microsoft.com):
//   \d = \p{Nd};  \w = [\p{L}\p{Mn}\p{Nd}\p{Pc}];  \s = [\f\n\r\t\v\x85\p{Z}];  \b = a \w/\W boundary.
// Each class becomes an explicit list of BMP code-unit ranges (computed once, from the JS engine's Unicode tables), so
// the same source also runs on re2js.
const classCache = new Map<string, { set: string; complement: string }>();

function unitRanges(test: (c: string) => boolean): { set: string; complement: string } {
  const inSet: Array<[number, number]> = [];
  const outSet: Array<[number, number]> = [];
  let start = 0;
  let cur = test('\0');
  for (let c = 1; c <= 0x10000; c++) {
    const v = c < 0x10000 ? test(String.fromCharCode(c)) : !cur;
    if (v !== cur) {
      (cur ? inSet : outSet).push([start, c - 1]);
      start = c;
      cur = v;
    }
  }
  const fmt = (rs: Array<[number, number]>) => rs.map(([a, b]) => (a === b ? hex(a) : `${hex(a)}-${hex(b)}`)).join('');
  return { set: fmt(inSet), complement: fmt(outSet) };
}
function hex(c: number): string {
  return `\\u${c.toString(16).padStart(4, '0')}`;
}

/** Ranges (without brackets) of a .NET class: 'd' 'w' 's' or a general category such as 'Lu'. */
function dotnetClass(name: string): { set: string; complement: string } {
  let r = classCache.get(name);
  if (!r) {
    let re: RegExp;
    if (name === 'd') re = /^\p{Nd}$/u;
    else if (name === 'w') re = /^[\p{L}\p{Mn}\p{Nd}\p{Pc}]$/u;
    else if (name === 's') re = /^[\f\n\r\t\v\x85\p{Z}]$/u;
    else re = new RegExp(`^\\p{gc=${name}}$`, 'u');
    // lone surrogates are category Cs: test them as code units
    r = unitRanges((c) => re.test(c));
    classCache.set(name, r);
  }
  return r;
}

const GENERAL_CATEGORIES = new Set([
  'L',
  'Lu',
  'Ll',
  'Lt',
  'Lm',
  'Lo',
  'M',
  'Mn',
  'Mc',
  'Me',
  'N',
  'Nd',
  'Nl',
  'No',
  'P',
  'Pc',
  'Pd',
  'Ps',
  'Pe',
  'Pi',
  'Pf',
  'Po',
  'S',
  'Sm',
  'Sc',
  'Sk',
  'So',
  'Z',
  'Zs',
  'Zl',
  'Zp',
  'C',
  'Cc',
  'Cf',
  'Cs',
  'Co',
  'Cn',
]);

/** ECMAScript-option classes: ASCII \d \w, and \s without Unicode spaces. */
const ECMA_CLASSES: Record<string, { set: string; complement: string }> = {
  d: { set: '0-9', complement: '\\u0000-/:-\\uffff' },
  w: { set: '0-9A-Z_a-z', complement: '\\u0000-/:-@\\[-^`{-\\uffff' },
  s: { set: ' \\f\\n\\r\\t\\v', complement: '\\u0000-\\u0008\\u000e-\\u001f!-\\uffff' },
};

/** Translates a .NET pattern with RegexOptions into a JS RegExp source and flags. */
export function translateRegex(pattern: string, options = 0): RegexTranslation {
  const ecma = (options & RegexOptions.ECMAScript) !== 0;
  const shorthand = (e: string): { set: string; complement: string } => (ecma ? ECMA_CLASSES[e.toLowerCase()]! : dotnetClass(e.toLowerCase()));
  const category = (at: number): { name: string; len: number } => {
    const m = /^\\[pP]\{([A-Za-z]+)\}/.exec(pattern.slice(at));
    if (!m) throw parseError(pattern, at + 2, 'Malformed \\p{X} character escape.');
    if (!GENERAL_CATEGORIES.has(m[1]!))
      throw new RegexUnsupportedError(pattern, at, `'\\${pattern[at + 1]}{${m[1]}}' (named Unicode blocks; general categories such as \\p{Lu} work)`);
    return { name: m[1]!, len: m[0].length };
  };
  if (options & RegexOptions.RightToLeft) throw new RegexUnsupportedError(pattern, 0, 'RegexOptions.RightToLeft');
  let ignoreCase = (options & RegexOptions.IgnoreCase) !== 0;
  let multiline = (options & RegexOptions.Multiline) !== 0;
  let singleline = (options & RegexOptions.Singleline) !== 0;
  let explicitCapture = (options & RegexOptions.ExplicitCapture) !== 0;
  let ignoreWs = (options & RegexOptions.IgnorePatternWhitespace) !== 0;

  let i = 0;
  // Inline options at the very start apply to the whole pattern: (?i), (?im-s) …
  for (;;) {
    const m = /^\(\?([imnsx]*)(?:-([imnsx]*))?\)/.exec(pattern.slice(i));
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) break;
    const set = (flags: string, on: boolean) => {
      for (const f of flags) {
        if (f === 'i') ignoreCase = on;
        else if (f === 'm') multiline = on;
        else if (f === 's') singleline = on;
        else if (f === 'n') explicitCapture = on;
        else if (f === 'x') ignoreWs = on;
      }
    };
    set(m[1]!, true);
    set(m[2] ?? '', false);
    i += m[0].length;
  }

  type Part = string | { backref: number; at: number };
  const parts: Part[] = [];
  const captures: (string | null)[] = []; // in JS order
  let inClass = false;
  const n = pattern.length;
  const unsupported = (at: number, what: string) => new RegexUnsupportedError(pattern, at, what);

  while (i < n) {
    const c = pattern[i]!;
    if (inClass) {
      if (c === '\\') {
        const e = pattern[i + 1];
        if (e === undefined) throw parseError(pattern, n, 'Illegal \\ at end of pattern.');
        if (e === 'p' || e === 'P') {
          const cat = category(i);
          const r = dotnetClass(cat.name);
          parts.push(e === 'p' ? r.set : r.complement);
          i += cat.len;
          continue;
        }
        if ('dwsDWS'.includes(e)) {
          const r = shorthand(e);
          parts.push(e === e.toLowerCase() ? r.set : r.complement);
          i += 2;
          continue;
        }
        parts.push(e === 'e' ? '\\x1B' : e === 'a' ? '\\x07' : '\\' + e);
        i += 2;
        continue;
      }
      if (c === '-' && pattern[i + 1] === '[') throw unsupported(i, "'-[...]' (character class subtraction)");
      if (c === '[') {
        parts.push('\\[');
        i++;
        continue;
      }
      if (c === ']') inClass = false;
      parts.push(c);
      i++;
      continue;
    }
    if (ignoreWs && /\s/.test(c)) {
      i++;
      continue;
    }
    if (ignoreWs && c === '#') {
      while (i < n && pattern[i] !== '\n') i++;
      continue;
    }
    switch (c) {
      case '\\': {
        const e = pattern[i + 1];
        if (e === undefined) throw parseError(pattern, n, 'Illegal \\ at end of pattern.');
        if (e === 'A') parts.push('(?<![\\s\\S])');
        else if (e === 'z') parts.push('(?![\\s\\S])');
        else if (e === 'Z') parts.push('(?=\\n?(?![\\s\\S]))');
        else if (e === 'G') throw unsupported(i, "'\\G' (contiguous match)");
        else if (e === 'p' || e === 'P') {
          const cat = category(i);
          parts.push(`[${e === 'p' ? '' : '^'}${dotnetClass(cat.name).set}]`);
          i += cat.len;
          continue;
        } else if ('dwsDWS'.includes(e)) parts.push(`[${e === e.toLowerCase() ? '' : '^'}${shorthand(e).set}]`);
        else if ((e === 'b' || e === 'B') && !ecma) {
          // a word boundary between .NET's Unicode \w and \W (JS \b knows only ASCII word characters)
          const w = `[${dotnetClass('w').set}]`;
          parts.push(e === 'b' ? `(?:(?<=${w})(?!${w})|(?<!${w})(?=${w}))` : `(?:(?<=${w})(?=${w})|(?<!${w})(?!${w}))`);
        } else if (e === 'e') parts.push('\\x1B');
        else if (e === 'a') parts.push('\\x07');
        else if (e === 'k') {
          const m = /^\\k(?:<([^>]*)>|'([^']*)')/.exec(pattern.slice(i));
          if (!m) throw parseError(pattern, i + 2, 'Malformed \\k<...> named back reference.');
          const name = (m[1] ?? m[2])!;
          if (/^\d+$/.test(name)) parts.push({ backref: Number(name), at: i });
          else parts.push(`\\k<${name}>`);
          i += m[0].length;
          continue;
        } else if (e >= '1' && e <= '9') {
          let j = i + 1;
          while (j < n && pattern[j]! >= '0' && pattern[j]! <= '9') j++;
          parts.push({ backref: Number(pattern.slice(i + 1, j)), at: i });
          i = j;
          continue;
        } else parts.push('\\' + e);
        i += 2;
        continue;
      }
      case '[': {
        inClass = true;
        parts.push('[');
        i++;
        if (pattern[i] === '^') {
          parts.push('^');
          i++;
        }
        if (pattern[i] === ']') {
          // A ']' first in a .NET class is a literal.
          parts.push('\\]');
          i++;
        }
        continue;
      }
      case '(': {
        if (pattern[i + 1] !== '?') {
          if (explicitCapture) parts.push('(?:');
          else {
            parts.push('(');
            captures.push(null);
          }
          i++;
          continue;
        }
        const rest = pattern.slice(i + 2);
        if (rest.startsWith('#')) {
          const end = pattern.indexOf(')', i);
          if (end < 0) throw parseError(pattern, n, 'Unterminated (?#...) comment.');
          i = end + 1;
          continue;
        }
        if (rest.startsWith(':') || rest.startsWith('=') || rest.startsWith('!') || rest.startsWith('<=') || rest.startsWith('<!')) {
          const len = rest.startsWith('<') ? 4 : 3;
          parts.push(pattern.slice(i, i + len));
          i += len;
          continue;
        }
        if (rest.startsWith('>')) throw unsupported(i, "'(?>...)' (atomic group)");
        if (rest.startsWith('(')) throw unsupported(i, "'(?(...)...)' (conditional)");
        const named = /^(?:<([^>]*)>|'([^']*)')/.exec(rest);
        if (named) {
          const name = (named[1] ?? named[2])!;
          if (name.includes('-')) throw unsupported(i, `'(?<${name}>...)' (balancing group)`);
          if (/^\d+$/.test(name)) throw unsupported(i, `'(?<${name}>...)' (numbered group name)`);
          if (!NAME_RE.test(name)) throw parseError(pattern, i + 3, 'Invalid group name: Group names must begin with a word character.');
          if (captures.includes(name)) throw unsupported(i, `'(?<${name}>...)' (group name used twice)`);
          parts.push(`(?<${name}>`);
          captures.push(name);
          i += 2 + named[0].length;
          continue;
        }
        const opts = /^([imnsx]*)(?:-([imnsx]*))?([:)])/.exec(rest);
        if (opts) {
          const on = opts[1]!;
          const off = opts[2] ?? '';
          // Scoped or mid-pattern options are fine only when they change nothing.
          const changes =
            [...on].some((f) => (f === 'i' ? !ignoreCase : f === 'm' ? !multiline : f === 's' ? !singleline : f === 'n' ? !explicitCapture : !ignoreWs)) ||
            [...off].some((f) => (f === 'i' ? ignoreCase : f === 'm' ? multiline : f === 's' ? singleline : f === 'n' ? explicitCapture : ignoreWs));
          if (changes)
            throw unsupported(i, `'(?${on}${off ? '-' + off : ''}${opts[3]}' (inline options inside the pattern; put them at the start or use RegexOptions)`);
          if (opts[3] === ':') parts.push('(?:');
          i += 2 + opts[0].length;
          continue;
        }
        throw parseError(pattern, i + 2, 'Unrecognized grouping construct.');
      }
      case '.':
        parts.push(singleline ? '[\\s\\S]' : '[^\\n]');
        i++;
        continue;
      case '^':
        parts.push(multiline ? '(?:(?<![\\s\\S])|(?<=\\n))' : '(?<![\\s\\S])');
        i++;
        continue;
      case '$':
        parts.push(multiline ? '(?=\\n|(?![\\s\\S]))' : '(?=\\n?(?![\\s\\S]))');
        i++;
        continue;
      default:
        parts.push(c);
        i++;
    }
  }
  if (inClass) throw parseError(pattern, n, 'Unterminated [] set.');

  // .NET numbers unnamed groups first, then named groups, each in order of appearance.
  const numberToJs = [0];
  const groupNames = ['0'];
  captures.forEach((name, js) => {
    if (name === null) {
      numberToJs.push(js + 1);
      groupNames.push(String(numberToJs.length - 1));
    }
  });
  const nameToNumber = new Map<string, number>();
  captures.forEach((name, js) => {
    if (name !== null) {
      numberToJs.push(js + 1);
      groupNames.push(name);
      nameToNumber.set(name, numberToJs.length - 1);
    }
  });
  for (const [k, v] of groupNames.entries()) if (!nameToNumber.has(v)) nameToNumber.set(v, k);

  const source = parts
    .map((p) => {
      if (typeof p === 'string') return p;
      const js = numberToJs[p.backref];
      if (js === undefined) throw parseError(pattern, p.at + 1, `Reference to undefined group number ${p.backref}.`);
      return `(?:\\${js})`;
    })
    .join('');
  const flags = 'gd' + (ignoreCase ? 'i' : '');
  try {
    new RegExp(source, flags);
  } catch (e) {
    const jsReason = (e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
    const reason: Record<string, string> = {
      'Unterminated group': "Not enough )'s.",
      "Unmatched ')'": "Too many )'s.",
      'Nothing to repeat': 'Quantifier following nothing.',
      'numbers out of order in {} quantifier': 'Illegal {x,y} with x > y.',
      'Invalid capture group name': 'Invalid group name: Group names must begin with a word character.',
    };
    throw parseError(pattern, n, reason[jsReason] ?? `${jsReason}.`);
  }
  return { source, flags, numberToJs, groupNames, nameToNumber, jsGroups: captures.length };
}

// ---- result objects ------------------------------------------------------------------------------------------------

export class Capture {
  constructor(
    readonly Index: number,
    readonly Length: number,
    readonly Value: string,
  ) {}
  ToString(): string {
    return this.Value;
  }
  toString(): string {
    return this.Value;
  }
  toDotNetString(): string {
    return this.Value;
  }
}

export class Group extends Capture {
  constructor(
    readonly Success: boolean,
    readonly Name: string,
    index: number,
    length: number,
    value: string,
  ) {
    super(index, length, value);
  }
  /** Only the last capture is known (JS RegExp does not keep repeated captures). */
  get Captures(): Capture[] {
    return this.Success ? [new Capture(this.Index, this.Length, this.Value)] : [];
  }
}

export class GroupCollection implements Iterable<Group> {
  constructor(
    private readonly groups: Group[],
    private readonly nameToNumber: Map<string, number>,
  ) {}
  get Count(): number {
    return this.groups.length;
  }
  /** Groups[number] / Groups["name"]: an unknown group is an unsuccessful empty group, as in .NET. */
  get(key: number | string): Group {
    const idx = typeof key === 'number' ? key : this.nameToNumber.get(key);
    const g = idx === undefined ? undefined : this.groups[idx];
    return g ?? new Group(false, String(key), 0, 0, '');
  }
  ContainsKey(name: string): boolean {
    return this.nameToNumber.has(name);
  }
  get Keys(): string[] {
    return this.groups.map((g) => g.Name);
  }
  [Symbol.iterator](): Iterator<Group> {
    return this.groups[Symbol.iterator]();
  }
}

export class Match extends Group {
  static readonly Empty = new Match(null, '', false, 0, 0, []);
  readonly Groups: GroupCollection;

  constructor(
    private readonly regex: Regex | null,
    private readonly input: string,
    success: boolean,
    index: number,
    length: number,
    groups: Group[],
  ) {
    super(success, '0', index, length, success ? input.substr(index, length) : '');
    const all = groups.length ? groups : [new Group(success, '0', index, length, this.Value)];
    this.Groups = new GroupCollection(all, regex?.nameToNumber ?? new Map([['0', 0]]));
  }

  NextMatch(): Match {
    if (!this.regex || !this.Success) return Match.Empty;
    return this.regex.matchAt(this.input, this.Length === 0 ? this.Index + 1 : this.Index + this.Length);
  }

  /** Match.Result(replacement): expands $-substitutions for this match. */
  Result(replacement: string): string {
    if (!this.regex) throw new DotNetException('NotSupportedException', 'Result cannot be called on a failed Match.');
    return expandReplacement(replacement, this, this.input, this.regex);
  }
}

export class MatchCollection implements Iterable<Match> {
  constructor(private readonly matches: Match[]) {}
  get Count(): number {
    return this.matches.length;
  }
  get(i: number): Match {
    if (i < 0 || i >= this.matches.length)
      throw argumentOutOfRange('i', 'Index was out of range. Must be non-negative and less than the size of the collection.');
    return this.matches[i]!;
  }
  [Symbol.iterator](): Iterator<Match> {
    return this.matches[Symbol.iterator]();
  }
}

export type MatchEvaluator = (m: Match) => string;

// ---- Regex ---------------------------------------------------------------------------------------------------------

const cache = new Map<string, RegexTranslation>();
const CACHE_LIMIT = 512;

function translateCached(pattern: string, options: number): RegexTranslation {
  const key = `${options}\u0000${pattern}`;
  let t = cache.get(key);
  if (!t) {
    t = translateRegex(pattern, options);
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(key, t);
  }
  return t;
}

function expandReplacement(replacement: string, m: Match, input: string, regex: Regex): string {
  let out = '';
  const groupCount = regex.groupCount;
  for (let i = 0; i < replacement.length; i++) {
    const c = replacement[i]!;
    if (c !== '$' || i + 1 >= replacement.length) {
      out += c;
      continue;
    }
    const next = replacement[i + 1]!;
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '&') {
      out += m.Value;
      i++;
    } else if (next === '`') {
      out += input.slice(0, m.Index);
      i++;
    } else if (next === "'") {
      out += input.slice(m.Index + m.Length);
      i++;
    } else if (next === '_') {
      out += input;
      i++;
    } else if (next === '+') {
      out += groupCount > 0 ? m.Groups.get(groupCount).Value : '';
      i++;
    } else if (next === '{') {
      const end = replacement.indexOf('}', i + 2);
      const name = end < 0 ? '' : replacement.slice(i + 2, end);
      const num = /^\d+$/.test(name) ? Number(name) : regex.nameToNumber.get(name);
      if (end >= 0 && num !== undefined && num <= groupCount) {
        out += m.Groups.get(num).Value;
        i = end;
      } else out += '$';
    } else if (next >= '0' && next <= '9') {
      // Take the longest digit run that still names an existing group.
      let j = i + 1;
      let num = -1;
      let acc = 0;
      while (j < replacement.length && replacement[j]! >= '0' && replacement[j]! <= '9') {
        acc = acc * 10 + Number(replacement[j]);
        if (acc > groupCount) break;
        num = acc;
        j++;
      }
      if (num >= 0) {
        out += m.Groups.get(num).Value;
        i = j - 1;
      } else out += '$';
    } else out += '$';
  }
  return out;
}

export class Regex {
  private readonly translation: RegexTranslation;
  private readonly matcher: Matcher;
  /** The engine chosen for this pattern (see regex-safety.ts). */
  readonly engine: RegexEngine;

  constructor(
    readonly pattern: string,
    readonly Options = 0,
  ) {
    if (pattern === null) throw argumentNull('pattern');
    this.translation = translateCached(pattern, Options);
    const m = makeMatcher(pattern, this.translation.source, this.translation.flags, this.translation.jsGroups);
    this.matcher = m.match;
    this.engine = m.engine;
  }

  get nameToNumber(): Map<string, number> {
    return this.translation.nameToNumber;
  }

  /** Number of capture groups (excluding group 0). */
  get groupCount(): number {
    return this.translation.numberToJs.length - 1;
  }

  GetGroupNames(): string[] {
    return [...this.translation.groupNames];
  }
  GetGroupNumbers(): number[] {
    return this.translation.groupNames.map((_, i) => i);
  }
  GroupNameFromNumber(n: number): string {
    return this.translation.groupNames[n] ?? '';
  }
  GroupNumberFromName(name: string): number {
    return this.translation.nameToNumber.get(name) ?? -1;
  }

  /** Runs the search from `start` (NextMatch passes the position after the previous match, +1 after an empty one). */
  matchAt(input: string, start: number): Match {
    if (start > input.length) return Match.Empty;
    const r = this.matcher(input, start);
    if (!r) return Match.Empty;
    const indices = r.indices;
    const groups: Group[] = this.translation.numberToJs.map((js, num) => {
      const span = indices[js];
      const name = this.translation.groupNames[num]!;
      if (!span) return new Group(false, name, 0, 0, '');
      return new Group(true, name, span[0], span[1] - span[0], input.slice(span[0], span[1]));
    });
    return new Match(this, input, true, r.index, r.length, groups);
  }

  private checkInput(input: string | null): string {
    if (input === null) throw argumentNull('input');
    return input;
  }

  private checkStart(input: string, startat: number): void {
    if (startat < 0 || startat > input.length) throw argumentOutOfRange('startat', 'Start index cannot be less than 0 or greater than input length.');
  }

  IsMatch(input: string | null, startat = 0): boolean {
    const s = this.checkInput(input);
    this.checkStart(s, startat);
    return this.matchAt(s, startat).Success;
  }

  Match(input: string | null, startat = 0): Match {
    const s = this.checkInput(input);
    this.checkStart(s, startat);
    return this.matchAt(s, startat);
  }

  Matches(input: string | null, startat = 0): MatchCollection {
    const s = this.checkInput(input);
    this.checkStart(s, startat);
    const out: Match[] = [];
    let m = this.matchAt(s, startat);
    while (m.Success) {
      out.push(m);
      m = m.NextMatch();
    }
    return new MatchCollection(out);
  }

  Replace(input: string | null, replacement: string | MatchEvaluator | null, count = -1, startat = 0): string {
    const s = this.checkInput(input);
    if (replacement === null) throw argumentNull(typeof replacement === 'function' ? 'evaluator' : 'replacement');
    if (count < -1) throw argumentOutOfRange('count', 'Count cannot be less than -1.');
    this.checkStart(s, startat);
    if (count === 0) return s;
    let out = '';
    let prev = 0;
    let done = 0;
    let m = this.matchAt(s, startat);
    while (m.Success && (count < 0 || done < count)) {
      out += s.slice(prev, m.Index);
      out += typeof replacement === 'function' ? replacement(m) : expandReplacement(replacement, m, s, this);
      prev = m.Index + m.Length;
      done++;
      m = m.NextMatch();
    }
    return out + s.slice(prev);
  }

  Split(input: string | null, count = 0, startat = 0): string[] {
    const s = this.checkInput(input);
    if (count < 0) throw argumentOutOfRange('count', 'Count cannot be less than zero.');
    this.checkStart(s, startat);
    if (count === 1) return [s];
    const out: string[] = [];
    let prev = 0;
    let found = 0;
    let m = this.matchAt(s, startat);
    while (m.Success && (count === 0 || found < count - 1)) {
      out.push(s.slice(prev, m.Index));
      prev = m.Index + m.Length;
      // Captured text is included in the result, in group-number order.
      for (let g = 1; g <= this.groupCount; g++) {
        const grp = m.Groups.get(g);
        if (grp.Success) out.push(grp.Value);
      }
      found++;
      m = m.NextMatch();
    }
    if (found === 0) return [s];
    out.push(s.slice(prev));
    return out;
  }

  ToString(): string {
    return this.pattern;
  }
  toString(): string {
    return this.pattern;
  }

  static IsMatch(input: string | null, pattern: string, options = 0): boolean {
    return new Regex(pattern, options).IsMatch(input);
  }
  static Match(input: string | null, pattern: string, options = 0): Match {
    return new Regex(pattern, options).Match(input);
  }
  static Matches(input: string | null, pattern: string, options = 0): MatchCollection {
    return new Regex(pattern, options).Matches(input);
  }
  static Replace(input: string | null, pattern: string, replacement: string | MatchEvaluator | null, options = 0): string {
    return new Regex(pattern, options).Replace(input, replacement);
  }
  static Split(input: string | null, pattern: string, options = 0): string[] {
    return new Regex(pattern, options).Split(input);
  }

  /** Regex.Escape: \ * + ? | { [ ( ) ^ $ . # and white space. */
  static Escape(s: string | null): string {
    if (s === null) throw argumentNull('str');
    let out = '';
    for (const c of s) {
      switch (c) {
        case '\t':
          out += '\\t';
          break;
        case '\n':
          out += '\\n';
          break;
        case '\r':
          out += '\\r';
          break;
        case '\f':
          out += '\\f';
          break;
        case ' ':
          out += '\\ ';
          break;
        default:
          out += '\\*+?|{[()^$.#'.includes(c) ? '\\' + c : c;
      }
    }
    return out;
  }

  /** Regex.Unescape: \n \t \r \f \v \a \e \xHH \uHHHH \cX \ooo and `\c` → c. */
  static Unescape(s: string | null): string {
    if (s === null) throw argumentNull('str');
    let out = '';
    for (let i = 0; i < s.length; i++) {
      const c = s[i]!;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = s[++i];
      if (e === undefined) throw parseError(s, s.length, 'Illegal \\ at end of pattern.');
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', a: '\x07', e: '\x1b' };
      if (simple[e] !== undefined) out += simple[e];
      else if (e === 'x' || e === 'u') {
        const len = e === 'x' ? 2 : 4;
        const hex = s.slice(i + 1, i + 1 + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) throw parseError(s, i + 1, 'Insufficient hexadecimal digits.');
        out += String.fromCharCode(parseInt(hex, 16));
        i += len;
      } else if (e === 'c') {
        const ch = s[i + 1];
        if (ch === undefined || !/[A-Za-z]/.test(ch)) throw parseError(s, i + 1, 'Unrecognized control character.');
        out += String.fromCharCode(ch.toUpperCase().charCodeAt(0) - 64);
        i++;
      } else if (e >= '0' && e <= '7') {
        let j = i;
        while (j < s.length && j < i + 3 && s[j]! >= '0' && s[j]! <= '7') j++;
        out += String.fromCharCode(parseInt(s.slice(i, j), 8));
        i = j - 1;
      } else out += e;
    }
    return out;
  }
}

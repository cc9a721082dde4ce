/**
 * Keeps regular expressions from freezing the gateway (catastrophic backtracking, e.g. `^(a+)+$` on "aaaa…!").
 *
 * - Patterns that can backtrack exponentially (a quantified group that itself contains a quantifier or an alternation,
 *   or a backreference) are "risky". Simple patterns keep running on JS RegExp directly: their cost is linear or at
 *   worst polynomial in a small degree, and JS RegExp keeps every .NET construct the translator supports.
 * - A risky pattern runs on re2js (RE2: linear time, no backtracking at all) when RE2 can express it, which is every
 *   pattern without backreferences or lookaround.
 * - The rest (backreferences, lookaround; RE2 cannot run them by design) runs on JS RegExp under a time limit enforced
 *   by V8 (node:vm `timeout`), raising .NET's RegexMatchTimeoutException when exceeded.
 * See docs/expressions.md ("Limits") for the figures.
 */
import { createRequire } from 'node:module';
import vm from 'node:vm';
import type { RE2JS } from 're2js';
import { DotNetException } from './exceptions.js';

/** re2js loads on the first risky pattern only (most policies never need it; keeps start-up fast). */
let re2: typeof RE2JS | null = null;
function loadRe2(): typeof RE2JS {
  re2 ??= (createRequire(import.meta.url)('re2js') as { RE2JS: typeof RE2JS }).RE2JS;
  return re2;
}

/** Match time limit for patterns that need backtracking (ms). .NET's default is infinite; APIM documents none. */
let matchTimeoutMs = 100;
export function setRegexMatchTimeout(ms: number): void {
  matchTimeoutMs = ms;
}
export function regexMatchTimeout(): number {
  return matchTimeoutMs;
}

/** What a match needs: start index and the [start, end] span of each JS capture (undefined when it did not take part). */
export interface RawMatch {
  index: number;
  length: number;
  indices: Array<[number, number] | undefined>;
}

export type Matcher = (input: string, start: number) => RawMatch | null;

/** Which engine a pattern runs on (exposed for tests and docs). */
export type RegexEngine = 'js' | 're2' | 'js-timeout';

/** Static check: can this .NET pattern backtrack exponentially? */
export function isRiskyPattern(pattern: string): boolean {
  // Each open group: does it contain a quantifier or an alternation?
  const stack: Array<{ quant: boolean; alt: boolean }> = [{ quant: false, alt: false }];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      const e = pattern[i + 1];
      if (!inClass && e !== undefined && (/[1-9]/.test(e) || e === 'k')) return true; // backreference
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      if (pattern[i + 1] === ']') i++;
      continue;
    }
    const top = stack[stack.length - 1]!;
    if (c === '(') stack.push({ quant: false, alt: false });
    else if (c === '|') top.alt = true;
    else if (c === '*' || c === '+' || (c === '{' && /^\{\d+,\d*\}/.test(pattern.slice(i)))) top.quant = true;
    else if (c === ')' && stack.length > 1) {
      const group = stack.pop()!;
      const next = pattern[i + 1];
      const quantified =
        next === '*' || next === '+' || (next === '{' && /^\{\d+,(\d*)\}/.exec(pattern.slice(i + 1)) !== null && !/^\{\d+,[01]\}/.test(pattern.slice(i + 1)));
      if (quantified && (group.quant || group.alt)) return true;
      const parent = stack[stack.length - 1]!;
      parent.quant ||= group.quant;
    }
  }
  return false;
}

const JS_WHITESPACE = '\\t\\n\\v\\f\\r \\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}\\x{feff}';

/**
 * Rewrites the translator's JS source for RE2: its anchor lookarounds become RE2 anchors, `\s` keeps JS's (Unicode)
 * set, `\uXXXX` becomes `\x{XXXX}`. Returns null when lookaround or backreferences remain (RE2 cannot run them).
 * `dollarAtEnd` is set when `$` must also match before a final newline (.NET), which RE2 cannot express: inputs
 * ending in "\n" then use the timed JS path.
 */
export function toRe2Source(js: string): { source: string; dollarAtEnd: boolean } | null {
  let dollarAtEnd = false;
  let s = js.split('(?:(?<![\\s\\S])|(?<=\\n))').join('(?m:^)').split('(?=\\n|(?![\\s\\S]))').join('(?m:$)').split('(?<![\\s\\S])').join('\\A');
  if (s.includes('(?=\\n?(?![\\s\\S]))')) {
    dollarAtEnd = true;
    s = s.split('(?=\\n?(?![\\s\\S]))').join('\\z');
  }
  s = s.split('(?![\\s\\S])').join('\\z');
  if (/\(\?<?[=!]/.test(s)) return null;
  let out = '';
  let inClass = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      const e = s[i + 1];
      if (e === 's') out += inClass ? JS_WHITESPACE : `[${JS_WHITESPACE}]`;
      else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) {
        out += `\\x{${s.slice(i + 2, i + 6)}}`;
        i += 4;
      } else if (e !== undefined && /[1-9]/.test(e) && !inClass) return null;
      else out += c + (e ?? '');
      i++;
      continue;
    }
    if (c === '[' && !inClass) inClass = true;
    else if (c === ']' && inClass) inClass = false;
    out += c;
  }
  return { source: out, dollarAtEnd };
}

function timeoutError(pattern: string): DotNetException {
  return new DotNetException(
    'RegexMatchTimeoutException',
    `The Regex engine has timed out while trying to match a pattern to an input string. This can occur for many reasons, including very large inputs or excessive backtracking caused by nested quantifiers, back-references and other factors. (pattern '${pattern}', timeout ${matchTimeoutMs} ms)`,
  );
}

const vmContext = vm.createContext({ re: null as RegExp | null, input: '', start: 0 });
const vmScript = new vm.Script('re.lastIndex = start; re.exec(input)');

function jsMatcher(re: RegExp): Matcher {
  return (input, start) => {
    re.lastIndex = start;
    const r = re.exec(input);
    return r ? { index: r.index, length: r[0].length, indices: r.indices! as Array<[number, number] | undefined> } : null;
  };
}

function timedJsMatcher(re: RegExp, pattern: string): Matcher {
  return (input, start) => {
    vmContext.re = re;
    vmContext.input = input;
    vmContext.start = start;
    let r: RegExpExecArray | null;
    try {
      r = vmScript.runInContext(vmContext, { timeout: matchTimeoutMs }) as RegExpExecArray | null;
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw timeoutError(pattern);
      throw e;
    } finally {
      vmContext.re = null;
      vmContext.input = '';
    }
    return r ? { index: r.index, length: r[0].length, indices: r.indices! as Array<[number, number] | undefined> } : null;
  };
}

/** Chooses the engine for a translated pattern; `groups` is the number of JS capture groups. */
export function makeMatcher(pattern: string, jsSource: string, jsFlags: string, groups: number): { engine: RegexEngine; match: Matcher } {
  const re = new RegExp(jsSource, jsFlags);
  if (!isRiskyPattern(pattern)) return { engine: 'js', match: jsMatcher(re) };
  const timed = timedJsMatcher(re, pattern);
  const r2 = toRe2Source(jsSource);
  if (r2) {
    let compiled: RE2JS | null = null;
    try {
      const engine = loadRe2();
      compiled = engine.compile(r2.source, jsFlags.includes('i') ? engine.CASE_INSENSITIVE : 0);
    } catch {
      compiled = null;
    }
    if (compiled && compiled.groupCount() === groups) {
      const program = compiled;
      const dollarAtEnd = r2.dollarAtEnd;
      return {
        engine: 're2',
        match: (input, start) => {
          if (dollarAtEnd && input.endsWith('\n')) return timed(input, start);
          const m = program.matcher(input);
          if (!m.find(start)) return null;
          const indices: Array<[number, number] | undefined> = [];
          for (let g = 0; g <= groups; g++) {
            const a = m.start(g);
            indices.push(a < 0 ? undefined : [a, m.end(g)]);
          }
          return { index: m.start(0), length: m.end(0) - m.start(0), indices };
        },
      };
    }
  }
  return { engine: 'js-timeout', match: timed };
}

/**
 * C# lexer for policy expressions. Positions are indexes into the expression's text (the TextSpan's text), so
 * diagnostics map back to the policy file through TextSpan.sourceOffset.
 */

export type TokenKind = 'ident' | 'int' | 'real' | 'string' | 'char' | 'interp' | 'punct' | 'eof';

export interface InterpHole {
  /** Start/end (exclusive) of the hole's expression text. */
  start: number;
  end: number;
  /** Alignment expression text range (after ','), if any. */
  align?: { start: number; end: number };
  /** Format string after ':' (raw, verbatim). */
  format?: string;
}

export type InterpPart = { kind: 'text'; value: string } | { kind: 'hole'; hole: InterpHole };

export interface Token {
  kind: TokenKind;
  /** Identifier name (without a leading '@'), punctuator text, or the raw literal text. */
  text: string;
  pos: number;
  end: number;
  /** For 'ident': true if written `@name` (never a keyword). */
  verbatim?: boolean;
  /** Decoded value of string/char literals. */
  str?: string;
  /** Numeric literal value and suffix ('' | 'l' | 'u' | 'ul' | 'd' | 'f' | 'm'). */
  num?: number;
  suffix?: string;
  parts?: InterpPart[];
}

export class LexError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

// Longest first so that greedy matching works.
const PUNCTS = [
  '??=',
  '<<=',
  '...',
  '??',
  '?.',
  '?[',
  '++',
  '--',
  '&&',
  '||',
  '==',
  '!=',
  '<=',
  '>=',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '&=',
  '|=',
  '^=',
  '<<',
  '=>',
  '->',
  '::',
  '{',
  '}',
  '(',
  ')',
  '[',
  ']',
  '.',
  ',',
  ':',
  ';',
  '+',
  '-',
  '*',
  '/',
  '%',
  '&',
  '|',
  '^',
  '!',
  '~',
  '=',
  '<',
  '>',
  '?',
];

function isIdentStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c > '\u007f';
}
function isIdentPart(c: string): boolean {
  return isIdentStart(c) || (c >= '0' && c <= '9');
}
function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

export function lex(text: string, start = 0, end = text.length, limit = Infinity): Token[] {
  const toks: Token[] = [];
  let i = start;
  while (toks.length < limit) {
    // whitespace and comments
    while (i < end) {
      const c = text[i]!;
      if (c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === '\f' || c === '\v' || c === '\u00a0' || c === '\ufeff') {
        i++;
      } else if (c === '/' && text[i + 1] === '/') {
        while (i < end && text[i] !== '\n' && text[i] !== '\r') i++;
      } else if (c === '/' && text[i + 1] === '*') {
        const close = text.indexOf('*/', i + 2);
        if (close < 0 || close + 2 > end) throw new LexError('unterminated comment: "/*" has no closing "*/"', i);
        i = close + 2;
      } else break;
    }
    if (i >= end) {
      toks.push({ kind: 'eof', text: '', pos: end, end });
      return toks;
    }
    const c = text[i]!;
    const s = i;
    // interpolated and verbatim strings
    if (c === '$' || (c === '@' && (text[i + 1] === '"' || (text[i + 1] === '$' && text[i + 2] === '"')))) {
      let verbatim = false;
      let interp = false;
      let j = i;
      while (j < end && (text[j] === '$' || text[j] === '@')) {
        if (text[j] === '$') interp = true;
        else verbatim = true;
        j++;
      }
      if (text[j] !== '"' || j - i > 2) throw new LexError(`unexpected character "${c}"`, i);
      if (interp) {
        const r = lexInterpolated(text, j + 1, end, verbatim, s);
        toks.push({ kind: 'interp', text: text.slice(s, r.end), pos: s, end: r.end, parts: r.parts });
        i = r.end;
      } else {
        const r = lexString(text, j + 1, end, true, s);
        toks.push({ kind: 'string', text: text.slice(s, r.end), pos: s, end: r.end, str: r.value });
        i = r.end;
      }
      continue;
    }
    if (c === '"') {
      const r = lexString(text, i + 1, end, false, s);
      toks.push({ kind: 'string', text: text.slice(s, r.end), pos: s, end: r.end, str: r.value });
      i = r.end;
      continue;
    }
    if (c === "'") {
      let j = i + 1;
      let value: string;
      if (text[j] === '\\') {
        const e = readEscape(text, j, end);
        value = e.value;
        j = e.end;
      } else if (j < end && text[j] !== "'" && text[j] !== '\n') {
        value = text[j]!;
        j++;
      } else throw new LexError('empty or invalid character literal', s);
      if (text[j] !== "'") throw new LexError("character literal must contain exactly one character and end with '", s);
      j++;
      toks.push({ kind: 'char', text: text.slice(s, j), pos: s, end: j, str: value });
      i = j;
      continue;
    }
    if (c === '@' && isIdentStart(text[i + 1] ?? '')) {
      let j = i + 1;
      while (j < end && isIdentPart(text[j]!)) j++;
      toks.push({ kind: 'ident', text: text.slice(i + 1, j), pos: s, end: j, verbatim: true });
      i = j;
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < end && isIdentPart(text[j]!)) j++;
      toks.push({ kind: 'ident', text: text.slice(i, j), pos: s, end: j });
      i = j;
      continue;
    }
    if (isDigit(c) || (c === '.' && isDigit(text[i + 1] ?? ''))) {
      const t = lexNumber(text, i, end);
      toks.push(t);
      i = t.end;
      continue;
    }
    let p: string | undefined;
    for (const cand of PUNCTS) {
      if (text.startsWith(cand, i) && i + cand.length <= end) {
        p = cand;
        break;
      }
    }
    if (!p) throw new LexError(`unexpected character "${c}"`, i);
    toks.push({ kind: 'punct', text: p, pos: s, end: i + p.length });
    i += p.length;
  }
  return toks;
}

function lexNumber(text: string, i: number, end: number): Token {
  const s = i;
  if (text[i] === '0' && (text[i + 1] === 'x' || text[i + 1] === 'X')) {
    let j = i + 2;
    while (j < end && /[0-9a-fA-F_]/.test(text[j]!)) j++;
    const digits = text.slice(i + 2, j).replace(/_/g, '');
    if (!digits) throw new LexError('hexadecimal literal has no digits', s);
    const suffix = readIntSuffix(text, j, end);
    j += suffix.length;
    return { kind: 'int', text: text.slice(s, j), pos: s, end: j, num: parseInt(digits, 16), suffix: suffix.toLowerCase() };
  }
  let j = i;
  let isReal = false;
  while (j < end && (isDigit(text[j]!) || text[j] === '_')) j++;
  if (text[j] === '.' && isDigit(text[j + 1] ?? '')) {
    isReal = true;
    j++;
    while (j < end && (isDigit(text[j]!) || text[j] === '_')) j++;
  }
  if ((text[j] === 'e' || text[j] === 'E') && (isDigit(text[j + 1] ?? '') || ((text[j + 1] === '+' || text[j + 1] === '-') && isDigit(text[j + 2] ?? '')))) {
    isReal = true;
    j += 2;
    while (j < end && isDigit(text[j]!)) j++;
  }
  const body = text.slice(s, j).replace(/_/g, '');
  const sc = (text[j] ?? '').toLowerCase();
  if (sc === 'd' || sc === 'f' || sc === 'm') {
    j++;
    if (isIdentPart(text[j] ?? '')) throw new LexError(`invalid numeric literal "${text.slice(s, j + 1)}"`, s);
    return { kind: 'real', text: text.slice(s, j), pos: s, end: j, num: Number(body), suffix: sc };
  }
  if (isReal) {
    if (isIdentPart(text[j] ?? '')) throw new LexError(`invalid numeric literal "${text.slice(s, j + 1)}"`, s);
    return { kind: 'real', text: text.slice(s, j), pos: s, end: j, num: Number(body), suffix: '' };
  }
  const suffix = readIntSuffix(text, j, end);
  j += suffix.length;
  if (isIdentPart(text[j] ?? '')) throw new LexError(`invalid numeric literal "${text.slice(s, j + 1)}"`, s);
  return { kind: 'int', text: text.slice(s, j), pos: s, end: j, num: Number(body), suffix: suffix.toLowerCase().replace('lu', 'ul') };
}

function readIntSuffix(text: string, j: number, end: number): string {
  const two = text.slice(j, Math.min(j + 2, end)).toLowerCase();
  if (two === 'ul' || two === 'lu') return text.slice(j, j + 2);
  const one = (text[j] ?? '').toLowerCase();
  if (one === 'l' || one === 'u') return text[j]!;
  return '';
}

function readEscape(text: string, j: number, end: number): { value: string; end: number } {
  // text[j] === '\\'
  const e = text[j + 1];
  switch (e) {
    case "'":
      return { value: "'", end: j + 2 };
    case '"':
      return { value: '"', end: j + 2 };
    case '\\':
      return { value: '\\', end: j + 2 };
    case '0':
      return { value: '\0', end: j + 2 };
    case 'a':
      return { value: '\u0007', end: j + 2 };
    case 'b':
      return { value: '\b', end: j + 2 };
    case 'f':
      return { value: '\f', end: j + 2 };
    case 'n':
      return { value: '\n', end: j + 2 };
    case 'r':
      return { value: '\r', end: j + 2 };
    case 't':
      return { value: '\t', end: j + 2 };
    case 'v':
      return { value: '\v', end: j + 2 };
    case 'u': {
      const hex = text.slice(j + 2, j + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex) || j + 6 > end) throw new LexError('\\u escape needs exactly 4 hex digits', j);
      return { value: String.fromCharCode(parseInt(hex, 16)), end: j + 6 };
    }
    case 'U': {
      const hex = text.slice(j + 2, j + 10);
      if (!/^[0-9a-fA-F]{8}$/.test(hex) || j + 10 > end) throw new LexError('\\U escape needs exactly 8 hex digits', j);
      return { value: String.fromCodePoint(parseInt(hex, 16)), end: j + 10 };
    }
    case 'x': {
      let k = j + 2;
      while (k < end && k < j + 6 && /[0-9a-fA-F]/.test(text[k]!)) k++;
      if (k === j + 2) throw new LexError('\\x escape needs 1 to 4 hex digits', j);
      return { value: String.fromCharCode(parseInt(text.slice(j + 2, k), 16)), end: k };
    }
    default:
      throw new LexError(`unrecognized escape sequence "\\${e ?? ''}"`, j);
  }
}

function lexString(text: string, j: number, end: number, verbatim: boolean, start: number): { value: string; end: number } {
  let value = '';
  while (true) {
    if (j >= end) throw new LexError('unterminated string literal', start);
    const c = text[j]!;
    if (c === '"') {
      if (verbatim && text[j + 1] === '"') {
        value += '"';
        j += 2;
        continue;
      }
      return { value, end: j + 1 };
    }
    if (!verbatim && (c === '\n' || c === '\r')) throw new LexError('newline in string literal (use a verbatim string @"..." for multi-line text)', start);
    if (!verbatim && c === '\\') {
      const e = readEscape(text, j, end);
      value += e.value;
      j = e.end;
      continue;
    }
    value += c;
    j++;
  }
}

/** Scans a C# interpolated string body starting after the opening quote. */
function lexInterpolated(text: string, j: number, end: number, verbatim: boolean, start: number): { parts: InterpPart[]; end: number } {
  // Interpolated strings nest through their holes; bound the recursion (hostile input, docs/expressions.md).
  if (++interpolationNesting > MAX_INTERPOLATION_NESTING) {
    interpolationNesting--;
    throw new LexError(`interpolated strings are nested too deeply (more than ${MAX_INTERPOLATION_NESTING} levels)`, start);
  }
  try {
    return lexInterpolatedInner(text, j, end, verbatim, start);
  } finally {
    interpolationNesting--;
  }
}
const MAX_INTERPOLATION_NESTING = 32;
let interpolationNesting = 0;

function lexInterpolatedInner(text: string, j: number, end: number, verbatim: boolean, start: number): { parts: InterpPart[]; end: number } {
  const parts: InterpPart[] = [];
  let buf = '';
  while (true) {
    if (j >= end) throw new LexError('unterminated interpolated string', start);
    const c = text[j]!;
    if (c === '"') {
      if (verbatim && text[j + 1] === '"') {
        buf += '"';
        j += 2;
        continue;
      }
      if (buf) parts.push({ kind: 'text', value: buf });
      return { parts, end: j + 1 };
    }
    if (c === '{') {
      if (text[j + 1] === '{') {
        buf += '{';
        j += 2;
        continue;
      }
      if (buf) parts.push({ kind: 'text', value: buf });
      buf = '';
      const hole = scanHole(text, j + 1, end);
      parts.push({ kind: 'hole', hole: hole.hole });
      j = hole.end;
      continue;
    }
    if (c === '}') {
      if (text[j + 1] === '}') {
        buf += '}';
        j += 2;
        continue;
      }
      throw new LexError('"}" in an interpolated string must be doubled ("}}")', j);
    }
    if (!verbatim && (c === '\n' || c === '\r')) throw new LexError('newline in interpolated string', start);
    if (!verbatim && c === '\\') {
      const e = readEscape(text, j, end);
      buf += e.value;
      j = e.end;
      continue;
    }
    buf += c;
    j++;
  }
}

/** Finds the extent of `{expr[,align][:format]}`; j is just after '{'. Returns end just after '}'. */
function scanHole(text: string, j: number, end: number): { hole: InterpHole; end: number } {
  const start = j;
  let depth = 0;
  let exprEnd = -1;
  let alignStart = -1;
  let alignEnd = -1;
  while (j < end) {
    const c = text[j]!;
    if (c === '"' || c === "'" || (c === '@' && text[j + 1] === '"') || (c === '$' && (text[j + 1] === '"' || text[j + 1] === '@'))) {
      // skip a nested literal by lexing it
      const t = lex(text, j, end, 1)[0]!;
      j = t.end;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']') depth--;
    else if (c === '}') {
      if (depth === 0) {
        if (exprEnd < 0) exprEnd = j;
        else if (alignStart >= 0 && alignEnd < 0) alignEnd = j;
        const hole: InterpHole = { start, end: exprEnd };
        if (alignStart >= 0) hole.align = { start: alignStart, end: alignEnd };
        return { hole, end: j + 1 };
      }
      depth--;
    } else if (depth === 0 && c === ',' && exprEnd < 0) {
      exprEnd = j;
      alignStart = j + 1;
    } else if (depth === 0 && c === ':' && text[j + 1] !== ':') {
      if (exprEnd < 0) exprEnd = j;
      else if (alignStart >= 0 && alignEnd < 0) alignEnd = j;
      // format runs to the closing brace
      let k = j + 1;
      let fmt = '';
      while (k < end && text[k] !== '}') {
        fmt += text[k];
        k++;
      }
      if (k >= end) break;
      const hole: InterpHole = { start, end: exprEnd, format: fmt };
      if (alignStart >= 0) hole.align = { start: alignStart, end: alignEnd };
      return { hole, end: k + 1 };
    }
    j++;
  }
  throw new LexError('interpolation hole "{" has no closing "}"', start - 1);
}

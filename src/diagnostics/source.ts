/** A loaded text file, with offset → line/column translation for diagnostics. */
export class SourceText {
  private lineStarts: number[] | undefined;

  constructor(
    readonly file: string,
    readonly text: string,
  ) {}

  /** 1-based line and column of a 0-based UTF-16 offset (CRLF counts as one line break). */
  positionAt(offset: number): { line: number; column: number } {
    const starts = (this.lineStarts ??= computeLineStarts(this.text));
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= o) lo = mid;
      else hi = mid - 1;
    }
    // A byte-order mark is not a column the user sees.
    const bom = lo === 0 && this.text.charCodeAt(0) === 0xfeff && o > 0 ? 1 : 0;
    return { line: lo + 1, column: o - starts[lo]! + 1 - bom };
  }
}

function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) starts.push(i + 1);
    else if (c === 13 && text.charCodeAt(i + 1) !== 10) starts.push(i + 1);
  }
  return starts;
}

/**
 * A piece of text taken from a source file, possibly transformed (XML entities decoded, named values substituted),
 * that still knows where each of its characters came from. Expressions compile from a TextSpan so that their
 * errors point at the user's file, not at the decoded string.
 */
export class TextSpan {
  constructor(
    readonly text: string,
    readonly source: SourceText,
    /** Offset in `source.text` of each character of `text`; length text.length + 1 (the last is the end offset). */
    private readonly offsets: Int32Array | number,
  ) {}

  /** A span copied verbatim from `source` starting at `start`. */
  static verbatim(source: SourceText, start: number, end: number): TextSpan {
    return new TextSpan(source.text.slice(start, end), source, start);
  }

  /** A span with no source (text created by the engine, e.g. defaults). Positions point at `at`. */
  static synthetic(text: string, source: SourceText, at: number): TextSpan {
    return new TextSpan(
      text,
      source,
      Int32Array.from({ length: text.length + 1 }, () => at),
    );
  }

  /** Offset in the source file of character `i` of this span's text. */
  sourceOffset(i: number): number {
    if (typeof this.offsets === 'number') return this.offsets + Math.max(0, Math.min(i, this.text.length));
    return this.offsets[Math.max(0, Math.min(i, this.text.length))]!;
  }

  positionAt(i: number): { file: string; line: number; column: number } {
    return { file: this.source.file, ...this.source.positionAt(this.sourceOffset(i)) };
  }

  slice(start: number, end = this.text.length): TextSpan {
    const s = Math.max(0, start);
    const e = Math.min(this.text.length, end);
    if (typeof this.offsets === 'number') return new TextSpan(this.text.slice(s, e), this.source, this.offsets + s);
    return new TextSpan(this.text.slice(s, e), this.source, this.offsets.slice(s, e + 1));
  }

  /** Builds a span from pieces, each either a span or synthetic text attributed to a source offset. */
  static concat(source: SourceText, parts: Array<TextSpan | { text: string; at: number }>): TextSpan {
    let text = '';
    const offs: number[] = [];
    let last = 0;
    for (const p of parts) {
      if (p instanceof TextSpan) {
        for (let i = 0; i < p.text.length; i++) offs.push(p.sourceOffset(i));
        text += p.text;
        last = p.sourceOffset(p.text.length);
      } else {
        for (let i = 0; i < p.text.length; i++) offs.push(p.at);
        text += p.text;
        last = p.at;
      }
    }
    offs.push(last);
    return new TextSpan(text, source, Int32Array.from(offs));
  }
}

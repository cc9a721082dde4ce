import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { SourceText } from '../diagnostics/source.js';

/**
 * Deploy-time placeholders such as `{backend-id}` that the AI-Gateway labs fill in when they deploy a policy (they are
 * not APIM syntax). The labs' backends files list them under `policyPlaceholders`; we substitute them textually in
 * policy XML before building, and map diagnostic positions back to the file as written.
 */
export const PLACEHOLDER_KEY = /^\{[A-Za-z0-9_.-]+\}$/;

interface Edit {
  /** Offset range in the original text. */
  origStart: number;
  origEnd: number;
  /** Offset range of the replacement in the substituted text. */
  newStart: number;
  newEnd: number;
}

/** Keeps the placeholder edits per file so diagnostics from the substituted text can point at the original. */
export class PlaceholderEdits {
  private readonly byFile = new Map<string, { edits: Edit[]; substituted: SourceText; original: SourceText }>();

  /** Substitutes only `{name}` keys; returns the source unchanged when nothing matched. */
  apply(source: SourceText, placeholders: Readonly<Record<string, string>>): SourceText {
    const keys = Object.keys(placeholders).filter((k) => PLACEHOLDER_KEY.test(k));
    if (keys.length === 0) return source;
    const text = source.text;
    const edits: Edit[] = [];
    let out = '';
    let last = 0;
    let i = text.indexOf('{');
    while (i >= 0) {
      const key = keys.find((k) => text.startsWith(k, i));
      if (key) {
        out += text.slice(last, i);
        const value = placeholders[key]!;
        edits.push({ origStart: i, origEnd: i + key.length, newStart: out.length, newEnd: out.length + value.length });
        out += value;
        last = i + key.length;
        i = text.indexOf('{', last);
      } else i = text.indexOf('{', i + 1);
    }
    if (edits.length === 0) return source;
    out += text.slice(last);
    const substituted = new SourceText(source.file, out);
    this.byFile.set(source.file, { edits, substituted, original: source });
    return substituted;
  }

  /** Rewrites line/column of diagnostics about substituted files back to the text as written. */
  remap(d: Diagnostic): Diagnostic {
    if (!d.file || d.line === undefined) return d;
    const entry = this.byFile.get(d.file);
    if (!entry) return d;
    const newOffset = offsetOf(entry.substituted.text, d.line, d.column ?? 1);
    let origOffset = newOffset;
    for (const e of entry.edits) {
      if (newOffset < e.newStart) break;
      if (newOffset < e.newEnd) {
        origOffset = e.origStart;
        break;
      }
      origOffset = newOffset - e.newEnd + e.origEnd;
    }
    const pos = entry.original.positionAt(origOffset);
    return { ...d, line: pos.line, column: pos.column };
  }
}

/** 0-based offset of a 1-based line/column (CR, LF and CRLF count as one break, like SourceText). */
function offsetOf(text: string, line: number, column: number): number {
  let l = 1;
  let i = 0;
  while (l < line && i < text.length) {
    const c = text.charCodeAt(i);
    i++;
    if (c === 10) l++;
    else if (c === 13) {
      if (text.charCodeAt(i) === 10) i++;
      l++;
    }
  }
  return Math.min(text.length, i + column - 1);
}

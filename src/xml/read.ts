/**
 * Expression-aware reader for APIM policy XML.
 *
 * Real policy files are often not well-formed XML: raw `@(...)` / `@{...}` expressions hold the attribute's own quote
 * character, `<`/`>` from generics and comparisons, and bare `&&`. APIM accepts them, so this reader tokenises the
 * document by hand and reads each expression to its end by balanced brackets (skipping C# strings, char literals and
 * comments) before it goes on with ordinary XML rules. Being hand-written, it knows the file offset of every element,
 * attribute and decoded character, so later stages can point diagnostics at the user's file.
 *
 * No policy knowledge lives here: this is XML plus the `@(`/`@{` expression syntax only.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { type SourceText, TextSpan } from '../diagnostics/source.js';
import type { ReadResult, XmlAttribute, XmlElement, XmlText } from './types.js';
import type { DiagnosticCode } from '../diagnostics/codes.js';

export function readPolicyXml(source: SourceText): ReadResult {
  return new Reader(source).read();
}

/** A problem that stops reading (the document structure can no longer be trusted). */
class FatalXmlError extends Error {
  constructor(
    readonly offset: number,
    readonly code: DiagnosticCode,
    readonly detail: string,
    readonly hint?: string,
  ) {
    super(detail);
  }
}

const MAX_DIAGNOSTICS = 100;

/**
 * Size and shape limits (docs/limits.md). APIM's own: a policy document holds at most 256 KiB, a fragment 512 KiB
 * (docs/emulator-choices.md, "Policy document size"). The emulator's: element nesting and nested interpolated strings,
 * because the stages after reading recurse per level; real policies nest a few levels.
 */
export const XML_LIMITS = {
  policyDocumentChars: 256 * 1024,
  fragmentChars: 512 * 1024,
  elementDepth: 128,
  interpolationDepth: 32,
} as const;

const ENTITY_HINT = 'allowed: &amp; &lt; &gt; &quot; &apos; &#NN; &#xNN;';

interface OpenElement {
  element: XmlElement;
  /** Text read so far for this element, not yet turned into a node (it may continue after a comment). */
  text: SpanBuilder | null;
}

class Reader {
  private readonly text: string;
  private readonly diagnostics: Diagnostic[] = [];

  constructor(private readonly source: SourceText) {
    this.text = source.text;
  }

  read(): ReadResult {
    try {
      // Refused before reading: the largest document APIM accepts at all is a fragment.
      if (this.text.length > XML_LIMITS.fragmentChars) {
        throw new FatalXmlError(
          XML_LIMITS.fragmentChars,
          'xml/document-too-large',
          `the document is ${kib(this.text.length)}; APIM accepts policy documents up to ${kib(XML_LIMITS.policyDocumentChars)} and fragments up to ${kib(XML_LIMITS.fragmentChars)}`,
          'move large content (bodies, templates, keys) out of the policy, e.g. into named values or the backend',
        );
      }
      const root = this.document();
      if (root.name !== 'fragment' && this.text.length > XML_LIMITS.policyDocumentChars) {
        this.error(
          XML_LIMITS.policyDocumentChars,
          'xml/document-too-large',
          `the document is ${kib(this.text.length)}; APIM accepts policy documents up to ${kib(XML_LIMITS.policyDocumentChars)} (fragments up to ${kib(XML_LIMITS.fragmentChars)})`,
          'move large content (bodies, templates, keys) out of the policy, e.g. into named values or a fragment',
        );
      }
      return { root, diagnostics: this.diagnostics };
    } catch (e) {
      if (!(e instanceof FatalXmlError)) throw e;
      this.error(e.offset, e.code, e.detail, e.hint, true);
      return { root: null, diagnostics: this.diagnostics };
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Diagnostics

  private error(offset: number, code: DiagnosticCode, message: string, hint?: string, fatal = false): void {
    // A broken file can repeat one mistake thousands of times; past the cap only the fatal error is still added.
    if (this.diagnostics.length >= MAX_DIAGNOSTICS && !fatal) return;
    if (this.diagnostics.length === MAX_DIAGNOSTICS - 1 && !fatal) {
      code = 'xml/too-many-errors';
      message = `more than ${MAX_DIAGNOSTICS - 1} errors; the rest of this file's recoverable errors are not listed`;
      hint = 'fix the errors above and read the file again';
    }
    const { line, column } = this.source.positionAt(offset);
    this.diagnostics.push({
      severity: 'error',
      code,
      message,
      file: this.source.file,
      line,
      column,
      ...(hint ? { hint } : {}),
    });
  }

  private at(offset: number): string {
    const { line, column } = this.source.positionAt(offset);
    return `${line}:${column}`;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Document structure

  private document(): XmlElement {
    const t = this.text;
    let pos = t.charCodeAt(0) === 0xfeff ? 1 : 0;
    if (t.startsWith('<?xml', pos) && isXmlSpace(t.charCodeAt(pos + 5))) pos = this.processingInstruction(pos);

    const stack: OpenElement[] = [];
    let root: XmlElement | null = null;

    while (pos < t.length) {
      const top = stack[stack.length - 1];
      if (t.charCodeAt(pos) !== 0x3c /* < */) {
        if (top) {
          top.text ??= new SpanBuilder(this.source);
          pos = this.textRun(pos, top.text);
        } else {
          pos = this.outsideRootText(pos, root);
        }
        continue;
      }
      if (t.startsWith('<!--', pos)) {
        // Comments are dropped; text on both sides of one stays a single text node.
        pos = this.comment(pos);
      } else if (t.startsWith('<![CDATA[', pos)) {
        if (!top) throw this.outsideRoot(pos, root, 'a CDATA section');
        this.flushText(top);
        const close = t.indexOf(']]>', pos + 9);
        if (close < 0) {
          throw new FatalXmlError(pos, 'xml/unterminated-cdata', `CDATA section opened at ${this.at(pos)} is never closed`, 'expected `]]>`');
        }
        const b = new SpanBuilder(this.source);
        b.addRaw(t, pos + 9, close);
        const node: XmlText = { kind: 'text', text: b.build(pos + 9), cdata: true };
        top.element.children.push(node);
        pos = close + 3;
      } else if (t.startsWith('<?', pos)) {
        if (t.startsWith('<?xml', pos) && isXmlSpace(t.charCodeAt(pos + 5))) {
          this.error(
            pos,
            'xml/misplaced-declaration',
            'the XML declaration `<?xml ...?>` must be the very first thing in the file',
            'move it to line 1, column 1, or remove it',
          );
        }
        pos = this.processingInstruction(pos);
      } else if (t.startsWith('<!', pos)) {
        const what = t.startsWith('<!DOCTYPE', pos) ? 'DOCTYPE declarations are' : '`<!` declarations are';
        throw new FatalXmlError(
          pos,
          'xml/unsupported-declaration',
          `${what} not supported in policy documents`,
          'allowed: elements, text, comments `<!-- -->`, CDATA `<![CDATA[ ]]>`',
        );
      } else if (t.startsWith('</', pos)) {
        if (!top) {
          throw new FatalXmlError(
            pos,
            'xml/unexpected-closing-tag',
            `closing tag \`${this.peekClosingName(pos)}\` has no matching opening tag`,
            'expected the end of the file after the root element',
          );
        }
        this.flushText(top);
        pos = this.closingTag(pos, top.element);
        stack.pop();
        if (stack.length === 0) root = top.element;
      } else {
        if (!top && root) {
          throw new FatalXmlError(
            pos,
            'xml/multiple-roots',
            `a second root element starts here, after \`<${root.name}>\` (opened at ${this.at(root.start)}) was closed`,
            'a policy document has exactly one root element; move this element inside it',
          );
        }
        if (top) this.flushText(top);
        const { element, selfClosing, end } = this.openingTag(pos);
        if (top) top.element.children.push(element);
        if (selfClosing) {
          if (!top) root = element;
        } else {
          if (stack.length >= XML_LIMITS.elementDepth) {
            throw new FatalXmlError(
              pos,
              'xml/too-deep',
              `\`<${element.name}>\` is nested ${stack.length + 1} elements deep; the emulator reads at most ${XML_LIMITS.elementDepth} levels`,
              'flatten the nesting (e.g. one choose with several when branches instead of choose inside choose)',
            );
          }
          stack.push({ element, text: null });
        }
        pos = end;
      }
    }

    if (stack.length > 0) {
      const innermost = stack[stack.length - 1]!.element;
      const others = stack
        .slice(0, -1)
        .reverse()
        .map((o) => `\`<${o.element.name}>\` at ${this.at(o.element.start)}`);
      throw new FatalXmlError(
        t.length,
        'xml/truncated',
        `the file ends before \`</${innermost.name}>\`: \`<${innermost.name}>\` opened at ${this.at(innermost.start)} is never closed` +
          (others.length ? ` (also unclosed: ${others.join(', ')})` : ''),
        `expected \`</${innermost.name}>\``,
      );
    }
    if (!root) {
      throw new FatalXmlError(t.length, 'xml/empty', 'the file has no root element', 'expected a document element such as `<policies> ... </policies>`');
    }
    return root;
  }

  private flushText(open: OpenElement): void {
    const b = open.text;
    open.text = null;
    if (!b || b.isWhitespace()) return;
    open.element.children.push({ kind: 'text', text: b.build(b.start), cdata: false });
  }

  /** Whitespace is fine outside the root element; anything else is an error. */
  private outsideRootText(pos: number, root: XmlElement | null): number {
    const t = this.text;
    while (pos < t.length && isXmlSpace(t.charCodeAt(pos))) pos++;
    if (pos < t.length && t.charCodeAt(pos) !== 0x3c) throw this.outsideRoot(pos, root, 'text');
    return pos;
  }

  private outsideRoot(pos: number, root: XmlElement | null, what: string): FatalXmlError {
    if (root) {
      return new FatalXmlError(
        pos,
        'xml/content-after-root',
        `${what} after the root element \`<${root.name}>\` (closed before this point)`,
        'only comments and whitespace may follow the root element',
      );
    }
    return new FatalXmlError(
      pos,
      'xml/content-before-root',
      `${what} before the root element`,
      'only an XML declaration, comments and whitespace may precede the root element',
    );
  }

  private comment(pos: number): number {
    const close = this.text.indexOf('-->', pos + 4);
    if (close < 0) {
      throw new FatalXmlError(pos, 'xml/unterminated-comment', `comment opened at ${this.at(pos)} is never closed`, 'expected `-->`');
    }
    const dashes = this.text.indexOf('--', pos + 4);
    if (dashes < close) {
      // XML 1.0 forbids `--` inside comments; APIM's editor rejects it too. The comment is still skipped.
      this.error(dashes, 'xml/comment-double-hyphen', '`--` is not allowed inside an XML comment', 'use a single `-` or end the comment with `-->`');
    }
    return close + 3;
  }

  private processingInstruction(pos: number): number {
    const close = this.text.indexOf('?>', pos + 2);
    if (close < 0) {
      throw new FatalXmlError(pos, 'xml/unterminated-pi', `processing instruction \`<?\` opened at ${this.at(pos)} is never closed`, 'expected `?>`');
    }
    return close + 2;
  }

  private name(pos: number, what: string, expected: string): { name: string; end: number } {
    const t = this.text;
    if (pos >= t.length || !isNameStart(t.charCodeAt(pos))) {
      const found = pos >= t.length ? 'the end of the file' : `\`${describeChar(t, pos)}\``;
      throw new FatalXmlError(pos, 'xml/malformed', `expected ${what} here, found ${found}`, expected);
    }
    let end = pos + 1;
    while (end < t.length && isNameChar(t.charCodeAt(end))) end++;
    return { name: t.slice(pos, end), end };
  }

  private skipSpace(pos: number): number {
    while (pos < this.text.length && isXmlSpace(this.text.charCodeAt(pos))) pos++;
    return pos;
  }

  private peekClosingName(pos: number): string {
    const t = this.text;
    let end = pos + 2;
    while (end < t.length && isNameChar(t.charCodeAt(end))) end++;
    return `</${t.slice(pos + 2, end)}>`;
  }

  private openingTag(start: number): { element: XmlElement; selfClosing: boolean; end: number } {
    const t = this.text;
    const { name, end: nameEnd } = this.name(
      start + 1,
      'an element name after `<`',
      'element names start with a letter or `_`; write `&lt;` for a literal `<`',
    );
    const element: XmlElement = { kind: 'element', name, attributes: [], children: [], start, end: -1, source: this.source };
    const seen = new Map<string, number>();
    let pos = nameEnd;
    for (;;) {
      const before = pos;
      pos = this.skipSpace(pos);
      if (pos >= t.length) {
        throw new FatalXmlError(start, 'xml/truncated', `the file ends inside the tag \`<${name}\` opened at ${this.at(start)}`, 'expected `>` or `/>`');
      }
      const c = t.charCodeAt(pos);
      if (c === 0x3e /* > */) {
        element.end = pos + 1;
        return { element, selfClosing: false, end: pos + 1 };
      }
      if (c === 0x2f /* / */) {
        if (t.charCodeAt(pos + 1) !== 0x3e) {
          throw new FatalXmlError(pos, 'xml/malformed', `\`/\` in the tag \`<${name}\` must be followed by \`>\``, 'expected `/>` to close an empty element');
        }
        element.end = pos + 2;
        return { element, selfClosing: true, end: pos + 2 };
      }
      if (pos === before) {
        const previous = element.attributes[element.attributes.length - 1];
        throw new FatalXmlError(
          pos,
          'xml/malformed',
          `expected whitespace, \`>\` or \`/>\` in the tag \`<${name}\`, found \`${describeChar(t, pos)}\``,
          previous && pos > nameEnd
            ? `separate attributes with whitespace; if this belongs to the value of \`${previous.name}\` (at ${this.at(previous.offset)}), a quote inside it ends the value early: write &quot; or &apos;`
            : 'separate attributes with whitespace',
        );
      }
      const attribute = this.attribute(pos, name);
      const first = seen.get(attribute.name);
      if (first !== undefined) {
        this.error(
          pos,
          'xml/duplicate-attribute',
          `attribute \`${attribute.name}\` appears twice on \`<${name}>\` (first at ${this.at(first)})`,
          'each attribute may appear once per element; the first value is kept',
        );
      } else {
        seen.set(attribute.name, pos);
        element.attributes.push(attribute);
      }
      pos = attribute.end;
    }
  }

  private attribute(pos: number, elementName: string): XmlAttribute & { end: number } {
    const t = this.text;
    const { name, end: nameEnd } = this.name(pos, `an attribute name, \`>\` or \`/>\` in the tag \`<${elementName}\``, 'attributes look like name="value"');
    let p = this.skipSpace(nameEnd);
    if (t.charCodeAt(p) !== 0x3d /* = */) {
      throw new FatalXmlError(p, 'xml/attribute-without-value', `attribute \`${name}\` has no value`, `expected ${name}="value"`);
    }
    p = this.skipSpace(p + 1);
    const q = t.charCodeAt(p);
    if (q !== 0x22 && q !== 0x27) {
      throw new FatalXmlError(
        p,
        'xml/unquoted-attribute',
        `the value of attribute \`${name}\` must be in quotes`,
        `expected ${name}="value" or ${name}='value'`,
      );
    }
    const { value, end } = this.attributeValue(p, name);
    return { name, value, offset: pos, end };
  }

  /**
   * Reads a quoted attribute value starting at its opening quote. When the value starts with an expression
   * (leading whitespace allowed), the expression is read to its balanced end first, so quotes, `<`, `>` and `&`
   * inside it belong to the expression; the value then ends at the first matching quote after it.
   */
  private attributeValue(quotePos: number, name: string): { value: TextSpan; end: number } {
    const t = this.text;
    const quote = t.charCodeAt(quotePos);
    const b = new SpanBuilder(this.source);
    let pos = quotePos + 1;
    const lead = this.skipSpace(pos);
    if (isExpressionStart(t, lead)) {
      b.addRaw(t, pos, lead);
      const exprEnd = new ExpressionScanner(this, t, quote).scan(lead);
      b.addExpression(t, lead, exprEnd);
      pos = exprEnd;
    }
    for (;;) {
      if (pos >= t.length) {
        throw new FatalXmlError(
          quotePos,
          'xml/unterminated-attribute',
          `the value of attribute \`${name}\` opened at ${this.at(quotePos)} is never closed`,
          `expected a closing ${String.fromCharCode(quote)}`,
        );
      }
      const c = t.charCodeAt(pos);
      if (c === quote) return { value: b.build(quotePos + 1), end: pos + 1 };
      if (c === 0x3c /* < */) {
        const lineEnd = findLineEnd(t, pos);
        const quoteLater = t.indexOf(String.fromCharCode(quote), pos);
        if (quoteLater >= 0 && quoteLater < lineEnd) {
          throw new FatalXmlError(
            pos,
            'xml/lt-in-attribute',
            `\`<\` is not allowed in the value of attribute \`${name}\``,
            'write `&lt;`, or start the value with an expression `@(...)`',
          );
        }
        throw new FatalXmlError(
          quotePos,
          'xml/unterminated-attribute',
          `the value of attribute \`${name}\` opened at ${this.at(quotePos)} is never closed: a \`<\` follows at ${this.at(pos)}`,
          `expected a closing ${String.fromCharCode(quote)}`,
        );
      }
      if (c === 0x26 /* & */) {
        pos = this.entity(pos, b);
        continue;
      }
      let end = pos + 1;
      while (end < t.length) {
        const d = t.charCodeAt(end);
        if (d === quote || d === 0x3c || d === 0x26) break;
        end++;
      }
      b.addRaw(t, pos, end);
      pos = end;
    }
  }

  private closingTag(pos: number, open: XmlElement): number {
    const t = this.text;
    const { name, end: nameEnd } = this.name(pos + 2, 'an element name after `</`', `expected \`</${open.name}>\``);
    const p = this.skipSpace(nameEnd);
    if (name !== open.name) {
      throw new FatalXmlError(
        pos,
        'xml/mismatched-tag',
        `closing tag \`</${name}>\` does not match \`<${open.name}>\` opened at ${this.at(open.start)}`,
        `expected \`</${open.name}>\``,
      );
    }
    if (t.charCodeAt(p) !== 0x3e) {
      const found = p >= t.length ? 'the end of the file' : `\`${describeChar(t, p)}\``;
      throw new FatalXmlError(
        p,
        p >= t.length ? 'xml/truncated' : 'xml/malformed',
        `expected \`>\` to end the closing tag \`</${name}\`, found ${found}`,
        `expected \`</${name}>\``,
      );
    }
    open.end = p + 1;
    return p + 1;
  }

  /** Element text up to the next `<` that is not inside an expression. */
  private textRun(pos: number, b: SpanBuilder): number {
    const t = this.text;
    while (pos < t.length) {
      const c = t.charCodeAt(pos);
      if (c === 0x3c /* < */) break;
      if (c === 0x40 /* @ */ && isExpressionStart(t, pos)) {
        const end = new ExpressionScanner(this, t, -1).scan(pos);
        b.addExpression(t, pos, end);
        pos = end;
      } else if (c === 0x26 /* & */) {
        pos = this.entity(pos, b);
      } else {
        // A run of ordinary characters is taken at once.
        let end = pos + 1;
        while (end < t.length) {
          const d = t.charCodeAt(end);
          if (d === 0x3c || d === 0x40 || d === 0x26) break;
          end++;
        }
        b.addRaw(t, pos, end);
        pos = end;
      }
    }
    return pos;
  }

  /** Decodes the entity at `pos` (outside expressions, where a bare `&` is an error). */
  private entity(pos: number, b: SpanBuilder): number {
    const t = this.text;
    const e = decodeEntity(t, pos);
    if (e) {
      b.add(e.value, pos, pos + e.length);
      return pos + e.length;
    }
    const semi = findSemicolon(t, pos);
    const ref = semi > pos && /^&#?[A-Za-z0-9_.-]+$/.test(t.slice(pos, semi)) ? t.slice(pos, semi + 1) : null;
    if (ref) {
      this.error(pos, 'xml/unknown-entity', `unknown or invalid entity \`${ref}\``, ENTITY_HINT);
    } else {
      this.error(pos, 'xml/bare-ampersand', 'a bare `&` must be written `&amp;` outside expressions', ENTITY_HINT);
    }
    // Keep the text as written so reading can go on and report further problems.
    return b.addRawChar(t, pos);
  }

  /** `line:column` of an offset, for the expression scanner's messages. */
  position(offset: number): string {
    return this.at(offset);
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Expressions

/**
 * Finds the end of a policy expression `@(...)` or `@{...}` by balanced `() {} []`, skipping C# string literals
 * (regular, verbatim `@"..."`, interpolated `$"...{hole}..."` and `$@"..."`/`@$"..."`), char literals and comments.
 * It reads "logical" characters: a valid XML entity (`&quot;`, `&lt;`, ...) counts as the character it stands for,
 * so XML-escaped expressions scan the same as raw ones.
 */
class ExpressionScanner {
  constructor(
    private readonly reader: Reader,
    private readonly t: string,
    /** The quote char code of the attribute holding the expression, or -1 in element text. */
    private readonly attributeQuote: number,
  ) {}

  /** `start` is the offset of `@`; returns the offset one past the closing `)` or `}`. */
  /** Interpolated strings open inside interpolation holes, counted to XML_LIMITS.interpolationDepth. */
  private holes = 0;

  scan(start: number): number {
    return this.code(start + 1, start, this.t[start + 1] === '(' ? '`@(`' : '`@{`', 'expression');
  }

  /** Logical character at `i`: [char code, raw width]. */
  private ch(i: number): [number, number] {
    const c = this.t.charCodeAt(i);
    if (c === 0x26) {
      const e = decodeEntity(this.t, i);
      if (e) return [e.value.charCodeAt(0), e.length];
    }
    return [c, 1];
  }

  private unterminated(at: number, what: string, innermost?: { close: number; at: number }, why = ''): FatalXmlError {
    const expected = innermost
      ? `expected \`${String.fromCharCode(innermost.close)}\` to close \`${this.t[innermost.at]}\` at ${this.reader.position(innermost.at)}`
      : 'check that every `(`, `{`, `[` and string quote in the expression is closed';
    return new FatalXmlError(at, 'xml/unterminated-expression', `${what} opened at ${this.reader.position(at)} is never closed${why}`, expected);
  }

  /**
   * Scans code from the opening bracket at `open` until it is balanced. `owner`/`ownerAt` describe the enclosing
   * construct for error messages (the expression itself, or an interpolation hole).
   */
  private code(open: number, ownerAt: number, owner: string, kind: 'expression' | 'hole'): number {
    const t = this.t;
    const stack: Array<{ close: number; at: number }> = [{ close: closerOf(t.charCodeAt(open)), at: open }];
    let i = open + 1;
    while (stack.length > 0) {
      if (i >= t.length) throw this.unterminated(ownerAt, kind === 'expression' ? `expression ${owner}` : owner, stack[stack.length - 1]);
      const [c, w] = this.ch(i);
      switch (c) {
        case 0x28: // (
        case 0x5b: // [
        case 0x7b: // {
          stack.push({ close: closerOf(c), at: i });
          i += w;
          break;
        case 0x29: // )
        case 0x5d: // ]
        case 0x7d: {
          // }
          const top = stack.pop()!;
          if (top.close !== c) {
            throw new FatalXmlError(
              i,
              'xml/unbalanced-expression',
              `\`${String.fromCharCode(c)}\` does not close \`${t[top.at]}\` opened at ${this.reader.position(top.at)} in the ${kind === 'expression' ? `expression ${owner}` : owner} opened at ${this.reader.position(ownerAt)}`,
              `expected \`${String.fromCharCode(top.close)}\``,
            );
          }
          i += w;
          break;
        }
        case 0x22: // "
        case 0x27: {
          // '
          try {
            i = c === 0x22 ? this.string(i, i + w, false, false) : this.charLiteral(i, i + w);
          } catch (e) {
            // A raw attribute quote that opens no complete literal is almost always the end of the attribute value
            // reached before the expression was closed: report the expression, not the "literal".
            if (!(e instanceof FatalXmlError) || kind !== 'expression' || w !== 1 || c !== this.attributeQuote) throw e;
            throw this.unterminated(ownerAt, `expression ${owner}`, stack[stack.length - 1], `: the attribute value ends at ${this.reader.position(i)}`);
          }
          break;
        }
        case 0x40: {
          // @"..." verbatim, @$"..." interpolated verbatim; otherwise a verbatim identifier such as @class
          const [n1, w1] = this.ch(i + w);
          if (n1 === 0x22) i = this.string(i, i + w + w1, true, false);
          else if (n1 === 0x24 && this.ch(i + w + w1)[0] === 0x22) i = this.string(i, i + w + w1 + this.ch(i + w + w1)[1], true, true);
          else i += w;
          break;
        }
        case 0x24: {
          // $"..." interpolated, $@"..." interpolated verbatim
          const [n1, w1] = this.ch(i + w);
          if (n1 === 0x22) i = this.string(i, i + w + w1, false, true);
          else if (n1 === 0x40 && this.ch(i + w + w1)[0] === 0x22) i = this.string(i, i + w + w1 + this.ch(i + w + w1)[1], true, true);
          else i += w;
          break;
        }
        case 0x2f: {
          // comments
          const [n1, w1] = this.ch(i + w);
          if (n1 === 0x2f) {
            i = findLineEnd(t, i);
          } else if (n1 === 0x2a) {
            const close = t.indexOf('*/', i + w + w1);
            if (close < 0) throw this.unterminated(i, 'comment `/*`');
            i = close + 2;
          } else {
            i += w;
          }
          break;
        }
        default:
          i += w;
      }
    }
    return i;
  }

  /**
   * Skips a string literal whose opening quote ends just before `i`; `start` is where the literal (with its
   * `@`/`$` prefix) begins. Returns the offset one past the closing quote.
   */
  private string(start: number, i: number, verbatim: boolean, interpolated: boolean): number {
    const t = this.t;
    const what = `string literal ${t.slice(start, i).replace(/&quot;/g, '"')}`;
    for (;;) {
      if (i >= t.length) throw this.stringError(start, what);
      const [c, w] = this.ch(i);
      if (!verbatim && (c === 0x0a || c === 0x0d)) throw this.stringError(start, what, ' on its line');
      if (c === 0x22) {
        if (verbatim && this.ch(i + w)[0] === 0x22) {
          i += w + this.ch(i + w)[1];
          continue;
        }
        return i + w;
      }
      if (c === 0x5c /* \ */ && !verbatim) {
        i += w;
        if (i < t.length) i += this.ch(i)[1];
        continue;
      }
      if (interpolated && c === 0x7b /* { */) {
        const [n1, w1] = this.ch(i + w);
        if (n1 === 0x7b) {
          i += w + w1; // `{{` is a literal brace
          continue;
        }
        if (++this.holes > XML_LIMITS.interpolationDepth) {
          throw new FatalXmlError(
            i,
            'xml/too-deep',
            `interpolated strings are nested more than ${XML_LIMITS.interpolationDepth} levels deep in this expression`,
            'build the string in steps with variables',
          );
        }
        i = this.code(i, i, `interpolation hole \`{\` of the ${what}`, 'hole');
        this.holes--;
        continue;
      }
      i += w;
    }
  }

  private stringError(start: number, what: string, where = ''): FatalXmlError {
    return new FatalXmlError(
      start,
      'xml/unterminated-string',
      `${what} opened at ${this.reader.position(start)} in an expression is never closed${where}`,
      'close it with `"`; inside a regular string write `\\"` for a quote, inside a verbatim string `""`',
    );
  }

  /** A C# char literal holds exactly one character or one escape sequence (`'\''`, `'\n'`, `'\u0041'`). */
  private charLiteral(start: number, i: number): number {
    const t = this.t;
    const [c, w] = this.ch(i);
    if (i < t.length && c !== 0x0a && c !== 0x0d && c !== 0x27) {
      i += w;
      if (c === 0x5c) {
        // An escape: the escaped character, then up to 8 hex digits for \x, \u, \U.
        if (i < t.length) i += this.ch(i)[1];
        for (let n = 0; n < 8 && /[0-9A-Fa-f]/.test(t[i] ?? ''); n++) i++;
      }
      if (this.ch(i)[0] === 0x27) return i + this.ch(i)[1];
    }
    throw new FatalXmlError(
      start,
      'xml/unterminated-string',
      `character literal \`'\` opened at ${this.reader.position(start)} in an expression is never closed`,
      "a char literal holds one character, e.g. 'a' or '\\''",
    );
  }
}

function kib(chars: number): string {
  return `${Math.ceil(chars / 1024)} KiB`;
}

function closerOf(open: number): number {
  return open === 0x28 ? 0x29 : open === 0x5b ? 0x5d : 0x7d;
}

function isExpressionStart(t: string, i: number): boolean {
  if (t.charCodeAt(i) !== 0x40) return false;
  const n = t.charCodeAt(i + 1);
  return n === 0x28 || n === 0x7b;
}

// ---------------------------------------------------------------------------------------------------------------------
// Characters and entities

const NAMED_ENTITIES: Record<string, string> = { quot: '"', amp: '&', lt: '<', gt: '>', apos: "'" };

/** The entity at `i` (which holds `&`), or null when it is not a valid one. */
function decodeEntity(t: string, i: number): { value: string; length: number } | null {
  const semi = findSemicolon(t, i);
  if (semi < 0) return null;
  const body = t.slice(i + 1, semi);
  const named = NAMED_ENTITIES[body];
  if (named !== undefined) return { value: named, length: semi - i + 1 };
  let code: number;
  if (/^#[0-9]+$/.test(body)) code = Number.parseInt(body.slice(1), 10);
  else if (/^#x[0-9A-Fa-f]+$/.test(body)) code = Number.parseInt(body.slice(2), 16);
  else return null;
  // XML Char production: no NUL, no lone surrogates, nothing past U+10FFFF.
  const valid =
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff);
  if (!valid) return null;
  return { value: String.fromCodePoint(code), length: semi - i + 1 };
}

/** The `;` ending an entity reference that starts at `i`, looked for only as far as the longest valid one could reach. */
function findSemicolon(t: string, i: number): number {
  const limit = Math.min(t.length, i + 12);
  for (let k = i + 1; k < limit; k++) if (t.charCodeAt(k) === 0x3b) return k;
  return -1;
}

function isXmlSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function isNameStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a || (c >= 0xc0 && c !== 0xd7 && c !== 0xf7 && c < 0xfffe);
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0xb7;
}

function findLineEnd(t: string, i: number): number {
  while (i < t.length) {
    const c = t.charCodeAt(i);
    if (c === 0x0a || c === 0x0d) return i;
    i++;
  }
  return i;
}

function describeChar(t: string, i: number): string {
  const c = t[i] ?? '';
  if (c === '\n' || c === '\r') return 'a line break';
  if (c === '`') return 'a backtick';
  return c;
}

// ---------------------------------------------------------------------------------------------------------------------
// Building decoded text that keeps each character's file offset

class SpanBuilder {
  /** Decoded text, in parts joined once by build(); per-character appends made large values quadratic-ish and slow. */
  private readonly parts: string[] = [];
  private length = 0;
  /**
   * Where the text came from, in runs: [file offset, length, raw]. A raw run maps character k to offset + k; a decoded
   * one (an entity, a normalized line break) maps every character to its offset. Offsets per character are only
   * materialised by build() when the text is not one verbatim slice.
   */
  private readonly runs: number[] = [];
  /** Whether the text differs from one contiguous slice of the file (entities, line breaks, a skipped comment). */
  private changed = false;
  /** Offset just after the last raw character taken. */
  private next = -1;
  /** File offset of the first character (for spans that stay verbatim). */
  start = -1;

  constructor(private readonly source: SourceText) {}

  private note(at: number): void {
    if (this.start < 0) this.start = at;
    else if (at !== this.next) this.changed = true;
  }

  /** Adds decoded text that stands for the raw text starting at `at` (an entity or normalized line break). */
  add(value: string, at: number, rawEnd: number): void {
    this.note(at);
    this.changed = true;
    this.parts.push(value);
    this.length += value.length;
    this.runs.push(at, value.length, 0);
    this.next = rawEnd;
  }

  /** Adds raw file text [from, to) that holds no CR (callers split at CR). */
  private addPlain(t: string, from: number, to: number): void {
    if (to <= from) return;
    this.note(from);
    this.parts.push(t.slice(from, to));
    this.length += to - from;
    const n = this.runs.length;
    // Extend the previous raw run when this one continues it.
    if (n >= 3 && this.runs[n - 1] === 1 && this.runs[n - 3]! + this.runs[n - 2]! === from) this.runs[n - 2]! += to - from;
    else this.runs.push(from, to - from, 1);
    this.next = to;
  }

  /** Adds the raw character at `i` (a CR or CRLF becomes one LF, as XML requires); returns the next offset. */
  addRawChar(t: string, i: number): number {
    if (t.charCodeAt(i) === 0x0d) {
      const after = t.charCodeAt(i + 1) === 0x0a ? i + 2 : i + 1;
      this.add('\n', i, after);
      return after;
    }
    this.addPlain(t, i, i + 1);
    return i + 1;
  }

  addRaw(t: string, from: number, to: number): void {
    let i = from;
    while (i < to) {
      let cr = t.indexOf('\r', i);
      if (cr < 0 || cr >= to) cr = to;
      this.addPlain(t, i, cr);
      i = cr < to ? this.addRawChar(t, cr) : to;
    }
  }

  /** Adds an expression's raw range: valid entities are decoded, any other `&` (such as `&&`) is kept as is. */
  addExpression(t: string, from: number, to: number): void {
    let i = from;
    while (i < to) {
      let plain = i;
      while (plain < to) {
        const c = t.charCodeAt(plain);
        if (c === 0x26 || c === 0x0d) break;
        plain++;
      }
      this.addPlain(t, i, plain);
      i = plain;
      if (i >= to) break;
      if (t.charCodeAt(i) === 0x26) {
        const e = decodeEntity(t, i);
        if (e) {
          this.add(e.value, i, i + e.length);
          i += e.length;
          continue;
        }
      }
      i = this.addRawChar(t, i);
    }
  }

  isWhitespace(): boolean {
    for (const p of this.parts) if (!/^[ \t\r\n]*$/.test(p)) return false;
    return true;
  }

  /** `at` is the file offset to use for an empty span. */
  build(at: number): TextSpan {
    if (this.start < 0) return new TextSpan('', this.source, at);
    const text = this.parts.length === 1 ? this.parts[0]! : this.parts.join('');
    if (!this.changed) return new TextSpan(text, this.source, this.start);
    const offsets = new Int32Array(this.length + 1);
    let k = 0;
    for (let r = 0; r < this.runs.length; r += 3) {
      const from = this.runs[r]!;
      const len = this.runs[r + 1]!;
      const raw = this.runs[r + 2] === 1;
      for (let j = 0; j < len; j++) offsets[k++] = raw ? from + j : from;
    }
    offsets[k] = this.next;
    return new TextSpan(text, this.source, offsets);
  }
}

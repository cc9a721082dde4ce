import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { SourceText, TextSpan } from '../diagnostics/source.js';

/**
 * The policy document as read from the user's file: elements with their source positions, attribute values and
 * text as TextSpans (entities decoded, expressions intact, every character mapped back to the file).
 * Comments and processing instructions are dropped; whitespace-only text between elements is dropped.
 */
export interface XmlAttribute {
  name: string;
  /** Decoded value (entities resolved), e.g. `@(context.Request.Headers.GetValueOrDefault("a",""))`. */
  value: TextSpan;
  /** Offset of the attribute name in the file. */
  offset: number;
}

export interface XmlElement {
  kind: 'element';
  name: string;
  attributes: XmlAttribute[];
  children: XmlNode[];
  /** Offset of '<' in the file. */
  start: number;
  /** Offset one past the element's closing '>'. */
  end: number;
  source: SourceText;
}

export interface XmlText {
  kind: 'text';
  /** Decoded text (CDATA sections included verbatim); may contain an expression such as `@{ ... }`. */
  text: TextSpan;
  cdata: boolean;
}

export type XmlNode = XmlElement | XmlText;

export interface ReadResult {
  /** The document element, or null when the file could not be read at all. */
  root: XmlElement | null;
  /** Malformed XML, unterminated expressions, reserved characters, ... each with file:line:col. */
  diagnostics: Diagnostic[];
}

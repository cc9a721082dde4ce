import { lazyLibrary } from '../../engine/policy-sdk.js';

/**
 * fast-xml-parser (~90 ms to import) loads on first use; policies converting XML at request time call it once in
 * compile() so no request pays for the import (src/lazy-library.ts).
 */
export const fastXmlParser = lazyLibrary<typeof import('fast-xml-parser')>('fast-xml-parser');

/**
 * The body converters behind json-to-xml and xml-to-json, pure functions on text. APIM's shapes (Newtonsoft.Json's
 * XML conversion, which APIM uses) are pinned by test/policies/transformation/convert.test.ts:
 * - json-to-xml: the JSON becomes the children of a `<Document>` root; arrays repeat their element; null is an empty
 *   element; names that are not XML names are encoded as XmlConvert does (`_x0020_` for a space); with
 *   attribute-block-name, that property's members become attributes; with namespace-separator/namespace-prefix,
 *   `prefix:name` keys keep their prefix and `{namespace-prefix}{sep}p` keys declare namespaces.
 * - xml-to-json kind="direct": the XML's own structure (root element included, attributes as `@name`, text next to
 *   attributes or elements as `#text`, repeated elements as arrays, the XML declaration as `?xml`);
 *   kind="javascript-friendly": the same without the root's wrapper noise: attributes as plain members, no `?xml`.
 */

export interface JsonToXmlOptions {
  parseDate: boolean;
  namespaceSeparator?: string | undefined;
  namespacePrefix?: string | undefined;
  attributeBlockName?: string | undefined;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;

/** XmlConvert.EncodeLocalName: characters not allowed in an XML name become `_xHHHH_`. */
export function encodeXmlName(name: string): string {
  if (name === '') return '_';
  let out = '';
  let i = 0;
  for (const ch of name) {
    const cp = ch.codePointAt(0)!;
    const ok = i === 0 ? /[A-Za-z_\u00C0-\uFFFF]/.test(ch) : /[A-Za-z0-9_.\-\u00B7\u00C0-\uFFFF]/.test(ch);
    // "_x" that would read as an escape is escaped itself, as XmlConvert does.
    if (ok && !(ch === '_' && /^_x[0-9A-Fa-f]{4}_/.test(name.slice(i)))) out += ch;
    else out += `_x${cp.toString(16).toUpperCase().padStart(4, '0')}_`;
    i += ch.length;
  }
  return out;
}

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeAttr(s: string): string {
  return escapeText(s).replace(/"/g, '&quot;');
}

function scalarText(v: unknown, o: JsonToXmlOptions): string {
  if (typeof v === 'string') {
    // parse-date="false": date strings are copied as they are; true: normalised the way Json.NET reads them.
    if (o.parseDate && ISO_DATE.test(v)) {
      const d = new Date(v);
      if (!Number.isNaN(d.getTime())) return v.endsWith('Z') ? d.toISOString().replace('.000Z', 'Z') : v;
    }
    return v;
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return String(v);
}

function elementName(key: string, o: JsonToXmlOptions): string {
  const sep = o.namespaceSeparator;
  if (sep && key.includes(sep)) {
    const [prefix, local] = [key.slice(0, key.indexOf(sep)), key.slice(key.indexOf(sep) + sep.length)];
    return `${encodeXmlName(prefix)}:${encodeXmlName(local)}`;
  }
  return encodeXmlName(key);
}

function writeValue(name: string, v: unknown, o: JsonToXmlOptions, out: string[]): void {
  if (Array.isArray(v)) {
    for (const item of v) writeValue(name, item, o, out);
    return;
  }
  if (v === null || v === undefined) {
    out.push(`<${name} />`);
    return;
  }
  if (typeof v === 'object') {
    const attrs: string[] = [];
    const children: string[] = [];
    for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
      if (o.attributeBlockName && k === o.attributeBlockName && child && typeof child === 'object' && !Array.isArray(child)) {
        for (const [ak, av] of Object.entries(child as Record<string, unknown>))
          attrs.push(` ${elementName(ak, o)}="${escapeAttr(av === null ? '' : scalarText(av, o))}"`);
        continue;
      }
      if (
        o.namespacePrefix &&
        o.namespaceSeparator &&
        (k === o.namespacePrefix || k.startsWith(`${o.namespacePrefix}${o.namespaceSeparator}`)) &&
        typeof child === 'string'
      ) {
        const p = k === o.namespacePrefix ? '' : k.slice(o.namespacePrefix.length + o.namespaceSeparator.length);
        attrs.push(` xmlns${p ? `:${encodeXmlName(p)}` : ''}="${escapeAttr(child)}"`);
        continue;
      }
      writeValue(elementName(k, o), child, o, children);
    }
    out.push(children.length ? `<${name}${attrs.join('')}>${children.join('')}</${name}>` : `<${name}${attrs.join('')} />`);
    return;
  }
  out.push(`<${name}>${escapeText(scalarText(v, o))}</${name}>`);
}

/** JSON text → XML text; throws a SyntaxError on invalid JSON (the policy reports it). */
export function jsonToXml(json: string, o: JsonToXmlOptions): string {
  const value = JSON.parse(json) as unknown;
  const out: string[] = [];
  writeValue('Document', value, o, out);
  return `<?xml version="1.0" encoding="utf-8"?>${out.join('')}`;
}

export interface XmlToJsonOptions {
  kind: 'direct' | 'javascript-friendly';
  alwaysArrayChildElements: boolean;
}

type Ordered = Array<Record<string, unknown>>;

/** XML text → JSON value; throws an Error with the parser's message on malformed XML. */
export function xmlToJson(xml: string, o: XmlToJsonOptions): unknown {
  const { XMLParser, XMLValidator } = fastXmlParser();
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    ignoreDeclaration: false,
    ignorePiTags: false,
  });
  const nodes = parser.parse(xml) as Ordered;
  const direct = o.kind === 'direct';
  const result: Record<string, unknown> = {};
  for (const n of nodes) {
    const name = nodeName(n);
    if (name === undefined) continue;
    if (name === '?xml') {
      if (direct) result['?xml'] = attributesOf(n, '@');
      continue;
    }
    if (name === '#text') continue;
    addMember(result, name, convertElement(n, name, o, 0), false);
  }
  return result;
}

function nodeName(n: Record<string, unknown>): string | undefined {
  return Object.keys(n).find((k) => k !== ':@');
}

function attributesOf(n: Record<string, unknown>, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  const a = n[':@'] as Record<string, string> | undefined;
  if (a) for (const [k, v] of Object.entries(a)) out[`${prefix}${k}`] = v;
  return out;
}

function addMember(target: Record<string, unknown>, name: string, value: unknown, alwaysArray: boolean): void {
  if (!(name in target)) {
    target[name] = alwaysArray ? [value] : value;
    return;
  }
  const cur = target[name];
  if (Array.isArray(cur)) cur.push(value);
  else target[name] = [cur, value];
}

function convertElement(n: Record<string, unknown>, name: string, o: XmlToJsonOptions, depth: number): unknown {
  const direct = o.kind === 'direct';
  const attrs = attributesOf(n, direct ? '@' : '');
  const children = (n[name] as Ordered | undefined) ?? [];
  const obj: Record<string, unknown> = { ...attrs };
  const texts: string[] = [];
  let hasElements = false;
  for (const c of children) {
    const cn = nodeName(c);
    if (cn === undefined) continue;
    if (cn === '#text') {
      texts.push(String(c['#text']));
      continue;
    }
    if (cn.startsWith('?')) continue;
    hasElements = true;
    addMember(obj, cn, convertElement(c, cn, o, depth + 1), o.alwaysArrayChildElements);
  }
  const text = texts.join('');
  if (!hasElements && Object.keys(attrs).length === 0) return children.length === 0 ? null : text;
  if (text) obj['#text'] = text;
  return obj;
}

import { describe, expect, it } from 'vitest';
import { encodeXmlName, jsonToXml, xmlToJson } from '../../../src/policies/support/convert.js';

/** APIM's conversion shapes (Json.NET's XML conversion), pinned. */
describe('json-to-xml shapes', () => {
  const o = { parseDate: false };
  it('wraps the JSON in <Document>, repeats array elements, empties nulls', () => {
    expect(jsonToXml('{"a":1,"b":[true,"x"],"c":{"d":null},"e":"<&>"}', o)).toBe(
      '<?xml version="1.0" encoding="utf-8"?><Document><a>1</a><b>true</b><b>x</b><c><d /></c><e>&lt;&amp;&gt;</e></Document>',
    );
  });
  it('encodes names that are not XML names as XmlConvert does', () => {
    expect(encodeXmlName('first name')).toBe('first_x0020_name');
    expect(encodeXmlName('1st')).toBe('_x0031_st');
    expect(jsonToXml('{"a b":1}', o)).toContain('<a_x0020_b>1</a_x0020_b>');
  });
  it('attribute-block-name turns a member into attributes; namespace-separator/prefix keep prefixes and declare namespaces', () => {
    expect(jsonToXml('{"item":{"@attrs":{"id":"7"},"name":"n"}}', { ...o, attributeBlockName: '@attrs' })).toContain('<item id="7"><name>n</name></item>');
    expect(jsonToXml('{"root":{"xmlns:p":"urn:p","p:name":"v"}}', { ...o, namespaceSeparator: ':', namespacePrefix: 'xmlns' })).toContain(
      '<root xmlns:p="urn:p"><p:name>v</p:name></root>',
    );
  });
  it('parse-date normalises UTC dates; false copies them', () => {
    expect(jsonToXml('{"d":"2024-01-02T03:04:05.000Z"}', { parseDate: true })).toContain('<d>2024-01-02T03:04:05Z</d>');
    expect(jsonToXml('{"d":"2024-01-02T03:04:05.000Z"}', { parseDate: false })).toContain('<d>2024-01-02T03:04:05.000Z</d>');
  });
  it('throws on invalid JSON', () => {
    expect(() => jsonToXml('{', o)).toThrow(SyntaxError);
  });
});

describe('xml-to-json shapes', () => {
  const xml = '<?xml version="1.0"?><order id="1"><line>a</line><line>b</line><note lang="en">hi</note><empty/></order>';
  it('direct keeps the root, @attributes, #text and the declaration', () => {
    expect(xmlToJson(xml, { kind: 'direct', alwaysArrayChildElements: false })).toEqual({
      '?xml': { '@version': '1.0' },
      order: { '@id': '1', line: ['a', 'b'], note: { '@lang': 'en', '#text': 'hi' }, empty: null },
    });
  });
  it('javascript-friendly drops the declaration and the @ of attributes', () => {
    expect(xmlToJson(xml, { kind: 'javascript-friendly', alwaysArrayChildElements: false })).toEqual({
      order: { id: '1', line: ['a', 'b'], note: { lang: 'en', '#text': 'hi' }, empty: null },
    });
  });
  it('always-array-child-elements makes every child an array', () => {
    expect(xmlToJson('<r><a>1</a></r>', { kind: 'direct', alwaysArrayChildElements: true })).toEqual({ r: { a: ['1'] } });
  });
  it('reports malformed XML with a position', () => {
    expect(() => xmlToJson('<r><a></r>', { kind: 'direct', alwaysArrayChildElements: false })).toThrow(/line 1/);
  });
});

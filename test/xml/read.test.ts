import { describe, expect, it } from 'vitest';
import { SourceText, type TextSpan } from '../../src/diagnostics/source.js';
import { readPolicyXml } from '../../src/xml/read.js';
import type { XmlElement, XmlNode, XmlText } from '../../src/xml/types.js';

function read(xml: string) {
  const source = new SourceText('policy.xml', xml);
  return { source, ...readPolicyXml(source) };
}

/** Reads a document that must be accepted without any diagnostic. */
function ok(xml: string): { source: SourceText; root: XmlElement } {
  const r = read(xml);
  expect(r.diagnostics).toEqual([]);
  expect(r.root).not.toBeNull();
  return { source: r.source, root: r.root! };
}

function elements(nodes: XmlNode[]): XmlElement[] {
  return nodes.filter((n): n is XmlElement => n.kind === 'element');
}

/** Follows the first child element with each name. */
function child(e: XmlElement, ...path: string[]): XmlElement {
  let cur = e;
  for (const name of path) {
    const next = elements(cur.children).find((c) => c.name === name);
    if (!next) throw new Error(`no <${name}> under <${cur.name}>`);
    cur = next;
  }
  return cur;
}

function attr(e: XmlElement, name: string): TextSpan {
  const a = e.attributes.find((x) => x.name === name);
  if (!a) throw new Error(`no attribute ${name} on <${e.name}>`);
  return a.value;
}

function texts(e: XmlElement): XmlText[] {
  return e.children.filter((n): n is XmlText => n.kind === 'text');
}

/** Wraps policy content the way the files do. */
function doc(inner: string): string {
  return `<policies>\n  <inbound>\n    ${inner}\n  </inbound>\n</policies>`;
}

/**
 * The value of the first attribute `name` in `xml` exactly as written between its quotes, found from the raw text
 * (the expected value for raw, entity-free expressions).
 */
function rawBetween(xml: string, open: string, close: string): { text: string; start: number } {
  const start = xml.indexOf(open) + open.length;
  const end = xml.indexOf(close, start);
  return { text: xml.slice(start, end), start };
}

/** Each decoded character must come from where the span says: the same character, an entity for it, or CR/CRLF for LF. */
function expectMapsBack(span: TextSpan): void {
  const src = span.source.text;
  for (let i = 0; i < span.text.length; i++) {
    const off = span.sourceOffset(i);
    const c = span.text[i]!;
    if (src[off] === c) continue;
    if (c === '\n' && src[off] === '\r') continue;
    expect(src[off], `char ${i} (${JSON.stringify(c)}) maps to ${off}`).toBe('&');
  }
}

describe('expressions that are not well-formed XML (stack.md §2 table)', () => {
  it('keeps generics `As<JObject>` inside an attribute expression', () => {
    const xml = doc('<set-variable name="x" value="@(context.Request.Body.As<JObject>(preserveContent: true))" />');
    const { root } = ok(xml);
    const v = attr(child(root, 'inbound', 'set-variable'), 'value');
    expect(v.text).toBe('@(context.Request.Body.As<JObject>(preserveContent: true))');
    expect(v.sourceOffset(0)).toBe(xml.indexOf('@('));
  });

  it('keeps `<` and `&&` inside attribute expressions', () => {
    const { root } = ok(doc('<set-variable name="a" value="@(1 < 2)" /><set-variable name="b" value="@(true && false)" />'));
    const vars = elements(child(root, 'inbound').children);
    expect(vars.map((e) => attr(e, 'value').text)).toEqual(['@(1 < 2)', '@(true && false)']);
  });

  it('reads a `@{ }` block with `<` and `&&` in element text as text, not as tags', () => {
    const block = '@{ if (a < b && c) { return 1; } return 2; }';
    const { root } = ok(doc(`<set-body>${block}</set-body>`));
    const body = child(root, 'inbound', 'set-body');
    expect(body.children).toHaveLength(1);
    expect(texts(body)[0]!.text.text).toBe(block);
    expect(texts(body)[0]!.cdata).toBe(false);
  });

  it('reads `As<JObject>()` in element text without inventing a <JObject> element', () => {
    const expr = '@(context.Request.Body.As<JObject>().ToString())';
    const { root } = ok(doc(`<set-body>${expr}</set-body>`));
    const body = child(root, 'inbound', 'set-body');
    expect(elements(body.children)).toEqual([]);
    expect(texts(body)[0]!.text.text).toBe(expr);
  });

  it('accepts bare `&&` in element text expressions', () => {
    const { root } = ok(doc('<set-body>@(x && y)</set-body>'));
    expect(texts(child(root, 'inbound', 'set-body'))[0]!.text.text).toBe('@(x && y)');
  });

  it("accepts the attribute's own quote character inside the expression", () => {
    const xml = doc('<choose><when condition="@(context.Variables.GetValueOrDefault<bool>("isMobile"))"><base /></when></choose>');
    const { root } = ok(xml);
    const when = child(root, 'inbound', 'choose', 'when');
    expect(when.attributes.map((a) => a.name)).toEqual(['condition']);
    expect(attr(when, 'condition').text).toBe('@(context.Variables.GetValueOrDefault<bool>("isMobile"))');
    expect(elements(when.children).map((e) => e.name)).toEqual(['base']);
  });

  it('decodes XML-escaped expressions and maps every character back to its entity', () => {
    const xml = doc('<when condition="@(h.GetValueOrDefault(&quot;a&quot;,&quot;&quot;) == &quot;b&quot; &amp;&amp; 1 &lt; 2)" />');
    const { root } = ok(xml);
    const v = attr(child(root, 'inbound', 'when'), 'condition');
    expect(v.text).toBe('@(h.GetValueOrDefault("a","") == "b" && 1 < 2)');
    const firstQuote = v.text.indexOf('"');
    expect(v.sourceOffset(firstQuote)).toBe(xml.indexOf('&quot;'));
    expect(v.sourceOffset(firstQuote + 1)).toBe(xml.indexOf('&quot;') + '&quot;'.length);
    expect(v.sourceOffset(v.text.indexOf('<'))).toBe(xml.indexOf('&lt;'));
    expect(v.sourceOffset(v.text.length)).toBe(xml.indexOf('" />'));
    expectMapsBack(v);
  });

  it('reads CDATA verbatim and marks it', () => {
    const { root } = ok(doc('<set-body><![CDATA[@(a < b && c)]]></set-body>'));
    const [t] = texts(child(root, 'inbound', 'set-body'));
    expect(t!.cdata).toBe(true);
    expect(t!.text.text).toBe('@(a < b && c)');
  });
});

describe('finding where an expression ends', () => {
  it('ignores `)` and `}` inside C# strings', () => {
    const { root } = ok(doc('<set-variable name="x" value="@(s.Replace(")", "(") + "}")" />'));
    expect(attr(child(root, 'inbound', 'set-variable'), 'value').text).toBe('@(s.Replace(")", "(") + "}")');
  });

  it('handles verbatim strings with doubled quotes `@"c""d)"`', () => {
    const { root } = ok(doc('<set-variable name="x" value="@(@"c""d)" + x)" />'));
    expect(attr(child(root, 'inbound', 'set-variable'), 'value').text).toBe('@(@"c""d)" + x)');
  });

  it('does not treat `\\` as an escape in verbatim strings (`@"a""\\"`)', () => {
    const expr = String.raw`@(@"C:\dir""\" + (y))`;
    const { root } = ok(doc(`<set-variable name="x" value="${expr}" />`));
    expect(attr(child(root, 'inbound', 'set-variable'), 'value').text).toBe(expr);
  });

  it("handles char literals `')'` and `'\\''`", () => {
    const { root } = ok(doc(`<set-variable name="x" value="@(s.IndexOf(')') > s.IndexOf('\\''))" />`));
    expect(attr(child(root, 'inbound', 'set-variable'), 'value').text).toBe(`@(s.IndexOf(')') > s.IndexOf('\\''))`);
  });

  it('handles the attribute quote as a char literal and escaped char literals `&apos;)&apos;`', () => {
    const { root } = ok(doc(`<set-variable name="x" value="@(s.Trim('"').Split(&apos;)&apos;))" />`));
    expect(attr(child(root, 'inbound', 'set-variable'), 'value').text).toBe(`@(s.Trim('"').Split(')'))`);
  });

  it('handles a backslash-escaped quote in a regular string', () => {
    const { root } = ok(doc('<set-variable name="x" value="@("a\\")" + "(")" />'));
    expect(attr(child(root, 'inbound', 'set-variable'), 'value').text).toBe('@("a\\")" + "(")');
  });

  it('handles interpolated strings with holes that contain strings, braces and `{{` escapes', () => {
    const expr = '@($"{(ok ? "a)" : "b}")} and {{literal}} {d["k"]}" + $@"p""{x.Trim(\'}\')}""")';
    const { root } = ok(doc(`<set-variable name="x" value="${expr}" />`));
    expect(attr(child(root, 'inbound', 'set-variable'), 'value').text).toBe(expr);
  });

  it('handles `@$"..."` (verbatim interpolated) too', () => {
    const expr = '@(@$"a""){b}")';
    const { root } = ok(doc(`<set-variable name="x" value="${expr}" />`));
    expect(attr(child(root, 'inbound', 'set-variable'), 'value').text).toBe(expr);
  });

  it('skips `//` and `/* */` comments holding brackets and quotes', () => {
    const block = '@{\n  /* ) " } */ var x = 1;\n  // it\'s ) "not" a string\n  return x;\n}';
    const { root } = ok(doc(`<set-variable name="x" value="${block}" />`));
    expect(attr(child(root, 'inbound', 'set-variable'), 'value').text).toBe(block);
  });

  it('keeps a CRLF multi-line block in an attribute, with line breaks normalized to LF and positions on the right lines', () => {
    const xml =
      '<policies>\r\n\t<inbound>\r\n\t\t<set-variable name="v" value="@{\r\n\t\t\tvar s = "a<b";\r\n\t\t\treturn s; // it\'s "done"\r\n\t\t}" />\r\n\t</inbound>\r\n</policies>\r\n';
    const { source, root } = ok(xml);
    const sv = child(root, 'inbound', 'set-variable');
    const v = attr(sv, 'value');
    const raw = rawBetween(xml, 'value="', '" />');
    expect(v.text).toBe(raw.text.replace(/\r\n/g, '\n'));
    expect(v.text).not.toContain('\r');
    const varAt = v.text.indexOf('var s');
    expect(v.positionAt(varAt)).toEqual({ file: 'policy.xml', line: 4, column: 4 });
    expect(v.positionAt(v.text.indexOf('return'))).toEqual({ file: 'policy.xml', line: 5, column: 4 });
    expect(source.positionAt(sv.start)).toEqual({ line: 3, column: 3 });
    expectMapsBack(v);
  });

  it('reads several expressions inside mixed element text as one text node', () => {
    const text = 'prefix @(a<b) mid @{ return x<y; } end';
    const xml = doc(`<set-body>${text}</set-body>`);
    const { root } = ok(xml);
    const body = child(root, 'inbound', 'set-body');
    expect(body.children).toHaveLength(1);
    const t = texts(body)[0]!.text;
    expect(t.text).toBe(text);
    expect(t.sourceOffset(t.text.indexOf('@{'))).toBe(xml.indexOf('@{'));
  });

  it("reads single-quoted attributes whose expression contains the attribute's own quote as char literals", () => {
    const expr = `@(h.Get('a') + "it's" + 'b')`;
    const { root } = ok(doc(`<set-header name='x' value='${expr}' />`));
    const sh = child(root, 'inbound', 'set-header');
    expect(attr(sh, 'name').text).toBe('x');
    expect(attr(sh, 'value').text).toBe(expr);
  });

  it('finds expressions after leading whitespace in an attribute and keeps the whitespace', () => {
    const { root } = ok(doc('<set-variable name="x" value="  @(a("b"))" />'));
    expect(attr(child(root, 'inbound', 'set-variable'), 'value').text).toBe('  @(a("b"))');
  });

  it('reads text after the expression up to the closing quote', () => {
    const { root } = ok(doc('<set-variable name="x" value="@(a(")")) tail &amp; more" />'));
    expect(attr(child(root, 'inbound', 'set-variable'), 'value').text).toBe('@(a(")")) tail & more');
  });

  it('treats an `@(` that does not start the value as plain text', () => {
    const { root } = ok(doc('<set-header name="Authorization" value="Bearer @(x) &lt;y&gt;" />'));
    expect(attr(child(root, 'inbound', 'set-header'), 'value').text).toBe('Bearer @(x) <y>');
  });

  it('decodes entities that stand for brackets and quotes before balancing (`&#40;` is `(`)', () => {
    const { root } = ok(doc('<set-variable name="x" value="@(f&#40;1))" />'));
    expect(attr(child(root, 'inbound', 'set-variable'), 'value').text).toBe('@(f(1))');
  });
});

describe('XML surface', () => {
  it('accepts a BOM, an XML declaration, comments before the root and tabs; element offsets point at `<`', () => {
    const xml =
      '\uFEFF<?xml version="1.0" encoding="utf-8"?>\n<!-- header -->\n<policies>\n\t<inbound>\n\t\t<base />\n\t</inbound>\n</policies>\n<!-- trailer -->\n';
    const { source, root } = ok(xml);
    expect(root.name).toBe('policies');
    expect(root.start).toBe(xml.indexOf('<policies>'));
    expect(root.end).toBe(xml.indexOf('</policies>') + '</policies>'.length);
    const base = child(root, 'inbound', 'base');
    expect(base.start).toBe(xml.indexOf('<base'));
    expect(base.end).toBe(xml.indexOf('/>') + 2);
    expect(source.positionAt(base.start)).toEqual({ line: 5, column: 3 });
    expect(base.source).toBe(source);
  });

  it('gives attribute offsets at the attribute name', () => {
    const xml = doc('<set-header name="a" exists-action = \'override\' />');
    const { root } = ok(xml);
    const sh = child(root, 'inbound', 'set-header');
    expect(sh.attributes.map((a) => [a.name, a.offset])).toEqual([
      ['name', xml.indexOf('name=')],
      ['exists-action', xml.indexOf('exists-action')],
    ]);
    expect(attr(sh, 'exists-action').text).toBe('override');
    expect(attr(sh, 'exists-action').sourceOffset(0)).toBe(xml.indexOf('override'));
  });

  it('drops whitespace-only text, keeps mixed text, and joins text split by a comment', () => {
    const xml = '<a>\n  <b/>\n  x <c/> y\n  <d>ab<!-- c -->cd</d>\n</a>';
    const { root } = ok(xml);
    expect(root.children.map((n) => (n.kind === 'element' ? `<${n.name}>` : JSON.stringify(n.text.text)))).toEqual([
      '<b>',
      JSON.stringify('\n  x '),
      '<c>',
      JSON.stringify(' y\n  '),
      '<d>',
    ]);
    const d = texts(child(root, 'd'))[0]!.text;
    expect(d.text).toBe('abcd');
    expect(d.sourceOffset(2)).toBe(xml.indexOf('cd</d>'));
    expect(d.sourceOffset(4)).toBe(xml.indexOf('</d>'));
    expectMapsBack(d);
  });

  it('decodes named and numeric entities, including astral characters, and maps them back', () => {
    const xml = '<value>&#65;&#x42;&#x1F600;&lt;&apos;&quot;&gt;&amp;z</value>';
    const { root } = ok(xml);
    const t = texts(root)[0]!.text;
    expect(t.text).toBe('AB\u{1F600}<\'">&z');
    expect(t.sourceOffset(2)).toBe(xml.indexOf('&#x1F600;'));
    expect(t.sourceOffset(3)).toBe(xml.indexOf('&#x1F600;'));
    expect(t.sourceOffset(t.text.length - 1)).toBe(xml.indexOf('z'));
    expect(t.sourceOffset(t.text.length)).toBe(xml.indexOf('</value>'));
    expectMapsBack(t);
  });

  it('keeps CDATA apart from the surrounding text', () => {
    const { root } = ok('<set-body>a <![CDATA[<b> & c]]> d</set-body>');
    expect(root.children.map((n) => (n.kind === 'text' ? [n.text.text, n.cdata] : n.name))).toEqual([
      ['a ', false],
      ['<b> & c', true],
      [' d', false],
    ]);
  });

  it('gives an empty attribute value an empty span at the value position', () => {
    const xml = '<a b="" />';
    const { root } = ok(xml);
    expect(attr(root, 'b').text).toBe('');
    expect(attr(root, 'b').sourceOffset(0)).toBe(6);
  });

  it('keeps a plain text body verbatim, with its file offset', () => {
    const xml = doc('<set-body template="liquid">{"a": "{{body.x}}"}</set-body>');
    const { root } = ok(xml);
    const t = texts(child(root, 'inbound', 'set-body'))[0]!.text;
    expect(t.text).toBe('{"a": "{{body.x}}"}');
    expect(t.sourceOffset(0)).toBe(xml.indexOf('{"a"'));
  });
});

describe('malformed input: one diagnostic each, at the right place', () => {
  function fails(xml: string) {
    const r = read(xml);
    expect(r.diagnostics, JSON.stringify(r.diagnostics)).toHaveLength(1);
    const d = r.diagnostics[0]!;
    expect(d.severity).toBe('error');
    expect(d.file).toBe('policy.xml');
    expect(d.message.length).toBeGreaterThan(10);
    return { d, root: r.root };
  }

  it('truncated document: reported at the end of the file, naming the unclosed elements', () => {
    const { d, root } = fails('<policies>\n  <inbound>\n    <base />\n');
    expect(root).toBeNull();
    expect([d.code, d.line, d.column]).toEqual(['xml/truncated', 4, 1]);
    expect(d.message).toContain('`<inbound>` opened at 2:3 is never closed');
    expect(d.message).toContain('`<policies>` at 1:1');
    expect(d.hint).toContain('`</inbound>`');
  });

  it('truncated inside a tag: reported at the tag', () => {
    const { d } = fails('<policies>\n  <inbound>\n    <base ');
    expect([d.code, d.line, d.column]).toEqual(['xml/truncated', 3, 5]);
  });

  it('mismatched closing tag: says which tag was opened where and what was found', () => {
    const { d, root } = fails('<policies>\n  <inbound>\n    <base>\n  </inbound>\n</policies>');
    expect(root).toBeNull();
    expect([d.code, d.line, d.column]).toEqual(['xml/mismatched-tag', 4, 3]);
    expect(d.message).toBe('closing tag `</inbound>` does not match `<base>` opened at 3:5');
    expect(d.hint).toBe('expected `</base>`');
  });

  it('unterminated expression in element text: reported where it started', () => {
    const { d } = fails('<policies>\n  <inbound>\n    <set-body>@{ return 1; </set-body>\n  </inbound>\n</policies>');
    expect([d.code, d.line, d.column]).toEqual(['xml/unterminated-expression', 3, 15]);
    expect(d.message).toBe('expression `@{` opened at 3:15 is never closed');
    expect(d.hint).toContain('`}`');
  });

  it('unterminated expression in an attribute: reported where it started, naming the missing bracket', () => {
    const { d } = fails(doc('<set-variable name="x" value="@(foo(1)" />'));
    expect([d.code, d.line, d.column]).toEqual(['xml/unterminated-expression', 3, 35]);
    expect(d.message).toContain('expression `@(` opened at 3:35 is never closed');
    expect(d.hint).toBe('expected `)` to close `(` at 3:36');
  });

  it('unterminated expression in a single-quoted attribute', () => {
    const { d } = fails("<p a='@(x == 'a)'/>");
    expect([d.code, d.line, d.column]).toEqual(['xml/unterminated-expression', 1, 7]);
  });

  it('unclosed attribute quote: reported at the opening quote', () => {
    const { d } = fails(doc('<set-header name="x>\n      <value>a</value>\n    </set-header>'));
    expect([d.code, d.line, d.column]).toEqual(['xml/unterminated-attribute', 3, 22]);
    expect(d.message).toContain('attribute `name`');
    expect(d.hint).toBe('expected a closing "');
  });

  it('unclosed attribute quote at the end of the file', () => {
    const { d } = fails('<a b="x');
    expect([d.code, d.line, d.column]).toEqual(['xml/unterminated-attribute', 1, 6]);
  });

  it('unterminated C# string inside an expression in element text', () => {
    const { d } = fails('<a>\n<set-body>@{ return "abc; }</set-body>\n</a>');
    expect([d.code, d.line, d.column]).toEqual(['xml/unterminated-string', 2, 21]);
    expect(d.message).toContain('opened at 2:21');
  });

  it('mismatched brackets inside an expression', () => {
    const { d } = fails('<p a="@(x[1)"/>');
    expect([d.code, d.line, d.column]).toEqual(['xml/unbalanced-expression', 1, 12]);
    expect(d.hint).toBe('expected `]`');
  });

  it('duplicate attribute: reported at the second one, first value kept', () => {
    const r = read('<p a="1"\n   a="2"/>');
    expect(r.diagnostics).toHaveLength(1);
    expect([r.diagnostics[0]!.code, r.diagnostics[0]!.line, r.diagnostics[0]!.column]).toEqual(['xml/duplicate-attribute', 2, 4]);
    expect(r.root!.attributes.map((a) => a.value.text)).toEqual(['1']);
  });

  it('text after the root element', () => {
    const { d } = fails('<policies/>\n  hello');
    expect([d.code, d.line, d.column]).toEqual(['xml/content-after-root', 2, 3]);
  });

  it('a second root element', () => {
    const { d } = fails('<policies/>\n<policies/>');
    expect([d.code, d.line, d.column]).toEqual(['xml/multiple-roots', 2, 1]);
  });

  it('empty file and comment-only file', () => {
    expect(fails('').d.code).toBe('xml/empty');
    const { d } = fails('<!-- nothing -->\n');
    expect([d.code, d.line, d.column]).toEqual(['xml/empty', 2, 1]);
  });

  it('bare `&` and unknown entities outside expressions', () => {
    const a = fails('<p>a & b</p>').d;
    expect([a.code, a.line, a.column]).toEqual(['xml/bare-ampersand', 1, 6]);
    const b = fails('<p>a &nbsp;</p>').d;
    expect([b.code, b.column]).toEqual(['xml/unknown-entity', 6]);
    expect(b.message).toContain('&nbsp;');
    expect(b.hint).toContain('&amp;');
  });

  it('caps repeated recoverable errors instead of listing thousands', () => {
    const r = read(`<p>${'& '.repeat(5000)}</p>`);
    expect(r.diagnostics).toHaveLength(100);
    expect(r.diagnostics[98]!.code).toBe('xml/bare-ampersand');
    expect(r.diagnostics[99]!.code).toBe('xml/too-many-errors');
    expect(r.root).not.toBeNull();
  });

  it('`<` in a plain attribute value', () => {
    const { d } = fails('<p a="x<y"/>');
    expect([d.code, d.line, d.column]).toEqual(['xml/lt-in-attribute', 1, 8]);
  });

  it('unquoted attribute, attribute without value, missing space between attributes', () => {
    expect(fails('<p a=1/>').d.code).toBe('xml/unquoted-attribute');
    expect(fails('<p a/>').d.code).toBe('xml/attribute-without-value');
    const { d } = fails('<set-header name="x exists-action="override" />');
    expect([d.code, d.column]).toEqual(['xml/malformed', 36]);
    expect(d.hint).toContain('&quot;');
  });

  it('DOCTYPE, misplaced XML declaration, `--` in a comment, stray closing tag', () => {
    expect(fails('<!DOCTYPE p><p/>').d.code).toBe('xml/unsupported-declaration');
    expect(fails('<!-- c -->\n<?xml version="1.0"?><p/>').d).toMatchObject({ code: 'xml/misplaced-declaration', line: 2, column: 1 });
    expect(fails('<p><!-- a -- b --></p>').d).toMatchObject({ code: 'xml/comment-double-hyphen', column: 11 });
    expect(fails('</p>').d.code).toBe('xml/unexpected-closing-tag');
  });

  it('an unterminated comment or CDATA section', () => {
    expect(fails('<p><!-- x </p>').d).toMatchObject({ code: 'xml/unterminated-comment', column: 4 });
    expect(fails('<p><![CDATA[ x </p>').d).toMatchObject({ code: 'xml/unterminated-cdata', column: 4 });
  });
});

/**
 * System.Xml.Linq in policy expressions (issue 12). Allowed types: Microsoft's "API Management policy expressions" page
 * (".NET Framework types allowed": System.Xml.Linq.XAttribute ... XText, XDocument "All, except of: Load"; IMessageBody
 * As<T> for XNode, XElement, XDocument). Expected values follow the .NET API reference on learn.microsoft.com:
 * XDocument.Parse / XElement.Parse (insignificant whitespace dropped by default), XContainer.Descendants / Elements /
 * Element, XElement.Attribute / Value, XName and XNamespace (implicit conversion from string, XNamespace + string),
 * XElement explicit conversion operators (XmlConvert parsing), XNode.ToString() (indented, "<a />" for empty elements,
 * no declaration) and SaveOptions.DisableFormatting.
 */
import { describe, expect, it } from 'vitest';
import { ExpressionEvaluationError, toPolicyString } from '../../src/expressions/index.js';
import { compile, makeContext, run } from './helpers.js';

const ORDER =
  '<?xml version="1.0" encoding="utf-8"?>\n<order xmlns="urn:o" xmlns:p="urn:p" id="7">\n  <item p:sku="a1" qty="2">Pen</item>\n  <item p:sku="b2" qty="3">Ink &amp; paper</item>\n  <note><![CDATA[<raw>]]></note>\n</order>';
const ctx = () => makeContext({ body: ORDER, headers: [['Content-Type', 'application/xml']] });

function table(title: string, cases: Array<[string, string]>): void {
  describe(title, () => {
    it.each(cases)('%s', (text, expected) => expect(toPolicyString(run(text, ctx()))).toBe(expected));
  });
}

function failure(text: string): ExpressionEvaluationError {
  try {
    run(text, ctx());
  } catch (e) {
    if (e instanceof ExpressionEvaluationError) return e;
    throw e;
  }
  throw new Error(`expected ${text} to fail`);
}

table('reading the body as XML', [
  ['@(context.Request.Body.As<XDocument>().Root.Name.LocalName)', 'order'],
  ['@(context.Request.Body.As<XDocument>().Root.Name.NamespaceName)', 'urn:o'],
  ['@(context.Request.Body.As<XDocument>().Root.Name.ToString())', '{urn:o}order'],
  ['@(context.Request.Body.As<XElement>().Attribute("id").Value)', '7'],
  ['@(context.Request.Body.As<XNode>() is XElement)', 'True'],
  ['@(context.Request.Body.As<XDocument>().Declaration.Encoding)', 'utf-8'],
  [
    '@{ var doc = context.Request.Body.As<XDocument>(); XNamespace o = "urn:o"; return string.Join(",", doc.Descendants(o + "item").Select(e => (string)e)); }',
    'Pen,Ink & paper',
  ],
  ['@{ XNamespace p = "urn:p"; return context.Request.Body.As<XElement>().Elements().First().Attribute(p + "sku").Value; }', 'a1'],
  ['@(context.Request.Body.As<XElement>().Elements().Sum(e => (int?)e.Attribute("qty") ?? 0))', '5'],
  ['@(context.Request.Body.As<XElement>().Element("{urn:o}note").Value)', '<raw>'],
  ['@(context.Request.Body.As<XElement>().Element("note") == null)', 'True'],
  ['@(context.Request.Body.As<XElement>().Value)', 'PenInk & paper<raw>'],
  ['@(context.Request.Body.As<XElement>().Descendants().Count())', '3'],
  ['@(context.Request.Body.As<XElement>().Elements().Attributes("qty").Count())', '2'],
  ['@(context.Request.Body.As<XElement>().Elements().First().Parent.Name.LocalName)', 'order'],
  ['@(context.Request.Body.As<XElement>().Elements().Last().NodeType)', 'Element'],
  ['@(context.Request.Body.As<XElement>().GetDefaultNamespace().NamespaceName)', 'urn:o'],
  // preserveContent: true leaves the body readable, as for JObject
  [
    '@{ var a = context.Request.Body.As<XDocument>(preserveContent: true); return a.Root.Name.LocalName + context.Request.Body.As<string>().Length; }',
    `order${ORDER.length}`,
  ],
]);

table('XDocument.Parse / XElement.Parse and LINQ to XML', [
  ['@(XElement.Parse("<a><b>1</b><b>2</b></a>").Elements("b").Select(e => (int)e).Sum())', '3'],
  ['@((string)XElement.Parse("<a><b>x</b></a>").Element("c"))', ''],
  ['@((bool)XElement.Parse("<a>1</a>"))', 'True'],
  ['@((double)XElement.Parse("<a> 2.5 </a>"))', '2.5'],
  ['@(System.Xml.Linq.XDocument.Parse("<a>x</a>").Root.Value)', 'x'],
  ['@(XDocument.Parse("<a><b c=\\"1\\"/></a>").Descendants("b").Single().Attribute("c").Value)', '1'],
  ['@(XElement.Parse("<a><b/></a>").Element("b").Name == "b")', 'True'],
  ['@(XElement.Parse("<a><b/><c/></a>").Element("b").NextNode is XElement)', 'True'],
  ['@(XElement.Parse("<a><b/></a>").HasElements)', 'True'],
  ['@(XElement.Parse("<a/>").IsEmpty)', 'True'],
  ['@(XName.Get("{urn:x}a").LocalName)', 'a'],
  ['@(XNamespace.Get("urn:x").GetName("a").NamespaceName)', 'urn:x'],
  ['@(XElement.Parse("<a xmlns:q=\\"urn:q\\"><q:b/></a>").Elements().First().Name.Namespace.NamespaceName)', 'urn:q'],
]);

table('building and changing XML, ToString (XmlWriter indented, two spaces)', [
  ['@(XElement.Parse("<a><b>1</b><c x=\\"1\\"/></a>").ToString())', '<a>\n  <b>1</b>\n  <c x="1" />\n</a>'],
  ['@(XElement.Parse("<a><b>1</b><c x=\\"1\\"/></a>").ToString(SaveOptions.DisableFormatting))', '<a><b>1</b><c x="1" /></a>'],
  ['@(XElement.Parse("<a>t<b>u</b></a>").ToString())', '<a>t<b>u</b></a>'],
  ['@(new XElement("root", new XElement("child", "text"), new XAttribute("id", 5)).ToString())', '<root id="5">\n  <child>text</child>\n</root>'],
  ['@{ XNamespace ns = "urn:x"; return new XElement(ns + "a", new XElement(ns + "b", "v")).ToString(); }', '<a xmlns="urn:x">\n  <b>v</b>\n</a>'],
  ['@(new XElement("a", "x < y & z").ToString())', '<a>x &lt; y &amp; z</a>'],
  [
    '@{ var e = XElement.Parse("<a><b/></a>"); e.Element("b").SetAttributeValue("k", "v"); e.SetElementValue("c", 3); e.Add(new XComment("n")); return e.ToString(SaveOptions.DisableFormatting); }',
    '<a><b k="v" /><c>3</c><!--n--></a>',
  ],
  ['@{ var e = XElement.Parse("<a><b/><c/></a>"); e.Element("b").Remove(); return e.ToString(SaveOptions.DisableFormatting); }', '<a><c /></a>'],
  [
    '@{ var d = context.Request.Body.As<XDocument>(); d.Root.Element("{urn:o}note").Remove(); return d.ToString(); }',
    '<order xmlns="urn:o" xmlns:p="urn:p" id="7">\n  <item p:sku="a1" qty="2">Pen</item>\n  <item p:sku="b2" qty="3">Ink &amp; paper</item>\n</order>',
  ],
  ['@(new XDocument(new XElement("a")).ToString())', '<a />'],
  ['@(new XAttribute("k", "a\\"b").ToString())', 'k="a&quot;b"'],
]);

describe('errors', () => {
  it('malformed XML raises XmlException', () => {
    const e = failure('@(XDocument.Parse("<a><b></a>").Root)');
    expect(e.exceptionType).toBe('XmlException');
    expect(e.message).toMatch(/Line 1, position \d+/);
  });
  it('an undeclared prefix raises XmlException', () => {
    expect(failure('@(XElement.Parse("<q:a/>").Name)').exceptionType).toBe('XmlException');
  });
  it('the body is consumed without preserveContent: a second read throws InvalidOperationException', () => {
    expect(failure('@{ var a = context.Request.Body.As<XDocument>(); return context.Request.Body.As<string>(); }').exceptionType).toBe(
      'InvalidOperationException',
    );
  });
  it('(int) on a missing element throws ArgumentNullException; (int?) gives null', () => {
    expect(failure('@((int)XElement.Parse("<a/>").Element("b"))').exceptionType).toBe('ArgumentNullException');
    expect(run('@((int?)XElement.Parse("<a/>").Element("b") == null)')).toBe(true);
  });
  it('nesting deeper than 128 levels is refused with XmlException, not a stack overflow', () => {
    const deep = '<a>'.repeat(129) + '</a>'.repeat(129);
    const e = failure(`@(XDocument.Parse("${deep}").Root.Name.LocalName)`);
    expect(e.exceptionType).toBe('XmlException');
    expect(e.message).toContain('more than 128 levels');
    expect(run(`@(XDocument.Parse("${'<a>'.repeat(128) + '</a>'.repeat(128)}").Descendants().Count())`)).toBe(128);
  });
  it('a DTD is prohibited (XmlReaderSettings.DtdProcessing defaults to Prohibit), so entity bombs never expand', () => {
    const e = failure('@(XDocument.Parse("<!DOCTYPE a [<!ENTITY x \\"xxxxxxxx\\">]><a>&x;&x;</a>").Root.Value)');
    expect(e.exceptionType).toBe('XmlException');
    expect(e.message).toContain('DTD is prohibited');
  });
  it.each([
    ['@{ var r = XmlReader.Create(""); return 1; }', /^policy\.xml:1:12: error expr\/type: "XmlReader" is not available in APIM policy expressions/],
    ['@(context.Request.Body.As<XmlDocument>())', /^policy\.xml:1:27: error expr\/type: "XmlDocument" is not available in APIM policy expressions/],
    ['@(XDocument.Load("a.xml"))', /^policy\.xml:1:13: error expr\/type: XDocument.Load is not available in APIM policy expressions/],
    ['@(context.Request.Body.As<Uri>())', /^policy\.xml:1:\d+: error expr\/type: Body.As<Uri>\(\) is not available in APIM policy expressions/],
  ])('load-time error: %s', (text, expected) => {
    const { expr, errors } = compile(text);
    expect(expr).toBeNull();
    expect(errors[0]).toMatch(expected);
  });
});

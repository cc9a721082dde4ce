/**
 * System.Xml.Linq bindings: the types APIM's "policy expressions" page allows (XAttribute, XCData, XComment,
 * XContainer, XDeclaration, XDocument except Load, XElement, XName, XNamespace, XNode, XObject,
 * XProcessingInstruction, XText, the Extensions class, System.Xml.XmlNodeType). Behaviour lives in src/dotnet/xml.ts.
 */
import { DateTime } from '../../dotnet/datetime.js';
import { DotNetException } from '../../dotnet/exceptions.js';
import { Decimal } from '../../dotnet/decimal.js';
import {
  SAVE_DISABLE_FORMATTING,
  XAttribute,
  XCData,
  XComment,
  XContainer,
  XDeclaration,
  XDocument,
  XElement,
  XName,
  XNamespace,
  XNode,
  XObject,
  XProcessingInstruction,
  XText,
  XML_NODE_TYPES,
} from '../../dotnet/xml.js';
import { enumerableOf, isNullable, named, T, unwrapNullable, type CsType } from '../types.js';
import { defineExplicitConversion, defineImplicitConversion } from '../conversions.js';
import { defineOperator } from '../operators.js';
import { csEquals } from '../runtime.js';
import { defineNamespaces, defineType, elementTypeOf, type CallSite, type Member, type MethodBinder } from './registry.js';
import { method, opt, prop, rest, sig } from './sig.js';
import { defineEnum } from './core.js';

defineNamespaces('System.Xml', 'System.Xml.Linq');

const S = T.string;
const B = T.bool;
const O = T.object;
const XN = named('XName');
const XNS = named('XNamespace');
const XOBJ = named('XObject');
const XNODE = named('XNode');
const XCONT = named('XContainer');
const XEL = named('XElement');
const XDOC = named('XDocument');
const XATTR = named('XAttribute');
const XDECL = named('XDeclaration');
const SAVE = named('SaveOptions');
const LOAD = named('LoadOptions');
const ELS = enumerableOf(XEL);
const NODES = enumerableOf(XNODE);
const ATTRS = enumerableOf(XATTR);

defineEnum('SaveOptions', { None: 0, DisableFormatting: SAVE_DISABLE_FORMATTING, OmitDuplicateNamespaces: 2 }, ['System.Xml.Linq.SaveOptions'], true);
defineEnum('LoadOptions', { None: 0, PreserveWhitespace: 1, SetBaseUri: 2, SetLineInfo: 4 }, ['System.Xml.Linq.LoadOptions'], true);
defineEnum('XmlNodeType', XML_NODE_TYPES, ['System.Xml.XmlNodeType']);

const clr = (name: string): string[] => [`System.Xml.Linq.${name}`];
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any class (some have private constructors)
const is =
  (cls: abstract new (...a: any[]) => unknown) =>
  (v: unknown): boolean =>
    v instanceof cls;

// ---- names ---------------------------------------------------------------------------------------------------------
defineType({
  name: 'XName',
  aliases: clr('XName'),
  isInstance: is(XName),
  instance: {
    LocalName: prop(S, (n: XName) => n.LocalName, undefined, true),
    Namespace: prop(XNS, (n: XName) => n.Namespace, undefined, true),
    NamespaceName: prop(S, (n: XName) => n.NamespaceName, undefined, true),
  },
  statics: {
    Get: method(
      sig([S], XN, (s: string) => XName.Get(s)),
      sig([S, S], XN, (l: string, ns: string) => XName.Get(l, ns)),
    ),
  },
});
defineType({
  name: 'XNamespace',
  aliases: clr('XNamespace'),
  isInstance: (v) => v instanceof XNamespace,
  instance: {
    NamespaceName: prop(S, (n: XNamespace) => n.NamespaceName, undefined, true),
    GetName: method(sig([S], XN, (n: XNamespace, l: string) => n.GetName(l))),
  },
  statics: {
    None: prop(XNS, () => XNamespace.None, undefined, true),
    Xml: prop(XNS, () => XNamespace.Xml, undefined, true),
    Xmlns: prop(XNS, () => XNamespace.Xmlns, undefined, true),
    Get: method(sig([S], XNS, (s: string) => XNamespace.Get(s))),
  },
});
// implicit operator XName(string) / XNamespace(string); XNamespace + string → XName (LINQ to XML reference)
defineImplicitConversion((from, to) => {
  if (from.name !== 'string') return undefined;
  if (to.name === 'XName') return (v) => (v === null || v === undefined ? null : XName.Get(v as string));
  if (to.name === 'XNamespace') return (v) => (v === null || v === undefined ? null : XNamespace.Get(v as string));
  return undefined;
});
defineOperator('+', 'XNamespace', 'string', { type: XN, fn: (ns: XNamespace, l: string) => ns.GetName(l) });
for (const [l, r] of [
  ['XName', 'XName'],
  ['XName', 'string'],
  ['string', 'XName'],
  ['XNamespace', 'XNamespace'],
  ['XNamespace', 'string'],
  ['string', 'XNamespace'],
] as const) {
  const conv = (v: unknown, t: string): unknown => (typeof v === 'string' ? (t === 'XName' ? XName.Get(v) : XNamespace.Get(v)) : v);
  const kind = l === 'string' ? r : l;
  defineOperator('==', l, r, { type: B, fn: (a: unknown, b: unknown) => csEquals(conv(a, kind), conv(b, kind)) });
}

// ---- nodes ---------------------------------------------------------------------------------------------------------
const optName = opt(XN, null);
const contentArgs = rest(O);

defineType({
  name: 'XObject',
  aliases: clr('XObject'),
  isInstance: is(XObject),
  instance: {
    NodeType: prop(named('XmlNodeType'), (o: XObject) => o.NodeType),
    Parent: prop(XEL, (o: XObject) => o.Parent),
    Document: prop(XDOC, (o: XObject) => o.Document),
  },
});

defineType({
  name: 'XNode',
  aliases: clr('XNode'),
  bases: () => [XOBJ],
  isInstance: is(XNode),
  instance: {
    NextNode: prop(XNODE, (n: XNode) => n.NextNode),
    PreviousNode: prop(XNODE, (n: XNode) => n.PreviousNode),
    Remove: method(sig([], T.void, (n: XNode) => n.Remove())),
    ReplaceWith: method(sig([contentArgs], T.void, (n: XNode, c: unknown[]) => n.ReplaceWith(c))),
    AddAfterSelf: method(sig([contentArgs], T.void, (n: XNode, c: unknown[]) => n.AddAfterSelf(c))),
    AddBeforeSelf: method(sig([contentArgs], T.void, (n: XNode, c: unknown[]) => n.AddBeforeSelf(c))),
    Ancestors: method(sig([optName], ELS, (n: XNode, x: XName | null) => n.Ancestors(x))),
    ElementsAfterSelf: method(sig([optName], ELS, (n: XNode, x: XName | null) => n.ElementsAfterSelf(x))),
    ElementsBeforeSelf: method(sig([optName], ELS, (n: XNode, x: XName | null) => n.ElementsBeforeSelf(x))),
    NodesAfterSelf: method(sig([], NODES, (n: XNode) => n.NodesAfterSelf())),
    ToString: method(
      sig([], S, (n: XNode) => n.ToString()),
      sig([SAVE], S, (n: XNode, o: number) => n.ToString(o)),
    ),
  },
});

defineType({
  name: 'XContainer',
  aliases: clr('XContainer'),
  bases: () => [XNODE],
  isInstance: is(XContainer),
  instance: {
    FirstNode: prop(XNODE, (c: XContainer) => c.FirstNode),
    LastNode: prop(XNODE, (c: XContainer) => c.LastNode),
    Nodes: method(sig([], NODES, (c: XContainer) => c.Nodes())),
    Elements: method(sig([optName], ELS, (c: XContainer, x: XName | null) => c.Elements(x))),
    Element: method(sig([XN], XEL, (c: XContainer, x: XName) => c.Element(x))),
    Descendants: method(sig([optName], ELS, (c: XContainer, x: XName | null) => c.Descendants(x))),
    DescendantNodes: method(sig([], NODES, (c: XContainer) => c.DescendantNodes())),
    Add: method(sig([contentArgs], T.void, (c: XContainer, x: unknown[]) => c.Add(x))),
    AddFirst: method(sig([contentArgs], T.void, (c: XContainer, x: unknown[]) => c.AddFirst(x))),
    RemoveNodes: method(sig([], T.void, (c: XContainer) => c.RemoveNodes())),
    ReplaceNodes: method(sig([contentArgs], T.void, (c: XContainer, x: unknown[]) => c.ReplaceNodes(x))),
  },
});

const parseOpts = (o: number | undefined): boolean => ((o ?? 0) & 1) === 1;

defineType({
  name: 'XElement',
  aliases: clr('XElement'),
  bases: () => [XCONT],
  isInstance: is(XElement),
  ctor: (site) =>
    method(
      sig([XN], XEL, (n: XName) => new XElement(n), { nonNull: true }),
      sig([XN, contentArgs], XEL, (n: XName, c: unknown[]) => new XElement(n, c), { nonNull: true }),
      sig([XEL], XEL, (e: XElement) => e.clone(), { nonNull: true }),
    ).bind(site),
  instance: {
    Name: prop(
      XN,
      (e: XElement) => e.Name,
      (e: XElement, v: unknown) => {
        if (!v) throw new DotNetException('ArgumentNullException', "Value cannot be null. (Parameter 'value')");
        e.Name = v as XName;
      },
      true,
    ),
    Value: prop(
      S,
      (e: XElement) => e.Value,
      (e: XElement, v: unknown) => (e.Value = v as string),
      true,
    ),
    IsEmpty: prop(B, (e: XElement) => e.IsEmpty),
    HasElements: prop(B, (e: XElement) => e.HasElements),
    HasAttributes: prop(B, (e: XElement) => e.HasAttributes),
    FirstAttribute: prop(XATTR, (e: XElement) => e.FirstAttribute),
    LastAttribute: prop(XATTR, (e: XElement) => e.LastAttribute),
    Attribute: method(sig([XN], XATTR, (e: XElement, n: XName) => e.Attribute(n))),
    Attributes: method(sig([optName], ATTRS, (e: XElement, n: XName | null) => e.Attributes(n))),
    SetAttributeValue: method(sig([XN, O], T.void, (e: XElement, n: XName, v: unknown) => e.SetAttributeValue(n, v))),
    SetElementValue: method(sig([XN, O], T.void, (e: XElement, n: XName, v: unknown) => e.SetElementValue(n, v))),
    SetValue: method(sig([O], T.void, (e: XElement, v: unknown) => e.SetValue(v))),
    RemoveAttributes: method(sig([], T.void, (e: XElement) => e.RemoveAttributes())),
    RemoveAll: method(sig([], T.void, (e: XElement) => e.RemoveAll())),
    AncestorsAndSelf: method(sig([optName], ELS, (e: XElement, n: XName | null) => e.AncestorsAndSelf(n))),
    DescendantsAndSelf: method(sig([optName], ELS, (e: XElement, n: XName | null) => e.DescendantsAndSelf(n))),
    GetDefaultNamespace: method(sig([], XNS, (e: XElement) => e.GetDefaultNamespace())),
    GetNamespaceOfPrefix: method(sig([S], XNS, (e: XElement, p: string) => e.GetNamespaceOfPrefix(p))),
    GetPrefixOfNamespace: method(sig([XNS], S, (e: XElement, ns: XNamespace) => e.GetPrefixOfNamespace(ns))),
  },
  statics: {
    Parse: method(
      sig([S], XEL, (s: string) => XElement.Parse(s), { nonNull: true }),
      sig([S, LOAD], XEL, (s: string, o: number) => XElement.Parse(s, parseOpts(o)), { nonNull: true }),
    ),
  },
});

defineType({
  name: 'XDocument',
  aliases: clr('XDocument'),
  bases: () => [XCONT],
  isInstance: is(XDocument),
  ctor: (site) =>
    method(
      sig([contentArgs], XDOC, (c: unknown[]) => new XDocument(c), { nonNull: true }),
      sig([XDECL, contentArgs], XDOC, (d: XDeclaration, c: unknown[]) => new XDocument([d, ...c]), { nonNull: true }),
      sig([XDOC], XDOC, (d: XDocument) => d.clone(), { nonNull: true }),
    ).bind(site),
  instance: {
    Root: prop(XEL, (d: XDocument) => d.Root),
    Declaration: prop(
      XDECL,
      (d: XDocument) => d.Declaration,
      (d: XDocument, v: unknown) => (d.Declaration = v as XDeclaration | null),
    ),
  },
  statics: {
    Parse: method(
      sig([S], XDOC, (s: string) => XDocument.Parse(s), { nonNull: true }),
      sig([S, LOAD], XDOC, (s: string, o: number) => XDocument.Parse(s, parseOpts(o)), { nonNull: true }),
    ),
    // APIM allows XDocument "All, except of: Load": a clear load-time error instead of "no such member"
    Load: {
      kind: 'method',
      bind: (site: CallSite) =>
        site.b.error(
          site.pos,
          "XDocument.Load is not available in APIM policy expressions (Microsoft's allowed-types list excludes it); use XDocument.Parse(text)",
        ),
    } satisfies Member,
  },
});

defineType({
  name: 'XAttribute',
  aliases: clr('XAttribute'),
  bases: () => [XOBJ],
  isInstance: is(XAttribute),
  ctor: (site) => method(sig([XN, O], XATTR, (n: XName, v: unknown) => new XAttribute(n, xmlText(v)), { nonNull: true })).bind(site),
  instance: {
    Name: prop(XN, (a: XAttribute) => a.Name, undefined, true),
    Value: prop(
      S,
      (a: XAttribute) => a.Value,
      (a: XAttribute, v: unknown) => (a.Value = v as string),
      true,
    ),
    IsNamespaceDeclaration: prop(B, (a: XAttribute) => a.IsNamespaceDeclaration),
    NextAttribute: prop(XATTR, (a: XAttribute) => a.NextAttribute),
    PreviousAttribute: prop(XATTR, (a: XAttribute) => a.PreviousAttribute),
    Remove: method(sig([], T.void, (a: XAttribute) => a.Remove())),
    SetValue: method(sig([O], T.void, (a: XAttribute, v: unknown) => a.SetValue(v))),
    ToString: method(sig([], S, (a: XAttribute) => a.toDotNetString())),
  },
});

function xmlText(v: unknown): string {
  if (v === null || v === undefined) throw new DotNetException('ArgumentNullException', "Value cannot be null. (Parameter 'value')");
  return typeof v === 'string' ? v : typeof v === 'boolean' ? (v ? 'true' : 'false') : String(v);
}

function textNodeType(name: string, cls: typeof XText | typeof XComment, base: CsType): void {
  defineType({
    name,
    aliases: clr(name),
    bases: () => [base],
    isInstance: is(cls),
    ctor: (site) => method(sig([S], named(name), (s: string) => new cls(xmlText(s)), { nonNull: true })).bind(site),
    instance: {
      Value: prop(
        S,
        (t: XText) => t.Value,
        (t: XText, v: unknown) => (t.Value = xmlText(v)),
        true,
      ),
    },
  });
}
textNodeType('XText', XText, XNODE);
textNodeType('XCData', XCData, named('XText'));
textNodeType('XComment', XComment, XNODE);
defineType({
  name: 'XProcessingInstruction',
  aliases: clr('XProcessingInstruction'),
  bases: () => [XNODE],
  isInstance: is(XProcessingInstruction),
  ctor: (site) =>
    method(sig([S, S], named('XProcessingInstruction'), (t: string, d: string) => new XProcessingInstruction(t, d), { nonNull: true })).bind(site),
  instance: {
    Target: prop(S, (p: XProcessingInstruction) => p.Target),
    Data: prop(S, (p: XProcessingInstruction) => p.Data),
  },
});
defineType({
  name: 'XDeclaration',
  aliases: clr('XDeclaration'),
  isInstance: is(XDeclaration),
  ctor: (site) => method(sig([S, S, S], XDECL, (v: string, e: string, s: string) => new XDeclaration(v, e, s), { nonNull: true })).bind(site),
  instance: {
    Version: prop(S, (d: XDeclaration) => d.Version),
    Encoding: prop(S, (d: XDeclaration) => d.Encoding),
    Standalone: prop(S, (d: XDeclaration) => d.Standalone),
    ToString: method(sig([], S, (d: XDeclaration) => d.toDotNetString())),
  },
});

// ---- System.Xml.Linq.Extensions: axis methods over sequences --------------------------------------------------------
function sequenceAxis(
  result: CsType,
  pick: (n: XNode | XAttribute, name: XName | null) => unknown[],
  accepts: (el: CsType) => boolean,
): { kind: 'method'; bind: MethodBinder } {
  return {
    kind: 'method',
    bind: (site) => {
      const src = site.recv;
      const en = src ? elementTypeOf(src.type) : undefined;
      if (!src || !en || !accepts(en.elem) || site.args.length > 1) return null;
      const nameC = site.args[0] ? site.b.convert(site.b.compile(site.args[0].value, XN), XN) : null;
      const c = src.c;
      const iterate = en.iterate;
      return {
        type: result,
        c: (ctx, f) => {
          const items = c(ctx, f);
          if (items === null || items === undefined) throw new DotNetException('ArgumentNullException', "Value cannot be null. (Parameter 'source')");
          const name = nameC ? (nameC(ctx, f) as XName | null) : null;
          const out: unknown[] = [];
          for (const n of iterate(items)) if (n) out.push(...pick(n as XNode, name));
          return out;
        },
      };
    },
  };
}
const isXType =
  (...names: string[]) =>
  (t: CsType): boolean =>
    names.includes(t.name);
defineType({
  name: 'IEnumerable',
  instance: {
    Elements: sequenceAxis(ELS, (n, name) => (n instanceof XContainer ? n.Elements(name) : []), isXType('XElement', 'XContainer', 'XDocument')),
    Descendants: sequenceAxis(ELS, (n, name) => (n instanceof XContainer ? n.Descendants(name) : []), isXType('XElement', 'XContainer', 'XDocument')),
    DescendantsAndSelf: sequenceAxis(ELS, (n, name) => (n instanceof XElement ? n.DescendantsAndSelf(name) : []), isXType('XElement')),
    Ancestors: sequenceAxis(ELS, (n, name) => (n instanceof XNode ? n.Ancestors(name) : []), isXType('XElement', 'XNode', 'XText')),
    Attributes: sequenceAxis(ATTRS, (n, name) => (n instanceof XElement ? n.Attributes(name) : []), isXType('XElement')),
    Nodes: sequenceAxis(NODES, (n) => (n instanceof XContainer ? n.Nodes() : []), isXType('XElement', 'XContainer', 'XDocument')),
  },
});

// ---- explicit conversions (string)element, (int)attribute, (bool?)element ... ------------------------------------------
/** XmlConvert's parsing, which the explicit operators of XElement and XAttribute use (invariant, trimmed). */
const XML_PARSERS: Record<string, (s: string) => unknown> = {
  string: (s) => s,
  int: (s) => xmlInteger(s, -2147483648, 2147483647, 'Int32'),
  long: (s) => xmlInteger(s, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'Int64'),
  double: (s) => xmlDouble(s),
  float: (s) => Math.fround(xmlDouble(s)),
  decimal: (s) => {
    const d = Decimal.parse(s.trim());
    if (!d) throw formatError(s, 'Decimal');
    return d;
  },
  bool: (s) => {
    const t = s.trim();
    if (t === 'true' || t === '1') return true;
    if (t === 'false' || t === '0') return false;
    throw formatError(s, 'Boolean');
  },
  DateTime: (s) => DateTime.Parse(s.trim()),
};
function formatError(s: string, type: string): DotNetException {
  return new DotNetException('FormatException', `The string '${s}' is not a valid ${type} value.`);
}
function xmlInteger(s: string, lo: number, hi: number, type: string): number {
  const t = s.trim();
  if (!/^[+-]?\d+$/.test(t)) throw formatError(s, type);
  const v = Number(t);
  if (v < lo || v > hi) throw new DotNetException('OverflowException', `Value was either too large or too small for an ${type}.`);
  return v;
}
function xmlDouble(s: string): number {
  const t = s.trim();
  if (t === 'INF') return Infinity;
  if (t === '-INF') return -Infinity;
  if (t === 'NaN') return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) throw formatError(s, 'Double');
  return Number(t);
}
defineExplicitConversion((from, to) => {
  if (from.name !== 'XElement' && from.name !== 'XAttribute') return undefined;
  const target = unwrapNullable(to);
  const parse = XML_PARSERS[target.name];
  if (!parse) return undefined;
  const nullable = isNullable(to) || target.name === 'string';
  return (v) => {
    if (v === null || v === undefined) {
      if (nullable) return null;
      throw new DotNetException('ArgumentNullException', `Value cannot be null. (Parameter '${from.name === 'XElement' ? 'element' : 'attribute'}')`);
    }
    return parse((v as XElement | XAttribute).Value);
  };
});

export const XML_BODY_TYPES: Record<string, (text: string) => unknown> = {
  XDocument: (s) => XDocument.Parse(s),
  XElement: (s) => XElement.Parse(s),
  // As<XNode>() reads the document; its root element is the node (what XNode.ReadFrom gives for a document body)
  XNode: (s) => XElement.Parse(s),
};

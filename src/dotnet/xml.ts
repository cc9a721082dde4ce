/**
 * System.Xml.Linq (LINQ to XML) as APIM's policy expressions allow it (docs/expressions.md, "XML"): XDocument,
 * XElement, XAttribute, XName, XNamespace, XNode, XText, XCData, XComment, XProcessingInstruction, XDeclaration.
 *
 * Parsing uses fast-xml-parser (validation first, so malformed input raises XmlException with .NET's line/position
 * wording) after a linear pre-scan that bounds nesting depth. Serialisation follows XmlWriter with
 * `XmlWriterSettings.Indent = true` (two spaces, `<a />` for empty elements, no declaration in ToString), which is
 * what `XNode.ToString()` produces; `SaveOptions.DisableFormatting` writes everything on one line.
 */
import type { XMLParser } from 'fast-xml-parser';
import { lazyLibrary } from '../lazy-library.js';
import { DotNetException } from './exceptions.js';

/** Deepest element nesting accepted by Parse / Body.As<XDocument>() (docs/expressions.md, "Limits"). */
export const XML_MAX_DEPTH = 128;

export const XML_NS = 'http://www.w3.org/XML/1998/namespace';
export const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

export function xmlException(message: string): DotNetException {
  return new DotNetException('XmlException', message);
}

// ---- names -------------------------------------------------------------------------------------------------------------

const namespaces = new Map<string, XNamespace>();

export class XNamespace {
  static readonly clrTypeName = 'System.Xml.Linq.XNamespace';
  private readonly names = new Map<string, XName>();
  private constructor(readonly NamespaceName: string) {}

  static Get(uri: string): XNamespace {
    if (uri === null || uri === undefined) throw new DotNetException('ArgumentNullException', "Value cannot be null. (Parameter 'namespaceName')");
    let ns = namespaces.get(uri);
    if (!ns) {
      ns = new XNamespace(uri);
      // one object per URI, like .NET's atomised namespaces (reference equality works); bounded by the documents read
      if (namespaces.size < 10_000) namespaces.set(uri, ns);
    }
    return ns;
  }
  static get None(): XNamespace {
    return XNamespace.Get('');
  }
  static get Xml(): XNamespace {
    return XNamespace.Get(XML_NS);
  }
  static get Xmlns(): XNamespace {
    return XNamespace.Get(XMLNS_NS);
  }
  GetName(localName: string): XName {
    let n = this.names.get(localName);
    if (!n) {
      checkLocalName(localName);
      n = new XName(this, localName);
      if (this.names.size < 10_000) this.names.set(localName, n);
    }
    return n;
  }
  toDotNetString(): string {
    return this.NamespaceName;
  }
  csEquals(o: unknown): boolean {
    return o instanceof XNamespace && o.NamespaceName === this.NamespaceName;
  }
}

function checkLocalName(n: string): void {
  if (!/^[A-Za-z_\u00C0-\uFFEF][\w.\-\u00B7\u00C0-\uFFEF]*$/.test(n)) {
    throw xmlException(
      `The '${n.charAt(0) || ' '}' character, hexadecimal value 0x${(n.charCodeAt(0) || 32).toString(16).toUpperCase()}, cannot be included in a name.`,
    );
  }
}

export class XName {
  static readonly clrTypeName = 'System.Xml.Linq.XName';
  constructor(
    readonly Namespace: XNamespace,
    readonly LocalName: string,
  ) {}
  get NamespaceName(): string {
    return this.Namespace.NamespaceName;
  }
  /** `XName.Get("{urn:x}a")` / implicit conversion from string: expanded name syntax. */
  static Get(expanded: string, ns?: string): XName {
    if (expanded === null || expanded === undefined) throw new DotNetException('ArgumentNullException', "Value cannot be null. (Parameter 'expandedName')");
    if (ns !== undefined) return XNamespace.Get(ns).GetName(expanded);
    if (expanded.startsWith('{')) {
      const close = expanded.indexOf('}');
      if (close < 0) throw xmlException(`The '{' character, hexadecimal value 0x7B, cannot be included in a name.`);
      return XNamespace.Get(expanded.slice(1, close)).GetName(expanded.slice(close + 1));
    }
    return XNamespace.None.GetName(expanded);
  }
  toDotNetString(): string {
    return this.NamespaceName ? `{${this.NamespaceName}}${this.LocalName}` : this.LocalName;
  }
  csEquals(o: unknown): boolean {
    return o instanceof XName && o.LocalName === this.LocalName && o.NamespaceName === this.NamespaceName;
  }
}

function sameName(a: XName, b: XName): boolean {
  return a === b || (a.LocalName === b.LocalName && a.NamespaceName === b.NamespaceName);
}

// ---- node tree ---------------------------------------------------------------------------------------------------------

export type XmlNodeType = 'Element' | 'Attribute' | 'Text' | 'CDATA' | 'ProcessingInstruction' | 'Comment' | 'Document' | 'Whitespace';
export const XML_NODE_TYPES: Record<XmlNodeType | 'None' | 'DocumentType' | 'XmlDeclaration', number> = {
  None: 0,
  Element: 1,
  Attribute: 2,
  Text: 3,
  CDATA: 4,
  ProcessingInstruction: 7,
  Comment: 8,
  Document: 9,
  DocumentType: 10,
  Whitespace: 13,
  XmlDeclaration: 17,
};

export abstract class XObject {
  parent: XContainer | null = null;
  abstract get NodeType(): number;
  get Parent(): XElement | null {
    return this.parent instanceof XElement ? this.parent : null;
  }
  get Document(): XDocument | null {
    let p: XObject | null = this;
    while (p && !(p instanceof XDocument)) p = p.parent;
    return p;
  }
}

export abstract class XNode extends XObject {
  get NextNode(): XNode | null {
    const s = this.parent?.nodes;
    if (!s) return null;
    return s[s.indexOf(this) + 1] ?? null;
  }
  get PreviousNode(): XNode | null {
    const s = this.parent?.nodes;
    if (!s) return null;
    const i = s.indexOf(this);
    return i > 0 ? s[i - 1]! : null;
  }
  Remove(): void {
    const p = this.parent;
    if (!p) throw new DotNetException('InvalidOperationException', 'The parent is missing.');
    p.nodes.splice(p.nodes.indexOf(this), 1);
    this.parent = null;
  }
  ReplaceWith(content: unknown[]): void {
    const p = this.parent;
    if (!p) throw new DotNetException('InvalidOperationException', 'The parent is missing.');
    const i = p.nodes.indexOf(this);
    const added = p.toNodes(content);
    p.nodes.splice(i, 1, ...added);
    this.parent = null;
  }
  AddAfterSelf(content: unknown[]): void {
    const p = this.requireParent();
    p.nodes.splice(p.nodes.indexOf(this) + 1, 0, ...p.toNodes(content));
  }
  AddBeforeSelf(content: unknown[]): void {
    const p = this.requireParent();
    p.nodes.splice(p.nodes.indexOf(this), 0, ...p.toNodes(content));
  }
  private requireParent(): XContainer {
    if (!this.parent) throw new DotNetException('InvalidOperationException', 'The parent is missing.');
    return this.parent;
  }
  Ancestors(name?: XName | null): XElement[] {
    const out: XElement[] = [];
    for (let p = this.Parent; p; p = p.Parent) if (!name || sameName(p.Name, name)) out.push(p);
    return out;
  }
  ElementsAfterSelf(name?: XName | null): XElement[] {
    const s = this.parent?.nodes ?? [];
    return filterElements(s.slice(s.indexOf(this) + 1), name);
  }
  ElementsBeforeSelf(name?: XName | null): XElement[] {
    const s = this.parent?.nodes ?? [];
    return filterElements(s.slice(0, s.indexOf(this)), name);
  }
  NodesAfterSelf(): XNode[] {
    const s = this.parent?.nodes ?? [];
    return s.slice(s.indexOf(this) + 1);
  }
  ToString(options = 0): string {
    const w = new Writer((options & SAVE_DISABLE_FORMATTING) === 0);
    w.node(this, 0);
    return w.out;
  }
  toDotNetString(): string {
    return this.ToString();
  }
  abstract clone(): XNode;
}

export const SAVE_DISABLE_FORMATTING = 1;
export const SAVE_OMIT_DUPLICATE_NAMESPACES = 2;

function filterElements(nodes: readonly XNode[], name?: XName | null): XElement[] {
  const out: XElement[] = [];
  for (const n of nodes) if (n instanceof XElement && (!name || sameName(n.Name, name))) out.push(n);
  return out;
}

export class XText extends XNode {
  static readonly clrTypeName: string = 'System.Xml.Linq.XText';
  constructor(public Value: string) {
    super();
  }
  get NodeType(): number {
    return XML_NODE_TYPES.Text;
  }
  clone(): XText {
    return new XText(this.Value);
  }
}

export class XCData extends XText {
  static override readonly clrTypeName = 'System.Xml.Linq.XCData';
  override get NodeType(): number {
    return XML_NODE_TYPES.CDATA;
  }
  override clone(): XCData {
    return new XCData(this.Value);
  }
}

export class XComment extends XNode {
  static readonly clrTypeName = 'System.Xml.Linq.XComment';
  constructor(public Value: string) {
    super();
  }
  get NodeType(): number {
    return XML_NODE_TYPES.Comment;
  }
  clone(): XComment {
    return new XComment(this.Value);
  }
}

export class XProcessingInstruction extends XNode {
  static readonly clrTypeName = 'System.Xml.Linq.XProcessingInstruction';
  constructor(
    public Target: string,
    public Data: string,
  ) {
    super();
  }
  get NodeType(): number {
    return XML_NODE_TYPES.ProcessingInstruction;
  }
  clone(): XProcessingInstruction {
    return new XProcessingInstruction(this.Target, this.Data);
  }
}

export class XDeclaration {
  static readonly clrTypeName = 'System.Xml.Linq.XDeclaration';
  constructor(
    public Version: string | null,
    public Encoding: string | null,
    public Standalone: string | null,
  ) {}
  toDotNetString(): string {
    let s = '<?xml';
    if (this.Version) s += ` version="${this.Version}"`;
    if (this.Encoding) s += ` encoding="${this.Encoding}"`;
    if (this.Standalone) s += ` standalone="${this.Standalone}"`;
    return s + '?>';
  }
}

export class XAttribute extends XObject {
  static readonly clrTypeName = 'System.Xml.Linq.XAttribute';
  owner: XElement | null = null;
  constructor(
    readonly Name: XName,
    private value: string,
  ) {
    super();
  }
  get NodeType(): number {
    return XML_NODE_TYPES.Attribute;
  }
  override get Parent(): XElement | null {
    return this.owner;
  }
  get Value(): string {
    return this.value;
  }
  set Value(v: string) {
    if (v === null || v === undefined) throw new DotNetException('ArgumentNullException', "Value cannot be null. (Parameter 'value')");
    this.value = v;
  }
  get IsNamespaceDeclaration(): boolean {
    return this.Name.NamespaceName === XMLNS_NS || (this.Name.NamespaceName === '' && this.Name.LocalName === 'xmlns');
  }
  get NextAttribute(): XAttribute | null {
    const a = this.owner?.attrs;
    return a ? (a[a.indexOf(this) + 1] ?? null) : null;
  }
  get PreviousAttribute(): XAttribute | null {
    const a = this.owner?.attrs;
    if (!a) return null;
    const i = a.indexOf(this);
    return i > 0 ? a[i - 1]! : null;
  }
  Remove(): void {
    const o = this.owner;
    if (!o) throw new DotNetException('InvalidOperationException', 'The parent is missing.');
    o.attrs.splice(o.attrs.indexOf(this), 1);
    this.owner = null;
  }
  SetValue(v: unknown): void {
    this.Value = xmlValueString(v);
  }
  toDotNetString(): string {
    const w = new Writer(false);
    return `${w.attrName(this, null)}="${escapeAttr(this.value)}"`;
  }
}

export abstract class XContainer extends XNode {
  readonly nodes: XNode[] = [];

  get FirstNode(): XNode | null {
    return this.nodes[0] ?? null;
  }
  get LastNode(): XNode | null {
    return this.nodes[this.nodes.length - 1] ?? null;
  }
  Nodes(): XNode[] {
    return [...this.nodes];
  }
  Elements(name?: XName | null): XElement[] {
    return filterElements(this.nodes, name);
  }
  Element(name: XName): XElement | null {
    for (const n of this.nodes) if (n instanceof XElement && sameName(n.Name, name)) return n;
    return null;
  }
  Descendants(name?: XName | null): XElement[] {
    const out: XElement[] = [];
    collectDescendants(this, name ?? null, out);
    return out;
  }
  DescendantNodes(): XNode[] {
    const out: XNode[] = [];
    const walk = (c: XContainer): void => {
      for (const n of c.nodes) {
        out.push(n);
        if (n instanceof XContainer) walk(n);
      }
    };
    walk(this);
    return out;
  }
  Add(content: unknown[]): void {
    for (const c of content) this.addOne(c);
  }
  AddFirst(content: unknown[]): void {
    this.nodes.unshift(...this.toNodes(content));
  }
  RemoveNodes(): void {
    for (const n of this.nodes) n.parent = null;
    this.nodes.length = 0;
  }
  ReplaceNodes(content: unknown[]): void {
    this.RemoveNodes();
    this.Add(content);
  }
  /** Content objects as .NET's XContainer.Add takes them: nodes (cloned when already parented), strings, sequences. */
  toNodes(content: unknown[]): XNode[] {
    const tmp = new XElement(XNamespace.None.GetName('tmp'));
    tmp.Add(content);
    const out = [...tmp.nodes];
    for (const n of out) n.parent = this;
    return out;
  }
  protected addOne(c: unknown): void {
    if (c === null || c === undefined) return;
    if (c instanceof XAttribute) {
      if (!(this instanceof XElement)) throw new DotNetException('ArgumentException', 'An attribute cannot be added to content.');
      this.addAttribute(c.owner ? new XAttribute(c.Name, c.Value) : c);
      return;
    }
    if (c instanceof XNode) {
      const n = c.parent ? c.clone() : c;
      n.parent = this;
      this.nodes.push(n);
      return;
    }
    if (Array.isArray(c)) {
      for (const x of c) this.addOne(x);
      return;
    }
    const s = xmlValueString(c);
    const last = this.nodes[this.nodes.length - 1];
    if (last instanceof XText && !(last instanceof XCData)) last.Value += s;
    else {
      const t = new XText(s);
      t.parent = this;
      this.nodes.push(t);
    }
  }
}

function collectDescendants(c: XContainer, name: XName | null, out: XElement[]): void {
  // iterative: depth is bounded at parse time, but trees built in code are not
  const stack: Array<[XContainer, number]> = [[c, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [node, i] = top;
    if (i >= node.nodes.length) {
      stack.pop();
      continue;
    }
    top[1]++;
    const n = node.nodes[i]!;
    if (n instanceof XElement) {
      if (!name || sameName(n.Name, name)) out.push(n);
      stack.push([n, 0]);
    }
  }
}

export class XElement extends XContainer {
  static readonly clrTypeName = 'System.Xml.Linq.XElement';
  readonly attrs: XAttribute[] = [];
  /** `<a></a>` rather than `<a />` once content was set to an empty string (XElement.IsEmpty). */
  private explicitEmpty = false;

  constructor(
    public Name: XName,
    content: unknown[] = [],
  ) {
    super();
    this.Add(content);
  }
  get NodeType(): number {
    return XML_NODE_TYPES.Element;
  }
  static Parse(text: string, preserveWhitespace = false): XElement {
    const doc = parseDocument(text, preserveWhitespace);
    const root = doc.Root!;
    root.parent = null;
    return root;
  }
  get Value(): string {
    let s = '';
    const walk = (c: XContainer): void => {
      for (const n of c.nodes) {
        if (n instanceof XText) s += n.Value;
        else if (n instanceof XElement) walk(n);
      }
    };
    walk(this);
    return s;
  }
  set Value(v: string) {
    if (v === null || v === undefined) throw new DotNetException('ArgumentNullException', "Value cannot be null. (Parameter 'value')");
    this.RemoveNodes();
    if (v === '') this.explicitEmpty = true;
    else this.addOne(v);
  }
  get IsEmpty(): boolean {
    return this.nodes.length === 0 && !this.explicitEmpty;
  }
  get HasElements(): boolean {
    return this.nodes.some((n) => n instanceof XElement);
  }
  get HasAttributes(): boolean {
    return this.attrs.length > 0;
  }
  get FirstAttribute(): XAttribute | null {
    return this.attrs[0] ?? null;
  }
  get LastAttribute(): XAttribute | null {
    return this.attrs[this.attrs.length - 1] ?? null;
  }
  Attribute(name: XName): XAttribute | null {
    return this.attrs.find((a) => sameName(a.Name, name)) ?? null;
  }
  Attributes(name?: XName | null): XAttribute[] {
    return name ? this.attrs.filter((a) => sameName(a.Name, name)) : [...this.attrs];
  }
  addAttribute(a: XAttribute): void {
    if (this.Attribute(a.Name)) throw new DotNetException('InvalidOperationException', 'Duplicate attribute.');
    a.owner = this;
    this.attrs.push(a);
  }
  SetAttributeValue(name: XName, value: unknown): void {
    const a = this.Attribute(name);
    if (value === null || value === undefined) {
      a?.Remove();
      return;
    }
    if (a) a.Value = xmlValueString(value);
    else this.addAttribute(new XAttribute(name, xmlValueString(value)));
  }
  SetElementValue(name: XName, value: unknown): void {
    const e = this.Element(name);
    if (value === null || value === undefined) {
      e?.Remove();
      return;
    }
    if (e) e.Value = xmlValueString(value);
    else this.addOne(new XElement(name, [value]));
  }
  SetValue(value: unknown): void {
    if (value === null || value === undefined) throw new DotNetException('ArgumentNullException', "Value cannot be null. (Parameter 'value')");
    this.Value = xmlValueString(value);
  }
  RemoveAttributes(): void {
    for (const a of this.attrs) a.owner = null;
    this.attrs.length = 0;
  }
  RemoveAll(): void {
    this.RemoveAttributes();
    this.RemoveNodes();
  }
  AncestorsAndSelf(name?: XName | null): XElement[] {
    return [...(!name || sameName(this.Name, name) ? [this] : []), ...this.Ancestors(name)];
  }
  DescendantsAndSelf(name?: XName | null): XElement[] {
    return [...(!name || sameName(this.Name, name) ? [this] : []), ...this.Descendants(name)];
  }
  GetDefaultNamespace(): XNamespace {
    return XNamespace.Get(this.lookupNamespace('') ?? '');
  }
  GetNamespaceOfPrefix(prefix: string): XNamespace | null {
    const ns = this.lookupNamespace(prefix);
    return ns === null ? null : XNamespace.Get(ns);
  }
  GetPrefixOfNamespace(ns: XNamespace): string | null {
    for (let e: XElement | null = this; e; e = e.Parent) {
      for (const a of e.attrs) if (a.Name.NamespaceName === XMLNS_NS && a.Value === ns.NamespaceName) return a.Name.LocalName;
    }
    return null;
  }
  /** The namespace bound to a prefix ('' = default) by xmlns attributes in scope, or null. */
  lookupNamespace(prefix: string): string | null {
    for (let e: XElement | null = this; e; e = e.Parent) {
      for (const a of e.attrs) {
        if (prefix === '' ? a.Name.NamespaceName === '' && a.Name.LocalName === 'xmlns' : a.Name.NamespaceName === XMLNS_NS && a.Name.LocalName === prefix)
          return a.Value;
      }
    }
    if (prefix === 'xml') return XML_NS;
    return null;
  }
  clone(): XElement {
    const e = new XElement(this.Name);
    for (const a of this.attrs) e.addAttribute(new XAttribute(a.Name, a.Value));
    for (const n of this.nodes) {
      const c = n.clone();
      c.parent = e;
      e.nodes.push(c);
    }
    e.explicitEmpty = this.explicitEmpty;
    return e;
  }
}

export class XDocument extends XContainer {
  static readonly clrTypeName = 'System.Xml.Linq.XDocument';
  Declaration: XDeclaration | null = null;
  constructor(content: unknown[] = []) {
    super();
    this.Add(content);
  }
  get NodeType(): number {
    return XML_NODE_TYPES.Document;
  }
  get Root(): XElement | null {
    return (this.nodes.find((n) => n instanceof XElement) as XElement | undefined) ?? null;
  }
  static Parse(text: string, preserveWhitespace = false): XDocument {
    return parseDocument(text, preserveWhitespace);
  }
  protected override addOne(c: unknown): void {
    if (c instanceof XDeclaration) {
      this.Declaration = c;
      return;
    }
    if (typeof c === 'string') {
      if (c.trim() !== '') throw new DotNetException('ArgumentException', 'Non-whitespace characters cannot be added to content.');
      return;
    }
    if (c instanceof XElement && this.Root)
      throw new DotNetException('InvalidOperationException', 'This operation would create an incorrectly structured document.');
    super.addOne(c);
  }
  clone(): XDocument {
    const d = new XDocument();
    d.Declaration = this.Declaration;
    for (const n of this.nodes) {
      const c = n.clone();
      c.parent = d;
      d.nodes.push(c);
    }
    return d;
  }
}

/** How a content value becomes text (XmlConvert-style: booleans lower-case, numbers invariant). */
export function xmlValueString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return String(v);
  const s = (v as { toDotNetString?: () => string } | null)?.toDotNetString;
  if (typeof s === 'function') return s.call(v);
  if (v instanceof XObject) return String(v);
  return String(v);
}

// ---- parsing -----------------------------------------------------------------------------------------------------------

type Ordered = Array<Record<string, unknown>>;

// fast-xml-parser loads with the first XML document an expression parses, not at start-up (src/lazy-library.ts).
const fastXmlParser = lazyLibrary<typeof import('fast-xml-parser')>('fast-xml-parser');
let xmlParser: XMLParser | undefined;
const parser = (): XMLParser =>
  (xmlParser ??= new (fastXmlParser().XMLParser)({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    commentPropName: '#comment',
    cdataPropName: '#cdata',
    ignoreDeclaration: false,
    ignorePiTags: false,
    processEntities: true,
    htmlEntities: false,
    // the pre-scan enforces XML_MAX_DEPTH with .NET's exception type; the parser's own guard must not fire first
    maxNestedTags: XML_MAX_DEPTH + 8,
  }));

/** Linear scan for the nesting depth (and a DTD), before the (recursive) parser sees the text. */
function checkDepth(text: string): void {
  let depth = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const lt = text.indexOf('<', i);
    if (lt < 0) break;
    if (text.startsWith('<!--', lt)) {
      const e = text.indexOf('-->', lt + 4);
      i = e < 0 ? n : e + 3;
      continue;
    }
    if (text.startsWith('<![CDATA[', lt)) {
      const e = text.indexOf(']]>', lt + 9);
      i = e < 0 ? n : e + 3;
      continue;
    }
    if (text.startsWith('<!DOCTYPE', lt)) {
      // XDocument.Parse reads with DtdProcessing.Prohibit (also what keeps entity-expansion bombs out)
      throw xmlException(
        'For security reasons DTD is prohibited in this XML document. To enable DTD processing set the DtdProcessing property on XmlReaderSettings to Parse and pass the settings into XmlReader.Create method.',
      );
    }
    const gt = text.indexOf('>', lt);
    if (gt < 0) break;
    const c = text[lt + 1];
    if (c === '/') depth--;
    else if (c !== '?' && c !== '!' && text[gt - 1] !== '/') {
      if (++depth > XML_MAX_DEPTH)
        throw xmlException(`The XML is nested more than ${XML_MAX_DEPTH} levels deep; the emulator refuses deeper documents (docs/expressions.md, "Limits").`);
    }
    i = gt + 1;
  }
}

export function parseDocument(text: string, preserveWhitespace = false): XDocument {
  if (text === null || text === undefined) throw new DotNetException('ArgumentNullException', "Value cannot be null. (Parameter 'text')");
  if (text.trim() === '') throw xmlException('Root element is missing.');
  checkDepth(text);
  const v = fastXmlParser().XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (v !== true) throw xmlException(`${v.err.msg} Line ${v.err.line}, position ${v.err.col}.`);
  const ordered = parser().parse(text) as Ordered;
  const doc = new XDocument();
  for (const item of ordered) {
    const name = nodeName(item);
    if (name === '?xml') {
      const a = (item[':@'] ?? {}) as Record<string, string>;
      doc.Declaration = new XDeclaration(a['version'] ?? null, a['encoding'] ?? null, a['standalone'] ?? null);
      continue;
    }
    const node = toNode(item, name, null, preserveWhitespace);
    if (node && !(node instanceof XText)) {
      node.parent = doc;
      doc.nodes.push(node);
    }
  }
  if (!doc.Root) throw xmlException('Root element is missing.');
  return doc;
}

function nodeName(item: Record<string, unknown>): string {
  for (const k of Object.keys(item)) if (k !== ':@') return k;
  return '';
}

function textOf(children: unknown): string {
  return (children as Ordered).map((c) => String(c['#text'] ?? '')).join('');
}

function toNode(item: Record<string, unknown>, name: string, parent: XElement | null, ws: boolean): XNode | null {
  const children = item[name];
  if (name === '#text') {
    const t = String(children ?? '');
    return !ws && t.trim() === '' ? null : new XText(t);
  }
  if (name === '#comment') return new XComment(textOf(children));
  if (name === '#cdata') return new XCData(textOf(children));
  if (name.startsWith('?')) return new XProcessingInstruction(name.slice(1), textOf(children).trim());
  const attrs = (item[':@'] ?? {}) as Record<string, string>;
  // namespace declarations first: they are in scope for the element's own name and attributes
  const el = new XElement(XNamespace.None.GetName('x'));
  el.parent = parent;
  for (const [k, val] of Object.entries(attrs)) {
    if (k === 'xmlns') el.addAttribute(new XAttribute(XNamespace.None.GetName('xmlns'), val));
    else if (k.startsWith('xmlns:')) el.addAttribute(new XAttribute(XNamespace.Xmlns.GetName(k.slice(6)), val));
  }
  el.Name = resolveName(el, name, true);
  for (const [k, val] of Object.entries(attrs)) {
    if (k === 'xmlns' || k.startsWith('xmlns:')) continue;
    el.addAttribute(new XAttribute(resolveName(el, k, false), val));
  }
  for (const c of children as Ordered) {
    const n = toNode(c, nodeName(c), el, ws);
    if (!n) continue;
    n.parent = el;
    el.nodes.push(n);
  }
  el.parent = null;
  return el;
}

function resolveName(el: XElement, qname: string, isElement: boolean): XName {
  const colon = qname.indexOf(':');
  if (colon < 0) return XNamespace.Get(isElement ? (el.lookupNamespace('') ?? '') : '').GetName(qname);
  const prefix = qname.slice(0, colon);
  const ns = el.lookupNamespace(prefix);
  if (ns === null) throw xmlException(`'${prefix}' is an undeclared prefix.`);
  return XNamespace.Get(ns).GetName(qname.slice(colon + 1));
}

// ---- writing -----------------------------------------------------------------------------------------------------------

/** Line break of indented output: "\n" as .NET on Linux writes it, the same as the emulator's JSON ToString(). */
const NL = '\n';

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
function escapeAttr(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\r/g, '&#xD;')
    .replace(/\n/g, '&#xA;')
    .replace(/\t/g, '&#x9;');
}

class Writer {
  out = '';
  /** Namespace declarations written so far, innermost element last: namespace URI → prefix ('' = default). */
  private readonly scopes: Array<Map<string, string>> = [];
  constructor(private indent: boolean) {}

  node(n: XNode, level: number): void {
    if (n instanceof XDocument) {
      let first = true;
      for (const c of n.nodes) {
        if (!first && this.indent) this.out += NL;
        first = false;
        this.node(c, 0);
      }
      return;
    }
    if (n instanceof XElement) return this.element(n, level);
    if (n instanceof XCData) this.out += `<![CDATA[${n.Value}]]>`;
    else if (n instanceof XText) this.out += escapeText(n.Value);
    else if (n instanceof XComment) this.out += `<!--${n.Value}-->`;
    else if (n instanceof XProcessingInstruction) this.out += `<?${n.Target}${n.Data ? ' ' + n.Data : ''}?>`;
  }

  /** The prefix a namespace has in the output written so far ('' = default namespace), or null. */
  private inScope(ns: string, forElement: boolean): string | null {
    if (ns === XML_NS) return 'xml';
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      for (const [uri, prefix] of this.scopes[i]!) {
        if (uri === ns && (forElement || prefix !== '')) return prefix;
      }
    }
    return null;
  }

  private defaultNamespace(): string {
    for (let i = this.scopes.length - 1; i >= 0; i--) for (const [uri, prefix] of this.scopes[i]!) if (prefix === '') return uri;
    return '';
  }

  attrName(a: XAttribute, scope: Map<string, string> | null): string {
    if (a.Name.NamespaceName === XMLNS_NS) return `xmlns:${a.Name.LocalName}`;
    if (a.Name.NamespaceName === '') return a.Name.LocalName;
    const ns = a.Name.NamespaceName;
    const p =
      (scope && [...scope].find(([u, pr]) => u === ns && pr !== '')?.[1]) ??
      this.inScope(ns, false) ??
      a.owner?.GetPrefixOfNamespace(XNamespace.Get(ns)) ??
      'p1';
    return `${p}:${a.Name.LocalName}`;
  }

  /**
   * XmlWriter's namespace handling: the element's own xmlns attributes are written as they are; a namespace the
   * output has not declared yet gets a declaration on the element (its prefix from the tree when it has one).
   */
  private element(el: XElement, level: number): void {
    const scope = new Map<string, string>();
    for (const a of el.attrs) {
      if (a.Name.NamespaceName === XMLNS_NS) scope.set(a.Value, a.Name.LocalName);
      else if (a.Name.NamespaceName === '' && a.Name.LocalName === 'xmlns') scope.set(a.Value, '');
    }
    this.scopes.push(scope);
    let declare = '';
    const ns = el.Name.NamespaceName;
    let prefix = ns === '' ? (this.defaultNamespace() === '' ? '' : null) : this.inScope(ns, true);
    if (prefix === '' && this.defaultNamespace() !== ns) prefix = null;
    if (prefix === null) {
      const fromTree = ns === '' ? null : el.GetPrefixOfNamespace(XNamespace.Get(ns));
      prefix = fromTree ?? '';
      scope.set(ns, prefix);
      declare += prefix ? ` xmlns:${prefix}="${escapeAttr(ns)}"` : ` xmlns="${escapeAttr(ns)}"`;
    }
    let generated = 1;
    for (const a of el.attrs) {
      const ans = a.Name.NamespaceName;
      if (ans === '' || ans === XMLNS_NS || ans === XML_NS || this.inScope(ans, false) !== null) continue;
      const p = a.owner?.GetPrefixOfNamespace(XNamespace.Get(ans)) ?? `p${generated++}`;
      scope.set(ans, p);
      declare += ` xmlns:${p}="${escapeAttr(ans)}"`;
    }
    const qname = prefix ? `${prefix}:${el.Name.LocalName}` : el.Name.LocalName;
    this.out += `<${qname}`;
    for (const a of el.attrs) this.out += ` ${this.attrName(a, scope)}="${escapeAttr(a.Value)}"`;
    this.out += declare;
    if (el.IsEmpty) {
      this.out += ' />';
      this.scopes.pop();
      return;
    }
    this.out += '>';
    // XmlWriter indents only element-only content; a text child switches indentation off for the element's subtree
    const saved = this.indent;
    if (el.nodes.some((c) => c instanceof XText)) this.indent = false;
    for (const c of el.nodes) {
      if (this.indent) this.out += NL + '  '.repeat(level + 1);
      this.node(c, level + 1);
    }
    if (this.indent && el.nodes.length) this.out += NL + '  '.repeat(level);
    this.indent = saved;
    this.scopes.pop();
    this.out += `</${qname}>`;
  }
}

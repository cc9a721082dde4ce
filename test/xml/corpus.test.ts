import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { SourceText, type TextSpan } from '../../src/diagnostics/source.js';
import { readPolicyXml } from '../../src/xml/read.js';
import type { XmlElement, XmlNode } from '../../src/xml/types.js';

const corpusDir = fileURLToPath(new URL('../../../shared/corpus/ai-gateway/', import.meta.url));
const present = existsSync(corpusDir);
if (!present) console.warn(`AI-Gateway policy corpus is absent (${corpusDir}); skipping the corpus tests`);

interface Loaded {
  file: string;
  source: SourceText;
  root: XmlElement;
}

function loadAll(): Loaded[] {
  return readdirSync(corpusDir)
    .filter((f) => f.endsWith('.xml'))
    .sort()
    .map((file) => {
      const source = new SourceText(file, readFileSync(corpusDir + file, 'utf8'));
      const r = readPolicyXml(source);
      expect(r.diagnostics, file).toEqual([]);
      expect(r.root, file).not.toBeNull();
      return { file, source, root: r.root! };
    });
}

function* walk(e: XmlElement): Generator<XmlElement> {
  yield e;
  for (const c of e.children) if (c.kind === 'element') yield* walk(c);
}

function spans(e: XmlElement): TextSpan[] {
  const out: TextSpan[] = [];
  for (const el of walk(e)) {
    for (const a of el.attributes) out.push(a.value);
    for (const c of el.children) if (c.kind === 'text') out.push(c.text);
  }
  return out;
}

function load(file: string): Loaded {
  const source = new SourceText(file, readFileSync(corpusDir + file, 'utf8'));
  const r = readPolicyXml(source);
  expect(r.diagnostics).toEqual([]);
  return { file, source, root: r.root! };
}

describe.skipIf(!present)('AI-Gateway policy corpus', () => {
  it('reads every policy file with zero diagnostics', () => {
    const started = performance.now();
    const all = loadAll();
    const ms = performance.now() - started;
    console.log(`read ${all.length} corpus policy files with zero diagnostics in ${ms.toFixed(1)} ms`);
    expect(all.length).toBe(114);
    expect(all.every((l) => l.root.name === 'policies')).toBe(true);
  });

  it('puts every element, attribute and decoded character at its place in the raw file', () => {
    let elements = 0;
    let characters = 0;
    for (const { file, source, root } of loadAll()) {
      const raw = source.text;
      for (const el of walk(root)) {
        elements++;
        expect(raw.startsWith(`<${el.name}`, el.start), `${file} <${el.name}> at ${el.start}`).toBe(true);
        expect(raw[el.end - 1], `${file} <${el.name}> end`).toBe('>');
        const closing =
          raw.slice(el.start, el.end).endsWith('/>') || raw.slice(0, el.end).endsWith(`</${el.name}>`) || /<\/[^>]+\s>$/.test(raw.slice(el.start, el.end));
        expect(closing, `${file} <${el.name}> ends with its closing tag`).toBe(true);
        for (const a of el.attributes) expect(raw.slice(a.offset), `${file} @${a.name}`).toMatch(new RegExp(`^${a.name}\\s*=\\s*["']`));
      }
      for (const span of spans(root)) {
        for (let i = 0; i < span.text.length; i++) {
          const c = span.text[i]!;
          const at = raw[span.sourceOffset(i)];
          characters++;
          // The same character, or the entity / CR that stands for it.
          if (at !== c && !(at === '&') && !(c === '\n' && at === '\r')) {
            expect.fail(`${file}: char ${JSON.stringify(c)} maps to ${JSON.stringify(at)} at ${span.sourceOffset(i)}`);
          }
        }
      }
    }
    expect(elements).toBeGreaterThan(1000);
    expect(characters).toBeGreaterThan(100_000);
  });

  it('never turns expression content into elements: every element name is an APIM-style lower-case name', () => {
    for (const { file, root } of loadAll()) {
      for (const el of walk(root)) expect(el.name, file).toMatch(/^[a-z][a-z0-9-]*$/);
    }
  });

  it('gives the same tree as fast-xml-parser for the files that are well-formed XML', () => {
    // fxp's typings declare the boxed `Symbol` type; the value is a primitive symbol.
    const META = XMLParser.getMetaDataSymbol() as unknown as symbol;
    const parser = new XMLParser({
      preserveOrder: true,
      ignoreAttributes: false,
      attributeNamePrefix: '',
      allowBooleanAttributes: true,
      parseTagValue: false,
      parseAttributeValue: false,
      trimValues: false,
      processEntities: true,
      commentPropName: '#comment',
      cdataPropName: '#cdata',
      captureMetaData: true,
    });
    type FxpNode = Record<string | symbol, unknown>;
    // fxp output: text split around comments is joined and whitespace-only text dropped, as the reader does.
    const fromFxp = (nodes: FxpNode[]): string[] => {
      const out: string[] = [];
      let text = '';
      const flush = () => {
        if (text.trim()) out.push(`T:${text}`);
        text = '';
      };
      for (const n of nodes) {
        const key = Object.keys(n).find((k) => k !== ':@')!;
        if (key === '#comment' || key.startsWith('?')) continue;
        if (key === '#text') {
          text += String(n[key]);
          continue;
        }
        flush();
        if (key === '#cdata') {
          out.push(`C:${(n[key] as FxpNode[]).map((x) => String(x['#text'])).join('')}`);
          continue;
        }
        const meta = n[META] as { startIndex: number };
        out.push(`E:${key}@${meta.startIndex}${JSON.stringify(n[':@'] ?? {})}[${fromFxp(n[key] as FxpNode[]).join('|')}]`);
      }
      flush();
      return out;
    };
    const fromReader = (nodes: XmlNode[]): string[] =>
      nodes.map((n) =>
        n.kind === 'text'
          ? `${n.cdata ? 'C' : 'T'}:${n.text.text}`
          : `E:${n.name}@${n.start}${JSON.stringify(Object.fromEntries(n.attributes.map((a) => [a.name, a.value.text])))}[${fromReader(n.children).join('|')}]`,
      );
    let wellFormed = 0;
    for (const { file, source, root } of loadAll()) {
      if (XMLValidator.validate(source.text, { allowBooleanAttributes: true }) !== true) continue;
      wellFormed++;
      expect(fromReader([root]), file).toEqual(fromFxp(parser.parse(source.text) as FxpNode[]));
    }
    console.log(`${wellFormed} well-formed corpus files read identically to fast-xml-parser`);
    expect(wellFormed).toBeGreaterThan(50);
  });

  it('reads a raw `GetValueOrDefault<bool>("...")` condition exactly as written, at its line', () => {
    const { source, root } = load('mcp-client-authorization__src__apim-oauth__authorize.policy.xml');
    const raw = source.text;
    const tag = '<when condition="@(context.Variables.GetValueOrDefault<bool>("has_approval_cookie"))">';
    const at = raw.indexOf(tag);
    expect(at).toBeGreaterThan(0);
    const when = [...walk(root)].find((e) => e.start === at);
    expect(when?.name).toBe('when');
    const condition = when!.attributes[0]!;
    expect(condition.name).toBe('condition');
    expect(condition.value.text).toBe('@(context.Variables.GetValueOrDefault<bool>("has_approval_cookie"))');
    expect(condition.value.sourceOffset(0)).toBe(at + '<when condition="'.length);
    expect(source.positionAt(when!.start)).toEqual({ line: 128, column: raw.slice(0, at).length - raw.lastIndexOf('\n', at - 1) });
    // Its body is only a comment, which the reader drops; the element still ends at its own `</when>`.
    expect(when!.children).toEqual([]);
    expect(when!.end).toBe(raw.indexOf('</when>', at) + '</when>'.length);
  });

  it('reads a `@{ }` set-body with `As<JObject>` and lambdas in element text exactly as written', () => {
    const { source, root } = load('_deprecated__content-filtering__content-filtering-policy.xml');
    const body = [...walk(root)].find(
      (e) => e.name === 'set-body' && e.children.some((c) => c.kind === 'text' && c.text.text.includes('As<JObject>(preserveContent: true)["messages"]')),
    );
    expect(body).toBeDefined();
    expect(body!.children).toHaveLength(1);
    const text = body!.children[0]!;
    if (text.kind !== 'text') throw new Error('expected text');
    const open = source.text.indexOf('>', body!.start) + 1;
    const close = body!.end - '</set-body>'.length;
    expect(text.text.text).toBe(source.text.slice(open, close));
    expect(text.text.text.startsWith('@{')).toBe(true);
    expect(text.text.text.trimEnd().endsWith('}')).toBe(true);
  });

  it('reads a multi-line attribute block with `As<JObject>` and `//`-free C# as written', () => {
    const { source, root } = load('_deprecated__response-streaming__policy.xml');
    const sv = [...walk(root)].find((e) => e.name === 'set-variable' && e.attributes.some((a) => a.name === 'name' && a.value.text === 'isStream'));
    const value = sv!.attributes.find((a) => a.name === 'value')!.value;
    const start = source.text.indexOf('value="@{', sv!.start) + 'value="'.length;
    const end = source.text.indexOf('}" />', start) + 1;
    expect(value.text).toBe(source.text.slice(start, end));
    expect(value.text).toContain('(context.Request.Body?.As<JObject>(true))');
  });

  it('decodes an XML-escaped expression block and maps it back to the entities', () => {
    const { source, root } = load('ghcp-byok-foundry__apikey-policy.xml');
    const sv = [...walk(root)].find((e) => e.name === 'set-variable' && e.attributes.some((a) => a.value.text === 'model'));
    const value = sv!.attributes.find((a) => a.name === 'value')!.value;
    expect(value.text).toBe(
      '@{ var b = context.Request.Body?.As<JObject>(true); return (b != null && b["model"] != null) ? b["model"].ToString() : "unknown"; }',
    );
    expect(source.text.startsWith('&lt;JObject&gt;', value.sourceOffset(value.text.indexOf('<JObject>')))).toBe(true);
    expect(source.text.startsWith('&amp;&amp;', value.sourceOffset(value.text.indexOf('&&')))).toBe(true);
    expect(source.positionAt(value.sourceOffset(0)).line).toBe(22);
  });
});

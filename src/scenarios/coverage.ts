import type { SourceText } from '../diagnostics/source.js';
import type { PolicyScope, PolicySection, TraceEvent } from '../engine/context.js';
import type { GatewayDefinition } from '../gateway/definition.js';
import { parsePolicyDocument, SECTIONS, type PolicyDocument } from '../pipeline/document.js';
import { getPolicyDefinition } from '../policies/registry.js';
import type { XmlElement } from '../xml/types.js';

/**
 * Policy coverage: every statement of every policy document, each `when`/`otherwise` branch of a `<choose>` (including
 * the implicit "no condition true" branch when there is no `<otherwise>`), and the statements of `on-error`, matched
 * against the trace events of the requests the scenarios sent. Paths are built as the compiler builds them: the n-th
 * sibling of the same name, 1-based, from the section down (`choose[1]/when[2]/set-header[1]`); a fragment's statements
 * sit under the including `include-fragment[n]/`.
 */
export interface CoverageItem {
  section: PolicySection;
  path: string;
  policy: string;
  kind: 'statement' | 'branch';
  /** 1-based line of the element in its file (for an implicit otherwise: the `<choose>`). */
  line: number;
  /** `<choose>` without `<otherwise>`: the branch taken when no condition is true. */
  implicit?: boolean;
}

export interface FileCoverage {
  file: string;
  items: CoverageItem[];
  /** Keys (`section path`) of items that ran at least once. */
  hit: Set<string>;
}

export interface CoverageSummary {
  file: string;
  statements: { covered: number; total: number };
  branches: { covered: number; total: number };
  onError: { covered: number; total: number };
  /** Items that never ran, as `section path (line N)`. */
  missed: string[];
}

export function itemKey(section: string, path: string): string {
  return `${section} ${path}`;
}

/** Enumerates the coverage items of one `<policies>` document; fragments are expanded where they are included. */
export function enumerateItems(doc: PolicyDocument, fragments: ReadonlyMap<string, PolicyDocument>): CoverageItem[] {
  const items: CoverageItem[] = [];
  for (const section of SECTIONS) {
    const el = doc.sections.get(section);
    if (el) walkStatements(el.children, section, '', doc.source, fragments, items, false, 0);
  }
  return items;
}

function walkStatements(
  children: XmlElement['children'],
  section: PolicySection,
  prefix: string,
  source: SourceText,
  fragments: ReadonlyMap<string, PolicyDocument>,
  out: CoverageItem[],
  singleIndex: boolean,
  depth: number,
): void {
  if (depth > 32) return;
  const seen = new Map<string, number>();
  for (const c of children) {
    if (c.kind !== 'element') continue;
    const n = singleIndex ? 1 : (seen.get(c.name) ?? 0) + 1;
    seen.set(c.name, n);
    const path = `${prefix}${c.name}[${n}]`;
    // <base/> is a placeholder for the broader scope, not a statement of its own (and is not traced).
    if (c.name === 'base') continue;
    const line = c.source.positionAt(c.start).line;
    if (c.name === 'include-fragment') {
      out.push({ section, path, policy: c.name, kind: 'statement', line });
      const id = c.attributes.find((a) => a.name === 'fragment-id')?.value.text.trim();
      const frag = id ? fragments.get(id) : undefined;
      if (frag) walkStatements(frag.root.children, section, `${path}/`, frag.source, fragments, out, false, depth + 1);
      continue;
    }
    const def = getPolicyDefinition(c.name);
    out.push({ section, path, policy: c.name, kind: 'statement', line });
    if (!def) continue;
    if (def.policies) {
      // <wait> compiles each child on its own, always as name[1] (as the compiler numbers it).
      walkStatements(c.children, section, `${path}/`, source, fragments, out, def.name === 'wait', depth + 1);
    }
    const branchSpecs = (def.elements ?? []).filter((e) => e.policies);
    if (branchSpecs.length === 0) continue;
    const counts = new Map<string, number>();
    for (const b of c.children) {
      if (b.kind !== 'element' || !branchSpecs.some((s) => s.name === b.name)) continue;
      const bn = (counts.get(b.name) ?? 0) + 1;
      counts.set(b.name, bn);
      const bpath = `${path}/${b.name}[${bn}]`;
      out.push({ section, path: bpath, policy: b.name, kind: 'branch', line: b.source.positionAt(b.start).line });
      walkStatements(b.children, section, `${bpath}/`, source, fragments, out, false, depth + 1);
    }
    if (c.name === 'choose' && !counts.has('otherwise')) {
      out.push({ section, path: `${path}/otherwise[1]`, policy: 'otherwise', kind: 'branch', line, implicit: true });
    }
  }
}

/** Which document (file) serves each scope of a request, from the definition the gateway was built from. */
export class CoverageIndex {
  readonly files = new Map<string, FileCoverage>();
  private readonly docs = new Map<string, string>();

  constructor(def: GatewayDefinition) {
    const fragments = new Map<string, PolicyDocument>();
    for (const f of def.fragments) {
      const d = parsePolicyDocument(f.source).document;
      if (d) fragments.set(f.id, d);
    }
    const add = (key: string, src: SourceText | undefined) => {
      if (!src) return;
      this.docs.set(key, src.file);
      if (this.files.has(src.file)) return;
      const d = parsePolicyDocument(src).document;
      if (d && d.kind === 'policies') this.files.set(src.file, { file: src.file, items: enumerateItems(d, fragments), hit: new Set() });
    };
    add('global', def.globalPolicy);
    for (const p of def.products) add(`product:${p.id}`, p.policy);
    for (const a of def.apis) {
      add(`api:${a.id}`, a.policy);
      for (const o of a.operations) add(`operation:${a.id}/${o.id}`, o.policy);
    }
  }

  /** The file that holds a scope's document for this request, if any. */
  fileFor(scope: PolicyScope, ids: { api: string | null; operation: string | null; product: string | null }): string | undefined {
    switch (scope) {
      case 'global':
        return this.docs.get('global');
      case 'product':
        return ids.product ? this.docs.get(`product:${ids.product}`) : undefined;
      case 'api':
        return ids.api ? this.docs.get(`api:${ids.api}`) : undefined;
      case 'operation':
        return ids.api && ids.operation ? this.docs.get(`operation:${ids.api}/${ids.operation}`) : undefined;
    }
  }

  /** Marks what one request's trace shows as run. */
  record(events: readonly TraceEvent[], ids: { api: string | null; operation: string | null; product: string | null }): void {
    for (const r of ranStatements(events)) {
      const file = this.fileFor(r.scope, ids);
      if (file) this.files.get(file)?.hit.add(itemKey(r.section, r.path));
    }
  }
}

/**
 * The statements and branches a trace shows as run, each with its scope and section. `when`/`otherwise` events carry
 * only a path: they belong to the `<choose>` statement traced just before them.
 */
export function ranStatements(events: readonly TraceEvent[]): Array<{ scope: PolicyScope; section: PolicySection; path: string; policy: string }> {
  const out: Array<{ scope: PolicyScope; section: PolicySection; path: string; policy: string }> = [];
  let scope: PolicyScope | undefined;
  let section: PolicySection | undefined;
  for (const e of events) {
    if (e.kind === 'policy') {
      scope = e.scope;
      section = e.section;
    } else if (e.kind !== 'branch' || !e.taken) continue;
    if (!scope || !section) continue;
    out.push({ scope, section, path: e.path, policy: e.policy ?? '' });
  }
  return out;
}

/** Merges coverage of the same file from several scenarios. */
export function mergeCoverage(all: Iterable<FileCoverage>): FileCoverage[] {
  const byFile = new Map<string, FileCoverage>();
  for (const f of all) {
    const cur = byFile.get(f.file);
    if (!cur) byFile.set(f.file, { file: f.file, items: f.items, hit: new Set(f.hit) });
    else for (const h of f.hit) cur.hit.add(h);
  }
  return [...byFile.values()].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

export function summarizeCoverage(f: FileCoverage): CoverageSummary {
  const count = (pred: (i: CoverageItem) => boolean) => {
    const items = f.items.filter(pred);
    return { covered: items.filter((i) => f.hit.has(itemKey(i.section, i.path))).length, total: items.length };
  };
  return {
    file: f.file,
    statements: count((i) => i.kind === 'statement'),
    branches: count((i) => i.kind === 'branch'),
    onError: count((i) => i.section === 'on-error'),
    missed: f.items
      .filter((i) => !f.hit.has(itemKey(i.section, i.path)))
      .map((i) => `${i.section} ${i.path}${i.implicit ? ' (no condition true)' : ''} (line ${i.line})`),
  };
}

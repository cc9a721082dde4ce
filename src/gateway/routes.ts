import type { ApiDefinition } from './definition.js';
import type { CompiledTemplate } from './matching.js';

/**
 * The route table: which API and which operations a request path can reach, built once at load so that matching
 * costs the same with 1 or 10,000 operations (docs/performance.md, "Route table").
 *
 * APIM's precedence (docs/emulator-choices.md, "Routing, workers and shared state"):
 * - APIs by URL suffix, segment by segment and case-insensitively; the longest suffix that matches wins.
 * - Version sets: `Segment` puts the version name after the suffix (`/openai/v2/...`); `Header` and `Query` read the
 *   version from the named header or query parameter. The version without a name (APIM's "Original") answers when the
 *   client names none.
 * - Revisions: `<suffix>;rev=N` reaches revision N (current or not); without it only the current revision answers.
 * - Operations: the API's templates, most specific first; indexed by their first literal path segment.
 */

/** What the route table needs to know about an API. */
export interface RoutableApi {
  readonly def: Pick<ApiDefinition, 'path' | 'version' | 'revision' | 'isCurrent' | 'versionSet'>;
}

/** What the operation index needs to know about an operation: its template (already sorted most specific first). */
export interface RoutableOperation {
  readonly template: CompiledTemplate;
}

export interface Route<A, O> {
  api: A;
  /** The path after the API's suffix (and version segment, and `;rev=N`), starting with "/". */
  rest: string;
  /** Operations whose template can match `rest`, most specific first (the caller runs their matchers in order). */
  operations: readonly O[];
  /** The revision named by `;rev=N`, when the client named one. */
  revision: string | null;
}

/** Header and query lookups the table needs for Header/Query version sets (HeaderMap and QueryMap fit). */
export interface VersionSources {
  headers: { get(name: string): readonly string[] | undefined };
  query: { get(name: string): readonly string[] | undefined };
}

interface Entry<A, O extends RoutableOperation> {
  api: A;
  index: OperationIndex<O>;
  /** Version name ('' = the version-less "Original"). */
  version: string;
  /** null for an API outside any version set, and for Segment sets (the version is part of the path). */
  selector: { kind: 'Header' | 'Query'; name: string } | null;
  revision: string;
  current: boolean;
}

interface Node<A, O extends RoutableOperation> {
  children: Map<string, Node<A, O>>;
  entries: Array<Entry<A, O>>;
}

const REV = /;rev=([^/;]*)$/i;

export class RouteTable<A extends RoutableApi, O extends RoutableOperation> {
  private readonly root: Node<A, O> = { children: new Map(), entries: [] };

  /** `operations(api)` must already be sorted most specific first. */
  constructor(apis: Iterable<A>, operations: (api: A) => readonly O[]) {
    for (const api of apis) {
      const d = api.def;
      const segments = splitSegments(d.path.toLowerCase());
      const version = d.version ?? '';
      const vs = d.versionSet;
      if (vs && vs.scheme === 'Segment' && version !== '') segments.push(version.toLowerCase());
      let node = this.root;
      for (const s of segments) {
        let next = node.children.get(s);
        if (!next) {
          next = { children: new Map(), entries: [] };
          node.children.set(s, next);
        }
        node = next;
      }
      const selector =
        vs && vs.scheme !== 'Segment'
          ? { kind: vs.scheme, name: vs.scheme === 'Header' ? (vs.headerName ?? 'Api-Version') : (vs.queryName ?? 'api-version') }
          : null;
      node.entries.push({ api, index: new OperationIndex(operations(api)), version, selector, revision: d.revision ?? '1', current: d.isCurrent ?? true });
    }
  }

  /** The API (longest suffix first) and candidate operations for a percent-encoded path; null when no API answers. */
  match(path: string, sources: VersionSources): Route<A, O> | null {
    // Walk the trie as deep as the path goes, remembering where each visited node's suffix ends in `path`.
    const visited: Array<{ node: Node<A, O>; end: number; revision: string | null }> = [{ node: this.root, end: 0, revision: null }];
    let node = this.root;
    let pos = path.startsWith('/') ? 1 : 0;
    while (pos <= path.length) {
      let slash = path.indexOf('/', pos);
      if (slash < 0) slash = path.length;
      if (slash === pos) break;
      let segment = path.slice(pos, slash).toLowerCase();
      let revision: string | null = null;
      const rev = segment.includes(';') ? REV.exec(segment) : null;
      if (rev) {
        revision = rev[1]!;
        segment = segment.slice(0, rev.index);
      }
      const next = node.children.get(segment);
      if (!next) break;
      visited.push({ node: next, end: slash, revision });
      // `;rev=N` closes the API's suffix: nothing deeper can be the API.
      if (revision !== null) break;
      node = next;
      pos = slash + 1;
    }
    for (let i = visited.length - 1; i >= 0; i--) {
      const v = visited[i]!;
      if (v.node.entries.length === 0) continue;
      const entry = pick(v.node.entries, v.revision, sources);
      if (!entry) continue;
      const rest = path.slice(v.end) || '/';
      return { api: entry.api, rest, operations: entry.index.candidates(rest), revision: v.revision };
    }
    return null;
  }
}

function pick<A, O extends RoutableOperation>(entries: ReadonlyArray<Entry<A, O>>, revision: string | null, sources: VersionSources): Entry<A, O> | null {
  let found: Entry<A, O> | null = null;
  for (const e of entries) {
    if (revision !== null ? e.revision !== revision : !e.current) continue;
    if (e.selector) {
      const given = (e.selector.kind === 'Header' ? sources.headers.get(e.selector.name) : sources.query.get(e.selector.name))?.[0] ?? '';
      if (given.toLowerCase() !== e.version.toLowerCase()) continue;
    }
    // Entries without a selector (plain APIs, Segment versions) always fit; a selector match is more specific.
    if (!found || (e.selector && !found.selector)) found = e;
  }
  return found;
}

function splitSegments(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

/**
 * An API's operations indexed by the first path segment of their template: a request only tries the templates whose
 * first segment is that literal, plus those that start with a parameter or wildcard. Order stays most specific first.
 */
export class OperationIndex<O extends RoutableOperation> {
  private readonly byFirst = new Map<string, readonly O[]>();
  private readonly open: readonly O[];

  constructor(operations: readonly O[]) {
    const open: O[] = [];
    const literal = new Map<string, O[]>();
    for (const op of operations) {
      const first = firstLiteralSegment(op.template.template);
      if (first === null) open.push(op);
      else literal.set(first, [...(literal.get(first) ?? []), op]);
    }
    this.open = open;
    // Each bucket keeps the global order (most specific first) of its own templates and the open ones.
    const rank = new Map(operations.map((o, i) => [o, i]));
    for (const [k, list] of literal)
      this.byFirst.set(
        k,
        [...list, ...open].sort((a, b) => rank.get(a)! - rank.get(b)!),
      );
  }

  candidates(rest: string): readonly O[] {
    if (this.byFirst.size === 0) return this.open;
    const start = rest.startsWith('/') ? 1 : 0;
    let end = rest.indexOf('/', start);
    if (end < 0) end = rest.length;
    return this.byFirst.get(rest.slice(start, end).toLowerCase()) ?? this.open;
  }
}

/** The template's first path segment when it is a plain literal (lower-cased), else null. `/` gives ''. */
function firstLiteralSegment(template: string): string | null {
  const pathPart = template.split('?', 1)[0] ?? '';
  const segments = splitSegments(pathPart);
  if (segments.length === 0) return '';
  const first = segments[0]!;
  return /[{}*]/.test(first) ? null : first.toLowerCase();
}

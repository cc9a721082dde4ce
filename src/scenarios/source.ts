import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Alias, type Node as YamlNode } from 'yaml';
import { JsonSyntaxError, parseJsonWithPositions, pathJoin, toPlain, type JsonEntry, type JsonNode, type JsonValue } from '../source/json.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { SourceText } from '../diagnostics/source.js';
import type { Loc } from './types.js';
import type { DiagnosticCode } from '../diagnostics/codes.js';

/**
 * Scenario files are YAML or JSON. Both become the positional JsonNode tree of src/source/json.ts (YAML nodes carry
 * their source ranges), so schema errors and semantic checks name the JSON path and the line/column alike.
 */
export function parseScenarioSource(source: SourceText, diagnostics: Diagnostic[]): { root: JsonNode; value: JsonValue } | null {
  const isJson = /\.json$/i.test(source.file);
  if (isJson) {
    try {
      const root = parseJsonWithPositions(source.text);
      return { root, value: toPlain(root) };
    } catch (e) {
      if (!(e instanceof JsonSyntaxError)) throw e;
      diagnostics.push({
        severity: 'error',
        code: 'scenario/syntax',
        message: `invalid JSON: ${e.message}`,
        file: source.file,
        ...source.positionAt(e.offset),
      });
      return null;
    }
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(source.text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const explained = new Set<number>();
    let shown = 0;
    for (const e of doc.errors) {
      const flow = flowListOfPaths(source.text, e.pos[0]);
      if (flow) {
        // One explanation per line instead of the parser's cascade of "Missing , or :" errors.
        if (explained.has(flow.lineStart)) continue;
        explained.add(flow.lineStart);
        diagnostics.push({
          severity: 'error',
          code: 'scenario/syntax',
          message: `"${flow.item}" inside [ ] is read as nested YAML lists, not as text: in a flow list [ and ] are brackets`,
          hint: `quote each path, e.g. ["${flow.item}"], or write the list one item per line: - ${flow.item}`,
          file: source.file,
          ...source.positionAt(flow.offset),
        });
      } else if (shown < 5 && explained.size === 0) {
        // After a flow list of paths the parser is out of step; what it says about later lines is noise.
        diagnostics.push({
          severity: 'error',
          code: 'scenario/syntax',
          message: `invalid YAML: ${e.message.split('\n')[0]}`,
          file: source.file,
          ...source.positionAt(e.pos[0]),
        });
      }
      shown++;
    }
    return null;
  }
  if (!doc.contents) {
    diagnostics.push({
      severity: 'error',
      code: 'scenario/syntax',
      message: 'the file is empty',
      hint: 'a scenario is a mapping with at least `steps`',
      file: source.file,
      line: 1,
      column: 1,
    });
    return null;
  }
  try {
    const root = fromYaml(doc.contents, 0, { resolve: (a) => a.resolve(doc) as YamlNode | undefined, values: 0 });
    return { root, value: toPlain(root) };
  } catch (e) {
    if (!(e instanceof YamlLimitError)) throw e;
    diagnostics.push({ severity: 'error', code: e.code, message: e.message, hint: e.hint, file: source.file, ...source.positionAt(e.offset) });
    return null;
  }
}

/** A trace path such as choose[1]/when[2] or retry[1]/forward-request[1], unquoted. */
const UNQUOTED_PATH = /(?<!["'\w])[A-Za-z][\w-]*\[\d+\](?:\/[A-Za-z][\w-]*\[\d+\])*/;

/**
 * When a YAML error sits on a line holding a flow list (`ran: [choose[1]/when[1]]`) with an unquoted trace path in
 * it, the user meant the path as text: returns that item (the words before it in the same list item included) and
 * where it starts.
 */
function flowListOfPaths(text: string, offset: number): { item: string; offset: number; lineStart: number } | undefined {
  const lineStart = text.lastIndexOf('\n', Math.max(0, offset - 1)) + 1;
  const end = text.indexOf('\n', offset);
  const line = text.slice(lineStart, end < 0 ? text.length : end);
  const open = line.indexOf('[');
  if (open < 0) return undefined;
  const m = UNQUOTED_PATH.exec(line.slice(open + 1));
  if (!m) return undefined;
  const at = open + 1 + m.index;
  // The list item starts after the last "[" or "," before the path (an item such as "api backend retry[1]").
  const itemStart = Math.max(line.lastIndexOf('[', at - 1), line.lastIndexOf(',', at - 1)) + 1;
  const item = line.slice(itemStart, at + m[0].length).trim();
  return { item, offset: lineStart + itemStart + (line.slice(itemStart).length - line.slice(itemStart).trimStart().length), lineStart };
}

/**
 * Limits on what a scenario's YAML may expand to (docs/limits.md). Aliases are copied where they are used, so nine
 * anchors that each repeat the previous one nine times (a "billion laughs" file of 600 bytes) would otherwise
 * build 10^9 values.
 */
export const YAML_LIMITS = { values: 50_000, depth: 64 } as const;

class YamlLimitError extends Error {
  constructor(
    readonly code: DiagnosticCode,
    message: string,
    readonly offset: number,
    readonly hint: string,
  ) {
    super(message);
  }
}

interface Expansion {
  resolve: (alias: Alias) => YamlNode | undefined;
  /** Values built so far, against YAML_LIMITS.values. */
  values: number;
  /** Offset of the outermost alias being expanded: where the user wrote the copy that goes too far. */
  aliasAt?: number;
}

/** `*anchor` aliases are followed; their values keep the alias's position (where the user wrote it). */
function fromYaml(node: YamlNode | null | undefined, fallback: number, x: Expansion, depth = 0): JsonNode {
  if (node === null || node === undefined) return { kind: 'null', value: null, offset: fallback };
  const offset = node.range?.[0] ?? fallback;
  if (depth > YAML_LIMITS.depth) {
    throw new YamlLimitError(
      'scenario/too-deep',
      `values are nested more than ${YAML_LIMITS.depth} levels deep here (counting followed aliases)`,
      x.aliasAt ?? offset,
      'flatten the structure; an alias that contains itself can never end',
    );
  }
  if (++x.values > YAML_LIMITS.values) {
    throw new YamlLimitError(
      'scenario/too-large',
      `the scenario expands to more than ${YAML_LIMITS.values} values (aliases are copied where they are used)`,
      x.aliasAt ?? offset,
      'use fewer aliases of large anchors, or split the scenario into several files',
    );
  }
  if (isAlias(node)) {
    const outermost = x.aliasAt === undefined;
    if (outermost) x.aliasAt = offset;
    try {
      return withOffset(fromYaml(x.resolve(node), offset, x, depth + 1), offset);
    } finally {
      if (outermost) delete x.aliasAt;
    }
  }
  if (isMap(node)) {
    const entries: JsonEntry[] = [];
    for (const pair of node.items) {
      const k = pair.key as YamlNode | null;
      const keyText = isScalar(k) ? String(k.value) : String(k);
      const keyOffset = k?.range?.[0] ?? offset;
      entries.push({ key: keyText, keyOffset, value: fromYaml(pair.value as YamlNode | null, keyOffset, x, depth + 1) });
    }
    return { kind: 'object', entries, offset };
  }
  if (isSeq(node)) return { kind: 'array', items: node.items.map((i) => fromYaml(i as YamlNode | null, offset, x, depth + 1)), offset };
  if (isScalar(node)) {
    const v = node.value;
    if (typeof v === 'string') return { kind: 'string', value: v, offset };
    if (typeof v === 'number') return { kind: 'number', value: v, offset };
    if (typeof v === 'bigint') return { kind: 'number', value: Number(v), offset };
    if (typeof v === 'boolean') return { kind: 'boolean', value: v, offset };
    if (v === null || v === undefined) return { kind: 'null', value: null, offset };
    // Timestamps and other tagged scalars: keep their source text.
    return { kind: 'string', value: String(v), offset };
  }
  return { kind: 'null', value: null, offset };
}

function withOffset(n: JsonNode, offset: number): JsonNode {
  return { ...n, offset };
}

/** Navigation over the positional tree that always knows its JSON path and location. */
export class Cursor {
  constructor(
    readonly node: JsonNode,
    readonly path: string,
    private readonly source: SourceText,
    private readonly keyOffset?: number,
  ) {}

  get loc(): Loc {
    return { file: this.source.file, jsonPath: this.path, ...this.source.positionAt(this.node.offset) };
  }

  /** Location of the key naming this value (falls back to the value). */
  get keyLoc(): Loc {
    return { file: this.source.file, jsonPath: this.path, ...this.source.positionAt(this.keyOffset ?? this.node.offset) };
  }

  get(key: string): Cursor | undefined {
    if (this.node.kind !== 'object') return undefined;
    const e = this.node.entries.find((x) => x.key === key);
    return e ? new Cursor(e.value, pathJoin(this.path, key), this.source, e.keyOffset) : undefined;
  }

  entries(): Array<[string, Cursor]> {
    if (this.node.kind !== 'object') return [];
    return this.node.entries.map((e) => [e.key, new Cursor(e.value, pathJoin(this.path, e.key), this.source, e.keyOffset)]);
  }

  items(): Cursor[] {
    if (this.node.kind !== 'array') return [];
    return this.node.items.map((n, i) => new Cursor(n, pathJoin(this.path, i), this.source));
  }

  get value(): JsonValue {
    return toPlain(this.node);
  }

  get string(): string | undefined {
    return this.node.kind === 'string' ? this.node.value : undefined;
  }

  get number(): number | undefined {
    return this.node.kind === 'number' ? this.node.value : undefined;
  }
}

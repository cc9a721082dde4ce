import type { Node as YamlNode } from 'yaml';
import { lazyLibrary } from '../lazy-library.js';

// Loaded only when an override file is read (src/lazy-library.ts; docs/performance.md, start-up).
const yaml = lazyLibrary<typeof import('yaml')>('yaml');
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { SourceText } from '../diagnostics/source.js';

/**
 * A `configuration.<env>.yaml` override file as the APIOps publisher reads it (docs/apiops.md, Override files): top-level arrays
 * keyed by the resource's camelCased plural (`namedValues`, `backends`, `apis`, `products`, `policies`...), each item
 * `{ name, properties }`, children nested under their parent item (`apis[].operations[].policies[]`). Matching is by
 * `name`, ordinal and case-sensitive; the override deep-merges into the information file (objects merge, scalars and
 * arrays replace).
 */
export class Overrides {
  /** Every override item that was looked up, so the unused ones can be reported (a typo in `name` is a silent no-op in APIOps). */
  private readonly used = new Set<YamlNode>();

  private constructor(
    readonly source: SourceText,
    private readonly root: Record<string, unknown>,
    private readonly nodes: Map<unknown, YamlNode>,
  ) {}

  static parse(source: SourceText, diagnostics: Diagnostic[]): Overrides | null {
    const { isMap, isSeq, parseDocument } = yaml();
    const doc = parseDocument(source.text, { prettyErrors: false, uniqueKeys: false });
    if (doc.errors.length) {
      for (const e of doc.errors.slice(0, 5)) {
        diagnostics.push({
          severity: 'error',
          code: 'apiops/override-syntax',
          message: `invalid YAML: ${e.message.split('\n')[0]}`,
          file: source.file,
          ...source.positionAt(e.pos[0]),
          hint: 'configuration.<env>.yaml is YAML: top-level arrays such as namedValues, backends, apis, each item {name, properties}',
        });
      }
      return null;
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return new Overrides(source, {}, new Map());
    if (typeof value !== 'object' || Array.isArray(value)) {
      diagnostics.push({
        severity: 'error',
        code: 'apiops/override-shape',
        message: 'an APIOps configuration file is a mapping of resource kinds (namedValues, backends, apis...) to lists',
        file: source.file,
        line: 1,
        column: 1,
        hint: 'e.g. namedValues:\n  - name: environment\n    properties: {value: dev}',
      });
      return null;
    }
    // Map each JS item back to its YAML node so diagnostics can point at the line of an unused override.
    const nodes = new Map<unknown, YamlNode>();
    const pair = (js: unknown, node: unknown): void => {
      if (!node || typeof node !== 'object') return;
      if (isMap(node) && js && typeof js === 'object' && !Array.isArray(js)) {
        nodes.set(js, node);
        for (const p of node.items) {
          const k = (p.key as { value?: unknown } | null)?.value;
          if (typeof k === 'string') pair((js as Record<string, unknown>)[k], p.value);
        }
      } else if (isSeq(node) && Array.isArray(js)) {
        node.items.forEach((n, i) => pair(js[i], n));
      }
    };
    pair(value, doc.contents);
    return new Overrides(source, value as Record<string, unknown>, nodes);
  }

  /**
   * The `properties` override for a resource: `chain` walks the parents, e.g. [['apis', 'basic-api'], ['operations',
   * 'get-items'], ['policies', 'policy']]. undefined when the file has none.
   */
  find(chain: Array<[string, string]>): Record<string, unknown> | undefined {
    let level: unknown = this.root;
    for (const [key, name] of chain) {
      const list = (level as Record<string, unknown> | undefined)?.[key];
      if (!Array.isArray(list)) return undefined;
      level = list.find((item) => item && typeof item === 'object' && (item as { name?: unknown }).name === name);
      if (!level) return undefined;
      const node = this.nodes.get(level);
      if (node) this.used.add(node);
    }
    const props = (level as { properties?: unknown }).properties;
    return props && typeof props === 'object' && !Array.isArray(props) ? (props as Record<string, unknown>) : undefined;
  }

  /** Override items no resource matched: APIOps ignores them silently, which hides typos; say so once each. */
  unused(kinds: readonly string[]): Diagnostic[] {
    const out: Diagnostic[] = [];
    const walk = (level: Record<string, unknown>, where: string): void => {
      for (const [key, list] of Object.entries(level)) {
        if (!Array.isArray(list)) continue;
        if (where === '' && !kinds.includes(key)) continue;
        for (const item of list) {
          if (!item || typeof item !== 'object') continue;
          const node = this.nodes.get(item);
          const name = String((item as { name?: unknown }).name ?? '');
          if (node && !this.used.has(node)) {
            const pos = node.range ? this.source.positionAt(node.range[0]) : { line: 1, column: 1 };
            out.push({
              severity: 'warning',
              code: 'apiops/override-unused',
              message: `override ${where}${key}[name=${name}] matches no resource in the tree, so it changes nothing`,
              hint: 'name is the folder name of the resource (case-sensitive), e.g. apis/<name>, named values/<name>',
              file: this.source.file,
              ...pos,
            });
          } else walk(item as Record<string, unknown>, `${where}${key}[${name}].`);
        }
      }
    };
    walk(this.root, '');
    return out;
  }
}

/** APIOps' MergeWith: objects merge recursively, scalars and arrays replace (docs/apiops.md, Override files). */
export function deepMerge(base: unknown, override: unknown): unknown {
  if (!isObject(base) || !isObject(override)) return override === undefined ? base : override;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) out[k] = deepMerge(base[k], v);
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

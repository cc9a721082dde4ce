import type { BackendDefinition } from '../backends/index.js';
import { memberCI, parseJsonWithPositions, type JsonNode } from '../source/json.js';
import type { Clock } from '../clock.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { GatewayDefinition } from '../gateway/definition.js';
import { AZURE_OPENAI_MOCK, MockBackendSet, type MockScript } from '../mocks/index.js';

/**
 * Starts one mock backend per mocked backend id (named after it, so `/_emulator/mocks/<id>` addresses it) and points
 * the backend's url at it, keeping the url's path: `https://foundry1.example.com/openai` becomes
 * `http://127.0.0.1:<port>/openai`. The url is replaced in the backend file's JSON text, so everything downstream
 * (validation, the registry, `/_emulator/backends`) sees the mock's address.
 *
 * `mockAll`: every single backend with a url that has no explicit script gets the built-in Azure OpenAI mock.
 */
export async function attachMocks(
  def: GatewayDefinition,
  backends: BackendDefinition[],
  scripts: Map<string, MockScript>,
  mockAll: boolean,
  clock: Clock,
  host = '127.0.0.1',
  opts: { existing?: MockBackendSet; except?: ReadonlySet<string>; inProcess?: boolean } = {},
): Promise<{ definition: GatewayDefinition; mocks: MockBackendSet; diagnostics: Diagnostic[] }> {
  // On a reload the running mocks are reused (their scripts, call counts and quotas survive); mocks of backends that
  // are gone are stopped.
  const mocks = opts.existing ?? new MockBackendSet();
  const targets = new Map<string, MockScript>();
  if (mockAll) for (const b of backends) if (b.type === 'Single' && b.url && !opts.except?.has(b.id)) targets.set(b.id, AZURE_OPENAI_MOCK);
  for (const [id, s] of scripts) targets.set(id, s);
  for (const m of mocks.all()) if (!targets.has(m.name)) await mocks.stop(m.name);
  if (targets.size === 0) return { definition: def, mocks, diagnostics: [] };

  const byId = new Map(backends.map((b) => [b.id, b]));
  const urls = new Map<string, string>();
  try {
    for (const [id, script] of targets) {
      const b = byId.get(id);
      if (!b || b.type !== 'Single') continue; // checkMockTargets reported it
      const mock = mocks.get(id) ?? (await mocks.start(id, script, clock, { host, inProcess: opts.inProcess ?? false }));
      urls.set(id, mock.url + urlPath(b.url));
    }
  } catch (e) {
    if (!opts.existing) await mocks.closeAll();
    throw e;
  }
  const r = rewriteBackendUrls(def, backends, urls, 'mock');
  return { definition: r.definition, mocks, diagnostics: r.diagnostics };
}

/**
 * Points backends at other urls (`--backend-url ID=URL`, mocks) by replacing the url string in the backend file's JSON
 * text, so everything downstream (validation, the registry with its breakers and pool membership,
 * `/_emulator/backends`) sees the new address.
 */
export function rewriteBackendUrls(
  def: GatewayDefinition,
  backends: BackendDefinition[],
  urls: ReadonlyMap<string, string>,
  why: 'mock' | 'backend-url',
): { definition: GatewayDefinition; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  if (urls.size === 0) return { definition: def, diagnostics };
  const byId = new Map(backends.map((b) => [b.id, b]));
  const replacements = new Map<string, Array<{ start: number; end: number; text: string; id: string }>>();
  for (const [id, url] of urls) {
    const b = byId.get(id);
    if (!b || b.type !== 'Single') continue; // checkMockTargets / checkBackendUrls reported it
    const file = def.backendFiles.find((f) => f.file === b.file);
    const located = file ? locateUrl(file.text, b.jsonPath) : undefined;
    if (!file || !located) {
      diagnostics.push({
        severity: 'error',
        code: 'config/mock-url',
        message: `cannot point backend "${id}" at ${why === 'mock' ? 'its mock' : url}: its url is not a plain string at ${b.jsonPath}.properties.url`,
        hint: 'write the url as a literal or an ARM expression string in the backend file',
        file: b.file,
        ...(b.line !== undefined ? { line: b.line, column: b.column ?? 1 } : {}),
        jsonPath: b.jsonPath,
      });
      continue;
    }
    const list = replacements.get(file.file) ?? [];
    list.push({ ...located, text: JSON.stringify(url), id });
    replacements.set(file.file, list);
  }
  const backendFiles = def.backendFiles.map((f) => {
    const list = replacements.get(f.file);
    if (!list) return f;
    let text = f.text;
    // Right to left, so earlier offsets stay valid.
    for (const r of [...list].sort((a, b) => b.start - a.start)) text = text.slice(0, r.start) + r.text + text.slice(r.end);
    return { file: f.file, text };
  });
  return { definition: { ...def, backendFiles }, diagnostics };
}

/** Path and query of a backend url ('' when it has none or is not a URL). */
function urlPath(url: string | undefined): string {
  if (!url) return '';
  try {
    const u = new URL(url);
    return (u.pathname === '/' ? '' : u.pathname) + u.search;
  } catch {
    return '';
  }
}

/** Offsets of the JSON string literal at `<jsonPath>.properties.url` in `text`. */
function locateUrl(text: string, jsonPath: string): { start: number; end: number } | undefined {
  let node: JsonNode | undefined;
  try {
    node = parseJsonWithPositions(text);
  } catch {
    return undefined;
  }
  for (const seg of parsePath(jsonPath)) {
    if (node === undefined) return undefined;
    if (typeof seg === 'number') node = node.kind === 'array' ? node.items[seg] : undefined;
    else node = memberCI(node, seg)?.value;
  }
  const url = memberCI(memberCI(node, 'properties')?.value, 'url')?.value;
  if (url?.kind !== 'string' || text[url.offset] !== '"') return undefined;
  let i = url.offset + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  return { start: url.offset, end: i + 1 };
}

/** `$.resources[2].properties.template.resources['a b']` → ['resources', 2, 'properties', ...]. */
function parsePath(p: string): Array<string | number> {
  const out: Array<string | number> = [];
  const re = /\.([A-Za-z_$][\w$]*)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]/g;
  for (const m of p.slice(1).matchAll(re)) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push(m[3]!.replace(/\\'/g, "'"));
  }
  return out;
}

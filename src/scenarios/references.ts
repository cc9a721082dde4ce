import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { CoverageIndex } from './coverage.js';
import type { ScenarioEnvironment } from './environment.js';
import type { Loc, Scenario } from './types.js';

/**
 * What a scenario names that only the loaded gateway can confirm (backend ids, mock ids, trace paths), and the trace
 * expectation language (`retry`, `choose[1]/when[2]`, `api on-error choose[1]`) shared with the expectation checks.
 */

/** Checks that need the loaded gateway: backend ids named in expectations, trace paths that exist. */
export function checkAgainstEnvironment(s: Scenario, env: ScenarioEnvironment, coverage: CoverageIndex): Diagnostic[] {
  const out: Diagnostic[] = [];
  const singles = new Set(env.backends.filter((b) => b.type === 'Single').map((b) => b.id));
  const pools = new Set(env.backends.filter((b) => b.type === 'Pool').map((b) => b.id));
  const withBreaker = new Set(env.backends.filter((b) => b.circuitBreaker).map((b) => b.id));
  const err = (loc: Loc | undefined, message: string, hint: string) =>
    out.push({ severity: 'error', code: 'scenario/unknown-reference', message, hint, ...(loc ?? { file: s.file }) });
  const knownSingles = singles.size ? `backends: ${[...singles].join(', ')}` : 'no single backends are defined';
  const checkMember = (id: string, loc: Loc | undefined, what: string) => {
    if (singles.has(id)) return;
    if (pools.has(id)) err(loc, `${what} names "${id}", which is a pool`, `attempts reach pool members: ${knownSingles}`);
    else err(loc, `${what} names backend "${id}", which is not defined`, knownSingles);
  };
  const items = [...coverage.files.values()].flatMap((f) => f.items);
  const expectations = s.steps.flatMap((step) => [step.expect, ...(step.kind === 'concurrent' ? step.entries.map((x) => x.expect) : [])]);
  for (const e of expectations) {
    if (!e) continue;
    const at = (k: string) => e.keyLocs.get(k) ?? e.loc;
    if (e.backend) checkMember(e.backend, at('backend'), '"backend"');
    e.attempts?.forEach((a, i) => checkMember(a.backend, at(`attempts[${i}]`), '"attempts"'));
    for (const [id] of e.distribution ?? []) checkMember(id, at(`distribution.${id}`), '"distribution"');
    for (const [id] of e.servedBy ?? []) if (id !== 'none') checkMember(id, at(`servedBy.${id}`), '"servedBy"');
    for (const [id] of e.breakers ?? []) {
      if (!singles.has(id) && !pools.has(id)) err(at(`breakers.${id}`), `"breakers" names backend "${id}", which is not defined`, knownSingles);
      else if (!withBreaker.has(id))
        err(
          at(`breakers.${id}`),
          `backend "${id}" has no circuit breaker`,
          withBreaker.size ? `backends with a breaker: ${[...withBreaker].join(', ')}` : 'no backend defines circuitBreaker.rules',
        );
    }
    for (const [id] of e.mockRequests ?? []) {
      if (!env.mocks.get(id))
        err(
          at(`mockRequests.${id}`),
          `"mockRequests" names "${id}", which has no mock backend`,
          `mocked backends: ${
            env.mocks
              .all()
              .map((m) => m.name)
              .join(', ') || 'none'
          }`,
        );
    }
    const specs = [
      ...(e.traceRan ?? []).map((t, i) => [t, `trace.ran[${i}]`] as const),
      ...(e.traceNotRan ?? []).map((t, i) => [t, `trace.notRan[${i}]`] as const),
    ];
    for (const [spec, key] of specs) {
      const parsed = parseTraceSpec(spec);
      const loc = e.keyLocs.get(key) ?? at('trace');
      if ('error' in parsed) {
        out.push({
          severity: 'error',
          code: 'scenario/trace',
          message: `"${spec}": ${parsed.error}`,
          hint: 'write a policy name (retry), a path (choose[1]/when[2]), "section path" or "scope section path"',
          ...loc,
        });
        continue;
      }
      if (!items.some((it) => specMatches(parsed, { scope: undefined, section: it.section, path: it.path, policy: it.policy }))) {
        const near = [...new Set(items.map((it) => `${it.section} ${it.path}`))].slice(0, 12).join(', ');
        out.push({
          severity: 'error',
          code: 'scenario/trace',
          message: `"${spec}" names no policy in the documents under test`,
          hint: near ? `e.g. ${near}` : 'no policy documents are loaded',
          ...loc,
        });
      }
    }
  }
  return out;
}

export interface TraceSpec {
  scope?: string;
  section?: string;
  /** A path (contains "[") or a policy name. */
  what: string;
}

const SCOPE_WORDS = ['global', 'product', 'api', 'operation'];
const SECTION_WORDS = ['inbound', 'backend', 'outbound', 'on-error'];

export function parseTraceSpec(spec: string): TraceSpec | { error: string } {
  const parts = spec.trim().split(/\s+/);
  if (parts.length > 3) return { error: 'too many words' };
  const what = parts[parts.length - 1]!;
  const section = parts.length >= 2 ? parts[parts.length - 2] : undefined;
  const scope = parts.length === 3 ? parts[0] : undefined;
  if (section !== undefined && !SECTION_WORDS.includes(section)) return { error: `"${section}" is not a section (${SECTION_WORDS.join(', ')})` };
  if (scope !== undefined && !SCOPE_WORDS.includes(scope)) return { error: `"${scope}" is not a scope (${SCOPE_WORDS.join(', ')})` };
  return { what, ...(section ? { section } : {}), ...(scope ? { scope } : {}) };
}

export function specMatches(spec: TraceSpec, r: { scope: string | undefined; section: string; path: string; policy: string }): boolean {
  if (spec.scope && r.scope !== undefined && spec.scope !== r.scope) return false;
  if (spec.section && spec.section !== r.section) return false;
  return spec.what.includes('[') ? r.path === spec.what : r.policy === spec.what;
}

import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { allPolicyDefinitions } from '../../src/policies/registry.js';

/**
 * The layering rules of docs/architecture.md, checked on the import statements of src/ (type-only imports included):
 * no import circle through src/pipeline or src/policies, policies see the engine only through the policy SDK, the
 * pipeline imports no policy, the engine imports no shell, and the core names no policy.
 */

const SRC = path.resolve(__dirname, '../../src');

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Module specifiers of static imports, re-exports, dynamic imports and `import('x').T` type references. */
export function specifiers(text: string): string[] {
  const out: string[] = [];
  const noComments = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  for (const m of noComments.matchAll(/^\s*(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]/gm)) out.push(m[1]!);
  for (const m of noComments.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) out.push(m[1]!);
  for (const m of noComments.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  for (const m of noComments.matchAll(/^\s*declare\s+module\s+['"]([^'"]+)['"]/gm)) out.push(m[1]!);
  return out;
}

const rel = (abs: string) => path.relative(SRC, abs).split(path.sep).join('/');
const files = walk(SRC);
const graph = new Map<string, { local: string[]; external: string[] }>();
for (const f of files) {
  const local: string[] = [];
  const external: string[] = [];
  for (const s of specifiers(readFileSync(f, 'utf8'))) {
    if (s.startsWith('.')) local.push(rel(path.resolve(path.dirname(f), s.replace(/\.js$/, '.ts'))));
    else external.push(s);
  }
  graph.set(rel(f), { local, external });
}

/** Strongly connected components with more than one file (Tarjan). */
function cycles(): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v)?.local ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

const layer = (f: string) => f.split('/')[0]!;

describe('architecture: the import graph', () => {
  it('reads the import statements of every source file', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get('gateway/gateway.ts')!.local).toContain('pipeline/compiler.ts');
    expect(specifiers("import type { A } from './a.js';\nexport { b } from \"../b.js\";\nconst c = import('./c.js');")).toEqual([
      './a.js',
      '../b.js',
      './c.js',
    ]);
  });

  it('has no import circle through src/pipeline or src/policies', () => {
    // A circle between layers (the old pipeline <-> policies loop); helpers of one folder that use each other are local.
    const bad = cycles().filter((scc) => scc.some((f) => f.startsWith('pipeline/') || f.startsWith('policies/')) && new Set(scc.map(layer)).size > 1);
    expect(bad).toEqual([]);
  });

  it('policies import only the policy SDK, expressions, dotnet and their own folder', () => {
    const allowed = (target: string) =>
      target === 'engine/policy-sdk.ts' || target.startsWith('policies/') || target.startsWith('expressions/') || target.startsWith('dotnet/');
    const bad: string[] = [];
    for (const [f, { local }] of graph) {
      if (!f.startsWith('policies/')) continue;
      for (const t of local) if (!allowed(t)) bad.push(`${f} -> ${t}`);
    }
    expect(bad).toEqual([]);
  });

  it('the pipeline and the engine import no policy, and the engine imports no shell', () => {
    const bad: string[] = [];
    for (const [f, { local }] of graph) {
      if (layer(f) === 'pipeline')
        for (const t of local) if (['policies', 'gateway', 'server', 'cli', 'scenarios'].includes(layer(t))) bad.push(`${f} -> ${t}`);
      if (layer(f) === 'engine')
        for (const t of local)
          if (['policies', 'pipeline', 'gateway', 'server', 'cli', 'scenarios', 'config', 'mocks'].includes(layer(t))) bad.push(`${f} -> ${t}`);
    }
    expect(bad).toEqual([]);
  });

  it('the engine, pipeline and gateway do no I/O of their own: no undici, Express, sockets or files', () => {
    // node:net is allowed: ip-filter uses its pure isIP().
    const io = ['undici', 'express', 'node:fs', 'node:http', 'node:https', 'node:http2', 'fs', 'http'];
    const bad: string[] = [];
    for (const [f, { external }] of graph) {
      if (!['engine', 'pipeline', 'gateway', 'policies'].includes(layer(f))) continue;
      for (const x of external) if (io.includes(x)) bad.push(`${f} -> ${x}`);
      if (/instanceof\s+SystemClock/.test(readFileSync(path.join(SRC, f), 'utf8'))) bad.push(`${f}: instanceof SystemClock`);
    }
    expect(bad).toEqual([]);
  });

  it('the gateway and the executor name no policy (policies declare preflight and skip-backend themselves)', () => {
    // `trace` is also the name of a trace event kind, so it is left out of the text search.
    const names = allPolicyDefinitions()
      .map((d) => d.name)
      .filter((n) => n !== 'trace');
    expect(names).toContain('cors');
    for (const f of ['gateway/gateway.ts', 'pipeline/execute.ts', 'engine/context.ts']) {
      const text = readFileSync(path.join(SRC, f), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '');
      const named = names.filter((n) => new RegExp(`['"\`]${n}['"\`]|\\b${n.replace(/-/g, '\\-')}\\.js`).test(text));
      expect(named, f).toEqual([]);
    }
  });
});

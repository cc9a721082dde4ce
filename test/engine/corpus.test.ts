import { describe, expect, it } from 'vitest';
import { formatDiagnosticLine } from '../../src/diagnostics/diagnostic.js';
import { CORPUS_PRESENT, corpusLabs, fillPlaceholders } from '../helpers/corpus.js';
import { tryBuildGateway } from '../helpers/gateway.js';

/**
 * Every policy file of the real AI-Gateway labs loads, validates and compiles (with its lab's backends and deploy
 * placeholders), as the engine issue requires, and no element is reported as "not supported yet" (every policy the
 * labs use is executed or explicitly emulated). The test prints how many files are clean.
 */
describe.skipIf(!CORPUS_PRESENT)('corpus: all AI-Gateway lab policies load', () => {
  const labs = corpusLabs();

  it('finds the 114 policy files', () => {
    expect(labs.length).toBe(114);
  });

  it('loads every file with no errors and no unsupported policy', () => {
    const unexpected: string[] = [];
    const unsupported = new Map<string, number>();
    let clean = 0;
    for (const lab of labs) {
      const { diagnostics } = tryBuildGateway({
        api: fillPlaceholders(lab.text, lab.placeholders),
        backends: lab.backends.map((b) => b.text),
        namedValues: namedValuesFor(lab.text),
      });
      const errors = diagnostics.filter((d) => d.severity === 'error');
      if (errors.length === 0) clean++;
      for (const e of errors) {
        if (e.code === 'policy/unsupported') {
          const name = /<([a-z-]+)>/.exec(e.message)?.[1] ?? e.message;
          unsupported.set(name, (unsupported.get(name) ?? 0) + 1);
        } else {
          unexpected.push(`${lab.file}: ${formatDiagnosticLine(e)}`);
        }
      }
    }
    console.log(
      `[corpus] ${clean}/${labs.length} policy files load with no error; not yet supported: ${[...unsupported].map(([n, c]) => `${n}×${c}`).join(', ') || 'none'}`,
    );
    expect(unexpected).toEqual([]);
    expect([...unsupported.keys()]).toEqual([]);
    expect(clean).toBe(labs.length);
  });
});

/** Every `{{name}}` the file uses, defined with a stand-in value (the labs define them at deploy time). */
function namedValuesFor(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/\{\{([^{}]+)\}\}/g)) out[m[1]!.trim()] = `nv-${m[1]!.trim()}`;
  return out;
}

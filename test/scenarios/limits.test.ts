import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';
import { SourceText } from '../../src/diagnostics/source.js';
import { parseScenarioSource, YAML_LIMITS } from '../../src/scenarios/source.js';

/** Hostile scenario YAML: alias bombs and self-nesting end as positioned diagnostics in bounded time. */

function parse(text: string) {
  const diagnostics: Diagnostic[] = [];
  const r = parseScenarioSource(new SourceText('bomb.scenario.yaml', text), diagnostics);
  return { r, diagnostics };
}

describe('scenario YAML limits', () => {
  it('a billion-laughs alias bomb is scenario/too-large at the alias that crosses the limit', () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) {
      const p = String.fromCharCode(96 + i);
      const n = String.fromCharCode(97 + i);
      lines.push(`${n}: &${n} [*${p},*${p},*${p},*${p},*${p},*${p},*${p},*${p},*${p}]`);
    }
    lines.push('steps: *i');
    const text = lines.join('\n');
    const { r, diagnostics } = parse(text);
    expect(r).toBeNull();
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ code: 'scenario/too-large', file: 'bomb.scenario.yaml' });
    expect(diagnostics[0]!.message).toContain(`more than ${YAML_LIMITS.values} values`);
    // At an alias the user wrote (the copy that goes too far), not inside the anchor it copies.
    const d = diagnostics[0]!;
    expect(text.split('\n')[d.line! - 1]![d.column! - 1]).toBe('*');
  });

  it('ordinary aliases still work', () => {
    const { r, diagnostics } = parse('defaults: &d {method: GET, path: /x}\nsteps:\n  - request: *d\n  - request: *d\n');
    expect(diagnostics).toEqual([]);
    expect(r!.value).toEqual({
      defaults: { method: 'GET', path: '/x' },
      steps: [{ request: { method: 'GET', path: '/x' } }, { request: { method: 'GET', path: '/x' } }],
    });
  });

  it('nesting past the depth limit is a diagnostic, not a silent null', () => {
    const text = 'steps: ' + '['.repeat(YAML_LIMITS.depth + 5) + ']'.repeat(YAML_LIMITS.depth + 5);
    const { r, diagnostics } = parse(text);
    expect(r).toBeNull();
    expect(diagnostics.map((d) => d.code)).toEqual(['scenario/too-deep']);
    expect(diagnostics[0]!.line).toBe(1);
  });
});

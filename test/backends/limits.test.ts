import { describe, expect, it } from 'vitest';
import { loadBackends } from '../../src/backends/index.js';
import { ARM_LIMITS } from '../../src/backends/arm.js';
import { MAX_JSON_DEPTH, parseJsonWithPositions, JsonSyntaxError } from '../../src/source/json.js';

/** Hostile backend files: each must end as a positioned diagnostic, never a thrown JS error or a hang. */

const backend = (extra: Record<string, unknown> = {}) => ({
  type: 'Microsoft.ApiManagement/service/backends',
  apiVersion: '2024-06-01-preview',
  name: 'apim/b1',
  properties: { url: 'https://b1.example', protocol: 'http' },
  ...extra,
});

const arm = (body: Record<string, unknown>) =>
  JSON.stringify({ $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#', contentVersion: '1.0.0.0', ...body });

function load(text: string, parameters?: Record<string, unknown>) {
  return loadBackends([{ file: 'main.json', text }], parameters ? { parameters } : {});
}

function only(text: string, code: string) {
  const r = load(text);
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  expect(errors.map((d) => d.code)).toContain(code);
  const d = errors.find((x) => x.code === code)!;
  expect(d.file).toBe('main.json');
  expect(d.line).toBeGreaterThanOrEqual(1);
  expect(d.column).toBeGreaterThanOrEqual(1);
  return d;
}

describe('JSON reader limits', () => {
  it('refuses nesting past the depth limit with the offset of the first level too deep', () => {
    const deep = '['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1);
    let caught: unknown;
    try {
      parseJsonWithPositions(deep);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(JsonSyntaxError);
    expect((caught as JsonSyntaxError).offset).toBe(MAX_JSON_DEPTH);
    expect((caught as JsonSyntaxError).message).toMatch(/nested deeper than 512 levels/);
    // The limit itself is fine, and 100k levels still end in the same bounded error.
    const ok = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH);
    expect(parseJsonWithPositions(ok).kind).toBe('array');
    expect(() => parseJsonWithPositions('{"a":'.repeat(100_000))).toThrow(JsonSyntaxError);
  });

  it('a deeply nested backend file is a json-syntax diagnostic with line and column', () => {
    const d = only(`{\n  "value": ${'['.repeat(3000)}${']'.repeat(3000)}\n}`, 'backend/json-syntax');
    expect(d.line).toBe(2);
    expect(d.message).toMatch(/nested deeper/);
  });
});

describe('ARM limits', () => {
  it('copy.count above 800 is refused as ARM refuses it', () => {
    const d = only(
      arm({ resources: [backend({ name: "[concat('apim/b', string(copyIndex()))]", copy: { name: 'c', count: 1_000_000_000 } })] }),
      'backend/arm-limit',
    );
    expect(d.jsonPath).toBe('$.resources[0].copy.count');
    expect(d.message).toMatch(/at most 800/);
    // 800 itself is allowed (the condition keeps the test from building 800 backends).
    const fine = load(
      arm({
        resources: [
          backend({
            name: "[concat('apim/b', string(copyIndex()))]",
            condition: '[equals(copyIndex(), 799)]',
            copy: { name: 'c', count: ARM_LIMITS.copyCount },
          }),
        ],
      }),
    );
    expect(fine.diagnostics.filter((x) => x.severity === 'error')).toEqual([]);
    expect(fine.backends.map((b) => b.id)).toEqual(['b799']);
  });

  it('range() larger than ARM allows is refused', () => {
    const t = arm({
      variables: { r: '[range(0, 1000000000)]' },
      resources: [backend({ properties: { url: "[concat('https://x/', string(length(variables('r'))))]", protocol: 'http' } })],
    });
    expect(only(t, 'backend/arm-limit').message).toMatch(/range\(\) count 1000000000/);
  });

  it('variables that double each other stop at the value size limit', () => {
    const variables: Record<string, string> = { v0: 'aaaaaaaaaa' };
    for (let i = 1; i < 60; i++) variables[`v${i}`] = `[concat(variables('v${i - 1}'), variables('v${i - 1}'))]`;
    const t = arm({ variables, resources: [backend({ properties: { url: "[concat('https://x/', variables('v59'))]", protocol: 'http' } })] });
    const d = only(t, 'backend/arm-limit');
    expect(d.jsonPath).toMatch(/^\$\.variables\.v\d+$/);
    expect(d.message).toMatch(/larger than 4 MiB/);
  });

  it('objects built from shared parts are measured without printing them', () => {
    const variables: Record<string, string> = { o0: "[createObject('a', 'x')]" };
    for (let i = 1; i < 60; i++) variables[`o${i}`] = `[createObject('l', variables('o${i - 1}'), 'r', variables('o${i - 1}'))]`;
    const t = arm({ variables, resources: [backend({ properties: { url: "[concat('https://x/', string(variables('o59')))]", protocol: 'http' } })] });
    expect(only(t, 'backend/arm-limit').message).toMatch(/createObject\(\)/);
  });

  it('a replace() that would explode is refused before it is built', () => {
    const t = arm({
      variables: {
        big: "[replace(replace(replace('aaaaaaaaaaaaaaaa', 'a', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'), 'a', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'), 'a', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')]",
      },
      resources: [backend({ properties: { url: "[concat('https://x/', variables('big'))]", protocol: 'http' } })],
    });
    expect(only(t, 'backend/arm-limit').message).toMatch(/replace\(\)/);
  });

  it('a parameter default that refers to itself, directly or through another, is a diagnostic', () => {
    const direct = arm({
      parameters: { p: { type: 'string', defaultValue: "[parameters('p')]" } },
      resources: [backend({ properties: { url: "[parameters('p')]", protocol: 'http' } })],
    });
    expect(only(direct, 'backend/arm-parameter').message).toMatch(/'p' refers to itself/);
    const cycle = arm({
      parameters: { a: { type: 'string', defaultValue: "[parameters('b')]" }, b: { type: 'string', defaultValue: "[concat('x', parameters('a'))]" } },
      resources: [backend({ properties: { url: "[parameters('a')]", protocol: 'http' } })],
    });
    expect(only(cycle, 'backend/arm-parameter').message).toMatch(/refers to itself \(through a → b\)/);
  });

  it('deeply nested calls and over-long expressions are refused', () => {
    let e = '1';
    for (let i = 0; i < 3000; i++) e = `add(${e}, 1)`;
    const deep = arm({ resources: [backend({ properties: { url: `[string(${e})]`, protocol: 'http' } })] });
    const d1 = only(deep, 'backend/arm-expression');
    expect(d1.message).toMatch(/nested deeper than 100 levels/);
    const long = arm({ resources: [backend({ properties: { url: `[concat('${'a'.repeat(30_000)}')]`, protocol: 'http' } })] });
    expect(only(long, 'backend/arm-limit').message).toMatch(/ARM allows at most 24576/);
  });

  it('json() of deeply nested text is a diagnostic', () => {
    const t = arm({ resources: [backend({ properties: { url: `[string(json('${'['.repeat(5000)}${']'.repeat(5000)}'))]`, protocol: 'http' } })] });
    expect(only(t, 'backend/arm-expression').message).toMatch(/json\(\) argument is not valid JSON: .*nested deeper/);
  });
});

describe('statusCodeRanges type confusions', () => {
  for (const [what, value] of [
    ['an object', { min: 500, max: 599 }],
    ['a number', 500],
    ['a string', '500-599'],
  ] as const) {
    it(`given as ${what} is a schema diagnostic, not a crash`, () => {
      const t = arm({
        resources: [
          backend({
            properties: {
              url: 'https://b1',
              protocol: 'http',
              circuitBreaker: { rules: [{ name: 'r', failureCondition: { count: 1, interval: 'PT1M', statusCodeRanges: value }, tripDuration: 'PT1M' }] },
            },
          }),
        ],
      });
      const d = only(t, 'backend/schema');
      expect(d.jsonPath).toMatch(/statusCodeRanges$/);
    });
  }
});

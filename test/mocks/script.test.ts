import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { formatDiagnosticLine, type Diagnostic } from '../../src/diagnostics/diagnostic.js';
import { AZURE_OPENAI_MOCK, formatMockScript, mockScriptFromJson, parseMockScript, stepForCall, type MockScript } from '../../src/mocks/index.js';

function ok(text: string): MockScript {
  const r = parseMockScript(text);
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.script!;
}

function errors(text: string, origin?: string): Diagnostic[] {
  const r = parseMockScript(text, origin);
  expect(r.script).toBeUndefined();
  return r.diagnostics.filter((d) => d.severity === 'error');
}

describe('text form', () => {
  it('parses the documented examples', () => {
    expect(ok('429x3 retry-after=7; 200')).toEqual({
      steps: [
        { times: 3, status: 429, retryAfter: 7 },
        { times: 1, status: 200 },
      ],
    });
    expect(ok('200 latency=150ms')).toEqual({ steps: [{ times: 1, status: 200, latencyMs: 150 }] });
    expect(ok('reset')).toEqual({ steps: [{ times: 1, reset: true }] });
    expect(ok('aoai')).toEqual({ steps: [{ times: 1, aoai: {} }] });
    expect(ok('aoai stream-fail-after=3')).toEqual({ steps: [{ times: 1, aoai: {}, sseFailAfterChunks: 3 }] });
    expect(ok('500x2; aoai')).toEqual({
      steps: [
        { times: 2, status: 500 },
        { times: 1, aoai: {} },
      ],
    });
  });

  it('parses options, units, quoting and then=', () => {
    const s = ok(
      `503 x2 latency=1.5s header="x-ms-region: East US" header=x-a:1 header=x-a:2; hang latency=40s\n` +
        `aoai model=gpt-4o content='hi; there' completion-tokens=5 region=westeurope ratelimit-tokens=500 chunk-delay=2s; ` +
        `200x* json='{"ok":true,"n":[1,2]}'`,
    );
    expect(s.steps).toEqual([
      { times: 2, status: 503, latencyMs: 1500, headers: { 'x-ms-region': 'East US', 'x-a': ['1', '2'] } },
      { times: 1, hang: true, latencyMs: 40_000 },
      {
        times: 1,
        aoai: { model: 'gpt-4o', content: 'hi; there', completionTokens: 5, region: 'westeurope' },
        rateLimitHeaders: { tokens: 500 },
        chunkDelayMs: 2000,
      },
      { times: 'forever', status: 200, body: { ok: true, n: [1, 2] } },
    ]);
    expect(ok('429x3; then=404').then).toBe(404);
    expect(ok('500; 200; then=cycle').then).toBe('cycle');
    expect(ok('200 body="a \\"quoted\\" text"').steps[0]!.body).toBe('a "quoted" text');
    expect(ok('aoai ratelimit').steps[0]!.rateLimitHeaders).toEqual({});
    expect(ok('429 retry-after=7s times=4').steps[0]).toEqual({ times: 4, status: 429, retryAfter: 7 });
  });

  it('reports syntax errors with position, what is wrong and what is allowed', () => {
    const [e1] = errors('429x3 retry-afterr=7; 200', '--mock aoai-1');
    expect(e1).toMatchObject({ code: 'mock/syntax', file: '--mock aoai-1', line: 1, column: 7, message: 'unknown option "retry-afterr"' });
    expect(e1!.hint).toContain('did you mean "retry-after"');
    expect(formatDiagnosticLine(e1!)).toMatch(/^--mock aoai-1:1:7: error mock\/syntax: unknown option "retry-afterr" \(allowed: times, status, retry-after/);

    expect(errors('99')[0]).toMatchObject({ column: 1, message: 'invalid status "99"', hint: 'allowed: 200-599' });
    expect(errors('200; 700')[0]).toMatchObject({ column: 6, message: 'invalid status "700"' });
    expect(errors('200; ; 500')[0]).toMatchObject({ column: 6, message: 'empty step before ";"' });
    expect(errors('200 body="abc')[0]).toMatchObject({ column: 10, message: 'unterminated double-quoted value' });
    expect(errors('200 latency=fast')[0]).toMatchObject({ column: 13, message: 'invalid latency "fast"' });
    expect(errors('200x0')[0]).toMatchObject({ column: 4, message: 'invalid repeat count "0" in "200x0"' });
    expect(errors('ok')[0]).toMatchObject({ column: 1, message: 'unknown word "ok"' });
    expect(errors('200 json={bad}')[0]).toMatchObject({ column: 10, code: 'mock/syntax' });
    expect(errors('then=404; 200')[0]).toMatchObject({ column: 1, message: 'then= must be the last segment' });
    expect(errors('then=404')[0]).toMatchObject({ code: 'mock/empty' });
    expect(errors('   ')[0]).toMatchObject({ code: 'mock/empty', message: 'empty mock script' });
    // Multi-line scripts (YAML block strings) report the right line.
    expect(errors('429x2\n200 latency=soon', 'cfg.yaml')[0]).toMatchObject({ file: 'cfg.yaml', line: 2, column: 13 });
  });

  it('reports contradictory steps at the offending word', () => {
    const [e] = errors('500x*; 200');
    expect(e).toMatchObject({ code: 'mock/conflict', column: 4 });
    expect(e!.message).toContain('step 1 repeats forever');
    expect(errors('reset retry-after=3')[0]).toMatchObject({ code: 'mock/conflict', column: 7 });
    expect(errors('aoai json=1')[0]).toMatchObject({ code: 'mock/conflict', message: 'step 1 gives both body and aoai' });
    expect(errors('204 body=x')[0]).toMatchObject({ code: 'mock/conflict', message: 'status 204 cannot carry a body' });
    // A hang without latency never answers: a warning, the script still loads.
    const r = parseMockScript('hang status=200');
    expect(r.script).toBeDefined();
    expect(r.diagnostics[0]).toMatchObject({ severity: 'warning', code: 'mock/unused' });
  });

  it('formats scripts back into the text form (round trip)', () => {
    for (const text of [
      '429x3 retry-after=7; 200',
      '200 latency=150ms',
      'reset',
      'aoai stream-fail-after=3 chunk-delay=5ms',
      '500x2; aoai ratelimit',
      'hang latency=40000ms status=504',
      `aoai model=gpt-4o content="two words" completion-tokens=9 region=westus ratelimit-requests=10 ratelimit-tokens=99`,
      `200x* header="x-a: b c" json='{"a":[1,"x;y"]}'`,
      '429 aoai retry-after=1; 200 body="plain text"; then=503',
    ]) {
      const s = ok(text);
      expect(ok(formatMockScript(s))).toEqual(s);
    }
    expect(formatMockScript(AZURE_OPENAI_MOCK)).toBe('aoaix* ratelimit-requests=1000 ratelimit-tokens=100000');
  });
});

describe('step selection', () => {
  it('repeats the last step by default, cycles or answers a fixed status when told', () => {
    const pick = (s: MockScript, n: number) => Array.from({ length: n }, (_, i) => stepForCall(s, i));
    expect(pick(ok('429x2; 200'), 5)).toEqual([{ index: 0 }, { index: 0 }, { index: 1 }, { index: 1 }, { index: 1 }]);
    expect(pick(ok('429x2; 200; then=cycle'), 6).map((p) => ('index' in p ? p.index : -1))).toEqual([0, 0, 1, 0, 0, 1]);
    expect(pick(ok('200x2; then=404'), 4)).toEqual([{ index: 0 }, { index: 0 }, { thenStatus: 404 }, { thenStatus: 404 }]);
  });
});

describe('JSON form', () => {
  it('accepts an object, a bare array of steps and a text-form string', () => {
    const obj = mockScriptFromJson({
      steps: [
        { status: 429, times: 3, retryAfter: 7 },
        { aoai: true, rateLimitHeaders: true, times: 'forever' },
      ],
      then: 'repeat-last',
    });
    expect(obj.diagnostics).toEqual([]);
    expect(obj.script).toEqual({
      steps: [
        { times: 3, status: 429, retryAfter: 7 },
        { times: 'forever', aoai: {}, rateLimitHeaders: {} },
      ],
      then: 'repeat-last',
    });
    expect(mockScriptFromJson([{ status: 500, times: 2 }, { aoai: { model: 'gpt-4o' } }]).script).toEqual({
      steps: [
        { times: 2, status: 500 },
        { times: 1, aoai: { model: 'gpt-4o' } },
      ],
    });
    expect(mockScriptFromJson('429x3 retry-after=7; 200').script).toEqual(ok('429x3 retry-after=7; 200'));
    const bad = mockScriptFromJson('429x3 retryafter=7', 'apim-emulator.json', '$.mocks.aoai-1');
    expect(bad.diagnostics[0]).toMatchObject({ file: 'apim-emulator.json $.mocks.aoai-1', column: 7 });
  });

  it('reports schema errors with JSON paths and the allowed values', () => {
    const d = mockScriptFromJson(
      { steps: [{ status: 700 }, { statuss: 200 }, { times: 0 }, { aoai: { modle: 'x' } }, { times: 'always' }] },
      'mocks.json',
    ).diagnostics;
    const byPath = Object.fromEntries(d.map((x) => [x.jsonPath, x]));
    expect(byPath['$.steps[0].status']).toMatchObject({ file: 'mocks.json', code: 'mock/schema', hint: 'allowed: 200-599' });
    expect(byPath['$.steps[1].statuss']).toMatchObject({ message: 'unknown property "statuss"' });
    expect(byPath['$.steps[1].statuss']!.hint).toContain('status');
    expect(byPath['$.steps[2].times']!.message).toContain('must be >= 1');
    expect(byPath['$.steps[3].aoai.modle']).toMatchObject({
      message: 'unknown property "modle"',
      hint: 'allowed: model, content, completionTokens, region, quota',
    });
    expect(byPath['$.steps[4].times']).toMatchObject({
      message: 'times has the unsupported value "always"',
      hint: 'allowed: a whole number ≥ 1, or "forever"',
    });
    expect(d).toHaveLength(5);
    expect(formatDiagnosticLine(byPath['$.steps[1].statuss']!)).toMatch(/^mocks\.json \$\.steps\[1\]\.statuss: error mock\/schema: unknown property "statuss"/);

    expect(mockScriptFromJson({ step: [] }).diagnostics.map((x) => x.message)).toEqual(
      expect.arrayContaining(['missing required property "steps"', 'unknown property "step"']),
    );
    expect(mockScriptFromJson(42).diagnostics[0]).toMatchObject({ jsonPath: '$', message: expect.stringContaining('not number 42') });
    expect(mockScriptFromJson({ steps: [] }).diagnostics[0]).toMatchObject({ jsonPath: '$.steps' });
  });

  it('reports contradictory steps at the JSON path of the field', () => {
    const d = mockScriptFromJson({
      steps: [
        { times: 'forever', status: 500 },
        { status: 200, body: 'x', aoai: true },
      ],
    }).diagnostics;
    expect(d.map((x) => x.jsonPath)).toEqual(['$.steps[0].times', '$.steps[1].aoai']);
    expect(d.every((x) => x.code === 'mock/conflict')).toBe(true);
  });

  it('the schema file is a valid strict JSON schema that accepts all three forms', () => {
    const schema = JSON.parse(readFileSync(new URL('../../schemas/mock-script.schema.json', import.meta.url), 'utf8')) as object;
    const validate = new Ajv({ strict: true, allowUnionTypes: true }).compile(schema);
    expect(validate('aoai')).toBe(true);
    expect(validate([{ status: 200 }])).toBe(true);
    expect(validate({ steps: [{ aoai: { completionTokens: 3 }, sseFailAfterChunks: 2 }], then: 404 })).toBe(true);
    expect(validate({ steps: [{ status: 99 }] })).toBe(false);
    expect(validate(3)).toBe(false);
  });
});

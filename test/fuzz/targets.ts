import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { loadBackends } from '../../src/backends/index.js';
import { DiagnosticBag } from '../../src/diagnostics/diagnostic.js';
import { SourceText, TextSpan } from '../../src/diagnostics/source.js';
import { compileExpression } from '../../src/expressions/index.js';
import { mockScriptFromJson, parseMockScript } from '../../src/mocks/index.js';
import { parseScenarioSource } from '../../src/scenarios/source.js';
import { JsonSyntaxError, parseJsonWithPositions } from '../../src/source/json.js';
import { readPolicyXml } from '../../src/xml/read.js';
import { tryBuildGateway } from '../helpers/gateway.js';

/**
 * Fuzz targets shared by the in-repo suite (test/fuzz, a few hundred cases) and the long run (bench/fuzz.ts). Each
 * target takes one generated input and must end with diagnostics: any thrown error is an escape ("internal error").
 */

const CORPUS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/corpus');

/** Real files to mutate: corpus policies and backends where the corpus is present, small built-in seeds otherwise. */
export function seeds(ext: '.xml' | '.json', max = 40): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    if (!existsSync(dir) || out.length >= max) return;
    for (const f of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (out.length >= max) return;
      const p = path.join(dir, f.name);
      if (f.isDirectory()) walk(p);
      else if (f.name.endsWith(ext)) out.push(readFileSync(p, 'utf8'));
    }
  };
  walk(CORPUS);
  if (out.length === 0) {
    out.push(
      ext === '.xml'
        ? '<policies><inbound><base /><set-header name="a" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("x", ""))</value></set-header></inbound><backend><forward-request /></backend><outbound /><on-error /></policies>'
        : '{"backends":[{"name":"b1","properties":{"url":"https://b1","protocol":"http","circuitBreaker":{"rules":[{"name":"r","failureCondition":{"count":1,"interval":"PT1M","statusCodeRanges":[{"min":500,"max":599}]},"tripDuration":"PT1M"}]}}}]}',
    );
  }
  return out;
}

/** A seed with random edits: cut, duplicate, insert hostile fragments, flip characters. */
export function mutated(seedTexts: string[], fragments: string[]): fc.Arbitrary<string> {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), what: fc.oneof(fc.constantFrom(...fragments), fc.string({ maxLength: 20 })) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), len: fc.nat({ max: 200 }) }),
    fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), len: fc.nat({ max: 30 }), times: fc.integer({ min: 2, max: 200 }) }),
  );
  return fc.tuple(fc.constantFrom(...seedTexts), fc.array(edit, { minLength: 1, maxLength: 6 })).map(([seed, edits]) => {
    let t = seed;
    for (const e of edits) {
      const at = t.length ? e.at % t.length : 0;
      if (e.kind === 'insert') t = t.slice(0, at) + e.what + t.slice(at);
      else if (e.kind === 'cut') t = t.slice(0, at) + t.slice(at + e.len);
      else t = t.slice(0, at) + t.slice(at, at + e.len).repeat(e.times) + t.slice(at);
    }
    return t;
  });
}

export const XML_FRAGMENTS = [
  '<choose><when condition="@(true)">',
  '</when></choose>',
  '@(',
  '@{',
  '$"{',
  '"',
  "'",
  '&amp;',
  '&',
  '<!--',
  ']]>',
  '<![CDATA[',
  '{{a}}',
  '</policies>',
  '<',
  '>',
];
export const JSON_FRAGMENTS = [
  '[',
  ']',
  '{',
  '}',
  "\"[concat(variables('v'), variables('v'))]\"",
  '"[range(0, 100000)]"',
  '"[parameters(\'p\')]"',
  '{"copy":{"name":"c","count":1000000}}',
  '"statusCodeRanges":5',
  ',',
  ':',
  '"',
  'null',
  '1e999',
];
export const YAML_FRAGMENTS = ['&a ', '*a', '- ', ': ', '[', ']', '{', '}', '\n  ', '<<: *a', '!!binary ', '"', "'", '#'];
export const SCRIPT_FRAGMENTS = ['x999999999', ';', 'retry-after=', '429', 'aoai', 'hang', 'reset', 'latency=', 'then ', '=', ' '];
export const EXPRESSION_FRAGMENTS = [
  '(',
  ')',
  '((',
  '))',
  '?? ',
  '? 1 : 2',
  '.ToString()',
  'new JObject()',
  'x => x',
  '$"{',
  '"',
  '++',
  '--',
  'Array.Exists',
  '<string>',
  '[0]',
  '{',
  '}',
  ';',
];

/** Runs one target; returns the escaped error, or null when the input ended as diagnostics (or was accepted). */
export type Target = (input: string) => void;

export const TARGETS: Record<string, Target> = {
  xml: (text) => void readPolicyXml(new SourceText('fuzz.xml', text)),
  json: (text) => {
    try {
      parseJsonWithPositions(text);
    } catch (e) {
      if (!(e instanceof JsonSyntaxError)) throw e;
    }
  },
  backends: (text) => void loadBackends([{ file: 'fuzz.json', text }]),
  policy: (text) => void tryBuildGateway({ api: text }),
  scenario: (text) => void parseScenarioSource(new SourceText('fuzz.scenario.yaml', text), []),
  'mock-text': (text) => void parseMockScript(text, 'fuzz'),
  'mock-json': (text) => {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      return;
    }
    void mockScriptFromJson(v, 'fuzz');
  },
  expression: (text) => {
    const source = new SourceText('fuzz.xml', text);
    void compileExpression(new TextSpan(text, source, 0), new DiagnosticBag());
  },
};

/** Generators per target. */
export function arbitraries(): Record<keyof typeof TARGETS, fc.Arbitrary<string>> {
  const xml = seeds('.xml');
  const json = seeds('.json');
  return {
    xml: mutated(xml, XML_FRAGMENTS),
    json: mutated(json, JSON_FRAGMENTS),
    backends: mutated(json, JSON_FRAGMENTS),
    policy: mutated(xml, XML_FRAGMENTS),
    scenario: mutated(['name: s\nsteps:\n  - request: &r {method: GET, path: /x}\n    expect: {status: 200}\n  - request: *r\n'], YAML_FRAGMENTS),
    'mock-text': mutated(['429x3 retry-after=7; 200', '500x2; hang; 200 latency=100ms', 'aoai'], SCRIPT_FRAGMENTS),
    'mock-json': mutated(['{"steps":[{"status":429,"times":3,"retryAfter":7},{"status":200}]}', '[{"status":500}]'], JSON_FRAGMENTS),
    expression: mutated(
      [
        '@(context.Request.Headers.GetValueOrDefault("a", "b").ToString())',
        '@{ var x = 1; return x + 2; }',
        '@($"a{1}b")',
        '@(((string)context.Variables["v"]) ?? "d")',
      ],
      EXPRESSION_FRAGMENTS,
    ),
  };
}

import { NO_UPSTREAM as NO_UPSTREAM_FOR_TESTS } from '../../src/engine/upstream.js';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBackends } from '../../src/backends/index.js';
import { VirtualClock } from '../../src/clock.js';
import { formatDiagnosticLine } from '../../src/diagnostics/diagnostic.js';
import { SourceText } from '../../src/diagnostics/source.js';
import { buildGateway, checkMockTargets, definitionFromOptions, loadConfig, prepareDefinition } from '../../src/config/load.js';
import { attachMocks } from '../../src/config/mocks.js';
import { loadNamedValuesFile } from '../../src/config/named-values.js';
import { PlaceholderEdits } from '../../src/config/placeholders.js';
import { parseMockScript } from '../../src/mocks/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const EXAMPLE = path.join(ROOT, 'policies/example/apim-emulator.json');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'apim-config-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes files under a fresh folder; returns its path. */
function fixture(name: string, files: Record<string, string>): string {
  const d = path.join(dir, name);
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(d, f)), { recursive: true });
    writeFileSync(path.join(d, f), text);
  }
  return d;
}

const POLICY = '<policies><inbound><base /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>';

describe('the bundled example config', () => {
  it('loads every referenced file into a GatewayDefinition', () => {
    const r = loadConfig(EXAMPLE);
    expect(r.diagnostics.map(formatDiagnosticLine)).toEqual([]);
    const def = r.definition!;
    expect(def.service).toEqual({ name: 'apim-example', region: 'Sweden Central', gatewayId: 'managed' });
    expect(def.apis.map((a) => [a.id, a.path, a.subscriptionRequired, a.subscriptionKeyParameterNames?.header])).toEqual([
      ['openai', 'openai', true, 'api-key'],
    ]);
    expect(def.apis[0]!.policy?.text).toContain('openai-backend-pool');
    expect(def.globalPolicy?.file).toMatch(/policies\/example\/global\.xml$/);
    expect(def.fragments.map((f) => f.id)).toEqual(['emulator-headers']);
    expect(def.namedValues.find((n) => n.name === 'openai-api-key')).toEqual({ name: 'openai-api-key', value: 'not-a-real-key', secret: true });
    expect(def.products).toEqual([{ id: 'ai', name: 'AI models', subscriptionRequired: true, apis: ['openai'] }]);
    expect(def.subscriptions[0]).toMatchObject({ id: 'example', scope: 'product:ai', primaryKey: 'example-key' });
    expect(r.server).toEqual({ port: 8080 });
    expect(r.files).toHaveLength(5);
  });

  it('compiles without errors, with a pool of four members at priorities 1, 2, 2, 3', () => {
    const r = loadConfig(EXAMPLE);
    const prepared = prepareDefinition(r.definition!);
    const pool = prepared.backends.find((b) => b.id === 'openai-backend-pool')!;
    expect(pool.pool!.members.map((m) => [m.backendId, m.priority, m.weight])).toEqual([
      ['foundry1', 1, null],
      ['foundry2', 2, 50],
      ['foundry3', 2, 50],
      ['foundry4', 3, null],
    ]);
    const built = buildGateway(prepared, { clock: new VirtualClock(), upstream: NO_UPSTREAM_FOR_TESTS });
    expect(built.diagnostics.filter((d) => d.severity !== 'info').map(formatDiagnosticLine)).toEqual([]);
    expect(built.gateway).not.toBeNull();
    void built.gateway!.close();
  });
});

describe('config schema errors', () => {
  it('an unknown property names the file, JSON path, line/column and the allowed properties', () => {
    const d = fixture('unknown-prop', {
      'c.json': '{\n  "apis": [\n    { "id": "a", "path": "x",\n      "polcy": "p.xml" }\n  ]\n}\n',
    });
    const r = loadConfig(path.join(d, 'c.json'));
    expect(r.definition).toBeNull();
    expect(r.diagnostics).toHaveLength(1);
    const e = r.diagnostics[0]!;
    expect(e).toMatchObject({ severity: 'error', code: 'config/schema', jsonPath: '$.apis[0].polcy', line: 4, column: 7, message: 'unknown property "polcy"' });
    expect(e.file).toMatch(/unknown-prop\/c\.json$/);
    expect(e.hint).toContain('policy');
    expect(e.hint).toContain('operations');
  });

  it('reports a missing required property, a wrong type and a value outside an enum, each at its own path', () => {
    const d = fixture('several', {
      'c.json': JSON.stringify(
        {
          apis: [{ id: 'a' }],
          products: [{ id: 'p', apis: [], subscriptionRequired: 'yes' }],
          subscriptions: [{ id: 's', scope: 'all', primaryKey: 'k', state: 'paused' }],
        },
        null,
        2,
      ),
    });
    const r = loadConfig(path.join(d, 'c.json'));
    const byPath = Object.fromEntries(r.diagnostics.map((x) => [x.jsonPath, x]));
    expect(byPath['$.apis[0]']?.message).toBe('missing required property "path"');
    expect(byPath['$.products[0].subscriptionRequired']?.message).toBe('must be a boolean, not the string "yes"');
    expect(byPath['$.subscriptions[0].state']?.message).toBe('"paused" is not allowed');
    expect(byPath['$.subscriptions[0].state']?.hint).toBe('allowed: active, suspended, cancelled, expired, submitted, rejected');
    for (const x of r.diagnostics) expect(x.line).toBeGreaterThan(1);
  });

  it('a named value that is neither a string nor {value}/{env} gets one message, not one per alternative', () => {
    const d = fixture('nv-shape', { 'c.json': '{ "namedValues": { "a": { "val": "x" } } }' });
    const r = loadConfig(path.join(d, 'c.json'));
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({ jsonPath: '$.namedValues.a', line: 1, column: 25, message: 'an object is not a valid value here' });
    expect(r.diagnostics[0]!.hint).toContain('{"env": "VAR"');
  });

  it('a bad fragment id points at the key', () => {
    const d = fixture('frag-id', { 'c.json': '{\n "fragments": { "bad id!": "f.xml" }\n}' });
    const r = loadConfig(path.join(d, 'c.json'));
    expect(r.diagnostics[0]).toMatchObject({ jsonPath: "$.fragments['bad id!']", line: 2, column: 17, message: '"bad id!" is not a valid name here' });
  });

  it('invalid JSON gives one diagnostic with line and column', () => {
    const d = fixture('bad-json', { 'c.json': '{\n  "apis": [\n    { "id": "a", }\n  ]\n}' });
    const r = loadConfig(path.join(d, 'c.json'));
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({ code: 'json/syntax', line: 3, column: 18 });
  });

  it('an unreadable config or referenced file is an io/unreadable diagnostic naming it', () => {
    const missing = loadConfig(path.join(dir, 'nope.json'));
    expect(missing.diagnostics).toEqual([
      expect.objectContaining({ code: 'io/unreadable', message: expect.stringMatching(/cannot read .*nope\.json: no such file/) }),
    ]);

    const d = fixture('missing-ref', { 'c.json': '{\n  "apis": [ { "id": "a", "path": "x", "policy": "missing.xml" } ]\n}' });
    const r = loadConfig(path.join(d, 'c.json'));
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({ code: 'io/unreadable', jsonPath: '$.apis[0].policy', line: 2, column: 49 });
    expect(r.diagnostics[0]!.message).toMatch(/missing-ref\/missing\.xml: no such file/);
  });
});

describe('config cross-references', () => {
  it('reports unknown APIs and products, duplicate ids, paths and keys', () => {
    const d = fixture('xref', {
      'c.json': JSON.stringify({
        apis: [
          { id: 'a', path: 'x' },
          { id: 'a', path: '/x/' },
        ],
        products: [{ id: 'p', apis: ['a', 'ghost'] }],
        subscriptions: [
          { id: 's1', scope: 'product:nope', primaryKey: 'k' },
          { id: 's2', scope: 'api:zzz', primaryKey: 'k' },
        ],
      }),
    });
    const r = loadConfig(path.join(d, 'c.json'));
    const lines = r.diagnostics.map((x) => `${x.code} ${x.jsonPath}: ${x.message}`);
    expect(lines).toEqual([
      'config/duplicate-id $.apis[1].id: API id "a" is used twice',
      'config/duplicate-path $.apis[1].path: APIs "a" and "a" both use the URL suffix "/x/"',
      'config/unknown-api $.products[0].apis[1]: product "p" lists API "ghost", which is not defined',
      'config/unknown-product $.subscriptions[0].scope: subscription "s1" is scoped to product "nope", which is not defined',
      'config/unknown-api $.subscriptions[1].scope: subscription "s2" is scoped to API "zzz", which is not defined',
      'config/duplicate-key $.subscriptions[1].primaryKey: subscription "s2" reuses the key of subscription "s1"',
    ]);
  });

  it('applies defaults: subscriptionRequired true, operations method upper-cased, serviceUrl empty', () => {
    const d = fixture('defaults', {
      'op.xml': POLICY,
      'c.json': JSON.stringify({ apis: [{ id: 'a', path: 'v1', operations: [{ id: 'get', method: 'get', urlTemplate: '/items/{id}', policy: 'op.xml' }] }] }),
    });
    const r = loadConfig(path.join(d, 'c.json'));
    expect(r.diagnostics).toEqual([]);
    const api = r.definition!.apis[0]!;
    expect(api).toMatchObject({ id: 'a', name: 'a', path: 'v1', serviceUrl: '', subscriptionRequired: true });
    expect(api.operations[0]).toMatchObject({ id: 'get', method: 'GET', urlTemplate: '/items/{id}' });
    expect(api.operations[0]!.policy!.file).toMatch(/defaults\/op\.xml$/);
  });
});

describe('the flags-only case', () => {
  it('one catch-all API at the suffix; a key is required only with --subscription-key', () => {
    const d = fixture('flags', { 'p.xml': POLICY });
    const open = definitionFromOptions({
      policy: path.join(d, 'p.xml'),
      backends: [],
      apiPath: '/openai/',
      serviceUrl: 'http://127.0.0.1:9',
      fragments: [],
      namedValuesFiles: [],
    });
    expect(open.diagnostics).toEqual([]);
    expect(open.definition!.apis).toEqual([
      expect.objectContaining({ id: 'api', path: 'openai', serviceUrl: 'http://127.0.0.1:9', subscriptionRequired: false, operations: [] }),
    ]);
    expect(open.definition!.subscriptions).toEqual([]);
    const keyed = definitionFromOptions({
      policy: path.join(d, 'p.xml'),
      backends: [],
      apiPath: 'openai',
      fragments: [],
      namedValuesFiles: [],
      subscriptionKey: 'k1',
    });
    expect(keyed.definition!.apis[0]!.subscriptionRequired).toBe(true);
    expect(keyed.definition!.subscriptions).toEqual([expect.objectContaining({ scope: 'all', primaryKey: 'k1' })]);
  });

  it('an unreadable flag file names the flag', () => {
    const r = definitionFromOptions({
      policy: path.join(dir, 'absent.xml'),
      backends: [],
      apiPath: '',
      fragments: [{ id: 'f', file: path.join(dir, 'absent-f.xml') }],
      namedValuesFiles: [],
    });
    expect(r.diagnostics.map((x) => [x.code, x.jsonPath])).toEqual([
      ['io/unreadable', '--policy'],
      ['io/unreadable', '--fragment f'],
    ]);
  });
});

describe('named values', () => {
  it('a config may keep its named values in a separate file, relative to the config', () => {
    const d = fixture('nv-ref', { 'values/nv.json': '{ "a": "1" }', 'c.json': '{ "namedValues": "values/nv.json" }' });
    const r = loadConfig(path.join(d, 'c.json'));
    expect(r.diagnostics).toEqual([]);
    expect(r.definition!.namedValues).toEqual([{ name: 'a', value: '1', secret: false }]);
    expect(r.referencedFiles.has(path.join(d, 'values/nv.json'))).toBe(true);
  });

  it('reads values from the environment and reports a variable that is not set', () => {
    const d = fixture('env', {
      'c.json': '{\n "namedValues": {\n  "key": { "env": "APIM_TEST_KEY", "secret": true },\n  "other": { "env": "APIM_TEST_UNSET" }\n }\n}',
    });
    const r = loadConfig(path.join(d, 'c.json'), { APIM_TEST_KEY: 's3cret' });
    expect(r.definition?.namedValues).toEqual([{ name: 'key', value: 's3cret', secret: true }]);
    expect(r.diagnostics).toEqual([
      expect.objectContaining({
        code: 'config/env-missing',
        jsonPath: '$.namedValues.other.env',
        line: 4,
        column: 21,
        message: expect.stringContaining('APIM_TEST_UNSET'),
      }),
    ]);
  });

  it('a named values file is validated with positions', () => {
    const d = fixture('nv-file', { 'good.json': '{ "a": "1", "b": { "value": "2", "secret": true } }', 'bad.json': '{\n "a": 1\n}' });
    const diags: import('../../src/diagnostics/diagnostic.js').Diagnostic[] = [];
    expect(loadNamedValuesFile(path.join(d, 'good.json'), diags)).toEqual([
      { name: 'a', value: '1', secret: false },
      { name: 'b', value: '2', secret: true },
    ]);
    expect(diags).toEqual([]);
    expect(loadNamedValuesFile(path.join(d, 'bad.json'), diags)).toEqual([]);
    expect(diags[0]).toMatchObject({ jsonPath: '$.a', line: 2, column: 7 });
  });
});

describe('mocks in the config', () => {
  it('text and JSON scripts are parsed; a bad script and an unknown backend id are reported', () => {
    const d = fixture('mocks', {
      'b.json': JSON.stringify({ backends: [{ name: 'one', properties: { url: 'https://one.example.com/x' } }] }),
      'c.json': JSON.stringify(
        { backends: ['b.json'], mocks: { one: '429x2 retry-after=5; 200', two: { steps: [{ status: 200 }] }, three: 'bogus-word' } },
        null,
        2,
      ),
    });
    const r = loadConfig(path.join(d, 'c.json'));
    expect(r.mocks.get('one')!.script.steps.map((s) => [s.status, s.times, s.retryAfter])).toEqual([
      [429, 2, 5],
      [200, 1, undefined],
    ]);
    expect(r.mocks.has('two')).toBe(true);
    expect(r.mocks.has('three')).toBe(false);
    expect(r.diagnostics.map((x) => x.code)).toEqual(['mock/syntax']);
    const prepared = prepareDefinition(r.definition!);
    const diags: typeof r.diagnostics = [];
    checkMockTargets(r.mocks, prepared.backends, diags);
    expect(diags).toEqual([
      expect.objectContaining({
        code: 'config/unknown-backend',
        jsonPath: '$.mocks.two',
        message: 'mock for backend "two", which is not defined',
        hint: 'defined backends: one',
      }),
    ]);
  });

  it('attachMocks points the backend url at a live mock on 127.0.0.1, keeping the path', async () => {
    const backendsText = JSON.stringify(
      {
        backends: [
          { name: 'one', properties: { url: 'https://one.example.com/openai' } },
          { name: 'two', properties: { url: 'https://two.example.com' } },
        ],
      },
      null,
      2,
    );
    const loaded = definitionFromOptions({ backends: [], apiPath: 'x', fragments: [], namedValuesFiles: [] });
    const def = { ...loaded.definition!, backendFiles: [{ file: 'b.json', text: backendsText }] };
    const prepared = prepareDefinition(def);
    const clock = new VirtualClock();
    const script = parseMockScript('418').script!;
    const r = await attachMocks(prepared.definition, prepared.backends, new Map([['one', script]]), false, clock);
    try {
      expect(r.diagnostics).toEqual([]);
      const reloaded = loadBackends(r.definition.backendFiles);
      const one = reloaded.backends.find((b) => b.id === 'one')!;
      const mock = r.mocks.get('one')!;
      expect(one.url).toBe(`${mock.url}/openai`);
      expect(mock.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(reloaded.backends.find((b) => b.id === 'two')!.url).toBe('https://two.example.com');
      const res = await fetch(`${one.url}/anything`);
      expect(res.status).toBe(418);
      expect(res.headers.get('x-mock-backend')).toBe('one');
    } finally {
      await r.mocks.closeAll();
    }
  });

  it('mockAll gives every single backend with a url the Azure OpenAI mock', async () => {
    const text = JSON.stringify({
      backends: [
        { name: 'a', properties: { url: 'https://a.example.com/openai' } },
        { name: 'p', properties: { type: 'Pool', pool: { services: [{ id: '/backends/a' }] } } },
      ],
    });
    const def = {
      ...definitionFromOptions({ backends: [], apiPath: '', fragments: [], namedValuesFiles: [] }).definition!,
      backendFiles: [{ file: 'b.json', text }],
    };
    const prepared = prepareDefinition(def);
    const r = await attachMocks(prepared.definition, prepared.backends, new Map(), true, new VirtualClock());
    try {
      expect(r.mocks.all().map((m) => m.name)).toEqual(['a']);
      const res = await fetch(`${r.mocks.get('a')!.url}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
      });
      const body = (await res.json()) as { object: string; choices: unknown[] };
      expect(body.object).toBe('chat.completion');
      expect(body.choices).toHaveLength(1);
    } finally {
      await r.mocks.closeAll();
    }
  });
});

describe('lab placeholders', () => {
  it('substitutes {name} keys and maps diagnostic positions back to the text as written', () => {
    const original = new SourceText('p.xml', 'a {backend-id} b {x} c\nnext {backend-id} <bad>');
    const edits = new PlaceholderEdits();
    const out = edits.apply(original, { '{backend-id}': 'a-much-longer-pool-name', '{x}': 'Y', plain: 'ignored' });
    expect(out.text).toBe('a a-much-longer-pool-name b Y c\nnext a-much-longer-pool-name <bad>');
    // "<bad>" on line 2 sits at column 30 after substitution, column 19 as written.
    expect(out.text.split('\n')[1]!.indexOf('<bad>') + 1).toBe(30);
    expect(edits.remap({ severity: 'error', code: 'xml/malformed', message: 'm', file: 'p.xml', line: 2, column: 30 })).toMatchObject({ line: 2, column: 19 });
    // Inside a replacement: the placeholder's own position.
    expect(edits.remap({ severity: 'error', code: 'xml/malformed', message: 'm', file: 'p.xml', line: 1, column: 10 })).toMatchObject({ line: 1, column: 3 });
    // Between replacements on line 1: "b" is column 27 after, column 16 as written.
    expect(edits.remap({ severity: 'error', code: 'xml/malformed', message: 'm', file: 'p.xml', line: 1, column: 27 })).toMatchObject({ line: 1, column: 16 });
    expect(edits.apply(new SourceText('q.xml', 'nothing'), { '{x}': 'y' }).text).toBe('nothing');
  });

  it('a policy using {backend-id} compiles against the backends file that defines it', () => {
    const d = fixture('placeholders', {
      'policy.xml':
        '<policies>\n<inbound><base /><set-backend-service backend-id="{backend-id}" /></inbound>\n<backend><forward-request /></backend><outbound /><on-error /></policies>',
      'b.json': JSON.stringify({
        policyPlaceholders: { '{backend-id}': 'pool1' },
        backends: [
          { name: 'one', properties: { url: 'https://one.example.com' } },
          { name: 'pool1', properties: { type: 'Pool', pool: { services: [{ id: '/backends/one' }] } } },
        ],
      }),
    });
    const loaded = definitionFromOptions({
      policy: path.join(d, 'policy.xml'),
      backends: [path.join(d, 'b.json')],
      apiPath: 'x',
      fragments: [],
      namedValuesFiles: [],
    });
    expect(loaded.diagnostics).toEqual([]);
    const prepared = prepareDefinition(loaded.definition!);
    expect(prepared.definition.apis[0]!.policy!.text).toContain('backend-id="pool1"');
    const built = buildGateway(prepared, { clock: new VirtualClock(), upstream: NO_UPSTREAM_FOR_TESTS });
    expect(built.diagnostics.filter((x) => x.severity === 'error').map(formatDiagnosticLine)).toEqual([]);
    void built.gateway?.close();
  });
});

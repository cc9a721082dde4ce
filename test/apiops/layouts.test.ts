import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadApiops, loadApiopsFolder, readApiopsTree } from '../../src/apiops/index.js';
import { SourceText } from '../../src/diagnostics/source.js';
import { FIXTURES } from './helpers.js';

/**
 * The three extractor generations of docs/apiops.md §1.6 (small synthetic trees in fixtures/: v5.1.4 lists, v6.0.x
 * per-item links with absolute ids and workspace files, v7 relative ids) and configuration.<env>.yaml overrides (§1.7).
 */
const codes = (r: { diagnostics: Array<{ code: string }> }) => r.diagnostics.map((d) => d.code);

describe('APIOps layouts', () => {
  it('v5: products list their APIs in apis.json, version sets in apiVersionSetInformation.json, ids are absolute', () => {
    const r = loadApiopsFolder(path.join(FIXTURES, 'v5'), {});
    expect(r.layout).toBe('v5');
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const def = r.definition!;
    expect(def.products).toEqual([expect.objectContaining({ id: 'starter', apis: ['orders-v1'], subscriptionRequired: false })]);
    const api = def.apis.find((a) => a.id === 'orders-v1')!;
    expect(api.versionSet).toEqual({ id: 'orders', name: 'Orders', scheme: 'Header', headerName: 'Api-Version' });
    expect(api.version).toBe('v1');
    expect(api.operations).toEqual([expect.objectContaining({ id: 'list-orders', method: 'GET', urlTemplate: '/orders' })]);
    expect(r.examples.get('orders-v1')?.get('list-orders')).toEqual({ status: 200, contentType: 'application/json', body: [{ id: 1 }] });
    // {{x}} names the displayName, not the folder; a secret without a value is a warning naming how to give it.
    const secret = r.diagnostics.find((d) => d.code === 'apiops/named-value-unknown')!;
    expect(secret.severity).toBe('warning');
    expect(secret.message).toContain('"logicapp-sig"');
    expect(secret.hint).toContain('--named-value logicapp-sig=VALUE');
    expect(def.namedValues.map((n) => n.name)).toEqual(['logicapp-sig']);
    // tags.json and groups.json are read as not needed (info), never as unrecognized input.
    const notNeeded = r.diagnostics.filter((d) => d.code === 'apiops/not-needed').map((d) => path.basename(d.file!));
    expect(notNeeded.sort()).toEqual(['groups.json', 'tags.json']);
    expect(r.diagnostics.filter((d) => d.code === 'apiops/not-needed').every((d) => d.severity === 'info')).toBe(true);
  });

  it('v6: per-item links, pools whose members are absolute ids, subscriptions scoped by absolute id, workspaces skipped', () => {
    const r = loadApiopsFolder(path.join(FIXTURES, 'v6'), { subscriptionKeys: [{ subscription: 'chat-sub', key: 'k' }] });
    expect(r.layout).toBe('v6');
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const def = r.definition!;
    expect(def.products[0]!.apis).toEqual(['chat']);
    expect(def.subscriptions).toEqual([expect.objectContaining({ id: 'chat-sub', scope: 'product:starter', primaryKey: 'k' })]);
    // Backends keep their file (diagnostics point at it) and get the folder name as resource name.
    expect(def.backendFiles.map((b) => path.basename(path.dirname(b.file)))).toEqual(['aoai-pool', 'eus-aoai', 'scus-aoai']);
    const ws = r.diagnostics.filter((d) => d.code === 'apiops/workspace-skipped');
    expect(ws).toHaveLength(1);
    expect(ws[0]!.severity).toBe('warning');
    expect(ws[0]!.message).toContain('workspace "team-b" is skipped: its 2 file(s)');
    // Every file is used or reported exactly once.
    const tree = readApiopsTree(path.join(FIXTURES, 'v6'), []);
    const reported = new Set(r.diagnostics.filter((d) => d.code === 'apiops/not-needed').map((d) => d.file));
    expect(reported.has(tree.find((f) => f.rel === 'notes.txt')!.source.file)).toBe(true);
    expect(reported.has(tree.find((f) => f.rel.endsWith('apiTagInformation.json'))!.source.file)).toBe(true);
    expect(reported.has(tree.find((f) => f.rel.endsWith('productGroupInformation.json'))!.source.file)).toBe(true);
    expect(codes(r)).not.toContain('input/unrecognized');
  });

  it('v7 with configuration.dev.yaml: named values and API properties deep-merge, apiRevision is not overridable, unused overrides are reported', () => {
    const dir = path.join(FIXTURES, 'v7');
    const base = loadApiopsFolder(dir, {});
    expect(base.layout).toBe('v7');
    expect(base.definition!.namedValues.find((n) => n.name === 'greeting')!.value).toBe('hi');
    const r = loadApiopsFolder(dir, { overridesFile: path.join(dir, 'configuration.dev.yaml') });
    const def = r.definition!;
    expect(def.namedValues.find((n) => n.name === 'greeting')!.value).toBe('hello-dev');
    const api = def.apis.find((a) => a.id === 'echo-api')!;
    expect(api.serviceUrl).toBe('https://echo-dev.example.com');
    expect(api.path).toBe('echo'); // sibling properties kept
    expect(api.revision).toBe('1'); // the publisher drops apiRevision from overrides
    const unused = r.diagnostics.filter((d) => d.code === 'apiops/override-unused');
    expect(unused).toHaveLength(1);
    expect(unused[0]).toMatchObject({ severity: 'warning', line: 10, column: 5 });
    expect(unused[0]!.message).toContain('apis[name=not-an-api]');
    // The Key Vault named value is a warning, and none when its value is given on the command line.
    expect(codes(r)).toContain('apiops/named-value-unknown');
    expect(codes(loadApiopsFolder(dir, { givenNamedValues: ['vault-secret'] }))).not.toContain('apiops/named-value-unknown');
    // Operation folders go with the specification's operationIds.
    expect(api.operations.find((o) => o.id === 'get-hello')!.policy?.text).toContain('x-operation');
    expect(api.operations.find((o) => o.id === 'delete-item')).toMatchObject({ method: 'DELETE', urlTemplate: '/items/{id}' });
  });

  it('bad input gets located diagnostics, not crashes: invalid JSON, bad YAML override, unknown version set, operation folder without operation', () => {
    const f = (rel: string, text: string) => ({ rel, source: new SourceText(`tree/${rel}`, text) });
    const r = loadApiops(
      [
        f('apis/a/apiInformation.json', '{ "properties": { "path": "a", "apiVersionSetId": "/apiVersionSets/missing" } }'),
        f('apis/a/specification.yaml', 'openapi: 3.0.1\npaths:\n  /x:\n    get:\n      operationId: get-x\n'),
        f('apis/a/operations/get-y/policy.xml', '<policies />'),
        f('backends/b/backendInformation.json', '{ "properties": { "url": '),
      ],
      { overrides: new SourceText('configuration.bad.yaml', 'namedValues:\n  - name: [unclosed\n') },
    );
    expect(r.definition).toBeNull();
    const byCode = new Map(r.diagnostics.map((d) => [d.code, d]));
    expect(byCode.get('apiops/unknown-version-set')).toMatchObject({ severity: 'error', file: 'tree/apis/a/apiInformation.json' });
    expect(byCode.get('apiops/operation-unknown')).toMatchObject({ severity: 'warning', file: 'tree/apis/a/operations/get-y/policy.xml' });
    expect(byCode.get('apiops/operation-unknown')!.message).toContain('operationIds: get-x');
    expect(byCode.get('apiops/override-syntax')).toMatchObject({ severity: 'error', file: 'configuration.bad.yaml', line: 3, column: 1 }); // YAML reports the unclosed [ at the end of input
    // The backend file is handed to the backend loader as written; compile reports its JSON error with line/column.
    expect(r.diagnostics.every((d) => d.file !== undefined)).toBe(true);
  });
});

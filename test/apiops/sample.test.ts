import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startEmulator, type RunningEmulator } from '../../src/cli/serve.js';
import { runValidate } from '../../src/cli/validate.js';
import { readApiopsTree } from '../../src/apiops/index.js';
import { apiopsOptions, quiet, SAMPLE_DIR, SAMPLE_PRESENT, startEcho } from './helpers.js';

/**
 * Microsoft's APIOps sample (v7 layout, docs/apiops.md §1.3) end to end: `validate` on the folder, and `serve --apiops`
 * over real HTTP with the backend pointed at a local service (--backend-url) and the rest mocked (--mock-backends).
 */
describe.skipIf(!SAMPLE_PRESENT)('APIOps sample tree', () => {
  it('validate: 0 errors, and every file of the tree is either used or reported once as not needed', () => {
    const r = runValidate({ inputs: [SAMPLE_DIR], backends: [], namedValues: [], scope: 'api', backendParameters: {} });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.exitCode).toBe(0);
    expect(r.diagnostics.some((d) => d.code === 'input/unrecognized')).toBe(false);
    const tree = readApiopsTree(SAMPLE_DIR, []);
    expect(r.files.length).toBe(tree.length);
    // No file is reported twice as not needed.
    const notNeeded = r.diagnostics.filter((d) => d.code === 'apiops/not-needed').map((d) => d.file);
    expect(new Set(notNeeded).size).toBe(notNeeded.length);
    expect(notNeeded.some((f) => f?.endsWith('tags/tag1/tagInformation.json'))).toBe(true);
    // GraphQL and SOAP: served with what can be emulated, one warning each for the rest.
    expect(r.diagnostics.filter((d) => d.code === 'apiops/graphql-partial')).toHaveLength(1);
    expect(r.diagnostics.filter((d) => d.code === 'apiops/soap-partial')).toHaveLength(1);
  });

  describe('serve --apiops', () => {
    let echo: Awaited<ReturnType<typeof startEcho>>;
    let emu: RunningEmulator;
    let plain: RunningEmulator;
    let tmp: string;

    beforeAll(async () => {
      echo = await startEcho();
      tmp = mkdtempSync(path.join(tmpdir(), 'apiops-sample-'));
      // The sample's service policy allows only 10.0.0.1 (ip-filter); loopback callers need an environment override,
      // the way APIOps varies policies per environment (docs/apiops.md §1.7: a whole policy DTO under `policies`).
      // The revision-2 backend is a named value: the override points it at a local service.
      const global = readFileSync(path.join(SAMPLE_DIR, 'policy.xml'), 'utf8').replace(/<ip-filter[\s\S]*?<\/ip-filter>/, '');
      const overrides = path.join(tmp, 'configuration.local.yaml');
      writeFileSync(
        overrides,
        stringify({
          policies: [{ name: 'policy', properties: { format: 'rawxml', value: global } }],
          namedValues: [
            { name: 'environment-name', properties: { value: 'local' } },
            { name: 'intranet-proxy-url', properties: { value: echo.url } },
          ],
        }),
      );
      emu = await startEmulator(
        apiopsOptions(SAMPLE_DIR, { apiopsConfig: overrides, subscriptionKeys: ['subscription1=key-product1', 'key-all'], mockBackends: true }),
        quiet,
      );
      plain = await startEmulator(apiopsOptions(SAMPLE_DIR, { subscriptionKeys: ['subscription1=key-product1', 'key-all'], mockBackends: true }), quiet);
    });
    afterAll(async () => {
      await emu?.close();
      await plain?.close();
      await echo?.close();
      rmSync(tmp, { recursive: true, force: true });
    });

    type Echoed = { echo: boolean; rest: string; query: Record<string, string>; headers: Record<string, string> };
    const get = async (base: string, p: string, key?: string) => {
      const res = await fetch(`${base}${p}`, { headers: { ...(key ? { 'Ocp-Apim-Subscription-Key': key } : {}), 'Apim-Debug-Authorization': 'on' } });
      const text = await res.text();
      return { res, body: (text.startsWith('{') ? JSON.parse(text) : {}) as Echoed };
    };
    const scopesOf = async (base: string, res: Response) => {
      const trace = (await (await fetch(`${base}/_emulator/traces/${res.headers.get('apim-trace-id')}`)).json()) as {
        events: Array<{ kind: string; scope?: string; section?: string }>;
      };
      const scopes = trace.events.filter((e) => e.kind === 'policy' && e.section === 'inbound').map((e) => e.scope);
      return scopes.filter((x, i) => x !== scopes[i - 1]);
    };

    it('basic-api by its path: the operation policies have no <base/>, so only they run (APIM scope inheritance)', async () => {
      const { res, body } = await get(emu.url, '/basic-api/items', 'key-product1');
      expect(res.status).toBe(200);
      expect(res.headers.get('x-mock-operation')).toBe('get-items');
      expect(body.query.source).toBe('get-items');
      expect(body.headers['x-api']).toBeUndefined();
      expect(body.headers['x-product']).toBeUndefined();
      expect(await scopesOf(emu.url, res)).toEqual(['operation']);
    });

    it('a product subscription key applies the product policy; a key for all APIs runs the service policy and its fragment', async () => {
      const viaProduct = await get(emu.url, '/versioned-api/v1/version', 'key-product1');
      expect(viaProduct.res.status).toBe(200);
      expect(viaProduct.res.headers.get('x-mock-operation')).toBe('get-version-v1');
      expect(viaProduct.body.headers['x-product']).toBe('product1');
      // product1's policy has no <base/>: the service policy does not run under it.
      expect(viaProduct.body.headers['x-sample-environment']).toBeUndefined();
      expect(await scopesOf(emu.url, viaProduct.res)).toEqual(['product']);

      const allApis = await get(emu.url, '/versioned-api/v1/version', 'key-all');
      expect(allApis.res.status).toBe(200);
      expect(allApis.body.headers['x-sample-environment']).toBe('local'); // named value from the override
      expect(allApis.body.headers['x-allowed-client']).toBe('10.0.0.1'); // policyFragment1 through include-fragment
      expect(allApis.body.headers['x-product']).toBeUndefined();
      expect(await scopesOf(emu.url, allApis.res)).toEqual(['global']);
    });

    it('subscription keys come from --subscription-key: missing 401, wrong 401', async () => {
      expect((await fetch(`${emu.url}/basic-api/items`)).status).toBe(401);
      expect((await fetch(`${emu.url}/basic-api/items`, { headers: { 'Ocp-Apim-Subscription-Key': 'nope' } })).status).toBe(401);
    });

    it('without the override the sample service policy ip-filter refuses a loopback caller (403); the open product2 does too', async () => {
      expect((await get(plain.url, '/versioned-api/v1/version', 'key-all')).res.status).toBe(403);
      expect((await get(plain.url, '/versioned-api/v1/version', 'key-product1')).res.status).toBe(200);
      // wadl-api is in product2 (no subscription needed), whose policy filters callers by IP.
      expect((await get(plain.url, '/wadl-api/status')).res.status).toBe(403);
    });

    it('version sets and revisions: v2 answers from its OpenAPI JSON; ;rev=2 runs its own policy and backend named value', async () => {
      const v2 = await get(emu.url, '/versioned-api/v2/version', 'key-all');
      expect(v2.res.status).toBe(200);
      expect(v2.res.headers.get('x-mock-backend')).toBe('spec');
      expect(v2.res.headers.get('x-mock-operation')).toBe('get-version-v2');
      // get-revision-v2 has an operation policy without <base/>: the web service URL (mocked) answers.
      const rev2 = await get(emu.url, '/revisioned-api;rev=2/revision', 'key-product1');
      expect(rev2.res.status).toBe(200);
      expect(rev2.body.headers['x-revision']).toBe('2');
      // get-revision-details has none: the revision's API policy sends it to {{intranet-proxy-url}}, a local service.
      const before = echo.received.length;
      const details = await get(emu.url, '/revisioned-api;rev=2/revision/details', 'key-product1');
      expect(details.res.status).toBe(200);
      expect(echo.received.length).toBe(before + 1);
      expect(echo.received.at(-1)!.url).toBe('/revision/details');
      expect(echo.received.at(-1)!.headers['x-api-revision']).toBe('2');
      const current = await get(emu.url, '/revisioned-api/revision', 'key-product1');
      expect(current.res.headers.get('x-mock-operation')).toBe('get-revision');
      expect(current.body.headers['x-revision']).toBe('1');
      // A path no operation of the API names is APIM's 404.
      expect((await fetch(`${emu.url}/basic-api/nope?subscription-key=key-all`)).status).toBe(404);
    });
  });
});

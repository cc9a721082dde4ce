import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runValidate } from '../../src/cli/validate.js';
import { formatDiagnostics } from '../../src/diagnostics/format.js';
import { requestCredentials } from '../../src/server/secrets.js';
import { buildGateway, policies, startBackend, type TestBackend } from '../helpers/gateway.js';
import { closeAll, request, serve } from './support.js';

/** Secrets and credentials never reach a report, a trace or an admin answer in clear (SECURITY.md). */

const backends: TestBackend[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await closeAll();
  await Promise.all(backends.splice(0).map((b) => b.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('secret masking', () => {
  it('validate: a secret named value in an invalid attribute is masked in text and SARIF', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mask-'));
    dirs.push(dir);
    const file = path.join(dir, 'p.xml');
    writeFileSync(file, policies({ inbound: '<set-header name="x" exists-action="{{sec}}"><value>a</value></set-header>' }));
    const r = runValidate({
      inputs: [file],
      backends: [],
      namedValues: [{ name: 'sec', value: 'TopSecretValue123', secret: true }],
      scope: 'api',
      backendParameters: {},
    });
    expect(r.diagnostics.map((d) => d.code)).toContain('policy/bad-attribute-value');
    for (const format of ['text', 'sarif', 'json', 'junit'] as const) {
      const out = formatDiagnostics(r.diagnostics, format, { toolVersion: '0', cwd: dir });
      expect(out, format).not.toContain('TopSecretValue123');
      expect(out, format).toContain('***');
    }
  });

  it('credentials of one request: auth scheme tokens, key headers, key query parameters', () => {
    const found = requestCredentials(
      { authorization: ['Bearer tok-abc-123'], 'ocp-apim-subscription-key': 'key-1', accept: ['*/*'] },
      '/x?subscription-key=qk-9&b=1',
    );
    expect(found.sort()).toEqual(['Bearer tok-abc-123', 'key-1', 'qk-9', 'tok-abc-123'].sort());
  });

  it('traces mask Authorization and subscription keys (header and query), valid or not', async () => {
    const b = await startBackend();
    backends.push(b);
    const { gateway, clock } = buildGateway({ serviceUrl: b.url, apiPath: 'api', api: policies({ backend: '<forward-request />' }) });
    const s = await serve(gateway, clock);
    const r = await request(`${s.url}/api/x?subscription-key=query-key-456&keep=visible`, {
      headers: { 'Apim-Debug-Authorization': '1', Authorization: 'Bearer token-abc-123', 'Ocp-Apim-Subscription-Key': 'header-key-789' },
    });
    // The key is not a valid one (401), and still a credential the caller would not want to see in a shared trace.
    expect(r.status).toBe(401);
    const trace = await request(`${s.url}/_emulator/traces/${String(r.headers['apim-trace-id'])}`);
    expect(trace.status).toBe(200);
    for (const secret of ['token-abc-123', 'header-key-789', 'query-key-456']) expect(trace.text).not.toContain(secret);
    expect(trace.text).toContain('keep=visible');
    expect(trace.text).toContain('***');
  });
});

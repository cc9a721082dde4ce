import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runValidate } from '../../src/cli/validate.js';

/**
 * The CLI in a child process, from the TypeScript sources through tsx (a clone's dist/ may be stale; the compiled
 * package is run by test/cli/package.test.ts). Each start costs about a second of tsx compilation, so these tests are
 * few and each checks several things.
 */

// Every test here starts the CLI through tsx in child processes: on a busy 2-core machine one start can take 20 s.
vi.setConfig({ testTimeout: 120_000 });

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts')];
const EXAMPLE = 'policies/example/apim-emulator.json';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function lines(s: string): string[] {
  return s.split('\n').filter((l) => l.trim() !== '');
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'apim-cli-'));
  writeFileSync(
    path.join(dir, 'good.xml'),
    '<policies>\n  <inbound>\n    <base />\n    <set-header name="x-a" exists-action="override"><value>1</value></set-header>\n  </inbound>\n  <backend><base /></backend>\n  <outbound><base /></outbound>\n  <on-error><base /></on-error>\n</policies>\n',
  );
  writeFileSync(path.join(dir, 'unknown.xml'), '<policies>\n  <inbound>\n    <set-heder name="x" />\n  </inbound>\n</policies>\n');
  writeFileSync(path.join(dir, 'malformed.xml'), '<policies>\n  <inbound>\n    <base />\n</policies>\n');
  writeFileSync(path.join(dir, 'bad.json'), '{\n  "backends": [\n    { "name": "a", }\n  ]\n}\n');
  writeFileSync(path.join(dir, 'config.json'), '{\n  "apis": [\n    { "id": "a", "path": "x", "polcy": "p.xml" }\n  ]\n}\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('apim-emulator validate', () => {
  it('exit 1 with file:line:col for an unknown policy, malformed XML and bad JSON', async () => {
    const r = await run(['validate', dir, '--scope', 'api']);
    expect(r.code).toBe(1);
    const out = lines(r.stdout);
    const about = (file: string) => out.filter((l) => l.includes(`${file}:`));
    expect(about('good.xml')).toEqual([]);
    expect(about('unknown.xml').join('\n')).toMatch(/unknown\.xml:3:5: error [\w/-]+: .*set-heder/);
    expect(about('malformed.xml').join('\n')).toMatch(/malformed\.xml:\d+:\d+: error xml\//);
    expect(about('bad.json').join('\n')).toMatch(/bad\.json:3:20: error [\w/-]+: invalid JSON/);
    // The config file is detected by content and validated too.
    expect(about('config.json').join('\n')).toMatch(/config\.json:3:31 \$\.apis\[0\]\.polcy: error config\/schema: unknown property "polcy"/);
    expect(out.at(-1)).toBe('4 errors, 3 warnings in 5 files');
  });

  it('exit 2 for a missing file; exit 0 with a summary for the bundled policies', async () => {
    const [missing, clean] = await Promise.all([run(['validate', path.join(dir, 'does-not-exist.xml')]), run(['validate', 'policies/'])]);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toMatch(/cannot read .*does-not-exist\.xml: no such file/);
    expect(clean.code).toBe(0);
    expect(lines(clean.stdout)).toEqual([expect.stringMatching(/^0 errors, 0 warnings in \d+ files$/)]);
  });

  it('--format sarif prints SARIF 2.1.0 with a result per problem', async () => {
    const r = await run(['validate', path.join(dir, 'unknown.xml'), path.join(dir, 'bad.json'), '--format', 'sarif']);
    expect(r.code).toBe(1);
    const sarif = JSON.parse(r.stdout) as {
      version: string;
      runs: Array<{
        tool: { driver: { name: string } };
        results: Array<{
          ruleId: string;
          level: string;
          message: { text: string };
          locations: Array<{ physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number; startColumn: number } } }>;
        }>;
      }>;
    };
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0]!.tool.driver.name).toBe('apim-emulator');
    const results = sarif.runs[0]!.results;
    expect(results.length).toBeGreaterThanOrEqual(2);
    const unknown = results.find((x) => x.locations[0]!.physicalLocation.artifactLocation.uri.endsWith('unknown.xml') && x.level === 'error')!;
    expect(unknown.level).toBe('error');
    expect(unknown.locations[0]!.physicalLocation.region).toEqual({ startLine: 3, startColumn: 5 });
    expect(r.stderr).toMatch(/checked 2 files: 2 errors, 3 warnings/);
  });
});

describe('apim-emulator as a CI gate', () => {
  it('no files, Bicep and unchecked backend ids (in process)', () => {
    const warn = path.join(dir, 'warn.xml');
    writeFileSync(
      warn,
      '<policies>\n  <inbound>\n    <set-backend-service backend-id="pool-a" />\n    <set-header name="x" exists-action="override"><value>{{nv}}</value></set-header>\n    <set-backend-service backend-id="pool-b" />\n  </inbound>\n</policies>\n',
    );
    const empty = mkdtempSync(path.join(tmpdir(), 'apim-cli-empty-'));
    const bicep = path.join(dir, 'main.bicep');
    writeFileSync(bicep, "resource b 'Microsoft.ApiManagement/service/backends@2024-06-01-preview' = {}\n");
    const validate = (inputs: string[]) => runValidate({ inputs, backends: [], namedValues: [], scope: 'api', backendParameters: {} });
    try {
      const noFiles = validate([empty]);
      expect(noFiles.exitCode).toBe(2);
      expect(noFiles.diagnostics).toEqual([
        expect.objectContaining({ severity: 'error', code: 'input/none', message: expect.stringMatching(/^no files to validate in .*apim-cli-empty-/) }),
      ]);
      const bicepRun = validate([bicep]);
      expect(bicepRun.exitCode).toBe(2);
      expect(bicepRun.diagnostics).toEqual([
        expect.objectContaining({ code: 'input/bicep', line: 1, column: 1, hint: expect.stringContaining('run `bicep build` first and pass the JSON') }),
      ]);
      // Two backend-ids, one note: said once per run, at the first one.
      const plain = validate([warn]);
      expect(plain.exitCode).toBe(0);
      expect(plain.diagnostics.filter((d) => d.code === 'input/backends-not-checked')).toEqual([
        expect.objectContaining({ severity: 'info', line: 3, column: 26, message: 'backend ids were not checked: no backend definitions were given' }),
      ]);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('no command prints help and exits 2; --max-warnings and --strict fail on warnings', async () => {
    const warn = path.join(dir, 'one-warning.xml');
    writeFileSync(
      warn,
      '<policies>\n  <inbound>\n    <set-header name="x" exists-action="override"><value>{{nv}}</value></set-header>\n  </inbound>\n  <backend><base /></backend>\n  <outbound><base /></outbound>\n  <on-error><base /></on-error>\n</policies>\n',
    );
    const [none, max1, max0, strict] = await Promise.all([
      run([]),
      run(['validate', warn, '--max-warnings', '1']),
      run(['validate', warn, '--max-warnings', '0']),
      run(['validate', warn, '--strict']),
    ]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/Usage: apim-emulator \[options\] \[command\][\s\S]*validate[\s\S]*serve[\s\S]*test/);
    expect(lines(max1.stdout).at(-1)).toBe('0 errors, 1 warning in 1 file');
    expect(max1.code).toBe(0);
    expect(max0.code).toBe(1);
    expect(max0.stderr).toMatch(/1 warning, more than --max-warnings allows \(0\)/);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/more than --strict allows/);
  });
});

describe('apim-emulator serve', () => {
  it('serves the bundled example on a free port, then exits on SIGTERM', async () => {
    const child = spawn(process.execPath, [...CLI, 'serve', '--config', EXAMPLE, '--mock-backends', '--port', '0', '--log-level', 'silent'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      const first = await new Promise<string>((resolve, reject) => {
        let buf = '';
        child.stdout.on('data', (c: Buffer) => {
          buf += c.toString();
          const nl = buf.indexOf('\n');
          if (nl >= 0) resolve(buf.slice(0, nl));
        });
        void exited.then((code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
      });
      expect(first).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+$/);
      const url = first.slice('listening on '.length);
      // The URL on a line of its own on stderr too (npm start puts its banner before stdout's line).
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(lines(stderr)).toContain(url);

      const chat = await fetch(`${url}/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'api-key': 'example-key' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'Hello' }] }),
      });
      expect(chat.status).toBe(200);
      // Priority 1 of the pool answers while its breaker is closed; the fragment's header is on the response.
      expect(chat.headers.get('x-mock-backend')).toBe('foundry1');
      expect(chat.headers.get('x-environment')).toBe('local-emulator');
      const body = (await chat.json()) as { object: string; choices: Array<{ message: { content: string } }> };
      expect(body.object).toBe('chat.completion');

      const noKey = await fetch(`${url}/openai/deployments/gpt-4o-mini/chat/completions`, { method: 'POST', body: '{}' });
      expect(noKey.status).toBe(401);
      await noKey.arrayBuffer();
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('port in use: one line on stderr and exit 2', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      // With request logs on (the default level): still one line, no logged error object before it.
      const r = await run(['serve', '--config', EXAMPLE, '--mock-backends', '--port', String(port)]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(lines(r.stderr)).toEqual([`error: port ${port} is already in use on 127.0.0.1`]);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('invalid config: one line naming the file and the JSON path, exit 1', async () => {
    const r = await run(['serve', '--config', path.join(dir, 'config.json'), '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const err = lines(r.stderr);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^error: .*config\.json:3:31 \$\.apis\[0\]\.polcy: error config\/schema: unknown property "polcy" \(allowed: .*policy.*\)$/);
  });
});

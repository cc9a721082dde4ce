import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The package as users get it: `npm pack` (which builds dist/ through `prepare`), the tarball installed into an empty
 * project offline (`npm ci --offline` from the local npm cache, which `npm ci` of this repo fills), then validate,
 * test and serve run from node_modules/.bin. Then the Docker image's run stage without a daemon: exactly the files
 * its COPY lines name, production dependencies only, and its ENTRYPOINT + CMD (loopback, port 0 instead of 8080).
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const work = mkdtempSync(path.join(tmpdir(), 'apim-package-'));
const project = path.join(work, 'project');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts a server process, waits for its "listening on URL" line, and gives the URL and a stop function. */
async function serve(args: string[], cwd: string): Promise<{ url: string; stderr: () => string; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /^listening on (\S+)$/m.exec(out);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`server exited with ${code}: ${stderr}`)));
  });
  return {
    url,
    stderr: () => stderr,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

async function chatCompletion(url: string): Promise<{ status: number; object: string }> {
  const r = await fetch(`${url}/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'api-key': 'example-key' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'Hello' }] }),
  });
  return { status: r.status, object: ((await r.json()) as { object: string }).object };
}

/** A lockfile for a project depending only on the tarball: the repo's lock entries minus dev-only ones (no registry metadata needed offline). */
function writeProject(tarball: string): void {
  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, Record<string, unknown>> };
  const self = lock.packages['']!;
  const packages: Record<string, unknown> = {
    '': { name: 'consumer', dependencies: { 'apim-emulator': `file:${tarball}` } },
    'node_modules/apim-emulator': {
      version: self.version,
      resolved: `file:${tarball}`,
      license: self.license,
      dependencies: self.dependencies,
      bin: self.bin,
      engines: self.engines,
    },
  };
  for (const [key, entry] of Object.entries(lock.packages)) if (key !== '' && !entry.dev && !entry.devOptional) packages[key] = entry;
  mkdirSync(project, { recursive: true });
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, dependencies: { 'apim-emulator': `file:${tarball}` } }));
  writeFileSync(path.join(project, 'package-lock.json'), JSON.stringify({ name: 'consumer', lockfileVersion: 3, requires: true, packages }));
}

beforeAll(async () => {
  const pack = await run('npm', ['pack', '--pack-destination', work], ROOT);
  expect(pack.code, pack.stderr).toBe(0);
  const tarball = pack.stdout.trim().split('\n').at(-1)!;
  expect(tarball).toMatch(/^apim-emulator-\d+\.\d+\.\d+\.tgz$/);
  writeProject(path.join('..', tarball));
  const install = await run('npm', ['ci', '--offline'], project);
  expect(install.code, `npm ci --offline failed (is the npm cache filled? run npm ci in the repo first):\n${install.stderr}`).toBe(0);
}, 240_000);

afterAll(() => rmSync(work, { recursive: true, force: true }), 60_000);

describe('the npm package', () => {
  it('ships compiled JavaScript and the example, not sources or tests', () => {
    const installed = path.join(project, 'node_modules/apim-emulator');
    const top = readdirSync(installed).sort();
    expect(top).toEqual(['LICENSE', 'README.md', 'bin', 'dist', 'docs', 'examples', 'package.json', 'policies', 'schemas']);
    expect(existsSync(path.join(installed, 'dist/cli/main.js'))).toBe(true);
    expect(readdirSync(path.join(installed, 'dist'), { recursive: true }).filter((f) => /\.(ts|map)$/.test(String(f)))).toEqual([]);
    // Dev-only tools are not installed for users.
    for (const dev of ['tsx', 'esbuild', 'vitest', 'typescript']) expect(existsSync(path.join(project, 'node_modules', dev)), dev).toBe(false);
  });

  it('runs validate, test and serve from node_modules/.bin', { timeout: 120_000 }, async () => {
    const bin = path.join(project, 'node_modules/.bin/apim-emulator');
    const pkg = 'node_modules/apim-emulator';
    const [validate, scenarios] = await Promise.all([
      run(bin, ['validate', `${pkg}/policies/example`], project),
      run(bin, ['test', `${pkg}/examples/scenarios`, '--ci'], project),
    ]);
    expect(validate.code, validate.stdout + validate.stderr).toBe(0);
    expect(validate.stdout).toMatch(/^0 errors, 0 warnings in \d+ files$/m);
    expect(scenarios.code, scenarios.stdout + scenarios.stderr).toBe(0);
    expect(scenarios.stdout).toMatch(/\d+ scenarios: \d+ passed, 0 failed, 0 invalid/);

    const server = await serve(
      [bin, 'serve', '--config', `${pkg}/policies/example/apim-emulator.json`, '--mock-backends', '--port', '0', '--log-level', 'silent'],
      project,
    );
    try {
      expect(await chatCompletion(server.url)).toEqual({ status: 200, object: 'chat.completion' });
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});

describe('start-up cost', () => {
  // The libraries a command does not need stay unloaded (docs/performance.md, start-up): each costs 50-300 ms of CPU.
  const HEAVY = [
    'ajv',
    'yaml',
    'graphql',
    'liquidjs',
    'xslt-processor',
    'fast-xml-parser',
    'js-tiktoken',
    'jose',
    'undici',
    'ioredis',
    'express',
    'pino',
    'prom-client',
  ];
  const loaded = (stderr: string) => (/^packages:(.*)$/m.exec(stderr)?.[1] ?? '(no report)').split(',').filter(Boolean);

  it('validate of a policy loads none of the heavy libraries; serve is listening before Express, undici and ioredis load', { timeout: 60_000 }, async () => {
    const recorder = path.join(import.meta.dirname, 'import-recorder.mjs');
    const pkg = 'node_modules/apim-emulator';
    const main = `${pkg}/dist/cli/main.js`;
    const env = (name: string) => ({ ...process.env, APIM_IMPORT_LOG: path.join(work, `${name}.imports`) });
    writeFileSync(env('validate').APIM_IMPORT_LOG, '');
    const validate = await new Promise<Run>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          recorder,
          main,
          'validate',
          `${pkg}/policies/example/openai-api.xml`,
          `${pkg}/policies/example/fragments`,
          '--backends',
          `${pkg}/policies/example/backends.json`,
        ],
        { cwd: project, env: env('validate'), stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(validate.code, validate.stdout + validate.stderr).toBe(0);
    const forValidate = loaded(validate.stderr);
    expect(forValidate).toContain('commander');
    expect(forValidate.filter((p) => HEAVY.includes(p))).toEqual([]);

    writeFileSync(env('serve').APIM_IMPORT_LOG, '');
    const child = spawn(
      process.execPath,
      [
        '--import',
        recorder,
        main,
        'serve',
        '--config',
        `${pkg}/policies/example/apim-emulator.json`,
        '--mock-backends',
        '--port',
        '0',
        '--log-level',
        'silent',
      ],
      { cwd: project, env: env('serve'), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', () => /^packages:/m.test(stderr) && resolve());
      void exited.then(() => reject(new Error(`serve exited: ${stderr}`)));
    });
    child.kill('SIGTERM');
    await exited;
    const forServe = loaded(stderr);
    // Logs are part of listening; the upstream and the admin API (Express) load right after, Redis only with --state.
    expect(forServe).toContain('pino');
    expect(forServe.filter((p) => ['express', 'undici', 'ioredis', 'graphql', 'liquidjs', 'xslt-processor', 'ajv', 'yaml', 'prom-client'].includes(p))).toEqual(
      [],
    );
  });
});

describe('the Docker image, without a daemon', () => {
  it("runs its entry command from exactly the files the Dockerfile's run stage copies", { timeout: 60_000 }, async () => {
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    const stages = dockerfile.split(/^FROM /m);
    const runStage = stages.at(-1)!;
    expect(runStage).toMatch(/^node:20-slim\b/);
    expect(runStage).toMatch(/^USER node$/m);
    expect(runStage).toMatch(/^EXPOSE 8080$/m);
    const app = path.join(work, 'image/app');
    mkdirSync(app, { recursive: true });
    for (const m of runStage.matchAll(/^COPY (--from=\w+ )?(.+)$/gm)) {
      const parts = m[2]!.split(/\s+/);
      const dest = parts.pop()!;
      for (const src of parts) {
        // The build stage's /app/dist is this repo's dist/, just built by npm pack (prepare) above.
        const from = m[1] ? path.join(ROOT, src.replace(/^\/app\//, '')) : path.join(ROOT, src);
        const to = dest.endsWith('/') ? path.join(app, dest, path.basename(src)) : path.join(app, dest);
        cpSync(from, to, { recursive: true });
      }
    }
    // `npm ci --omit=dev` of the image: the consumer project above installed exactly the production dependencies.
    symlinkSync(path.join(project, 'node_modules'), path.join(app, 'node_modules'), 'dir');
    expect(readdirSync(app).sort()).toEqual(['bin', 'dist', 'examples', 'node_modules', 'package-lock.json', 'package.json', 'policies', 'schemas']);

    const json = (line: RegExp) => JSON.parse(line.exec(runStage)![1]!) as string[];
    const [exe, ...entry] = json(/^ENTRYPOINT (\[.*\])$/m);
    expect(exe).toBe('node');
    // Loopback and a free port for the test; the image itself listens on 0.0.0.0:8080.
    const cmd = json(/^CMD (\[.*\])$/m).map((a) => (a === '0.0.0.0' ? '127.0.0.1' : a === '8080' ? '0' : a));
    expect(cmd).toContain('127.0.0.1');
    const server = await serve([...entry, ...cmd, '--log-level', 'silent'], app);
    try {
      const healthPath = /fetch\('http:\/\/127\.0\.0\.1:8080(\/[^']*)'\)/.exec(runStage)![1]!;
      const health = await fetch(`${server.url}${healthPath}`);
      expect(health.status).toBe(200);
      await health.arrayBuffer();
      expect(await chatCompletion(server.url)).toEqual({ status: 200, object: 'chat.completion' });
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});

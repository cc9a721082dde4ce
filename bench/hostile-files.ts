/**
 * Hostile files through `apim-emulator validate`, each in its own process: wall time and peak RSS (read from /proc) per
 * file, against the bound of 2 s and 200 MB (docs/limits.md). Run: `npx tsx bench/hostile-files.ts`
 * Baseline in the same run: the bundled example policy.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'hostile-'));
const end = '</inbound><backend><forward-request /></backend><outbound /><on-error /></policies>';
const arm = (body: object) =>
  JSON.stringify({ $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#', contentVersion: '1.0.0.0', ...body });
const be = {
  type: 'Microsoft.ApiManagement/service/backends',
  apiVersion: '2024-06-01-preview',
  name: 'apim/b1',
  properties: { url: 'https://b1', protocol: 'http' },
};
const doubling: Record<string, string> = { v0: 'aaaaaaaaaa' };
for (let i = 1; i < 40; i++) doubling[`v${i}`] = `[concat(variables('v${i - 1}'), variables('v${i - 1}'))]`;

const files: Array<[string, string]> = [
  ['baseline.xml', readFileSync(path.join(root, 'policies/example/openai-api.xml'), 'utf8')],
  ['10mb-attribute.xml', `<policies><inbound><set-header name="a" exists-action="override"><value>${'a'.repeat(10 * 1024 * 1024)}</value></set-header>${end}`],
  ['250kb-attribute.xml', `<policies><inbound><set-header name="a" exists-action="override"><value>${'a'.repeat(250 * 1024)}</value></set-header>${end}`],
  ['1000-nested.xml', `<policies><inbound>${'<choose><when condition="@(true)">'.repeat(1000)}<base />${'</when></choose>'.repeat(1000)}${end}`],
  ['deep.json', '['.repeat(100_000) + ']'.repeat(100_000)],
  ['copy-1e9.json', arm({ resources: [{ ...be, name: "[concat('apim/b', string(copyIndex()))]", copy: { name: 'c', count: 1e9 } }] })],
  ['doubling.json', arm({ variables: doubling, resources: [{ ...be, properties: { url: "[concat('https://x/', variables('v39'))]", protocol: 'http' } }] })],
];

function run(file: string): Promise<{ ms: number; peakMb: number; code: number | null; lastLine: string }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['bin/apim-emulator.js', 'validate', file], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    let peak = 0;
    const poll = setInterval(() => {
      try {
        peak = Math.max(peak, Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024);
      } catch {
        // exited
      }
    }, 10);
    child.on('exit', (code) => {
      clearInterval(poll);
      const lines = out.trim().split('\n');
      resolve({ ms: performance.now() - t0, peakMb: peak, code, lastLine: (lines.find((l) => / error /.test(l)) ?? lines.at(-1) ?? '').slice(0, 140) });
    });
  });
}

console.log('| file | exit | wall ms (process, incl. start-up) | peak RSS MB | first error |');
console.log('|---|---|---|---|---|');
for (const [name, text] of files) {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  const r = await run(file);
  console.log(
    `| ${name} (${(text.length / 1024).toFixed(0)} KiB) | ${r.code} | ${r.ms.toFixed(0)} | ${r.peakMb.toFixed(0)} | ${r.lastLine.replace(/\|/g, '\\|').replace(dir + path.sep, '')} |`,
  );
}
rmSync(dir, { recursive: true, force: true });

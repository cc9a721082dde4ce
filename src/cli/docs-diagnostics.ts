import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DIAGNOSTIC_CODES, codeArea, type DiagnosticCode } from '../diagnostics/codes.js';

/** docs/diagnostics.md from the catalogue in src/diagnostics/codes.ts (`npm run docs:diagnostics`; a test keeps it in sync). */

const AREAS: Record<string, string> = {
  api: 'API definitions and specifications',
  apiops: 'APIOps extractor trees',
  backend: 'Backend definitions (ARM templates, resources, pools, circuit breakers)',
  config: 'The configuration file',
  diagnostics: 'Diagnostics themselves',
  expr: 'Policy expressions',
  input: 'Inputs of validate',
  io: 'Files and folders',
  json: 'JSON files',
  mock: 'Mock backend scripts',
  policy: 'Policy documents and fragments',
  scenario: 'Scenario files',
  settings: 'Emulator settings standing in for Azure resources',
  xml: 'The XML of policy documents',
};

export function renderDiagnosticsDoc(): string {
  const codes = Object.keys(DIAGNOSTIC_CODES) as DiagnosticCode[];
  const out: string[] = [
    '# Diagnostic codes',
    '',
    '<!-- Generated from src/diagnostics/codes.ts by `npm run docs:diagnostics`; edit the catalogue, not this file. -->',
    '',
    'Every finding of `apim-emulator validate` (and every load error of `serve` and `test`) carries one of these codes.',
    'A line reads `file:line:column: severity code: message (hint)`; the message says what is wrong at that place and',
    'the hint what is allowed. The same code can be an error in one place and a warning in another (for example a',
    'setting APIM accepts but the emulator cannot act on offline is a warning). In SARIF output each code is a rule whose',
    'help links here.',
    '',
    `${codes.length} codes in ${new Set(codes.map(codeArea)).size} areas.`,
    '',
  ];
  let area = '';
  for (const code of codes) {
    const a = codeArea(code);
    if (a !== area) {
      area = a;
      out.push(`## ${AREAS[a] ?? a} (\`${a}/\`)`, '');
    }
    out.push(`### ${code}`, '', DIAGNOSTIC_CODES[code], '');
  }
  return out.join('\n');
}

export const DIAGNOSTICS_DOC_URL = new URL('../../docs/diagnostics.md', import.meta.url);

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(DIAGNOSTICS_DOC_URL, renderDiagnosticsDoc());
  process.stdout.write('wrote docs/diagnostics.md\n');
}

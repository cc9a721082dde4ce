import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiagnosticBag, formatDiagnosticLine } from '../../src/diagnostics/diagnostic.js';
import { SourceText, type TextSpan } from '../../src/diagnostics/source.js';
import { compileExpression, isExpression } from '../../src/expressions/index.js';
import { readPolicyXml } from '../../src/xml/read.js';
import type { XmlElement } from '../../src/xml/types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const corpus = path.resolve(here, '../../../shared/corpus/ai-gateway');
const present = existsSync(corpus);
if (!present) console.warn(`corpus absent at ${corpus}: skipping the corpus expression test`);

/** Lab deployment placeholders (not APIM syntax) → values from the lab's backends file, else fixed ones. */
function placeholders(file: string, files: string[]): Map<string, string> {
  const map = new Map<string, string>([
    ['{backend-id}', 'openai-backend'],
    ['{retry-count}', '2'],
    ['{tpm}', '1000'],
    ['{tenant-id}', '00000000-0000-0000-0000-000000000000'],
    ['{client-application-id}', 'app-id'],
    ['{entraid-tenant}', 'tenant'],
    ['{function-host-key}', 'host-key'],
    ['{group-id}', 'group-1'],
    ['{openai-lb-config}', "[{'name': 'openai1', 'priority': 1, 'weight': 100}]"],
    ['{product-token-limits}', '{}'],
  ]);
  for (const b of files.filter((f) => f.endsWith('__backends.json'))) {
    const lab = b.slice(0, -'backends.json'.length);
    if (!file.startsWith(lab)) continue;
    const json = JSON.parse(readFileSync(path.join(corpus, b), 'utf8')) as { policyPlaceholders?: Record<string, string> };
    for (const [k, v] of Object.entries(json.policyPlaceholders ?? {})) map.set(k, v);
  }
  return map;
}

function* expressionSpans(el: XmlElement): Generator<TextSpan> {
  for (const a of el.attributes) if (isExpression(a.value.text)) yield trimmed(a.value);
  for (const c of el.children) {
    if (c.kind === 'element') yield* expressionSpans(c);
    else if (isExpression(c.text.text)) yield trimmed(c.text);
  }
}
function trimmed(s: TextSpan): TextSpan {
  const lead = s.text.length - s.text.trimStart().length;
  return s.slice(lead, lead + s.text.trim().length);
}

describe.skipIf(!present)('corpus: every policy expression compiles', () => {
  it('compiles all @(...) and @{...} in the 114 AI-Gateway policy files', () => {
    const files = readdirSync(corpus);
    const xmls = files.filter((f) => f.endsWith('.xml'));
    let total = 0;
    let compiled = 0;
    const failures: string[] = [];
    for (const f of xmls) {
      let text = readFileSync(path.join(corpus, f), 'utf8');
      for (const [k, v] of placeholders(f, files)) text = text.split(k).join(v);
      text = text.replace(/\{\{[^{}]+\}\}/g, 'nv-value');
      const source = new SourceText(f, text);
      const read = readPolicyXml(source);
      expect(read.root, `${f} must parse`).not.toBeNull();
      for (const span of expressionSpans(read.root!)) {
        total++;
        const bag = new DiagnosticBag();
        const c = compileExpression(span, bag);
        if (c) compiled++;
        else failures.push(...bag.items.map(formatDiagnosticLine));
      }
    }
    console.log(`corpus expressions: ${compiled}/${total} compiled across ${xmls.length} policy files`);
    expect(failures).toEqual([]);
    expect(total).toBeGreaterThan(350);
  });
});

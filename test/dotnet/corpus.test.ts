import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DateTime } from '../../src/dotnet/datetime.js';
import { JToken } from '../../src/dotnet/json.js';
import { Regex, translateRegex } from '../../src/dotnet/regex.js';

const corpusDir = fileURLToPath(new URL('../../../shared/corpus/ai-gateway/', import.meta.url));
const exists = existsSync(corpusDir);
if (!exists) console.warn(`dotnet corpus tests skipped: the AI-Gateway corpus is absent (${corpusDir})`);

function xmlUnescape(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

describe.skipIf(!exists)('real AI-Gateway lab files', () => {
  const files = exists ? readdirSync(corpusDir) : [];
  const backends = files.filter((f) => f.endsWith('__backends.json'));
  const policies = files.filter((f) => f.endsWith('.xml'));

  it('has the expected corpus', () => {
    expect(backends.length).toBeGreaterThanOrEqual(40);
    expect(policies.length).toBeGreaterThanOrEqual(100);
  });

  it('every backends.json parses with Newtonsoft semantics and serialises back to the same data', () => {
    for (const f of backends) {
      const text = readFileSync(corpusDir + f, 'utf8');
      const token = JToken.Parse(text);
      // Same data as a standard parser sees (no floats or ISO dates in these files, so the text forms agree too).
      expect(JSON.parse(token.ToString('None')), f).toEqual(JSON.parse(text));
      expect(JSON.parse(token.ToString()), f).toEqual(JSON.parse(text));
    }
  });

  it('every verbatim regex literal in the policies translates, and the timestamp pattern behaves', () => {
    const patterns: string[] = [];
    for (const f of policies) {
      const xml = xmlUnescape(readFileSync(corpusDir + f, 'utf8'));
      for (const m of xml.matchAll(/Regex\.(?:IsMatch|Match|Matches|Replace|Split)\([^,]+,\s*@"((?:[^"]|"")*)"/g)) patterns.push(m[1]!.replace(/""/g, '"'));
      for (const m of xml.matchAll(/var\s+\w*[Pp]attern\s*=\s*@"((?:[^"]|"")*)"/g)) patterns.push(m[1]!.replace(/""/g, '"'));
    }
    expect(patterns.length).toBeGreaterThanOrEqual(2);
    for (const p of patterns) expect(() => translateRegex(p), p).not.toThrow();
    const ts = ':\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$';
    expect(patterns).toContain(ts);
    const m = Regex.Match('client:state:2025-01-02T03:04:05Z', ts);
    expect(m.Value.substring(1)).toBe('2025-01-02T03:04:05Z');
    expect(DateTime.Parse(m.Value.substring(1)).toDotNetString('o')).toBe('2025-01-02T03:04:05.0000000+00:00');
  });

  it('every DateTime format string the policies use formats as .NET would', () => {
    const expected: Record<string, string> = {
      'yyyy-MM-ddTHH:mm:ssZ': '2025-01-02T03:04:05Z',
      yyyyMMddTHHmmssZ: '20250102T030405Z',
      yyyyMMdd: '20250102',
    };
    const seen = new Set<string>();
    for (const f of policies) {
      const xml = readFileSync(corpusDir + f, 'utf8');
      for (const m of xml.matchAll(/ToString\("((?:yyyy|HH|MM|dd)[^"]*)"\)/g)) seen.add(m[1]!);
    }
    expect(seen.size).toBeGreaterThan(0);
    const dt = DateTime.create(2025, 1, 2, 3, 4, 5, 0, 'Utc');
    for (const fmt of seen) {
      const out = dt.toDotNetString(fmt);
      if (expected[fmt] !== undefined) expect(out, fmt).toBe(expected[fmt]);
    }
  });
});

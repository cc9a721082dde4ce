import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shared corpus of real AI-Gateway lab policies sits beside the clone (../shared/corpus); tests skip without it. */
export const CORPUS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/corpus/ai-gateway');
export const CORPUS_PRESENT = existsSync(CORPUS_DIR);

if (!CORPUS_PRESENT) console.warn(`[corpus] ${CORPUS_DIR} is absent: corpus tests are skipped (CI has it beside the clone).`);

export interface CorpusLab {
  /** Policy file name, e.g. `backend-pool-load-balancing__policy.xml`. */
  file: string;
  text: string;
  /** The lab's backends files (name + JSON text) that belong to this policy. */
  backends: Array<{ file: string; text: string }>;
  /** `{placeholder}` → value from the backends files' policyPlaceholders. */
  placeholders: Record<string, string>;
}

/**
 * Policy files with their lab's backends: a backends file belongs to a policy when its lab prefix is a prefix of the
 * policy's name, or else when both share the first path segment (`ai-agent-service__v1__openai-policy.xml` →
 * `ai-agent-service__main-v1__backends.json` and `..._main-v2_...`).
 */
export function corpusLabs(): CorpusLab[] {
  if (!CORPUS_PRESENT) return [];
  const files = readdirSync(CORPUS_DIR).sort();
  const backends = files.filter((f) => f.endsWith('__backends.json'));
  return files
    .filter((f) => f.endsWith('.xml'))
    .map((file) => {
      const exact = backends.filter((b) => file.startsWith(b.slice(0, -'backends.json'.length)));
      const seg = labKey(file);
      const chosen = exact.length ? exact : backends.filter((b) => labKey(b) === seg);
      const placeholders: Record<string, string> = {};
      const bfiles = chosen.map((b) => {
        const text = readFileSync(path.join(CORPUS_DIR, b), 'utf8');
        const json = JSON.parse(text) as { policyPlaceholders?: Record<string, string> };
        Object.assign(placeholders, json.policyPlaceholders ?? {});
        return { file: b, text };
      });
      return { file, text: readFileSync(path.join(CORPUS_DIR, file), 'utf8'), backends: bfiles, placeholders };
    });
}

function labKey(name: string): string {
  const parts = name.split('__');
  return parts[0] === '_deprecated' || parts[0] === 'modules' ? `${parts[0]}__${parts[1]}` : parts[0]!;
}

/** Substitutes deploy-time `{placeholders}` (not APIM syntax) the way each lab's deployment does; unknown ones get a fixed value. */
export function fillPlaceholders(text: string, placeholders: Record<string, string>): string {
  let out = text;
  for (const [k, v] of Object.entries(placeholders)) out = out.split(k).join(v);
  return out;
}

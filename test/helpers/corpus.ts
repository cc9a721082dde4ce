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
      const sameLab = backends.filter((b) => labKey(b) === seg);
      // A lab with alternative deployments (main-v1 / main-v2) is one or the other: the one the file name points
      // at (`__v1__`), else the newest.
      const chosen = exact.length
        ? exact
        : sameLab
            .filter((b) => variantMatches(file, b))
            .slice(0, 1)
            .concat(sameLab.some((b) => variantMatches(file, b)) ? [] : sameLab.slice(-1));
      const placeholders: Record<string, string> = {};
      const names: string[] = [];
      const bfiles = chosen.map((b) => {
        const text = readFileSync(path.join(CORPUS_DIR, b), 'utf8');
        const json = JSON.parse(text) as { policyPlaceholders?: Record<string, string>; backends?: Array<{ name?: string }> };
        for (const [k, v] of Object.entries(json.policyPlaceholders ?? {})) {
          // Some maps describe alternatives in prose ("gemini-backend (native Gemini API) / ..."): the first id is the value.
          placeholders[k] = !v.includes('<') && v.includes(' / ') ? v.split(/\s/)[0]! : v;
        }
        for (const bd of json.backends ?? []) if (bd.name) names.push(bd.name);
        return { file: b, text };
      });
      // `{backend-id}` left unmapped by the transcription: the lab's first backend is what its deployment passes.
      if (!placeholders['{backend-id}'] && names[0]) placeholders['{backend-id}'] = names[0];
      const stand = CORPUS_GAPS[file];
      if (stand)
        bfiles.push({
          file: `stand-in-for-${file}.json`,
          text: JSON.stringify(stand.map((name) => ({ name, properties: { url: `https://${name}.example.com`, protocol: 'http' } }))),
        });
      return { file, text: readFileSync(path.join(CORPUS_DIR, file), 'utf8'), backends: bfiles, placeholders };
    });
}

/**
 * Backends a policy references that its lab's transcribed backends file does not define (they come from another Bicep
 * module of the lab). The test adds a plain stand-in so the reference check has something to find; listed here so the
 * gap stays visible.
 */
const CORPUS_GAPS: Record<string, string[]> = {
  'model-context-protocol__src__servicenow__apim-api__operation-policy.xml': ['servicenow-backend'],
};

function variantMatches(policyFile: string, backendsFile: string): boolean {
  const variant = /__(?:main-)?(v\d+)__backends\.json$/.exec(backendsFile)?.[1];
  return variant !== undefined && policyFile.includes(`__${variant}__`);
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

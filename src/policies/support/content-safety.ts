import type { RuntimeServices } from '../../engine/policy-sdk.js';
import { defineSetting } from '../../engine/policy-sdk.js';

/**
 * The offline stand-in for Azure AI Content Safety used by llm-content-safety: a local classifier configured in the
 * settings under `contentSafety`, or none (pass-through: every request is allowed, and the trace says so).
 *
 * ```json
 * "contentSafety": {
 *   "categories": { "Violence": [{ "pattern": "\\bbomb\\b", "severity": 6 }], "Hate": [...] },
 *   "blocklists": { "blocklist1": ["forbidden phrase", "other term"] },
 *   "promptAttacks": ["ignore (all )?previous instructions"]
 * }
 * ```
 * Patterns are JavaScript regular expressions matched case-insensitively; a category's severity is the highest
 * severity (0-7) among its matching patterns, 0 when none matches. Blocklist terms match as case-insensitive
 * substrings. promptAttacks patterns are what `shield-prompt="true"` detects. Programmatic users may instead give
 * a classifier function as the `contentSafetyClassifier` extension (GatewayDeps.extensions).
 */

export const HARM_CATEGORIES = ['Hate', 'SelfHarm', 'Sexual', 'Violence'] as const;
export type HarmCategory = (typeof HARM_CATEGORIES)[number];

export interface ContentSafetyAnalysis {
  /** Severity 0-7 per category (missing = 0). */
  categories: Partial<Record<HarmCategory, number>>;
  /** Ids of the blocklists with a hit. */
  blocklistHits: string[];
  /** A user prompt attack was detected (Prompt Shields). */
  attackDetected: boolean;
}

export type ContentSafetyClassifier = (text: string, blocklists: readonly string[]) => ContentSafetyAnalysis;

interface Rule {
  re: RegExp;
  severity: number;
}

declare module '../../engine/policy-sdk.js' {
  interface PolicyExtensions {
    /** A classifier used by llm-content-safety instead of the `contentSafety` setting's patterns. */
    contentSafetyClassifier?: ContentSafetyClassifier;
  }
}

/** `settings.contentSafety`: the local classifier's patterns (see above). */
export const CONTENT_SAFETY_SETTING = defineSetting<ContentSafetyClassifier>(
  'contentSafety',
  'local content safety classifier: categories, blocklists, promptAttacks',
  (raw) => {
    const r = parseClassifier(raw);
    return 'errors' in r ? { ok: false, message: r.errors.join('\n') } : { ok: true, value: r.classifier };
  },
);

/** The classifier the extension or the settings describe, null for pass-through, or the problems found in the settings. */
export function classifierFromSettings(services: RuntimeServices): { classifier: ContentSafetyClassifier | null } | { errors: string[] } {
  const hook = services.extensions.contentSafetyClassifier;
  if (hook) return { classifier: hook };
  const r = services.setting(CONTENT_SAFETY_SETTING);
  return r.ok ? { classifier: r.value ?? null } : { errors: r.message.split('\n') };
}

function parseClassifier(raw: unknown): { classifier: ContentSafetyClassifier } | { errors: string[] } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { errors: ['setting "contentSafety" must be an object with categories, blocklists, promptAttacks'] };
  const cfg = raw as Record<string, unknown>;
  const errors: string[] = [];
  const rules = new Map<HarmCategory, Rule[]>();
  const cats = cfg.categories;
  if (cats !== undefined) {
    if (typeof cats !== 'object' || cats === null || Array.isArray(cats))
      errors.push('contentSafety.categories must be an object keyed by Hate, SelfHarm, Sexual, Violence');
    else {
      for (const [name, list] of Object.entries(cats as Record<string, unknown>)) {
        const cat = HARM_CATEGORIES.find((c) => c.toLowerCase() === name.toLowerCase());
        if (!cat) {
          errors.push(`contentSafety.categories.${name}: unknown category (allowed: ${HARM_CATEGORIES.join(', ')})`);
          continue;
        }
        if (!Array.isArray(list)) {
          errors.push(`contentSafety.categories.${name} must be an array of { "pattern": "regex", "severity": 0-7 }`);
          continue;
        }
        const out: Rule[] = [];
        list.forEach((r: unknown, i) => {
          const where = `contentSafety.categories.${name}[${i}]`;
          const rr = r as { pattern?: unknown; severity?: unknown };
          if (typeof rr !== 'object' || rr === null || typeof rr.pattern !== 'string')
            return errors.push(`${where}.pattern must be a string (a regular expression)`);
          if (typeof rr.severity !== 'number' || !Number.isInteger(rr.severity) || rr.severity < 0 || rr.severity > 7)
            return errors.push(`${where}.severity must be a whole number from 0 to 7`);
          try {
            out.push({ re: new RegExp(rr.pattern, 'iu'), severity: rr.severity });
          } catch (e) {
            errors.push(`${where}.pattern is not a valid regular expression: ${e instanceof Error ? e.message : String(e)}`);
          }
          return undefined;
        });
        rules.set(cat, out);
      }
    }
  }
  const blocklists = new Map<string, string[]>();
  if (cfg.blocklists !== undefined) {
    if (typeof cfg.blocklists !== 'object' || cfg.blocklists === null || Array.isArray(cfg.blocklists))
      errors.push('contentSafety.blocklists must be an object: blocklist id → array of terms');
    else {
      for (const [id, terms] of Object.entries(cfg.blocklists as Record<string, unknown>)) {
        if (!Array.isArray(terms) || terms.some((t) => typeof t !== 'string')) errors.push(`contentSafety.blocklists.${id} must be an array of strings`);
        else
          blocklists.set(
            id,
            (terms as string[]).map((t) => t.toLowerCase()),
          );
      }
    }
  }
  const attacks: RegExp[] = [];
  if (cfg.promptAttacks !== undefined) {
    if (!Array.isArray(cfg.promptAttacks)) errors.push('contentSafety.promptAttacks must be an array of regular expressions');
    else {
      cfg.promptAttacks.forEach((p: unknown, i) => {
        if (typeof p !== 'string') return errors.push(`contentSafety.promptAttacks[${i}] must be a string`);
        try {
          attacks.push(new RegExp(p, 'iu'));
        } catch (e) {
          errors.push(`contentSafety.promptAttacks[${i}] is not a valid regular expression: ${e instanceof Error ? e.message : String(e)}`);
        }
        return undefined;
      });
    }
  }
  for (const k of Object.keys(cfg)) {
    if (!['categories', 'blocklists', 'promptAttacks'].includes(k))
      errors.push(`contentSafety.${k}: unknown setting (allowed: categories, blocklists, promptAttacks)`);
  }
  if (errors.length) return { errors };
  return {
    classifier: (text, wanted) => {
      const categories: Partial<Record<HarmCategory, number>> = {};
      for (const [cat, list] of rules) {
        let sev = 0;
        for (const r of list) if (r.severity > sev && r.re.test(text)) sev = r.severity;
        categories[cat] = sev;
      }
      const lower = text.toLowerCase();
      const blocklistHits = wanted.filter((id) => (blocklists.get(id) ?? []).some((t) => t !== '' && lower.includes(t)));
      return { categories, blocklistHits, attackDetected: attacks.some((a) => a.test(text)) };
    },
  };
}

/** FourSeverityLevels reports 0, 2, 4, 6 (each pair of the eight levels folded down). */
export function toOutputType(severity: number, outputType: string): number {
  const s = Math.max(0, Math.min(7, Math.trunc(severity)));
  return outputType.trim().toLowerCase() === 'fourseveritylevels' ? s - (s % 2) : s;
}

/** "The policy runs on a concatenation of all text content in the request": message contents, prompt, input. */
export function requestText(body: unknown): string {
  const out: string[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth > 8 || v === null || v === undefined) return;
    if (typeof v === 'string') {
      out.push(v);
      return;
    }
    if (Array.isArray(v)) {
      for (const x of v) walk(x, depth + 1);
      return;
    }
    if (typeof v === 'object') {
      const r = v as Record<string, unknown>;
      if (typeof r.text === 'string') out.push(r.text);
      else if (r.content !== undefined) walk(r.content, depth + 1);
    }
  };
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const b = body as Record<string, unknown>;
    if (Array.isArray(b.messages)) for (const m of b.messages) walk(typeof m === 'object' && m !== null ? (m as Record<string, unknown>).content : m, 0);
    if (b.system !== undefined) walk(b.system, 0);
    if (b.instructions !== undefined) walk(b.instructions, 0);
    if (b.prompt !== undefined) walk(b.prompt, 0);
    if (b.input !== undefined) walk(b.input, 0);
  } else if (typeof body === 'string') out.push(body);
  return out.join('\n');
}

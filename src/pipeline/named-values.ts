import type { DiagnosticBag } from '../diagnostics/diagnostic.js';
import { TextSpan } from '../diagnostics/source.js';
import type { NamedValue } from '../engine/services.js';

const NAMED_VALUE = /\{\{([^{}]+)\}\}/g;

/**
 * Replaces `{{name}}` with the named value's text (docs/configuration.md, named values): in literals, in expressions, as part of a larger
 * value. Replacement is textual and not recursive (a named value can't contain other named values). The result keeps
 * positions: replaced characters point at the `{{` in the user's file.
 *
 * Unknown names are errors when named values were configured (APIM refuses a policy naming a named value that does
 * not exist). When none were given at all (validate of a policy on its own), a named value never breaks validation:
 * one warning says which type it was checked as; inside a C# expression it stands for `assumed.expression` so that
 * the code around it still parses and type-checks (docs/emulator-choices.md, "Named values not given").
 */
export interface NamedValueAssumption {
  /** What the warning says the value was checked as, e.g. "a whole number". */
  readonly as: string;
  /** Text put in place of `{{x}}` (only for C# expressions); undefined keeps `{{x}}` as written. */
  readonly text?: string | undefined;
}

export function substituteNamedValues(
  span: TextSpan,
  namedValues: ReadonlyMap<string, NamedValue>,
  diagnostics: DiagnosticBag,
  reported: Set<string>,
  assumed: NamedValueAssumption = { as: 'text' },
): TextSpan {
  if (!span.text.includes('{{')) return span;
  const parts: Array<TextSpan | { text: string; at: number }> = [];
  let last = 0;
  let changed = false;
  for (const m of span.text.matchAll(NAMED_VALUE)) {
    const name = m[1]!.trim();
    const nv = namedValues.get(name.toLowerCase());
    const at = span.sourceOffset(m.index);
    if (!nv) {
      const key = `${span.source.file}:${at}`;
      if (!reported.has(key)) {
        reported.add(key);
        if (namedValues.size > 0) {
          diagnostics.error(
            span.source,
            at,
            'policy/unknown-named-value',
            `named value "{{${name}}}" is not defined`,
            `defined: ${[...namedValues.values()]
              .map((n) => n.name)
              .sort()
              .join(', ')}`,
          );
        } else {
          diagnostics.warning(
            span.source,
            at,
            'policy/unknown-named-value',
            `named value ${name} not given: no named values were given, so "{{${name}}}" is checked as ${assumed.as}`,
            'pass --named-value NAME=VALUE or --named-values FILE to check it with its real value',
          );
        }
      }
      if (namedValues.size === 0 && assumed.text !== undefined) {
        parts.push(span.slice(last, m.index));
        parts.push({ text: assumed.text, at });
        last = m.index + m[0].length;
        changed = true;
      }
      continue;
    }
    parts.push(span.slice(last, m.index));
    parts.push({ text: nv.value, at });
    last = m.index + m[0].length;
    changed = true;
  }
  if (!changed) return span;
  parts.push(span.slice(last));
  return TextSpan.concat(span.source, parts);
}

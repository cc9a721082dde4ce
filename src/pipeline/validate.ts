import type { DiagnosticBag } from '../diagnostics/diagnostic.js';
import { editDistance } from '../diagnostics/edit-distance.js';
import type { PolicyScope, PolicySection } from '../engine/context.js';
import { isExpression } from '../expressions/index.js';
import type { AttributeSpec, ElementSpec, PolicyDefinition } from '../engine/policy-sdk.js';
import type { XmlElement } from '../xml/types.js';

/** Every policy accepts `id`, surfaced as `context.LastError.PolicyId` (docs/policies.md). */
const ID_ATTRIBUTE: AttributeSpec = { name: 'id', expressions: false };

export interface ValidationTarget {
  scope: PolicyScope;
  /** undefined when validating a fragment on its own: any section is possible. */
  section: PolicySection | undefined;
}

/**
 * Checks one policy element against its definition: section and scope, attributes (unknown, missing, enum values,
 * numbers, expressions where APIM forbids them), own child elements (unknown, counts, order) and text. Nested policy
 * statements are validated by the compiler as it reaches them.
 */
export function validatePolicyElement(el: XmlElement, def: PolicyDefinition, target: ValidationTarget, bag: DiagnosticBag): void {
  const src = el.source;
  if (target.section && !def.sections.includes(target.section)) {
    bag.error(
      src,
      el.start,
      'policy/wrong-section',
      `<${def.name}> is not allowed in the ${target.section} section`,
      `allowed sections: ${def.sections.join(', ')}`,
    );
  }
  if (def.scopes && !def.scopes.includes(target.scope)) {
    bag.error(src, el.start, 'policy/wrong-scope', `<${def.name}> is not allowed at ${target.scope} scope`, `allowed scopes: ${def.scopes.join(', ')}`);
  }
  validateAttributes(el, [...def.attributes, ID_ATTRIBUTE], bag);
  for (const group of def.oneOf ?? []) {
    const present = group.filter((n) => el.attributes.some((a) => a.name === n));
    if (present.length === 0) {
      bag.error(src, el.start, 'policy/missing-attribute', `<${def.name}> needs one of the attributes ${group.map((g) => `"${g}"`).join(' or ')}`);
    } else if (present.length > 1) {
      bag.error(
        src,
        el.start,
        'policy/conflicting-attributes',
        `<${def.name}> takes only one of ${group.map((g) => `"${g}"`).join(', ')}, found ${present.join(' and ')}`,
      );
    }
  }
  validateContent(el, def.name, { elements: def.elements, policies: def.policies, text: def.text, ordered: def.ordered }, bag);
}

function validateAttributes(el: XmlElement, specs: readonly AttributeSpec[], bag: DiagnosticBag): void {
  const src = el.source;
  for (const a of el.attributes) {
    const spec = specs.find((s) => s.name === a.name);
    if (!spec) {
      const allowed = specs.map((s) => s.name);
      bag.error(
        src,
        a.offset,
        'policy/unknown-attribute',
        `<${el.name}> has no attribute "${a.name}"`,
        allowed.length ? `allowed: ${allowed.join(', ')}` : `<${el.name}> takes no attributes`,
      );
      continue;
    }
    const text = a.value.text.trim();
    if (isExpression(text)) {
      if (!spec.expressions) {
        bag.error(
          src,
          a.offset,
          'policy/expression-not-allowed',
          `attribute "${a.name}" of <${el.name}> does not accept policy expressions`,
          'write a literal value here (APIM rejects expressions in this attribute)',
        );
      }
      continue;
    }
    if (text.includes('{{')) continue; // a named value decides the final text; checked after substitution at compile time
    checkLiteral(el, spec, a.value.text, a.offset, bag);
  }
  for (const spec of specs) {
    if (spec.required && !el.attributes.some((a) => a.name === spec.name)) {
      bag.error(src, el.start, 'policy/missing-attribute', `<${el.name}> is missing the required attribute "${spec.name}"`, describeSpec(spec));
    }
  }
}

/** Checks a literal attribute value against its kind; exported for values known only after named-value substitution. */
export function checkLiteral(el: XmlElement, spec: AttributeSpec, raw: string, offset: number, bag: DiagnosticBag): void {
  const value = raw.trim();
  const src = el.source;
  switch (spec.kind) {
    case 'bool':
      if (!/^(true|false)$/i.test(value))
        bag.error(
          src,
          offset,
          'policy/bad-attribute-value',
          `attribute "${spec.name}" of <${el.name}> must be true or false, not "${raw}"`,
          'allowed: true, false' + (spec.expressions ? ', or a policy expression' : ''),
        );
      break;
    case 'int': {
      if (!/^[+-]?\d+$/.test(value)) {
        bag.error(
          src,
          offset,
          'policy/bad-attribute-value',
          `attribute "${spec.name}" of <${el.name}> must be a whole number, not "${raw}"`,
          describeSpec(spec),
        );
        break;
      }
      checkRange(el, spec, Number(value), raw, offset, bag);
      break;
    }
    case 'number': {
      if (value === '' || !Number.isFinite(Number(value))) {
        bag.error(src, offset, 'policy/bad-attribute-value', `attribute "${spec.name}" of <${el.name}> must be a number, not "${raw}"`, describeSpec(spec));
        break;
      }
      checkRange(el, spec, Number(value), raw, offset, bag);
      break;
    }
    case 'enum':
      if (spec.values && !spec.values.some((v) => v.toLowerCase() === value.toLowerCase())) {
        bag.error(
          src,
          offset,
          'policy/bad-attribute-value',
          `attribute "${spec.name}" of <${el.name}> does not accept "${raw}"`,
          `allowed: ${spec.values.join(', ')}`,
        );
      }
      break;
    default:
      break;
  }
}

function checkRange(el: XmlElement, spec: AttributeSpec, n: number, raw: string, offset: number, bag: DiagnosticBag): void {
  if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
    bag.error(
      el.source,
      offset,
      'policy/bad-attribute-value',
      `attribute "${spec.name}" of <${el.name}> is ${raw}, outside the allowed range`,
      describeSpec(spec),
    );
  }
}

function describeSpec(spec: AttributeSpec): string {
  const parts: string[] = [];
  if (spec.kind === 'enum' && spec.values) parts.push(`allowed: ${spec.values.join(', ')}`);
  else if (spec.kind === 'bool') parts.push('allowed: true, false');
  else if (spec.kind === 'int')
    parts.push(`a whole number${spec.min !== undefined ? ` >= ${spec.min}` : ''}${spec.max !== undefined ? ` and <= ${spec.max}` : ''}`);
  else if (spec.kind === 'number')
    parts.push(`a number${spec.min !== undefined ? ` >= ${spec.min}` : ''}${spec.max !== undefined ? ` and <= ${spec.max}` : ''}`);
  if (spec.expressions) parts.push('policy expressions allowed');
  return parts.join('; ');
}

interface ContentSpec {
  elements?: readonly ElementSpec[] | undefined;
  policies?: true | readonly string[] | undefined;
  text?: { readonly expressions: boolean; readonly required?: boolean } | undefined;
  ordered?: boolean | undefined;
}

/**
 * Checks the children of a policy or of one of its own elements. Children that are nested policy statements are left
 * to the compiler (it validates them against their own definitions when it compiles them).
 */
function validateContent(el: XmlElement, owner: string, spec: ContentSpec, bag: DiagnosticBag): void {
  const src = el.source;
  const elements = spec.elements ?? [];
  const counts = new Map<string, number>();
  let lastOrder = -1;
  let hasText = false;
  for (const c of el.children) {
    if (c.kind === 'text') {
      if (!c.text.text.trim()) continue;
      hasText = true;
      if (!spec.text) {
        bag.error(
          src,
          c.text.sourceOffset(c.text.text.length - c.text.text.trimStart().length),
          'policy/text-not-allowed',
          `text is not allowed inside <${el.name}>`,
          spec.policies ? 'it holds policy elements' : elements.length ? `it holds: ${elements.map((e) => `<${e.name}>`).join(', ')}` : `<${el.name}> is empty`,
        );
      } else if (!spec.text.expressions && isExpression(c.text.text.trim())) {
        bag.error(src, c.text.sourceOffset(0), 'policy/expression-not-allowed', `the text of <${el.name}> does not accept policy expressions`);
      }
      continue;
    }
    const es = elements.find((e) => e.name === c.name);
    if (es) {
      counts.set(c.name, (counts.get(c.name) ?? 0) + 1);
      const order = elements.indexOf(es);
      if (spec.ordered && order < lastOrder) {
        bag.error(
          src,
          c.start,
          'policy/element-order',
          `<${c.name}> is out of order inside <${el.name}>`,
          `expected order: ${elements.map((e) => `<${e.name}>`).join(', ')}`,
        );
      }
      lastOrder = Math.max(lastOrder, order);
      if (es.anyContent) continue; // free-form XML read by the policy itself (xsl:stylesheet)
      validateAttributes(c, es.attributes ?? [], bag);
      validateContent(c, owner, { elements: es.elements, policies: es.policies, text: es.text }, bag);
      continue;
    }
    if (spec.policies) {
      if (spec.policies !== true && !spec.policies.includes(c.name)) {
        bag.error(
          src,
          c.start,
          'policy/element-not-allowed',
          `<${c.name}> is not allowed inside <${el.name}>`,
          `allowed: ${spec.policies.map((p) => `<${p}>`).join(', ')}`,
        );
      }
      continue; // nested policies are validated when compiled
    }
    bag.error(
      src,
      c.start,
      'policy/unknown-element',
      `<${c.name}> is not allowed inside <${el.name}>`,
      elements.length ? `allowed: ${elements.map((e) => `<${e.name}>`).join(', ')}` : `<${el.name}> has no child elements`,
    );
  }
  for (const es of elements) {
    const n = counts.get(es.name) ?? 0;
    if (es.min !== undefined && n < es.min) {
      bag.error(
        src,
        el.start,
        'policy/missing-element',
        `<${el.name}> needs ${es.min === 1 ? 'a' : `at least ${es.min}`} <${es.name}> element${es.min === 1 ? '' : 's'}`,
        `found ${n}`,
      );
    }
    if (es.max !== undefined && n > es.max) {
      bag.error(
        src,
        el.start,
        'policy/too-many-elements',
        `<${el.name}> allows at most ${es.max} <${es.name}> element${es.max === 1 ? '' : 's'}`,
        `found ${n}`,
      );
    }
  }
  if (spec.text?.required && !hasText) {
    bag.error(src, el.start, 'policy/missing-text', `<${el.name}> needs a value as its text`);
  }
}

/** Closest known names, for "did you mean" hints. */
export function suggest(name: string, known: Iterable<string>): string[] {
  const scored: Array<[string, number]> = [];
  for (const k of known) {
    const d = editDistance(name, k);
    if (d <= Math.max(2, Math.floor(k.length / 4))) scored.push([k, d]);
  }
  return scored
    .sort((a, b) => a[1] - b[1])
    .slice(0, 3)
    .map(([k]) => k);
}

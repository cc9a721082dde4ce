import { DiagnosticBag } from '../diagnostics/diagnostic.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { SourceText } from '../diagnostics/source.js';
import type { PolicySection } from '../engine/context.js';
import { readPolicyXml } from '../xml/read.js';
import type { XmlElement } from '../xml/types.js';

export const SECTIONS: readonly PolicySection[] = ['inbound', 'backend', 'outbound', 'on-error'];

/**
 * A policy document as the user wrote it: either `<policies>` with its sections, or a `<fragment>`.
 * Sections missing from a `<policies>` document are absent from `sections` (the compiler treats them as `<base/>`).
 */
export interface PolicyDocument {
  kind: 'policies' | 'fragment';
  source: SourceText;
  root: XmlElement;
  sections: Map<PolicySection, XmlElement>;
}

/** Reads a policy document or fragment and checks its outer structure (root, sections). */
export function parsePolicyDocument(source: SourceText): { document: PolicyDocument | null; diagnostics: Diagnostic[] } {
  const read = readPolicyXml(source);
  const bag = new DiagnosticBag();
  for (const d of read.diagnostics) bag.add(d);
  const root = read.root;
  if (!root || bag.hasErrors) return { document: null, diagnostics: bag.items };

  if (root.name === 'fragment') {
    for (const c of root.children) {
      if (c.kind === 'text' && c.text.text.trim()) {
        bag.error(
          source,
          c.text.sourceOffset(0),
          'policy/text-not-allowed',
          'text is not allowed directly inside <fragment>',
          'a fragment holds policy elements only',
        );
      }
    }
    return { document: { kind: 'fragment', source, root, sections: new Map() }, diagnostics: bag.items };
  }
  if (root.name !== 'policies') {
    bag.error(
      source,
      root.start,
      'policy/bad-root',
      `the document element is <${root.name}>`,
      'a policy document starts with <policies> (or <fragment> for a policy fragment)',
    );
    return { document: null, diagnostics: bag.items };
  }
  for (const a of root.attributes) {
    bag.error(source, a.offset, 'policy/unknown-attribute', `<policies> has no attribute "${a.name}"`, '<policies> takes no attributes');
  }
  const sections = new Map<PolicySection, XmlElement>();
  let lastIndex = -1;
  for (const c of root.children) {
    if (c.kind === 'text') {
      if (c.text.text.trim())
        bag.error(
          source,
          c.text.sourceOffset(0),
          'policy/text-not-allowed',
          'text is not allowed directly inside <policies>',
          'allowed: <inbound>, <backend>, <outbound>, <on-error>',
        );
      continue;
    }
    const idx = SECTIONS.indexOf(c.name as PolicySection);
    if (idx < 0) {
      bag.error(
        source,
        c.start,
        'policy/unknown-section',
        `<${c.name}> is not a policy section`,
        'allowed directly inside <policies>: <inbound>, <backend>, <outbound>, <on-error>',
      );
      continue;
    }
    if (sections.has(c.name as PolicySection)) {
      bag.error(source, c.start, 'policy/duplicate-section', `section <${c.name}> appears more than once`, 'each section appears at most once');
      continue;
    }
    if (idx < lastIndex) {
      bag.error(
        source,
        c.start,
        'policy/section-order',
        `section <${c.name}> is out of order`,
        'sections go in the order inbound, backend, outbound, on-error',
      );
    }
    lastIndex = Math.max(lastIndex, idx);
    for (const a of c.attributes) {
      bag.error(source, a.offset, 'policy/unknown-attribute', `<${c.name}> has no attribute "${a.name}"`, 'sections take no attributes');
    }
    sections.set(c.name as PolicySection, c);
  }
  for (const s of SECTIONS) {
    if (!sections.has(s)) {
      bag.warning(
        source,
        root.start,
        'policy/missing-section',
        `section <${s}> is missing; it is treated as <${s}><base /></${s}>`,
        'APIM documents normally carry all four sections',
      );
    }
  }
  return { document: { kind: 'policies', source, root, sections }, diagnostics: bag.items };
}

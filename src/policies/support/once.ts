import type { XmlElement } from '../../engine/policy-sdk.js';

const reported = new WeakMap<XmlElement, Set<string>>();

/**
 * True the first time `what` is asked for an element. A document at API scope is compiled once per operation; a
 * compile-time finding of a policy should still be reported once.
 */
export function firstReport(el: XmlElement, what: string): boolean {
  let s = reported.get(el);
  if (!s) {
    s = new Set();
    reported.set(el, s);
  }
  if (s.has(what)) return false;
  s.add(what);
  return true;
}

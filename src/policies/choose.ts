import type { PolicyDefinition, Step, ValueGetter } from '../engine/policy-sdk.js';
import { childElements } from '../engine/policy-sdk.js';

/** `<choose>`: the first `<when>` whose condition is true runs; else `<otherwise>`; no fall-through. */
export const choose: PolicyDefinition = {
  name: 'choose',
  summary: 'Conditional branches: the first <when condition> that is true runs, else <otherwise>.',
  support: 'full',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: [],
  ordered: true,
  elements: [
    { name: 'when', min: 1, attributes: [{ name: 'condition', required: true, expressions: true, kind: 'bool' }], policies: true },
    { name: 'otherwise', max: 1, policies: true },
  ],
  compile(el, cx) {
    const branches: Array<{ condition: ValueGetter<boolean>; body: Step; label: string }> = [];
    childElements(el, 'when').forEach((w, i) => {
      const label = `${cx.path}/when[${i + 1}]`;
      branches.push({ condition: cx.bool(w, 'condition') ?? (() => false), body: cx.policies(w, `${label}/`), label });
    });
    const other = childElements(el, 'otherwise')[0];
    const otherwise = other ? cx.policies(other, `${cx.path}/otherwise[1]/`) : undefined;
    const otherwiseLabel = `${cx.path}/otherwise[1]`;
    return (ctx) => {
      for (const b of branches) {
        if (b.condition(ctx)) {
          if (ctx.tracing) ctx.trace({ kind: 'branch', policy: 'when', path: b.label, taken: true, message: `condition true: ${b.label}` });
          return b.body(ctx);
        }
      }
      if (ctx.tracing)
        ctx.trace({
          kind: 'branch',
          policy: 'otherwise',
          path: otherwiseLabel,
          taken: otherwise !== undefined,
          message: otherwise ? `no condition true: ${otherwiseLabel}` : 'no condition true, no <otherwise>',
        });
      return otherwise ? otherwise(ctx) : 'continue';
    };
  },
};

import type { PolicyDefinition } from '../engine/policy-sdk.js';
import { PolicyError, childElements } from '../engine/policy-sdk.js';

/**
 * `<set-query-parameter>` on the backend request. Several `<value>`s become repeated parameters (`a=1&a=2`);
 * emulator choice, docs/emulator-choices.md.
 */
export const setQueryParameter: PolicyDefinition = {
  name: 'set-query-parameter',
  summary: 'Adds, replaces, appends or deletes a query parameter of the backend request.',
  support: 'full',
  sections: ['inbound', 'backend'],
  attributes: [
    { name: 'name', required: true, expressions: true },
    { name: 'exists-action', expressions: true, kind: 'enum', values: ['override', 'skip', 'append', 'delete'], default: 'override' },
  ],
  elements: [{ name: 'value', text: { expressions: true } }],
  compile(el, cx) {
    const name = cx.string(el, 'name') ?? (() => '');
    const action = cx.string(el, 'exists-action') ?? (() => 'override');
    const values = childElements(el, 'value').map((v) => cx.text(v) ?? (() => ''));
    const literalAction =
      el.attributes
        .find((a) => a.name === 'exists-action')
        ?.value.text.trim()
        .toLowerCase() ?? 'override';
    if (values.length === 0 && literalAction !== 'delete') {
      cx.diagnostics.error(el.source, el.start, 'policy/missing-element', '<set-query-parameter> needs at least one <value> unless exists-action="delete"');
    }
    return (ctx) => {
      const n = name(ctx);
      const q = ctx.request.url.query;
      const a = action(ctx).toLowerCase();
      if (a === 'delete') q.delete(n);
      else if (a === 'skip') {
        if (!q.has(n))
          q.set(
            n,
            values.map((v) => v(ctx)),
          );
      } else if (a === 'append')
        q.append(
          n,
          values.map((v) => v(ctx)),
        );
      else if (a === 'override')
        q.set(
          n,
          values.map((v) => v(ctx)),
        );
      else
        throw new PolicyError(
          'set-query-parameter',
          'ExpressionValueEvaluationFailure',
          `exists-action evaluated to "${a}"; allowed: override, skip, append, delete`,
        );
      return 'continue';
    };
  },
};

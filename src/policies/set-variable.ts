import type { PolicyDefinition } from '../engine/policy-sdk.js';

/** `<set-variable name value>`: a literal value is stored as a string; an expression keeps its type (docs/apim-behaviour.md: Headers, variables and URLs). */
export const setVariable: PolicyDefinition = {
  name: 'set-variable',
  summary: 'Stores a value in context.Variables (literals as strings, expressions keep their type).',
  support: 'full',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: [
    { name: 'name', required: true, expressions: false },
    { name: 'value', required: true, expressions: true },
  ],
  compile(el, cx) {
    const name = el.attributes.find((a) => a.name === 'name')?.value.text ?? '';
    const value = cx.value(el, 'value') ?? (() => '');
    return (ctx) => {
      const v = value(ctx);
      ctx.variables.set(name, v);
      if (ctx.tracing) {
        const shown = preview(v);
        ctx.trace({ kind: 'expression', policy: 'set-variable', name, value: shown, message: `${name} = ${shown}` });
      }
      return 'continue';
    };
  },
};

function preview(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

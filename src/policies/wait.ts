import type { Flow, PolicyDefinition, XmlElement } from '../engine/policy-sdk.js';

/** `<wait for="all|any">`: runs its children (send-request, cache-lookup-value, choose) concurrently. */
export const wait: PolicyDefinition = {
  name: 'wait',
  summary: 'Runs send-request / cache-lookup-value / choose children in parallel; waits for all or any.',
  support: 'full',
  sections: ['inbound', 'backend', 'outbound'],
  attributes: [{ name: 'for', expressions: false, kind: 'enum', values: ['all', 'any'], default: 'all' }],
  policies: ['send-request', 'cache-lookup-value', 'choose'],
  compile(el, cx) {
    const any =
      el.attributes
        .find((a) => a.name === 'for')
        ?.value.text.trim()
        .toLowerCase() === 'any';
    const children = el.children.filter((c): c is XmlElement => c.kind === 'element');
    const steps = children.map((c) => cx.policy(c, `${cx.path}/`));
    return async (ctx) => {
      const runs = steps.map((s) => Promise.resolve().then((): Flow | Promise<Flow> => s(ctx)));
      const flows = any ? [await Promise.race(runs)] : await Promise.all(runs);
      return flows.find((f) => f !== 'continue') ?? 'continue';
    };
  },
};

import type { PolicyDefinition } from '../engine/policy-sdk.js';
import { PolicyError, childElements, gatewayErrorResponse } from '../engine/policy-sdk.js';
import { classifierFromSettings, CONTENT_SAFETY_SETTING, HARM_CATEGORIES, requestText, toOutputType } from './support/content-safety.js';
import type { HarmCategory } from './support/content-safety.js';
import { firstReport } from './support/once.js';

/** Status and text of a blocked request: 403 is documented, the body text is SILENT (emulator choice). */
export const CONTENT_SAFETY_BLOCKED_MESSAGE = 'Request failed content safety check.';

/**
 * `<llm-content-safety backend-id shield-prompt>` with `<categories output-type><category name threshold/>*</categories>`
 * and `<blocklists><id/>*</blocklists>` (APIM: prompts are sent to Azure AI Content Safety and a detection blocks the
 * request with 403). Offline, the request text (all message contents / prompt / input) goes to the local classifier of
 * the `contentSafety` setting (support/content-safety.ts); without one the policy passes every request through and
 * the trace says so. A category blocks when its severity (in the output-type's levels) is above 0 and at least its
 * threshold; a hit in a listed blocklist blocks; with shield-prompt="true" a detected prompt attack blocks.
 * Re-audited against learn.microsoft.com/azure/api-management/llm-content-safety-policy (read 2026-12-02):
 * backend-id, shield-prompt; categories output-type, category name/threshold 0-7; blocklists id.
 */
export const llmContentSafety: PolicyDefinition = {
  name: 'llm-content-safety',
  summary: 'Blocks prompts flagged by a local content-safety classifier (403); pass-through when none is configured.',
  support: 'approximate',
  settings: [CONTENT_SAFETY_SETTING],
  sections: ['inbound'],
  attributes: [
    { name: 'backend-id', required: true, expressions: true },
    { name: 'shield-prompt', expressions: true, kind: 'bool', default: 'false' },
  ],
  elements: [
    {
      name: 'categories',
      max: 1,
      attributes: [
        { name: 'output-type', expressions: true, kind: 'enum', values: ['FourSeverityLevels', 'EightSeverityLevels'], default: 'FourSeverityLevels' },
      ],
      elements: [
        {
          name: 'category',
          attributes: [
            { name: 'name', required: true, expressions: true, kind: 'enum', values: HARM_CATEGORIES },
            { name: 'threshold', required: true, expressions: true, kind: 'int', min: 0, max: 7 },
          ],
        },
      ],
    },
    { name: 'blocklists', max: 1, elements: [{ name: 'id', text: { expressions: true, required: true } }] },
  ],
  compile(el, cx) {
    const backendSpan = cx.attributeSpan(el, 'backend-id');
    const backendId = backendSpan?.text.trim() ?? '';
    const registry = cx.services.backends;
    if (registry && backendId && !backendId.startsWith('@') && !registry.has(backendId) && firstReport(el, 'backend')) {
      cx.diagnostics.warning(
        el.source,
        cx.offsetOf(el, 'backend-id'),
        'policy/unknown-backend',
        `content safety backend "${backendId}" is not defined (the emulator never calls it: a local classifier decides)`,
        `defined backends: ${registry.ids().join(', ') || '(none)'}`,
      );
    }
    const found = classifierFromSettings(cx.services);
    if ('errors' in found) {
      if (firstReport(el, 'settings'))
        for (const e of found.errors)
          cx.diagnostics.error(el.source, el.start, 'policy/bad-setting', e, 'see docs/policies-ai-caching.md (llm-content-safety)');
    }
    const classifier = 'classifier' in found ? found.classifier : null;
    const shieldPrompt = cx.bool(el, 'shield-prompt') ?? (() => false);
    const categoriesEl = childElements(el, 'categories')[0];
    const outputType = categoriesEl ? (cx.string(categoriesEl, 'output-type') ?? (() => 'FourSeverityLevels')) : () => 'FourSeverityLevels';
    const categories = categoriesEl
      ? childElements(categoriesEl, 'category').map((c) => ({ name: cx.string(c, 'name') ?? (() => ''), threshold: cx.int(c, 'threshold') ?? (() => 0) }))
      : [];
    const blocklistsEl = childElements(el, 'blocklists')[0];
    const blocklists = blocklistsEl ? childElements(blocklistsEl, 'id').map((i) => cx.text(i) ?? (() => '')) : [];
    cx.needsBody('request');

    return (ctx) => {
      if (!classifier) {
        if (ctx.tracing)
          ctx.trace({
            kind: 'info',
            policy: 'llm-content-safety',
            message: 'no content-safety classifier configured (setting "contentSafety"): request passed through unchecked',
          });
        return 'continue';
      }
      const raw = ctx.request.body?.peek();
      let body: unknown = undefined;
      if (raw && raw.length > 0) {
        const s = raw.toString('utf8');
        try {
          body = JSON.parse(s);
        } catch {
          body = s;
        }
      }
      const text = requestText(body);
      const ids = blocklists.map((b) => b(ctx).trim()).filter((b) => b !== '');
      const analysis = classifier(text, ids);
      const type = outputType(ctx);
      const reasons: string[] = [];
      const severities: Record<string, number> = {};
      for (const c of categories) {
        const name = c.name(ctx);
        const cat = HARM_CATEGORIES.find((h) => h.toLowerCase() === name.trim().toLowerCase());
        if (!cat)
          throw new PolicyError('llm-content-safety', 'ExpressionValueEvaluationFailure', `Category "${name}" is not one of ${HARM_CATEGORIES.join(', ')}.`);
        const severity = toOutputType(analysis.categories[cat as HarmCategory] ?? 0, type);
        severities[cat] = severity;
        const threshold = c.threshold(ctx);
        if (severity > 0 && severity >= threshold) reasons.push(`${cat} severity ${severity} >= threshold ${threshold}`);
      }
      for (const id of analysis.blocklistHits) if (ids.includes(id)) reasons.push(`blocklist "${id}" matched`);
      if (shieldPrompt(ctx) && analysis.attackDetected) reasons.push('user prompt attack detected');
      if (reasons.length === 0) {
        if (ctx.tracing) ctx.trace({ kind: 'info', policy: 'llm-content-safety', message: 'content safety check passed', data: { severities } });
        return 'continue';
      }
      if (ctx.tracing)
        ctx.trace({ kind: 'info', policy: 'llm-content-safety', message: `request blocked: ${reasons.join('; ')}`, data: { severities, reasons } });
      throw new PolicyError(
        'llm-content-safety',
        'ContentSafetyCheckFailed',
        `${CONTENT_SAFETY_BLOCKED_MESSAGE} ${reasons.join('; ')}.`,
        gatewayErrorResponse(403, CONTENT_SAFETY_BLOCKED_MESSAGE),
      );
    };
  },
};

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiagnosticBag } from '../../src/diagnostics/diagnostic.js';
import { SourceText, type TextSpan } from '../../src/diagnostics/source.js';
import { HeaderMap } from '../../src/engine/headers.js';
import { VirtualClock } from '../../src/clock.js';
import { compileExpression, isExpression, toPolicyBoolean, toPolicyString, type CompiledExpression } from '../../src/expressions/index.js';
import { readPolicyXml } from '../../src/xml/read.js';
import type { XmlElement } from '../../src/xml/types.js';
import { makeContext } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const corpus = path.resolve(here, '../../../shared/corpus/ai-gateway');
const present = existsSync(corpus);
if (!present) console.warn(`corpus absent at ${corpus}: skipping the corpus flow tests`);

interface Found {
  element: string;
  attribute: string;
  name: string | undefined;
  expr: CompiledExpression;
}

/** Every expression of a corpus file, in document order, with the element/attribute it sits in. */
function load(file: string, namedValues: Record<string, string>): Found[] {
  let text = readFileSync(path.join(corpus, file), 'utf8');
  text = text
    .replace(/\{\{([^{}]+)\}\}/g, (_m, n: string) => namedValues[n] ?? 'nv-value')
    .split('{backend-id}')
    .join('pool');
  const read = readPolicyXml(new SourceText(file, text));
  const out: Found[] = [];
  const visit = (el: XmlElement): void => {
    const name = el.attributes.find((a) => a.name === 'name')?.value.text;
    for (const a of el.attributes) if (isExpression(a.value.text)) out.push({ element: el.name, attribute: a.name, name, expr: compileOk(a.value) });
    for (const c of el.children) {
      if (c.kind === 'element') visit(c);
      else if (isExpression(c.text.text)) out.push({ element: el.name, attribute: '#text', name, expr: compileOk(c.text) });
    }
  };
  visit(read.root!);
  return out;
}
function compileOk(span: TextSpan): CompiledExpression {
  const lead = span.text.length - span.text.trimStart().length;
  const bag = new DiagnosticBag();
  const e = compileExpression(span.slice(lead, lead + span.text.trim().length), bag);
  expect(bag.items).toEqual([]);
  return e!;
}

describe.skipIf(!present)('corpus flows evaluate as APIM would', () => {
  it('_deprecated advanced load balancing: backend list, selection, throttling, remaining count', () => {
    const found = load('_deprecated__advanced-load-balancing__policy.xml', {});
    const vars = found.filter((f) => f.element === 'set-variable');
    const byName = (n: string) => vars.filter((v) => v.name === n);
    const clock = new VirtualClock(Date.UTC(2025, 5, 1, 12));
    const ctx = makeContext({ clock });
    const initCondition = found.find((f) => f.attribute === 'condition')!;
    expect(toPolicyBoolean(initCondition.expr.evaluate(ctx))).toBe(true);

    // The named value is a JSON-ish list with single quotes (Newtonsoft accepts them).
    ctx.variables.set(
      'loadBalancerConfig',
      "[{'name': 'openai1', 'priority': 1, 'weight': 100}, {'name': 'openai2', 'priority': 2, 'weight': 300}, {'name': 'openai3', 'priority': 2, 'weight': 300}]",
    );
    const [build, refresh, refreshAfterError] = byName('listBackends');
    ctx.variables.set('listBackends', build!.expr.evaluate(ctx));
    expect(build!.expr.resultType).toBe('JArray');
    expect(toPolicyBoolean(initCondition.expr.evaluate(ctx))).toBe(false);

    ctx.variables.set('listBackends', refresh!.expr.evaluate(ctx));
    const select = byName('backendIndex')[0]!;
    ctx.variables.set('backendIndex', select.expr.evaluate(ctx));
    expect(ctx.variables.get('backendIndex')).toBe(0); // the only priority-1 backend

    const backendId = found.find((f) => f.element === 'set-backend-service')!;
    expect(toPolicyString(backendId.expr.evaluate(ctx))).toBe('openai1');

    // The backend answers 429 with Retry-After: 30 → it is marked throttling until now + 30 s.
    ctx.response = { statusCode: 429, statusReason: 'Too Many Requests', headers: new HeaderMap([['Retry-After', '30']]), body: null };
    const retryCondition = found.find((f) => f.element === 'retry')!;
    ctx.variables.set('remainingBackends', '1');
    expect(toPolicyBoolean(retryCondition.expr.evaluate(ctx))).toBe(true);
    ctx.variables.set('listBackends', refreshAfterError!.expr.evaluate(ctx));
    const remaining = byName('remainingBackends')[0]!;
    ctx.variables.set('remainingBackends', remaining.expr.evaluate(ctx));
    expect(ctx.variables.get('remainingBackends')).toBe(2);

    // Next attempt: priority 2 backends only (index 1 or 2, chosen at random).
    ctx.variables.set('listBackends', refresh!.expr.evaluate(ctx));
    const idx = select.expr.evaluate(ctx) as number;
    expect([1, 2]).toContain(idx);

    // After Retry-After passes on the injected clock, the refresh block clears throttling.
    clock.advance(31_000);
    ctx.variables.set('listBackends', refresh!.expr.evaluate(ctx));
    expect(select.expr.evaluate(ctx)).toBe(0);
    expect(toPolicyString(ctx.variables.get('listBackends'))).toContain('"isThrottling": false');
  });

  it('content safety: request body to prompt shield request, response analysis, filtered error JSON', () => {
    const file = '_deprecated__content-filtering__content-filtering-policy.xml';
    if (!existsSync(path.join(corpus, file))) return;
    const found = load(file, {});
    const ctx = makeContext({ body: '{"messages":[{"role":"user","content":"hate speech"},{"role":"user","content":" more"}]}' });
    const bodyExpr = found.find(
      (f) => f.element === 'set-body' && toPolicyString(f.expr.evaluate(makeContext({ body: '{"messages":[]}' }))).includes('categories'),
    );
    expect(bodyExpr).toBeDefined();
    const payload = JSON.parse(toPolicyString(bodyExpr!.expr.evaluate(ctx))) as { text: string; categories: string[] };
    expect(payload.text).toBe('hate speech more');
    expect(payload.categories).toEqual(['Hate', 'Sexual', 'SelfHarm', 'Violence']);
  });
});

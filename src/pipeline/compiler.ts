import { BodyConsumedError } from '../engine/body.js';
import type { DiagnosticBag } from '../diagnostics/diagnostic.js';
import { TextSpan } from '../diagnostics/source.js';
import type { GatewayContext, PolicyScope, PolicySection } from '../engine/context.js';
import type { RuntimeServices } from '../engine/services.js';
import { compileExpression, ExpressionEvaluationError, isExpression, toPolicyBoolean, toPolicyNumber, toPolicyString } from '../expressions/index.js';
import type {
  AttributeSpec,
  CompileApi,
  CompileContext,
  ElementSpec,
  Flow,
  PolicyCatalog,
  PolicyDefinition,
  SettingResult,
  SettingSpec,
  SourceLocation,
  Step,
  ValueGetter,
} from '../engine/policy-sdk.js';
import { gatewayErrorResponse, PolicyError } from '../engine/policy-sdk.js';
import type { XmlElement } from '../xml/types.js';
import type { PolicyDocument } from './document.js';
import { substituteNamedValues } from './named-values.js';
import type { NamedValueAssumption } from './named-values.js';
import { checkLiteral, suggest, validatePolicyElement } from './validate.js';

/** Scopes from narrowest to broadest: `<base/>` resolution walks this list outward (docs/policies.md, scopes and `<base/>`). */
export const SCOPES_NARROW_FIRST: readonly PolicyScope[] = ['operation', 'api', 'product', 'global'];

export type ScopeDocuments = Partial<Record<PolicyScope, PolicyDocument | null>>;

export interface SectionBodyNeeds {
  request: boolean;
  response: boolean;
}

/** The executable result: one step per section, plus which bodies must be buffered before each section. */
export interface CompiledPipeline {
  readonly sections: Readonly<Record<PolicySection, Step>>;
  readonly needsBody: Readonly<Record<PolicySection, SectionBodyNeeds>>;
}

interface StepMeta {
  policy: string;
  path: string;
  scope: PolicyScope;
  section: PolicySection;
  policyId: string;
  /** Where the statement is written, for the trace. */
  source: SourceLocation;
}

const CONTINUE: Step = () => 'continue';

/**
 * Compiled sections by the chain they come from, shared by the compilers of one gateway. Every operation of an API
 * (and every product context of it) has the same global + product + API chain above its own policy; compiling that
 * chain once per operation made a 1,000-API x 10-operation configuration compile each API policy 10-30 times
 * (docs/performance.md, large configurations). A cached step is the same closure the compiler would build again:
 * state that policies share lives in the gateway's services under position-based keys (policyKey), not in the
 * closure, so sharing it changes nothing a request can see.
 */
export class SectionCache {
  private readonly entries = new Map<string, { step: Step; needs: SectionBodyNeeds }>();
  private readonly ids = new WeakMap<object, number>();
  private nextId = 1;

  /** Identity of a document or API (0 for none): the key names the very objects the chain is made of. */
  idOf(o: object | null | undefined): number {
    if (!o) return 0;
    let id = this.ids.get(o);
    if (id === undefined) this.ids.set(o, (id = this.nextId++));
    return id;
  }

  get(key: string): { step: Step; needs: SectionBodyNeeds } | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: { step: Step; needs: SectionBodyNeeds }): void {
    this.entries.set(key, value);
  }
}

/**
 * Compiles policy documents into closures once, at load time. One compiler serves a whole gateway so that
 * diagnostics are reported once per element and shared state (policyKey) is stable across operations.
 */
export class PolicyCompiler {
  private readonly reportedNamedValues = new Set<string>();
  private readonly validated = new Set<string>();

  constructor(
    readonly catalog: PolicyCatalog,
    readonly services: RuntimeServices,
    readonly fragments: ReadonlyMap<string, PolicyDocument>,
    readonly diagnostics: DiagnosticBag,
    private readonly sections: SectionCache = new SectionCache(),
  ) {}

  /** Compiles the chain of documents for one operation; missing scopes and sections behave as `<base/>`. */
  compilePipeline(docs: ScopeDocuments, api?: CompileApi): CompiledPipeline {
    const sections = {} as Record<PolicySection, Step>;
    const needsBody = {} as Record<PolicySection, SectionBodyNeeds>;
    for (const section of ['inbound', 'backend', 'outbound', 'on-error'] as const) {
      const needs: SectionBodyNeeds = { request: false, response: false };
      sections[section] = this.compileSection(docs, section, 0, needs, api);
      needsBody[section] = needs;
    }
    return { sections, needsBody };
  }

  /** Validates (and compiles) a fragment on its own, for `validate`: section rules are not applied. */
  checkFragment(doc: PolicyDocument, scope: PolicyScope = 'api'): void {
    const needs: SectionBodyNeeds = { request: false, response: false };
    this.compileStatements(doc.root.children, { scope, section: 'inbound', checkSection: false, pathPrefix: '', needs, inFragment: true });
  }

  /** The section as compiled from the scope at `fromIndex` outward, compiled once per distinct chain (SectionCache). */
  private compileSection(docs: ScopeDocuments, section: PolicySection, fromIndex: number, needs: SectionBodyNeeds, api: CompileApi | undefined): Step {
    // Scopes without a document add nothing: skipping them first lets `{operation: none, api, …}` share `{api, …}`.
    while (fromIndex < SCOPES_NARROW_FIRST.length && !docs[SCOPES_NARROW_FIRST[fromIndex]!]) fromIndex++;
    let key = `${section}|${this.sections.idOf(api)}`;
    for (let i = fromIndex; i < SCOPES_NARROW_FIRST.length; i++) key += `|${this.sections.idOf(docs[SCOPES_NARROW_FIRST[i]!])}`;
    let compiled = this.sections.get(key);
    if (!compiled) {
      const own: SectionBodyNeeds = { request: false, response: false };
      compiled = { step: this.compileChain(docs, section, fromIndex, own, api), needs: own };
      this.sections.set(key, compiled);
    }
    // The bodies the shared chain buffers are needed by every pipeline that uses it.
    if (compiled.needs.request) needs.request = true;
    if (compiled.needs.response) needs.response = true;
    return compiled.step;
  }

  private compileChain(docs: ScopeDocuments, section: PolicySection, fromIndex: number, needs: SectionBodyNeeds, api: CompileApi | undefined): Step {
    for (let i = fromIndex; i < SCOPES_NARROW_FIRST.length; i++) {
      const scope = SCOPES_NARROW_FIRST[i]!;
      const doc = docs[scope];
      if (!doc) continue;
      const el = doc.sections.get(section);
      // A missing section behaves like <section><base/></section>.
      if (!el) return this.compileSection(docs, section, i + 1, needs, api);
      return this.compileStatements(el.children, {
        scope,
        section,
        checkSection: true,
        pathPrefix: '',
        needs,
        inFragment: false,
        api,
        base: () => (scope === 'global' ? CONTINUE : this.compileSection(docs, section, i + 1, needs, api)),
      });
    }
    return CONTINUE;
  }

  private compileStatements(children: XmlElement['children'], o: StatementOptions): Step {
    const steps: Step[] = [];
    const metas: StepMeta[] = [];
    const seen = new Map<string, number>();
    let baseSeen = false;
    for (const child of children) {
      if (child.kind === 'text') {
        if (child.text.text.trim()) {
          this.diagnostics.error(
            child.text.source,
            child.text.sourceOffset(0),
            'policy/text-not-allowed',
            'text is not allowed between policy statements',
            'write policy elements here',
          );
        }
        continue;
      }
      const n = (seen.get(child.name) ?? 0) + 1;
      seen.set(child.name, n);
      const path = `${o.pathPrefix}${child.name}[${n}]`;
      if (child.name === 'base') {
        const once = this.once(child);
        if (o.inFragment) {
          if (once)
            this.diagnostics.error(
              child.source,
              child.start,
              'policy/base-in-fragment',
              '<base /> is not allowed in a policy fragment',
              'fragments are inserted as-is; put <base /> in the including section',
            );
          continue;
        }
        if (!o.base || o.pathPrefix !== '') {
          if (once)
            this.diagnostics.error(
              child.source,
              child.start,
              'policy/misplaced-base',
              '<base /> must be a direct child of a section',
              'move it to <inbound>, <backend>, <outbound> or <on-error>',
            );
          continue;
        }
        if (baseSeen) {
          if (once)
            this.diagnostics.error(
              child.source,
              child.start,
              'policy/duplicate-base',
              '<base /> appears more than once in this section',
              'use <base /> at most once per section',
            );
          continue;
        }
        baseSeen = true;
        if (once && (child.attributes.length || child.children.some((c) => c.kind === 'element' || c.text.text.trim()))) {
          this.diagnostics.error(child.source, child.start, 'policy/bad-base', '<base /> takes no attributes or content');
        }
        steps.push(o.base());
        metas.push(stepMeta('base', path, o, child));
        continue;
      }
      if (child.name === 'include-fragment') {
        steps.push(this.compileInclude(child, o, path));
        metas.push(stepMeta('include-fragment', path, o, child));
        continue;
      }
      const step = this.compilePolicyElement(child, o, path);
      if (!step) continue;
      steps.push(step);
      metas.push(stepMeta(child.name, path, o, child));
    }
    return sequence(steps, metas);
  }

  private compileInclude(el: XmlElement, o: StatementOptions, path: string): Step {
    const once = this.once(el);
    if (once) validatePolicyElement(el, INCLUDE_FRAGMENT, { scope: o.scope, section: o.checkSection ? o.section : undefined }, this.diagnostics);
    if (o.inFragment) {
      if (once)
        this.diagnostics.error(
          el.source,
          el.start,
          'policy/nested-fragment',
          'a policy fragment cannot include another fragment',
          "inline the inner fragment's policies instead",
        );
      return CONTINUE;
    }
    const id = el.attributes.find((a) => a.name === 'fragment-id')?.value.text.trim();
    if (!id) return CONTINUE;
    const frag = this.fragments.get(id);
    if (!frag) {
      if (once) {
        const known = [...this.fragments.keys()];
        // No fragments given at all (a policy validated on its own): a warning, as for named values. Fragments given
        // but not this one: an error, as APIM refuses a policy that includes a fragment that does not exist.
        if (known.length)
          this.diagnostics.error(el.source, el.start, 'policy/unknown-fragment', `fragment "${id}" is not loaded`, `loaded fragments: ${known.join(', ')}`);
        else
          this.diagnostics.warning(
            el.source,
            el.start,
            'policy/unknown-fragment',
            `fragment "${id}" not given: no fragments were given, so its policies are not checked`,
            'give fragments with --fragment, as <id>.xml next to the policy, or in an APIOps "policy fragments/<id>/policy.xml"',
          );
      }
      // Not loaded: in serve this fails the load (an error above, or the gateway reports the missing fragment); in
      // validate the include is skipped after the warning.
      return CONTINUE;
    }
    return this.compileStatements(frag.root.children, { ...o, inFragment: true, pathPrefix: `${path}/`, base: undefined });
  }

  private compilePolicyElement(el: XmlElement, o: StatementOptions, path: string, allowed?: true | readonly string[]): Step | null {
    const def = this.catalog.get(el.name);
    const once = this.once(el);
    if (!def) {
      if (once) {
        const near = suggest(el.name, this.catalog.names());
        this.diagnostics.error(
          el.source,
          el.start,
          'policy/unknown-element',
          `<${el.name}> is not an APIM policy`,
          near.length ? `did you mean ${near.map((n) => `<${n}>`).join(' or ')}?` : 'see docs/policies.md for the policies apim-emulator knows',
        );
      }
      return null;
    }
    if (allowed && allowed !== true && !allowed.includes(el.name)) return null; // reported by the parent's validation
    if (def.support === 'unsupported' || !def.compile) {
      if (once) this.diagnostics.error(el.source, el.start, 'policy/unsupported', `<${el.name}> is not supported by apim-emulator yet`, def.summary);
      return null;
    }
    if (once) validatePolicyElement(el, def, { scope: o.scope, section: o.checkSection ? o.section : undefined }, this.diagnostics);
    const cx = new ElementCompileContext(this, el, def, o, path);
    try {
      return def.compile(el, cx);
    } catch (e) {
      // A compile() that trips over input validation already reported is not worth a crash; anything else is a bug.
      if (this.diagnostics.hasErrors) return null;
      throw e;
    }
  }

  /** Used by ElementCompileContext for nested statements. */
  compileNested(children: XmlElement['children'], o: StatementOptions, pathPrefix: string, allowed?: true | readonly string[]): Step {
    if (allowed && allowed !== true) {
      const steps: Step[] = [];
      const metas: StepMeta[] = [];
      const seen = new Map<string, number>();
      for (const c of children) {
        if (c.kind !== 'element') continue;
        const n = (seen.get(c.name) ?? 0) + 1;
        seen.set(c.name, n);
        const path = `${pathPrefix}${c.name}[${n}]`;
        const s = this.compilePolicyElement(c, { ...o, pathPrefix }, path, allowed);
        if (s) {
          steps.push(s);
          metas.push(stepMeta(c.name, path, o, c));
        }
      }
      return sequence(steps, metas);
    }
    return this.compileStatements(children, { ...o, pathPrefix, base: undefined });
  }

  compileSingle(el: XmlElement, o: StatementOptions, pathPrefix: string): Step {
    const path = `${pathPrefix}${el.name}[1]`;
    const s = this.compilePolicyElement(el, { ...o, pathPrefix }, path);
    return s ? sequence([s], [stepMeta(el.name, path, o, el)]) : CONTINUE;
  }

  substitute(span: TextSpan, assumed?: NamedValueAssumption): TextSpan {
    // In a C# expression an unknown named value stands for a number literal, so the code around it still compiles.
    const a = assumed ?? (isExpression(span.text.trim()) ? { as: 'a number inside the C# expression', text: '0' } : undefined);
    return substituteNamedValues(span, this.services.namedValues, this.diagnostics, this.reportedNamedValues, a);
  }

  /** True the first time an element is seen: an API document is compiled once per operation, reported once. */
  private once(el: XmlElement): boolean {
    const key = `${el.source.file}:${el.start}`;
    if (this.validated.has(key)) return false;
    this.validated.add(key);
    return true;
  }

  firstTime(el: XmlElement, what: string): boolean {
    const key = `${el.source.file}:${el.start}:${what}`;
    if (this.validated.has(key)) return false;
    this.validated.add(key);
    return true;
  }
}

/**
 * The documents of one operation reduced to the inbound statements of the named policies (direct children of
 * `<inbound>`, with `<base/>` kept so broader scopes still contribute), other sections empty: the pipeline run for a
 * request a policy answers on its own before operation matching (PolicyDefinition.preflight, e.g. a CORS preflight).
 */
export function preflightDocuments(docs: ScopeDocuments, policyNames: ReadonlySet<string>): ScopeDocuments {
  const out: ScopeDocuments = {};
  for (const scope of SCOPES_NARROW_FIRST) {
    const doc = docs[scope];
    if (!doc) {
      if (scope in docs) out[scope] = doc ?? null;
      continue;
    }
    const sections = new Map<PolicySection, XmlElement>();
    for (const [name, el] of doc.sections) {
      const keep = name === 'inbound' ? el.children.filter((c) => c.kind === 'element' && (policyNames.has(c.name) || c.name === 'base')) : [];
      sections.set(name, { ...el, children: keep });
    }
    for (const name of ['backend', 'outbound', 'on-error'] as const) {
      if (!sections.has(name))
        sections.set(name, { kind: 'element', name, attributes: [], children: [], start: doc.root.start, end: doc.root.start, source: doc.source });
    }
    out[scope] = { ...doc, sections };
  }
  return out;
}

/** Whether any document of the chain has one of the named policies directly in `<inbound>`. */
export function hasInboundPolicy(docs: ScopeDocuments, policyNames: ReadonlySet<string>): boolean {
  return SCOPES_NARROW_FIRST.some((s) => docs[s]?.sections.get('inbound')?.children.some((c) => c.kind === 'element' && policyNames.has(c.name)) ?? false);
}

interface StatementOptions {
  scope: PolicyScope;
  section: PolicySection;
  checkSection: boolean;
  pathPrefix: string;
  needs: SectionBodyNeeds;
  inFragment: boolean;
  base?: (() => Step) | undefined;
  /** The API being compiled (validate-content & co. read its specification). */
  api?: CompileApi | undefined;
}

const INCLUDE_FRAGMENT: PolicyDefinition = {
  name: 'include-fragment',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: [{ name: 'fragment-id', required: true, expressions: false }],
  summary: 'Inserts a policy fragment as-is (resolved at load time).',
  support: 'full',
};

function stepMeta(policy: string, path: string, o: StatementOptions, el: XmlElement): StepMeta {
  const { line, column } = el.source.positionAt(el.start);
  return { policy, path, scope: o.scope, section: o.section, policyId: policy === 'base' ? '' : idOf(el), source: { file: el.source.file, line, column } };
}

function idOf(el: XmlElement): string {
  return el.attributes.find((a) => a.name === 'id')?.value.text ?? '';
}

/**
 * Runs statements in order. Synchronous steps stay synchronous; the first promise switches to async for the rest.
 * Errors are located once, by the innermost statement that failed (Scope, Section, Path, PolicyId).
 */
function sequence(steps: Step[], metas: StepMeta[]): Step {
  if (steps.length === 0) return CONTINUE;
  const n = steps.length;
  const runFrom = (ctx: GatewayContext, start: number): Flow | Promise<Flow> => {
    for (let i = start; i < n; i++) {
      let r: Flow | Promise<Flow>;
      if (ctx.tracing) {
        const m = metas[i]!;
        if (m.policy !== 'base')
          ctx.trace({
            kind: 'policy',
            policy: m.policy,
            path: m.path,
            scope: m.scope,
            section: m.section,
            policyId: m.policyId,
            source: m.source,
            message: `${m.scope} ${m.section} ${m.path}`,
          });
      }
      try {
        r = steps[i]!(ctx);
      } catch (e) {
        throw locate(e, metas[i]!);
      }
      if (r === 'continue') continue;
      if (typeof r === 'string') return r; // stop or skip-backend ends the statement list
      const next = i + 1;
      const meta = metas[i]!;
      return r.then(
        (f) => (f === 'continue' ? runFrom(ctx, next) : f),
        (e: unknown) => {
          throw locate(e, meta);
        },
      );
    }
    return 'continue';
  };
  if (n === 1) {
    const only = steps[0]!;
    const meta = metas[0]!;
    if (meta.policy === 'base') return only;
  }
  return (ctx) => runFrom(ctx, 0);
}

/** Turns whatever a statement threw into a located PolicyError (APIM's LastError vocabulary). */
export function locate(e: unknown, meta: StepMeta): PolicyError {
  let pe: PolicyError;
  if (e instanceof PolicyError) pe = e;
  else if (e instanceof ExpressionEvaluationError || e instanceof BodyConsumedError) {
    pe = new PolicyError(meta.policy, 'ExpressionValueEvaluationFailure', e.message, gatewayErrorResponse(500, 'Internal server error'));
  } else {
    const msg = e instanceof Error ? e.message : String(e);
    pe = new PolicyError(
      meta.policy,
      'InternalError',
      `apim-emulator internal error in <${meta.policy}>: ${msg}`,
      gatewayErrorResponse(500, 'Internal server error'),
    );
    if (e instanceof Error && e.stack) pe.stack = e.stack;
  }
  if (!pe.located) {
    pe.located = true;
    pe.scope = meta.scope;
    pe.section = meta.section;
    pe.path = meta.path;
    pe.policyId = meta.policyId;
  }
  return pe;
}

/** The CompileContext handed to one policy's compile(). */
class ElementCompileContext implements CompileContext {
  readonly scope: PolicyScope;
  readonly section: PolicySection;
  readonly diagnostics: DiagnosticBag;
  readonly services: RuntimeServices;
  readonly policyKey: string;
  readonly api: CompileApi | undefined;

  constructor(
    private readonly compiler: PolicyCompiler,
    private readonly element: XmlElement,
    private readonly def: PolicyDefinition,
    private readonly o: StatementOptions,
    readonly path: string,
  ) {
    this.scope = o.scope;
    this.section = o.section;
    this.diagnostics = compiler.diagnostics;
    this.services = compiler.services;
    this.policyKey = `${def.name}@${element.source.file}:${element.start}`;
    this.api = o.api;
  }

  attributeSpan(el: XmlElement, name: string): TextSpan | undefined {
    const a = el.attributes.find((x) => x.name === name);
    return a ? this.compiler.substitute(a.value, isExpression(a.value.text.trim()) ? undefined : assumption(this.spec(el, name))) : undefined;
  }

  private spec(el: XmlElement, name: string): AttributeSpec | undefined {
    if (el === this.element) return this.def.attributes.find((a) => a.name === name);
    const find = (specs: readonly ElementSpec[] | undefined): AttributeSpec | undefined => {
      for (const s of specs ?? []) {
        if (s.name === el.name) {
          const a = s.attributes?.find((x) => x.name === name);
          if (a) return a;
        }
        const inner = find(s.elements);
        if (inner) return inner;
      }
      return undefined;
    };
    return find(this.def.elements);
  }

  /** Attribute text (with default), compiled: an expression closure or a literal. */
  private compileAttr(el: XmlElement, name: string): { expr: ValueGetter<unknown> } | { literal: string; offset: number } | undefined {
    const span = this.attributeSpan(el, name);
    if (!span) {
      const def = this.spec(el, name)?.default;
      return def === undefined ? undefined : { literal: def, offset: el.start };
    }
    const compiled = this.compileSpan(span);
    if (compiled) return { expr: compiled };
    const attr = el.attributes.find((x) => x.name === name)!;
    const spec = this.spec(el, name);
    // Values that came from a named value are checked now that their text is known.
    // ...unless a named value was not given at all (then it was reported as a warning, with the type assumed).
    if (spec && attr.value.text.includes('{{') && !span.text.includes('{{') && this.compiler.firstTime(el, `literal:${name}`))
      checkLiteral(el, spec, span.text, attr.offset, this.diagnostics);
    return { literal: span.text, offset: attr.offset };
  }

  /** Compiles a span when it is an expression; undefined for a literal. */
  private compileSpan(span: TextSpan): ValueGetter<unknown> | undefined {
    const text = span.text;
    const lead = text.length - text.trimStart().length;
    const trimmed = text.trim();
    if (!isExpression(trimmed)) return undefined;
    if (/\bBody\b|AsFormUrlEncodedContent/.test(trimmed)) {
      this.o.needs.request = true;
      this.o.needs.response = true;
    }
    const expr = compileExpression(span.slice(lead, lead + trimmed.length), this.diagnostics);
    if (!expr)
      return () => {
        throw new UncompiledExpressionError();
      };
    return (ctx) => expr.evaluate(ctx);
  }

  string(el: XmlElement, name: string): ValueGetter<string> | undefined {
    const c = this.compileAttr(el, name);
    if (!c) return undefined;
    if ('literal' in c) {
      const v = c.literal;
      return () => v;
    }
    const f = c.expr;
    return (ctx) => toPolicyString(f(ctx));
  }

  bool(el: XmlElement, name: string): ValueGetter<boolean> | undefined {
    const c = this.compileAttr(el, name);
    if (!c) return undefined;
    if ('literal' in c) {
      const v = c.literal.trim().toLowerCase() === 'true';
      return () => v;
    }
    const f = c.expr;
    return (ctx) => toPolicyBoolean(f(ctx));
  }

  int(el: XmlElement, name: string): ValueGetter<number> | undefined {
    const c = this.compileAttr(el, name);
    if (!c) return undefined;
    if ('literal' in c) {
      const v = Math.trunc(Number(c.literal.trim()));
      return () => v;
    }
    const f = c.expr;
    return (ctx) => Math.trunc(toPolicyNumber(f(ctx)));
  }

  number(el: XmlElement, name: string): ValueGetter<number> | undefined {
    const c = this.compileAttr(el, name);
    if (!c) return undefined;
    if ('literal' in c) {
      const v = Number(c.literal.trim());
      return () => v;
    }
    const f = c.expr;
    return (ctx) => toPolicyNumber(f(ctx));
  }

  value(el: XmlElement, name: string): ValueGetter<unknown> | undefined {
    const c = this.compileAttr(el, name);
    if (!c) return undefined;
    if ('literal' in c) {
      const v = c.literal;
      return () => v;
    }
    return c.expr;
  }

  private textSpan(el: XmlElement): TextSpan | undefined {
    const texts = el.children.filter((c) => c.kind === 'text');
    if (texts.length === 0) return undefined;
    if (texts.length === 1) return this.compiler.substitute(texts[0]!.text);
    // Text split by comments: join the pieces, positions kept.
    return this.compiler.substitute(
      TextSpan.concat(
        texts[0]!.text.source,
        texts.map((t) => t.text),
      ),
    );
  }

  text(el: XmlElement): ValueGetter<string> | undefined {
    const v = this.textValue(el);
    if (!v) return undefined;
    return (ctx) => toPolicyString(v(ctx));
  }

  textValue(el: XmlElement): ValueGetter<unknown> | undefined {
    const span = this.textSpan(el);
    if (!span) return undefined;
    const compiled = this.compileSpan(span);
    if (compiled) return compiled;
    const literal = span.text;
    return () => literal;
  }

  policies(el: XmlElement, pathPrefix?: string): Step {
    const own = this.def.elements?.find((e) => e.name === el.name);
    const allowed = el === this.element ? this.def.policies : own?.policies;
    // An element may run its statements as in another section (ElementSpec.section).
    const o = own?.section ? { ...this.o, section: own.section } : this.o;
    return this.compiler.compileNested(el.children, o, pathPrefix ?? `${this.path}/`, allowed);
  }

  policy(el: XmlElement, pathPrefix?: string): Step {
    return this.compiler.compileSingle(el, this.o, pathPrefix ?? `${this.path}/`);
  }

  needsBody(which: 'request' | 'response'): void {
    this.o.needs[which] = true;
  }

  setting<T>(spec: SettingSpec<T>): SettingResult<T | undefined> {
    if (!this.def.settings?.includes(spec as SettingSpec<unknown>)) {
      // A programming error in the policy, not a user mistake: every setting a policy reads is declared with it.
      throw new Error(`<${this.def.name}> reads setting "${spec.key}" without declaring it in its PolicyDefinition.settings`);
    }
    return this.services.setting(spec);
  }

  offsetOf(el: XmlElement, attribute?: string): number {
    if (attribute) {
      const a = el.attributes.find((x) => x.name === attribute);
      if (a) return a.offset;
    }
    return el.start;
  }
}

/** Raised at run time by an expression that failed to compile (load already reported it; only reachable when errors are ignored). */
class UncompiledExpressionError extends PolicyError {
  constructor() {
    super(
      'configuration',
      'ExpressionValueEvaluationFailure',
      'The expression failed to compile; see the load diagnostics.',
      gatewayErrorResponse(500, 'Internal server error'),
    );
  }
}

/** How an attribute value holding an unknown named value is described in the warning. */
function assumption(spec: AttributeSpec | undefined): NamedValueAssumption {
  switch (spec?.kind) {
    case 'bool':
      return { as: 'true or false' };
    case 'int':
      return { as: 'a whole number' };
    case 'number':
      return { as: 'a number' };
    case 'enum':
      return { as: `one of ${(spec.values ?? []).join(', ')}` };
    default:
      return { as: 'text' };
  }
}

import type { DiagnosticBag } from '../diagnostics/diagnostic.js';
import type { SourceText, TextSpan } from '../diagnostics/source.js';
import type { GatewayContext, PolicyScope, PolicySection } from '../engine/context.js';
import type { RuntimeServices } from '../engine/services.js';
import type { XmlElement } from '../xml/types.js';

/**
 * What a compiled policy step returns: `continue` with the next statement, or `stop` when the pipeline ends here
 * (return-response, mock-response, a cache hit...). Errors are thrown as PolicyError.
 */
export type Flow = 'continue' | 'stop';

/** A compiled statement. Synchronous policies return a Flow directly so the hot path avoids a promise per step. */
export type Step = (ctx: GatewayContext) => Flow | Promise<Flow>;

/** A getter compiled from an attribute or text: a constant, or a precompiled expression. */
export type ValueGetter<T> = (ctx: GatewayContext) => T;

export type AttributeKind = 'string' | 'bool' | 'int' | 'number' | 'enum';

export interface AttributeSpec {
  readonly name: string;
  readonly required?: boolean;
  /** Whether `@(...)` / `@{...}` is allowed (per APIM's policy reference). */
  readonly expressions: boolean;
  readonly kind?: AttributeKind;
  /** For kind 'enum' (compared case-insensitively, as APIM does). */
  readonly values?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  /** Documented default, shown in diagnostics and used when absent. */
  readonly default?: string;
}

/**
 * A child element that belongs to a policy's own syntax (set-header's `<value>`, choose's `<when>`, rate-limit's `<api>`),
 * as opposed to a nested policy statement.
 */
export interface ElementSpec {
  readonly name: string;
  readonly min?: number;
  readonly max?: number;
  readonly attributes?: readonly AttributeSpec[];
  /** Text content allowed (e.g. `<value>`), and whether it may be an expression. */
  readonly text?: { readonly expressions: boolean; readonly required?: boolean };
  /** Nested elements of this element. */
  readonly elements?: readonly ElementSpec[];
  /** This element holds policy statements (choose's `<when>`), optionally only the named ones. */
  readonly policies?: true | readonly string[];
  /**
   * Free-form XML the policy reads itself (xsl-transform's `<xsl:stylesheet>`, cross-domain's Flash policy):
   * its children and attributes are not checked against policy metadata.
   */
  readonly anyContent?: true;
}

export interface PolicyDefinition {
  /** Element name, exactly as APIM spells it. */
  readonly name: string;
  /** Sections the policy may appear in (APIM's "Usage → Policy sections"). */
  readonly sections: readonly PolicySection[];
  /** Scopes the policy may appear in; all four when omitted. */
  readonly scopes?: readonly PolicyScope[];
  readonly attributes: readonly AttributeSpec[];
  /** Own child elements, in the order APIM requires them when `ordered` is set. */
  readonly elements?: readonly ElementSpec[];
  readonly ordered?: boolean;
  /** The policy's children are policy statements (retry, limit-concurrency), optionally only the named ones. */
  readonly policies?: true | readonly string[];
  /** Text content (e.g. set-body, set-method, set-url). */
  readonly text?: { readonly expressions: boolean; readonly required?: boolean };
  /** Attribute sets where exactly one / at least one must be present, e.g. set-backend-service base-url | backend-id. */
  readonly oneOf?: ReadonlyArray<readonly string[]>;
  /** Short note shown in diagnostics and in the supported-policies table. */
  readonly summary: string;
  /**
   * `full`: executed as APIM does. `approximate`: executed, with documented differences (docs/policies.md).
   * `unsupported`: recognised and validated, but load fails with "not supported by apim-emulator yet".
   */
  readonly support: 'full' | 'approximate' | 'unsupported';
  /** Turns a validated element into a step. Not called for unsupported policies. */
  compile?(element: XmlElement, cx: CompileContext): Step;
}

/** The API a document is compiled for (validate-content & co. read its specification). */
export interface CompileApi {
  readonly id: string;
  /** The API's URL suffix, without slashes. */
  readonly path: string;
  /** OpenAPI 2/3 document as given (JSON or YAML). */
  readonly specification?: SourceText | undefined;
}

/** Everything a policy's compile() may use: value compilers, nested-policy compilation, diagnostics, services. */
export interface CompileContext {
  /** The API being compiled; undefined when a document is checked on its own (validate of a single file). */
  readonly api?: CompileApi | undefined;
  readonly scope: PolicyScope;
  readonly section: PolicySection;
  readonly diagnostics: DiagnosticBag;
  readonly services: RuntimeServices;
  /** `choose[1]/when[2]` style path of the element being compiled (for LastError.Path and traces). */
  readonly path: string;

  /** The attribute's text after named-value substitution, or undefined when absent. */
  attributeSpan(element: XmlElement, name: string): TextSpan | undefined;
  /** A getter for an attribute (constant or expression) converted to a string; the spec's default when absent. */
  string(element: XmlElement, name: string): ValueGetter<string> | undefined;
  bool(element: XmlElement, name: string): ValueGetter<boolean> | undefined;
  int(element: XmlElement, name: string): ValueGetter<number> | undefined;
  number(element: XmlElement, name: string): ValueGetter<number> | undefined;
  /** A getter returning the raw expression value (or the literal string) — set-variable keeps types. */
  value(element: XmlElement, name: string): ValueGetter<unknown> | undefined;
  /** Text content of an element (or of the policy itself) as a getter of string. */
  text(element: XmlElement): ValueGetter<string> | undefined;
  /** Raw text-content value (expression result unconverted). */
  textValue(element: XmlElement): ValueGetter<unknown> | undefined;
  /** Compiles child policy statements of `element` (retry, when, otherwise...) into one step. */
  policies(element: XmlElement, pathPrefix?: string): Step;
  /** Compiles one child element that is itself a policy (send-request's set-header, return-response's set-status). */
  policy(element: XmlElement, pathPrefix?: string): Step;
  /** Marks that this section reads the request/response body, so the pipeline buffers it before the section runs. */
  needsBody(which: 'request' | 'response'): void;
  /** Attribute offset for diagnostics (falls back to the element). */
  offsetOf(element: XmlElement, attribute?: string): number;
  /** A unique id for per-policy runtime state (counters, caches) that is stable for this element. */
  readonly policyKey: string;
}

/** Child elements of `el` with the given name. */
export function childElements(el: XmlElement, name?: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children) if (c.kind === 'element' && (name === undefined || c.name === name)) out.push(c);
  return out;
}

export function attributeText(el: XmlElement, name: string): string | undefined {
  return el.attributes.find((a) => a.name === name)?.value.text;
}

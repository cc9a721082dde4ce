import { firstReport } from './support/once.js';
import { contentFor, responseFor, SchemaDocument } from './support/openapi.js';
import type { SchemaCheck, SchemaOptions } from './support/openapi.js';
import { mediaType } from './support/body-conversion.js';
import { fastXmlParser } from './support/convert.js';
import { messageOf } from './support/message.js';
import type { ValidationIssue } from './support/validation.js';
import { ACTIONS, apiRelativePath, apiSpecification, reportIssues, toAction } from './support/validation.js';
import type { CompileContext, Flow, PolicyDefinition, XmlElement } from '../engine/policy-sdk.js';
import { attributeText, childElements, defineSetting } from '../engine/policy-sdk.js';

/** "Maximum allowed value: 4 MB" (validate-content-policy page). */
const MAX_SIZE_LIMIT = 4 * 1024 * 1024;

/**
 * `settings.schemas`: the API Management instance's schemas (APIM: APIs → Schemas, `/schemas/<schemaId>`) that
 * `schema-id` names, by id: a JSON schema object, or the path of a JSON file (or `{ "file": ... }`).
 */
export const SCHEMAS_SETTING = defineSetting<ReadonlyMap<string, SchemaDocument>>(
  'schemas',
  'JSON schemas by schema-id (validate-content): a schema object or the path of a JSON file',
  (raw, cx) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      return { ok: false, message: 'settings.schemas must be an object: { "<schema-id>": <JSON schema> | "<file.json>" }' };
    const out = new Map<string, SchemaDocument>();
    for (const [id, v] of Object.entries(raw as Record<string, unknown>)) {
      let doc: unknown = v;
      const file =
        typeof v === 'string'
          ? v
          : typeof v === 'object' && v !== null && typeof (v as { file?: unknown }).file === 'string' && Object.keys(v).length === 1
            ? (v as { file: string }).file
            : undefined;
      if (file !== undefined) {
        const read = cx.files.readText(file);
        if (!read.ok) return { ok: false, message: `settings.schemas["${id}"]: ${read.message}` };
        try {
          doc = JSON.parse(read.value);
        } catch (e) {
          return { ok: false, message: `settings.schemas["${id}"]: ${file} is not valid JSON (${(e as Error).message})` };
        }
      }
      if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
        return { ok: false, message: `settings.schemas["${id}"] must be a JSON schema object or the path of a JSON file` };
      out.set(id.toLowerCase(), new SchemaDocument(doc as Record<string, unknown>));
    }
    return { ok: true, value: out };
  },
);

/**
 * `<validate-content unspecified-content-type-action max-size size-exceeded-action errors-variable-name>` with
 * `<content-type-map>` and `<content type validate-as schema-id schema-ref action allow-additional-properties
 * case-insensitive-property-names/>`.
 * Attribute table: learn.microsoft.com/azure/api-management/validate-content-policy (read 2026-12-02).
 * JSON bodies are checked (ajv) against the schema `schema-id` names (settings.schemas, at `schema-ref`), else the
 * operation's schema in the API's OpenAPI specification; `allow-additional-properties` overrides every object
 * schema's additionalProperties, `case-insensitive-property-names` compares property names ignoring case. XML and
 * SOAP bodies are checked for well-formedness (no XSD offline: a warning when a schema-id asks for one).
 */
export const validateContent: PolicyDefinition = {
  name: 'validate-content',
  summary: "Checks body size, content type and JSON schema (from the API's OpenAPI specification) of the request or response.",
  support: 'approximate',
  settings: [SCHEMAS_SETTING],
  sections: ['inbound', 'outbound', 'on-error'],
  attributes: [
    { name: 'unspecified-content-type-action', required: true, expressions: true, kind: 'enum', values: ACTIONS },
    { name: 'max-size', required: true, expressions: true, kind: 'int', min: 0, max: MAX_SIZE_LIMIT },
    { name: 'size-exceeded-action', required: true, expressions: true, kind: 'enum', values: ACTIONS },
    { name: 'errors-variable-name', expressions: false },
  ],
  ordered: true,
  elements: [
    {
      name: 'content-type-map',
      max: 1,
      attributes: [
        { name: 'any-content-type-value', expressions: false },
        { name: 'missing-content-type-value', expressions: false },
      ],
      elements: [
        {
          name: 'type',
          attributes: [
            { name: 'from', expressions: false },
            { name: 'when', expressions: true },
            { name: 'to', required: true, expressions: false },
          ],
        },
      ],
    },
    {
      name: 'content',
      attributes: [
        { name: 'type', expressions: false },
        { name: 'validate-as', required: true, expressions: false, kind: 'enum', values: ['json', 'xml', 'soap'] },
        { name: 'schema-id', expressions: false },
        { name: 'schema-ref', expressions: false },
        { name: 'action', required: true, expressions: false, kind: 'enum', values: ACTIONS },
        { name: 'allow-additional-properties', expressions: false, kind: 'bool' },
        { name: 'case-insensitive-property-names', expressions: false, kind: 'bool', default: 'false' },
      ],
    },
  ],
  compile(el, cx) {
    fastXmlParser(); // XML bodies are checked for well-formedness: load it now, not on the first request
    const which = messageOf(cx.section);
    cx.needsBody(which);
    const unspecified = cx.string(el, 'unspecified-content-type-action') ?? (() => 'ignore');
    const maxSize = cx.int(el, 'max-size') ?? (() => MAX_SIZE_LIMIT);
    const sizeAction = cx.string(el, 'size-exceeded-action') ?? (() => 'ignore');
    const errorsVariable = attributeText(el, 'errors-variable-name');
    const map = childElements(el, 'content-type-map')[0];
    const anyType = map ? attributeText(map, 'any-content-type-value') : undefined;
    const missingType = map ? attributeText(map, 'missing-content-type-value') : undefined;
    const mappings = map
      ? childElements(map, 'type').map((t) => ({
          from: attributeText(t, 'from')?.toLowerCase(),
          when: cx.bool(t, 'when'),
          to: (attributeText(t, 'to') ?? '').toLowerCase(),
        }))
      : [];
    const spec = apiSpecification(el, cx, 'JSON bodies are checked for well-formedness only');
    const contents = childElements(el, 'content').map((c) => {
      const as = (attributeText(c, 'validate-as') ?? 'json').toLowerCase();
      const bool = (a: string) => {
        const t = cx.attributeSpan(c, a)?.text.trim().toLowerCase();
        return t === 'true' ? true : t === 'false' ? false : undefined;
      };
      const options: SchemaOptions = {
        additionalProperties: bool('allow-additional-properties'),
        caseInsensitive: bool('case-insensitive-property-names') === true,
      };
      return {
        type: attributeText(c, 'type')?.toLowerCase(),
        as,
        action: toAction(attributeText(c, 'action'), 'ignore'),
        options,
        schema: contentSchema(c, as, cx, spec?.schemas),
      };
    });
    const kind = which === 'request' ? 'RequestBody' : 'ResponseBody';
    return async (ctx): Promise<Flow> => {
      const msg = which === 'request' ? ctx.request : ctx.response;
      const issues: ValidationIssue[] = [];
      const body = msg.body ? await msg.body.buffer() : Buffer.alloc(0);
      const limit = maxSize(ctx);
      if (body.length > limit) {
        issues.push({
          Name: kind,
          Type: kind,
          ValidationRule: 'MaxSize',
          Details: `The ${which} body is ${body.length} bytes, more than max-size ${limit}.`,
          Action: toAction(sizeAction(ctx), 'ignore'),
        });
        reportIssues(ctx, 'validate-content', issues, errorsVariable, which);
        return 'continue';
      }
      if (body.length === 0) return 'continue';
      let type = mediaType(msg.headers.getJoined('Content-Type'));
      if (!type && missingType) type = missingType.toLowerCase();
      if (anyType) type = anyType.toLowerCase();
      for (const m of mappings) {
        if ((m.from !== undefined && m.from === type) || (m.when && m.when(ctx))) {
          type = m.to;
          break;
        }
      }
      const op = spec?.find(ctx.request.method, apiRelativePath(ctx))?.op;
      const specContent = op ? (which === 'request' ? op.requestContent : responseFor(op, ctx.response.statusCode)?.content) : undefined;
      const declared = contents.find((c) => c.type === undefined || c.type === type);
      const fromSpec = specContent ? contentFor(specContent, type) : { found: false, check: undefined };
      if (!declared && !fromSpec.found) {
        issues.push({
          Name: type || '(none)',
          Type: kind,
          ValidationRule: 'UnspecifiedContentType',
          Details: `Content type "${type || '(none)'}" is not specified for this ${which}.`,
          Action: toAction(unspecified(ctx), 'ignore'),
        });
        reportIssues(ctx, 'validate-content', issues, errorsVariable, which);
        return 'continue';
      }
      if (!declared) return 'continue';
      const text = body.toString('utf8');
      if (declared.as === 'json') {
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch (e) {
          issues.push({
            Name: kind,
            Type: kind,
            ValidationRule: 'BodyFormat',
            Details: `The body is not valid JSON: ${e instanceof Error ? e.message : String(e)}`,
            Action: declared.action,
          });
        }
        const check = declared.schema ?? fromSpec.check;
        if (issues.length === 0 && check) {
          for (const d of check(value, declared.options))
            issues.push({ Name: kind, Type: kind, ValidationRule: 'SchemaValidation', Details: d, Action: declared.action });
        }
      } else {
        const r = fastXmlParser().XMLValidator.validate(text);
        if (r !== true)
          issues.push({
            Name: kind,
            Type: kind,
            ValidationRule: 'BodyFormat',
            Details: `The body is not well-formed XML: ${r.err.msg} (line ${r.err.line})`,
            Action: declared.action,
          });
        else if (declared.as === 'soap' && !/^\s*(<\?xml[^>]*>\s*)?<([\w.-]+:)?Envelope[\s>]/.test(text)) {
          issues.push({ Name: kind, Type: kind, ValidationRule: 'BodyFormat', Details: 'The body is not a SOAP envelope.', Action: declared.action });
        }
      }
      reportIssues(ctx, 'validate-content', issues, errorsVariable, which);
      return 'continue';
    };
  },
};

/**
 * The schema a `<content>` names: `schema-id` (settings.schemas) at `schema-ref` (a local `#/...` pointer, the
 * document's root when absent). `schema-ref` without `schema-id` points into the API's own specification (APIM is
 * SILENT; docs/emulator-choices.md). Undefined: the operation's schema from the specification is used.
 */
function contentSchema(c: XmlElement, as: string, cx: CompileContext, specSchemas: SchemaDocument | undefined): SchemaCheck | undefined {
  const id = cx.attributeSpan(c, 'schema-id')?.text.trim();
  const ref = cx.attributeSpan(c, 'schema-ref')?.text.trim();
  if (id === undefined && ref === undefined) return undefined;
  if (as !== 'json') {
    if (firstReport(c, 'xsd'))
      cx.diagnostics.warning(
        c.source,
        cx.offsetOf(c, id !== undefined ? 'schema-id' : 'schema-ref'),
        'policy/offline',
        `<content validate-as="${as}"> with a schema runs offline without XML Schema (XSD) validation: the body is checked for well-formedness only`,
      );
    return undefined;
  }
  let doc = specSchemas;
  if (id !== undefined) {
    const given = cx.setting(SCHEMAS_SETTING);
    if (!given.ok) {
      cx.diagnostics.error(c.source, cx.offsetOf(c, 'schema-id'), 'policy/bad-setting', given.message);
      return undefined;
    }
    doc = given.value?.get(id.toLowerCase());
    if (!doc) {
      // As with fragments: none given at all is a warning (the file is valid APIM); given but not this one, an error.
      if (given.value === undefined) {
        if (firstReport(c, 'schema-id'))
          cx.diagnostics.warning(
            c.source,
            cx.offsetOf(c, 'schema-id'),
            'policy/offline',
            `schema-id "${id}" runs offline without its schema: no settings.schemas were given, so the body is checked for well-formedness only`,
            'give the schema in settings.schemas: { "' + id + '": <JSON schema> | "<file.json>" }',
          );
      } else {
        cx.diagnostics.error(
          c.source,
          cx.offsetOf(c, 'schema-id'),
          'policy/bad-attribute-value',
          `schema-id "${id}" is not in settings.schemas (given: ${[...given.value.keys()].join(', ') || 'none'})`,
          'schema-id names a schema added to the API Management instance; give it in settings.schemas',
        );
      }
      return undefined;
    }
  }
  if (!doc) return undefined;
  const pointer = ref === undefined ? '' : ref.replace(/^#/, '');
  if (ref !== undefined && (!ref.startsWith('#/') || doc.at(pointer) === undefined)) {
    cx.diagnostics.error(
      c.source,
      cx.offsetOf(c, 'schema-ref'),
      'policy/bad-attribute-value',
      `schema-ref "${ref}" is not a local reference to a schema in ${id !== undefined ? `schema "${id}"` : "the API's specification"}`,
      'a local JSON pointer such as #/components/schemas/address',
    );
    return undefined;
  }
  return doc.check(pointer);
}

import { firstReport } from './support/once.js';
import { contentFor, responseFor } from './support/openapi.js';
import { mediaType } from './support/body-conversion.js';
import { fastXmlParser } from './support/convert.js';
import { messageOf } from './support/message.js';
import type { ValidationIssue } from './support/validation.js';
import { ACTIONS, apiRelativePath, apiSpecification, reportIssues, toAction } from './support/validation.js';
import type { Flow, PolicyDefinition } from '../engine/policy-sdk.js';
import { attributeText, childElements } from '../engine/policy-sdk.js';

/** "Maximum allowed value: 4 MB" (validate-content-policy page). */
const MAX_SIZE_LIMIT = 4 * 1024 * 1024;

/**
 * `<validate-content unspecified-content-type-action max-size size-exceeded-action errors-variable-name>` with
 * `<content-type-map>` and `<content type validate-as schema-id schema-ref action .../>`.
 * Attribute table: learn.microsoft.com/azure/api-management/validate-content-policy (read 2026-12-02).
 * JSON bodies are checked against the operation's schema in the API's OpenAPI specification (ajv); XML and SOAP
 * bodies for well-formedness. schema-id / schema-ref name API schema entities, which the emulator does not load:
 * said once as a warning, and the specification's schema is used.
 */
export const validateContent: PolicyDefinition = {
  name: 'validate-content',
  summary: 'Checks body size, content type and JSON schema (from the API\'s OpenAPI specification) of the request or response.',
  support: 'approximate',
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
      attributes: [{ name: 'any-content-type-value', expressions: false }, { name: 'missing-content-type-value', expressions: false }],
      elements: [{ name: 'type', attributes: [{ name: 'from', expressions: false }, { name: 'when', expressions: true }, { name: 'to', required: true, expressions: false }] }],
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
    const mappings = map ? childElements(map, 'type').map((t) => ({ from: attributeText(t, 'from')?.toLowerCase(), when: cx.bool(t, 'when'), to: (attributeText(t, 'to') ?? '').toLowerCase() })) : [];
    const contents = childElements(el, 'content').map((c) => ({
      type: attributeText(c, 'type')?.toLowerCase(),
      as: (attributeText(c, 'validate-as') ?? 'json').toLowerCase(),
      action: toAction(attributeText(c, 'action'), 'ignore'),
    }));
    for (const c of childElements(el, 'content')) {
      for (const a of ['schema-id', 'schema-ref', 'allow-additional-properties', 'case-insensitive-property-names']) {
        if (attributeText(c, a) !== undefined && firstReport(c, a)) {
          cx.diagnostics.warning(c.source, cx.offsetOf(c, a), 'policy/offline', `attribute "${a}" of <content> runs offline: API schema entities are not loaded; JSON is checked against the operation's schema in the API specification`);
        }
      }
    }
    const spec = apiSpecification(el, cx, 'JSON bodies are checked for well-formedness only');
    const kind = which === 'request' ? 'RequestBody' : 'ResponseBody';
    return async (ctx): Promise<Flow> => {
      const msg = which === 'request' ? ctx.request : ctx.response;
      const issues: ValidationIssue[] = [];
      const body = msg.body ? await msg.body.buffer() : Buffer.alloc(0);
      const limit = maxSize(ctx);
      if (body.length > limit) {
        issues.push({ Name: kind, Type: kind, ValidationRule: 'MaxSize', Details: `The ${which} body is ${body.length} bytes, more than max-size ${limit}.`, Action: toAction(sizeAction(ctx), 'ignore') });
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
        issues.push({ Name: type || '(none)', Type: kind, ValidationRule: 'UnspecifiedContentType', Details: `Content type "${type || '(none)'}" is not specified for this ${which}.`, Action: toAction(unspecified(ctx), 'ignore') });
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
          issues.push({ Name: kind, Type: kind, ValidationRule: 'BodyFormat', Details: `The body is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, Action: declared.action });
        }
        if (issues.length === 0 && fromSpec.check) {
          for (const d of fromSpec.check(value)) issues.push({ Name: kind, Type: kind, ValidationRule: 'SchemaValidation', Details: d, Action: declared.action });
        }
      } else {
        const r = fastXmlParser().XMLValidator.validate(text);
        if (r !== true) issues.push({ Name: kind, Type: kind, ValidationRule: 'BodyFormat', Details: `The body is not well-formed XML: ${r.err.msg} (line ${r.err.line})`, Action: declared.action });
        else if (declared.as === 'soap' && !/^\s*(<\?xml[^>]*>\s*)?<([\w.-]+:)?Envelope[\s>]/.test(text)) {
          issues.push({ Name: kind, Type: kind, ValidationRule: 'BodyFormat', Details: 'The body is not a SOAP envelope.', Action: declared.action });
        }
      }
      reportIssues(ctx, 'validate-content', issues, errorsVariable, which);
      return 'continue';
    };
  },
};

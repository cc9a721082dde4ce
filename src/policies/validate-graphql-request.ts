import type { DocumentNode, FieldNode, GraphQLSchema, SelectionSetNode } from 'graphql';
import type { Flow, GatewayContext, PolicyDefinition } from '../engine/policy-sdk.js';
import { HeaderMap, MessageBody, attributeText, childElements, lazyLibrary } from '../engine/policy-sdk.js';
import { firstReport } from './support/once.js';

// graphql (~230 ms to import) loads when this policy is first compiled, not at start-up (src/lazy-library.ts).
const graphql = lazyLibrary<typeof import('graphql')>('graphql');

/** "Maximum allowed value: 102,400 bytes (100 KB)." */
const MAX_SIZE_LIMIT = 102400;
const RULE_ACTIONS = ['allow', 'remove', 'reject', 'ignore'] as const;

const schemas = new WeakMap<object, GraphQLSchema | null>();

/**
 * `<validate-graphql-request error-variable-name max-size max-depth><authorize><rule path action/></authorize>`.
 * Attribute table: learn.microsoft.com/azure/api-management/validate-graphql-request-policy (read 2026-12-02).
 * The query is parsed with the graphql package; size and depth are checked; with the API's GraphQL schema (SDL as
 * the API's specification) it is validated against it and rules match `/Type/field` for every field; without one,
 * rules match root fields (`/Query/x`, `/Mutation/x`) and the introspection fields (`/__*`).
 * A request error answers as GraphQL does: an `errors` block and no `data` (docs/emulator-choices.md).
 */
export const validateGraphqlRequest: PolicyDefinition = {
  name: 'validate-graphql-request',
  summary: "Parses the GraphQL request, checks size, depth and the API's GraphQL schema, and applies authorize rules.",
  support: 'full',
  sections: ['inbound'],
  scopes: ['global', 'product', 'api'],
  attributes: [
    { name: 'error-variable-name', expressions: true },
    { name: 'max-size', required: true, expressions: true, kind: 'int', min: 0, max: MAX_SIZE_LIMIT },
    { name: 'max-depth', expressions: true, kind: 'int', min: 1, default: '6' },
  ],
  elements: [
    {
      name: 'authorize',
      max: 1,
      elements: [
        {
          name: 'rule',
          attributes: [
            { name: 'path', required: true, expressions: false },
            { name: 'action', expressions: true, kind: 'enum', values: RULE_ACTIONS, default: 'allow' },
          ],
        },
      ],
    },
  ],
  compile(el, cx) {
    graphql(); // loaded at compile time: the first request must not pay for the import
    cx.needsBody('request');
    const errorVariable = cx.string(el, 'error-variable-name');
    const maxSize = cx.int(el, 'max-size') ?? (() => MAX_SIZE_LIMIT);
    const maxDepth = cx.int(el, 'max-depth') ?? (() => 6);
    const rules = childElements(el, 'authorize')
      .flatMap((a) => childElements(a, 'rule'))
      .map((r) => ({ path: attributeText(r, 'path') ?? '', action: cx.string(r, 'action') ?? (() => 'allow') }));
    let schema: GraphQLSchema | undefined;
    const spec = cx.api?.specification;
    if (spec) {
      if (!schemas.has(spec)) {
        try {
          schemas.set(spec, graphql().buildSchema(spec.text));
        } catch (e) {
          schemas.set(spec, null);
          if (firstReport(el, 'schema'))
            cx.diagnostics.warning(
              spec,
              0,
              'policy/bad-graphql-schema',
              `the API's specification is not a GraphQL schema (SDL): ${e instanceof Error ? e.message : String(e)}`,
              'validate-graphql-request then checks syntax, size and depth only',
            );
        }
      }
      schema = schemas.get(spec) ?? undefined;
    }
    return async (ctx): Promise<Flow> => {
      const body = ctx.request.body ? await ctx.request.body.buffer() : Buffer.alloc(0);
      const fail = (messages: string[]): Flow => {
        if (errorVariable)
          ctx.variables.set(
            errorVariable(ctx),
            messages.map((m) => ({ message: m })),
          );
        const headers = new HeaderMap();
        headers.set('Content-Type', ['application/json; charset=utf-8']);
        ctx.response = {
          statusCode: 200,
          statusReason: 'OK',
          headers,
          body: MessageBody.fromBuffer(JSON.stringify({ errors: messages.map((m) => ({ message: m })) })),
        };
        if (ctx.tracing) ctx.trace({ kind: 'info', policy: 'validate-graphql-request', message: `request error: ${messages.join('; ')}` });
        return 'stop';
      };
      if (body.length > maxSize(ctx)) return fail([`The request is ${body.length} bytes, more than max-size ${maxSize(ctx)}.`]);
      const request = readRequest(ctx, body);
      if (typeof request === 'string') return fail([request]);
      let doc: DocumentNode;
      try {
        doc = graphql().parse(request.query, { maxTokens: 10000 });
      } catch (e) {
        return fail([e instanceof graphql().GraphQLError ? e.message : String(e)]);
      }
      const depth = queryDepth(doc);
      if (depth > maxDepth(ctx)) return fail([`The query depth ${depth} exceeds max-depth ${maxDepth(ctx)}.`]);
      if (schema) {
        const errors = graphql().validate(schema, doc);
        if (errors.length) return fail(errors.map((e) => e.message));
      }
      if (rules.length === 0) return 'continue';
      const actions = rules.map((r) => ({ path: r.path, action: r.action(ctx).toLowerCase() }));
      const decide = (path: string): string => {
        for (const r of [...actions].sort((a, b) => specificity(b.path) - specificity(a.path))) {
          if (!pathMatches(r.path, path) || r.action === 'ignore') continue;
          return r.action;
        }
        return 'allow';
      };
      const removed: string[] = [];
      const rejected: string[] = [];
      const typeInfo = schema ? new (graphql().TypeInfo)(schema) : undefined;
      const rootNames: Record<string, string> = { query: 'Query', mutation: 'Mutation', subscription: 'Subscription' };
      let rootType = 'Query';
      let fieldDepth = 0;
      const visitor = {
        OperationDefinition: {
          enter(node: { operation: string }) {
            rootType = rootNames[node.operation] ?? 'Query';
          },
        },
        Field: {
          enter(node: FieldNode) {
            fieldDepth++;
            const parent = typeInfo?.getParentType()?.name ?? (fieldDepth === 1 ? rootType : undefined);
            if (!parent) return undefined;
            const path = `/${parent}/${node.name.value}`;
            const action = decide(node.name.value.startsWith('__') ? `/${node.name.value}` : path);
            if (action === 'reject') {
              // The field's own selections are not looked at: one error per rejected field.
              rejected.push(path);
              fieldDepth--;
              return false;
            }
            if (action === 'remove') {
              removed.push(path);
              fieldDepth--;
              return null;
            }
            return undefined;
          },
          leave() {
            fieldDepth--;
          },
        },
      };
      const rewritten = graphql().visit(doc, typeInfo ? graphql().visitWithTypeInfo(typeInfo, visitor) : visitor) as DocumentNode;
      if (rejected.length) return fail(rejected.map((p) => `Access to ${p} is not allowed.`));
      if (removed.length) {
        const cleaned = dropEmptySelections(rewritten);
        ctx.request.body = MessageBody.fromBuffer(JSON.stringify({ ...request.raw, query: graphql().print(cleaned) }));
        ctx.request.headers.delete('Content-Length');
        if (errorVariable)
          ctx.variables.set(
            errorVariable(ctx),
            removed.map((p) => ({ message: `Field ${p} was removed by an authorize rule.` })),
          );
        if (ctx.tracing) ctx.trace({ kind: 'info', policy: 'validate-graphql-request', message: `removed ${removed.join(', ')}` });
      }
      return 'continue';
    };
  },
};

function readRequest(ctx: GatewayContext, body: Buffer): { query: string; raw: Record<string, unknown> } | string {
  if (ctx.request.method === 'GET') {
    const q = ctx.request.url.query.get('query')?.[0];
    return q ? { query: q, raw: { query: q } } : 'The request has no "query" parameter.';
  }
  try {
    const raw = JSON.parse(body.toString('utf8')) as unknown;
    if (raw && typeof raw === 'object' && typeof (raw as { query?: unknown }).query === 'string')
      return { query: (raw as { query: string }).query, raw: raw as Record<string, unknown> };
    return 'The request body has no "query" string.';
  } catch {
    return 'The request body is not valid JSON.';
  }
}

function queryDepth(doc: DocumentNode): number {
  const depthOf = (set: SelectionSetNode | undefined, d: number): number => {
    if (!set) return d;
    let max = d;
    for (const s of set.selections) {
      if (s.kind === graphql().Kind.FIELD) max = Math.max(max, depthOf(s.selectionSet, d + 1));
      else if (s.kind === graphql().Kind.INLINE_FRAGMENT) max = Math.max(max, depthOf(s.selectionSet, d));
    }
    return max;
  };
  let max = 0;
  for (const def of doc.definitions)
    if (def.kind === graphql().Kind.OPERATION_DEFINITION || def.kind === graphql().Kind.FRAGMENT_DEFINITION) max = Math.max(max, depthOf(def.selectionSet, 0));
  return max;
}

function specificity(path: string): number {
  return path.endsWith('*') ? path.length - 1 : path.length + 1000;
}

function pathMatches(rule: string, path: string): boolean {
  if (rule.endsWith('*')) return path.toLowerCase().startsWith(rule.slice(0, -1).toLowerCase());
  return rule.toLowerCase() === path.toLowerCase();
}

/** Fields whose whole selection was removed are removed too (an empty selection set is not valid GraphQL). */
function dropEmptySelections(doc: DocumentNode): DocumentNode {
  return graphql().visit(doc, {
    Field: {
      leave(node: FieldNode) {
        return node.selectionSet && node.selectionSet.selections.length === 0 ? null : undefined;
      },
    },
  });
}

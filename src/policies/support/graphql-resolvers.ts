import type { DocumentNode, GraphQLFieldResolver, GraphQLSchema } from 'graphql';
import type { CompileContext, GatewayContext, XmlElement } from '../../engine/policy-sdk.js';
import { defineSetting, HeaderMap, lazyLibrary, MessageBody, PolicyError, readPolicyXml, SourceText } from '../../engine/policy-sdk.js';
import { JObject } from '../../dotnet/json.js';

/** Loaded when an API has resolvers (at compile time), never at start-up otherwise (docs/performance.md). */
const graphql = lazyLibrary<typeof import('graphql')>('graphql');

/**
 * Synthetic GraphQL APIs (docs/policies-graphql.md): the API's specification is a GraphQL schema (SDL) and its fields
 * are resolved by resolver documents, each rooted at a data-source policy (`<http-data-source>`...). Offline the
 * resolvers are given in `settings["graphql.resolvers"]`, by API id and `Type/field` (APIM's resolver path), and
 * forward-request of that API executes the GraphQL request with the graphql package instead of calling a backend.
 */

/** One resolver document as given: where it comes from and its text. */
export interface ResolverSource {
  readonly path: string;
  readonly source: SourceText;
}

/** `settings["graphql.resolvers"]`: `{ "<api-id>": { "<Type>/<field>": "<file.xml>" | "<http-data-source>...</...>" } }`. */
export const GRAPHQL_RESOLVERS_SETTING = defineSetting<ReadonlyMap<string, readonly ResolverSource[]>>(
  'graphql.resolvers',
  'GraphQL resolvers of synthetic GraphQL APIs: { "<api-id>": { "<Type>/<field>": "<resolver.xml>" | "<resolver XML>" } }',
  (raw, cx) => {
    const shape = 'settings["graphql.resolvers"] must be { "<api-id>": { "<Type>/<field>": "<file.xml>" or inline XML } }';
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, message: shape };
    const out = new Map<string, ResolverSource[]>();
    for (const [api, fields] of Object.entries(raw as Record<string, unknown>)) {
      if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return { ok: false, message: `${shape}; "${api}" is not an object` };
      const list: ResolverSource[] = [];
      for (const [path, v] of Object.entries(fields as Record<string, unknown>)) {
        if (!/^[_A-Za-z][_0-9A-Za-z]*\/[_A-Za-z][_0-9A-Za-z]*$/.test(path))
          return { ok: false, message: `settings["graphql.resolvers"]["${api}"]: "${path}" is not a resolver path; allowed: <Type>/<field>, e.g. Query/users` };
        if (typeof v !== 'string')
          return { ok: false, message: `settings["graphql.resolvers"]["${api}"]["${path}"] must be a file name or the resolver's XML` };
        if (v.trimStart().startsWith('<')) {
          list.push({ path, source: new SourceText(`settings["graphql.resolvers"]["${api}"]["${path}"]`, v) });
          continue;
        }
        const read = cx.files.readText(v);
        if (!read.ok) return { ok: false, message: `settings["graphql.resolvers"]["${api}"]["${path}"]: ${read.message}` };
        list.push({ path, source: new SourceText(v, read.value) });
      }
      out.set(api.toLowerCase(), list);
    }
    return { ok: true, value: out };
  },
);

/** Resolves one field: the data-source policy's compiled behaviour. */
export type FieldResolver = (ctx: GatewayContext) => Promise<unknown>;

/** Data-source policies mark the resolver roots they compile, so a data source inside `<policies>` is refused. */
const RESOLVER_ROOTS = new WeakSet<XmlElement>();

export function isResolverRoot(el: XmlElement): boolean {
  return RESOLVER_ROOTS.has(el);
}

/** Each data-source policy's compile() stores its resolver here, keyed by the element; the executor picks it up. */
const COMPILED = new WeakMap<XmlElement, FieldResolver>();

export function registerResolver(el: XmlElement, resolver: FieldResolver): void {
  COMPILED.set(el, resolver);
}

const DATA_SOURCES = ['http-data-source', 'sql-data-source', 'cosmosdb-data-source'];

/** The executor of a synthetic GraphQL API, or undefined when the API has no resolvers. */
export type GraphqlExecutor = (ctx: GatewayContext) => Promise<void>;

/** A GraphQL request's own problem (bad JSON, no query): answered as GraphQL does, 200 with `errors`. */
function graphqlAnswer(ctx: GatewayContext, result: { data?: unknown; errors?: ReadonlyArray<{ message: string }> | undefined }): void {
  const headers = new HeaderMap();
  headers.set('Content-Type', ['application/json; charset=utf-8']);
  const body: Record<string, unknown> = {};
  if (result.errors && result.errors.length)
    body.errors = result.errors.map((e) => (e instanceof graphql().GraphQLError ? e.toJSON() : { message: e.message }));
  if (result.data !== undefined) body.data = result.data;
  ctx.response = { statusCode: 200, statusReason: 'OK', headers, body: MessageBody.fromBuffer(JSON.stringify(body)) };
}

/**
 * Compiles the resolvers of the API being compiled (forward-request calls this): each document is read, its root
 * compiled as a policy (validation by the data source's own metadata), and matched against the schema's fields.
 */
export function compileGraphqlExecutor(el: XmlElement, cx: CompileContext): GraphqlExecutor | undefined {
  const api = cx.api;
  if (!api) return undefined;
  const all = cx.setting(GRAPHQL_RESOLVERS_SETTING);
  if (!all.ok) {
    cx.diagnostics.error(el.source, el.start, 'policy/bad-setting', all.message);
    return undefined;
  }
  const sources = all.value?.get(api.id.toLowerCase());
  if (!sources || sources.length === 0) return undefined;
  const spec = api.specification;
  let schema: GraphQLSchema | undefined;
  try {
    schema = spec ? graphql().buildSchema(spec.text) : undefined;
  } catch (e) {
    cx.diagnostics.error(
      spec!,
      0,
      'policy/bad-graphql-schema',
      `API "${api.id}" has GraphQL resolvers, but its specification is not a GraphQL schema (SDL): ${e instanceof Error ? e.message : String(e)}`,
      "give the schema (schema.graphql) as the API's specification",
    );
    return undefined;
  }
  if (!schema) {
    // Without a schema the resolvers are still checked (validate of resolver files); GraphQL requests cannot run.
    const hint = "give the schema (SDL) as the API's specification";
    cx.diagnostics.warning(
      el.source,
      el.start,
      'policy/bad-graphql-schema',
      `API "${api.id}" has GraphQL resolvers but no GraphQL schema: resolver paths are not checked and GraphQL requests answer an error`,
      hint,
    );
    for (const r of sources) compileResolver(r, cx);
    const message = `API "${api.id}" has no GraphQL schema, so its resolvers cannot run (${hint}).`;
    return (ctx) => Promise.resolve(graphqlAnswer(ctx, { errors: [{ message }] }));
  }
  const resolvers = new Map<string, FieldResolver>();
  for (const r of sources) {
    const [typeName, fieldName] = r.path.split('/') as [string, string];
    const type = schema.getType(typeName);
    const fields = type && 'getFields' in type ? type.getFields() : undefined;
    const known = fields !== undefined && fieldName in fields;
    const compiled = compileResolver(
      r,
      cx,
      known
        ? undefined
        : (root) => {
            cx.diagnostics.error(
              r.source,
              root.start,
              'policy/bad-attribute-value',
              `resolver ${r.path}: the schema of API "${api.id}" has no field ${fieldName} on type ${typeName}`,
              "the resolver path is <Type>/<field> of the API's GraphQL schema",
            );
          },
    );
    if (compiled) resolvers.set(`${typeName}.${fieldName}`, compiled);
  }
  const finalSchema = schema;
  const fieldResolver: GraphQLFieldResolver<unknown, GatewayContext> = (parent, args, ctx, info) => {
    const resolver = resolvers.get(`${info.parentType.name}.${info.fieldName}`);
    if (!resolver) return graphql().defaultFieldResolver(parent, args, ctx, info);
    // Each field runs on its own view of the request context: context.GraphQL is that field's, the rest is shared.
    const fieldCtx = Object.create(ctx) as GatewayContext;
    fieldCtx.graphql = { arguments: JObject.FromObject(args), parent: JObject.FromObject(typeof parent === 'object' && parent !== null ? parent : {}) };
    return resolver(fieldCtx);
  };

  return async (ctx) => {
    const request = await graphqlRequest(ctx);
    if ('error' in request) return graphqlAnswer(ctx, { errors: [{ message: request.error }] });
    let doc: DocumentNode;
    try {
      doc = graphql().parse(request.query, { maxTokens: 10000 });
    } catch (e) {
      return graphqlAnswer(ctx, { errors: [{ message: e instanceof Error ? e.message : String(e) }] });
    }
    const errors = graphql().validate(finalSchema, doc);
    if (errors.length) return graphqlAnswer(ctx, { errors });
    if (ctx.tracing)
      ctx.trace({
        kind: 'info',
        policy: 'forward-request',
        message: `GraphQL ${request.operationName ?? 'request'} resolved by ${resolvers.size} resolver(s) of the synthetic API`,
      });
    const result = await graphql().execute({
      schema: finalSchema,
      document: doc,
      contextValue: ctx,
      variableValues: request.variables,
      operationName: request.operationName,
      fieldResolver,
    });
    graphqlAnswer(ctx, result);
  };
}

/**
 * Reads one resolver document and compiles its data source (which validates itself by its metadata and registers
 * its resolver); `unknownField` reports a path the schema does not have, and the resolver is then not compiled.
 */
function compileResolver(r: ResolverSource, cx: CompileContext, unknownField?: (root: XmlElement) => void): FieldResolver | undefined {
  const read = readPolicyXml(r.source);
  for (const d of read.diagnostics) cx.diagnostics.add(d);
  const root = read.root;
  if (!root) return undefined;
  if (!DATA_SOURCES.includes(root.name)) {
    cx.diagnostics.error(
      r.source,
      root.start,
      'policy/bad-root',
      `a resolver document's element is <${root.name}>`,
      `a resolver starts with ${DATA_SOURCES.map((d) => `<${d}>`).join(', ')}`,
    );
    return undefined;
  }
  if (unknownField) {
    unknownField(root);
    return undefined;
  }
  RESOLVER_ROOTS.add(root);
  // The data source validates and compiles itself; its step is never run as a statement.
  cx.policy(root, `resolver(${r.path})/`);
  return COMPILED.get(root);
}

/** The GraphQL request: POST JSON `{query, variables, operationName}`, or GET `?query=&variables=&operationName=`. */
async function graphqlRequest(
  ctx: GatewayContext,
): Promise<{ query: string; variables?: Record<string, unknown>; operationName?: string } | { error: string }> {
  let raw: Record<string, unknown>;
  if (ctx.request.method === 'GET') {
    const q = ctx.request.url.query;
    const variables = q.get('variables')?.[0];
    try {
      raw = { query: q.get('query')?.[0], operationName: q.get('operationName')?.[0], variables: variables ? (JSON.parse(variables) as unknown) : undefined };
    } catch {
      return { error: 'The "variables" query parameter is not JSON.' };
    }
  } else {
    const body = ctx.request.body ? (await ctx.request.body.buffer()).toString('utf8') : '';
    try {
      const v = JSON.parse(body) as unknown;
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return { error: 'The GraphQL request body must be a JSON object with "query".' };
      raw = v as Record<string, unknown>;
    } catch {
      return { error: 'The GraphQL request body is not JSON.' };
    }
  }
  if (typeof raw.query !== 'string' || raw.query.trim() === '') return { error: 'The GraphQL request has no "query".' };
  const variables = raw.variables;
  if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables)))
    return { error: '"variables" must be a JSON object.' };
  return {
    query: raw.query,
    ...(variables ? { variables: variables as Record<string, unknown> } : {}),
    ...(typeof raw.operationName === 'string' && raw.operationName ? { operationName: raw.operationName } : {}),
  };
}

/** A resolver's failure, surfaced as that field's GraphQL error (the rest of the answer is kept, as GraphQL does). */
export function resolverError(policy: string, message: string): PolicyError {
  return new PolicyError(policy, 'ResolverFailure', message);
}

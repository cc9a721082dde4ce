import { afterEach, describe, expect, it } from 'vitest';
import { sinkEntries } from '../../../src/policies/support/sinks.js';
import { backendPool, buildGateway, FORWARD, policies, send, tryBuildGateway } from '../../helpers/gateway.js';

/**
 * Synthetic GraphQL APIs: fields resolved by http-data-source resolvers (settings["graphql.resolvers"]) against real
 * HTTP backends on 127.0.0.1, executed with the graphql package; sql-/cosmosdb-data-source say they cannot run offline.
 */
const pool = backendPool();
afterEach(() => pool.closeAll());

const SDL = `
type Query {
  users: [User]
  user(id: ID!): User
  family(id: Int!): Family
}
type Mutation { makeUser(name: String!): User }
type User { id: String! name: String! orders: [Order] }
type Order { id: String! total: Int }
type Family { id: Int! name: String! }
`;

const PEOPLE = [
  { id: '1', username: 'ann' },
  { id: '2', username: 'bob' },
];

async function dataBackend() {
  return pool.backend((req, res) => {
    res.setHeader('Content-Type', 'application/json');
    if (req.url === '/users') return void res.end(JSON.stringify(PEOPLE));
    const one = /^\/users\/(\w+)$/.exec(req.url);
    if (one) {
      const p = PEOPLE.find((x) => x.id === one[1]);
      if (!p) {
        res.statusCode = 404;
        return void res.end('{"error":"no such user"}');
      }
      return void res.end(JSON.stringify({ id: p.id, name: p.username }));
    }
    const orders = /^\/users\/(\w+)\/orders$/.exec(req.url.replace(/\?.*/, ''));
    if (orders) return void res.end(JSON.stringify([{ id: `o-${orders[1]}`, total: 7 }]));
    if (req.url === '/user/create')
      return void res.end(JSON.stringify({ id: '3', name: (JSON.parse(req.body) as { name: string }).name, echoedHeader: req.headers['x-tenant'] }));
    res.statusCode = 500;
    res.end('{}');
  });
}

function resolvers(url: string): Record<string, string> {
  return {
    'Query/users': `<http-data-source>
  <http-request><set-method>GET</set-method><set-url>${url}/users</set-url></http-request>
  <http-response>
    <set-body template="liquid">[{% JSONArrayFor elem in body %}{"id": "{{elem.id}}", "name": "{{elem.username}}"}{% endJSONArrayFor %}]</set-body>
  </http-response>
</http-data-source>`,
    'Query/user': `<http-data-source><http-request><set-method>GET</set-method><set-url>@($"${url}/users/{context.GraphQL.Arguments["id"]}")</set-url></http-request></http-data-source>`,
    'User/orders': `<http-data-source><http-request><set-method>GET</set-method><set-url>@("${url}/users/" + context.GraphQL.Parent["id"] + "/orders")</set-url></http-request></http-data-source>`,
    'Mutation/makeUser': `<http-data-source>
  <http-request>
    <set-method>POST</set-method>
    <set-url>${url}/user/create</set-url>
    <set-header name="Content-Type" exists-action="override"><value>application/json</value></set-header>
    <set-header name="x-tenant" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("x-tenant", "none"))</value></set-header>
    <set-body>@{
      var args = context.GraphQL.Arguments;
      JObject jsonObject = new JObject();
      jsonObject.Add("name", args["name"]);
      return jsonObject.ToString();
    }</set-body>
  </http-request>
  <http-response><publish-event><targets><graphql-subscription id="onUserCreated" /></targets></publish-event></http-response>
</http-data-source>`,
    'Query/family':
      '<sql-data-source><connection-info><connection-string>Server=tcp:x.database.windows.net</connection-string></connection-info><request single-result="true"><sql-statement>SELECT 1</sql-statement><parameters><parameter name="@id">@(context.GraphQL.Arguments["id"])</parameter></parameters></request></sql-data-source>',
  };
}

function graphqlGateway(url: string, extra: Record<string, string> = {}) {
  return buildGateway({
    apiPath: 'gql',
    specification: SDL,
    settings: { 'graphql.resolvers': { 'test-api': { ...resolvers(url), ...extra } } },
    api: policies({ backend: FORWARD }),
  });
}

const query = (gateway: ReturnType<typeof graphqlGateway>['gateway'], q: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}) =>
  send(gateway, '/gql', { method: 'POST', body: JSON.stringify({ query: q, variables }), headers: { 'content-type': 'application/json', ...headers } }).then(
    (r) => ({ status: r.status, body: r.json() as { data?: Record<string, unknown>; errors?: Array<{ message: string; path?: unknown[] }> } }),
  );

describe('http-data-source resolvers', () => {
  it('resolves a list through a Liquid http-response, arguments through context.GraphQL.Arguments and nested fields through context.GraphQL.Parent', async () => {
    const data = await dataBackend();
    const { gateway, diagnostics } = graphqlGateway(data.url);
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const list = await query(gateway, '{ users { id name } }');
    expect(list).toEqual({
      status: 200,
      body: {
        data: {
          users: [
            { id: '1', name: 'ann' },
            { id: '2', name: 'bob' },
          ],
        },
      },
    });
    const one = await query(gateway, 'query($id: ID!) { user(id: $id) { name orders { id total } } }', { id: '2' });
    expect(one.body).toEqual({ data: { user: { name: 'bob', orders: [{ id: 'o-2', total: 7 }] } } });
    expect(data.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /users', 'GET /users/2', 'GET /users/2/orders']);
    // GraphQL over GET: ?query= and ?variables= (JSON).
    const get = await send(
      gateway,
      `/gql?query=${encodeURIComponent('query($id: ID!) { user(id: $id) { name } }')}&variables=${encodeURIComponent('{"id":"1"}')}`,
    );
    expect(get.json()).toEqual({ data: { user: { name: 'ann' } } });
    expect((await send(gateway, '/gql', { method: 'POST', body: 'not json', headers: { 'content-type': 'application/json' } })).json()).toEqual({
      errors: [{ message: 'The GraphQL request body is not JSON.' }],
    });
  });

  it("a mutation sends the body built from the arguments (the page's example) and publish-event records the event", async () => {
    const data = await dataBackend();
    const { gateway } = graphqlGateway(data.url);
    const r = await query(gateway, 'mutation { makeUser(name: "cy") { id name } }', undefined, { 'x-tenant': 't1' });
    expect(r.body).toEqual({ data: { makeUser: { id: '3', name: 'cy' } } });
    const sent = data.requests.at(-1)!;
    expect(JSON.parse(sent.body)).toEqual({ name: 'cy' });
    expect(sent.headers['x-tenant']).toBe('t1');
    expect(sinkEntries(gateway.services, 'graphql-event')).toMatchObject([{ target: 'onUserCreated', payload: expect.stringContaining('"name":"cy"') }]);
  });

  it('an error status fails only that field; a query against the schema that does not validate answers errors without calling resolvers', async () => {
    const data = await dataBackend();
    const { gateway } = graphqlGateway(data.url);
    const r = await query(gateway, '{ user(id: "9") { name } users { name } }');
    expect(r.body.data).toEqual({ user: null, users: [{ name: 'ann' }, { name: 'bob' }] });
    expect(r.body.errors).toMatchObject([{ message: expect.stringContaining('answered 404'), path: ['user'] }]);
    const before = data.requests.length;
    const bad = await query(gateway, '{ nope }');
    expect(bad.status).toBe(200);
    expect(bad.body.errors?.[0]?.message).toBe('Cannot query field "nope" on type "Query".');
    expect(data.requests.length).toBe(before);
  });

  it('sql-data-source is validated, warns at load, and its field answers an error saying it cannot run offline', async () => {
    const data = await dataBackend();
    const { gateway, diagnostics } = graphqlGateway(data.url);
    expect(diagnostics.filter((d) => d.code === 'policy/offline').map((d) => d.message)).toEqual([
      expect.stringContaining('<publish-event> runs offline'),
      expect.stringContaining('<sql-data-source> runs offline: there is no Azure SQL database offline'),
    ]);
    const r = await query(gateway, '{ family(id: 1) { name } }');
    expect(r.body).toMatchObject({ data: { family: null }, errors: [{ message: expect.stringContaining('<sql-data-source> cannot run offline') }] });
  });
});

describe('resolver validation', () => {
  it('reports bad resolver documents at their own file and position', () => {
    const r = tryBuildGateway({
      apiPath: 'gql',
      specification: SDL,
      settings: {
        'graphql.resolvers': {
          'test-api': {
            'Query/users': '<http-data-source>\n  <http-request><set-url>http://127.0.0.1:9/x</set-url></http-request>\n</http-data-source>',
            'Query/missing': '<http-data-source><http-request><set-method>GET</set-method><set-url>http://x</set-url></http-request></http-data-source>',
            'Query/family':
              '<cosmosdb-data-source><connection-info><connection-string>AccountEndpoint=x</connection-string><database-name>d</database-name><container-name>c</container-name></connection-info><read-request><id>1</id></read-request><write-request type="merge" /></cosmosdb-data-source>',
          },
        },
      },
      api: policies({ backend: FORWARD }),
    });
    expect(r.gateway).toBeNull();
    const errors = r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.file}|${d.code}|${d.message}`);
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^settings\["graphql.resolvers"\]\["test-api"\]\["Query\/users"\]\|policy\/missing-element\|.*set-method/),
        expect.stringMatching(/Query\/missing.*has no field missing on type Query/),
        expect.stringMatching(/Query\/family.*\|policy\/bad-attribute-value\|.*merge/),
        expect.stringMatching(
          /Query\/family.*needs exactly one of <query-request>, <read-request>, <delete-request>, <write-request>; found <read-request>, <write-request>/,
        ),
      ]),
    );
  });

  it('a data source inside <policies> is an error: it is the root of a resolver document', () => {
    const r = tryBuildGateway({
      api: policies({ backend: '<http-data-source><http-request><set-method>GET</set-method><set-url>http://x</set-url></http-request></http-data-source>' }),
    });
    expect(r.diagnostics.find((d) => d.severity === 'error')?.message).toContain('<http-data-source> is a GraphQL resolver');
  });
});

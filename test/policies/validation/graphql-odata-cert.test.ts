import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CLIENT_CERT_HEADER } from '../../../src/policies/validate-client-certificate.js';
import { buildGateway, policies, send } from '../../helpers/gateway.js';

/** validate-graphql-request, validate-odata-request and validate-client-certificate through the gateway. */
const SDL =
  'type Query { user(id: ID!): User, users: [User] }\ntype User { id: ID!, name: String, secret: String, friends: [User] }\ntype Mutation { deleteUser(id: ID!): Boolean }';
const gql = (query: string) => ({ method: 'POST', body: JSON.stringify({ query }), headers: { 'content-type': 'application/json' } });

describe('validate-graphql-request', () => {
  const echo = '<return-response><set-body>@(context.Request.Body.As&lt;string&gt;(preserveContent: true))</set-body></return-response>';
  it('checks syntax, depth and the schema; a request error answers with an errors block and no data', async () => {
    const { gateway } = buildGateway({
      specification: SDL,
      api: policies({ inbound: `<validate-graphql-request error-variable-name="gqlErrors" max-size="10240" max-depth="3" />${echo}` }),
    });
    expect((await send(gateway, '/api/graphql', gql('{ users { id name } }'))).status).toBe(200);
    const syntax = await send(gateway, '/api/graphql', gql('{ users { id '));
    expect(syntax.json()).toMatchObject({ errors: [{ message: expect.stringContaining('Syntax Error') }] });
    expect(syntax.json()).not.toHaveProperty('data');
    expect((await send(gateway, '/api/graphql', gql('{ users { friends { friends { id } } } }'))).json()).toEqual({
      errors: [{ message: 'The query depth 4 exceeds max-depth 3.' }],
    });
    expect((await send(gateway, '/api/graphql', gql('{ users { nope } }'))).json()).toEqual({
      errors: [{ message: 'Cannot query field "nope" on type "User". Did you mean "name"?' }],
    });
  });

  it('authorize rules: reject, remove (the field is dropped from the query sent on), introspection', async () => {
    const { gateway } = buildGateway({
      specification: SDL,
      api: policies({
        inbound: `<validate-graphql-request max-size="10240"><authorize><rule path="/__*" action="reject" /><rule path="/User/secret" action="remove" /><rule path="/Mutation/deleteUser" action="@(context.Request.Headers.GetValueOrDefault(&quot;x-admin&quot;,&quot;&quot;) == &quot;1&quot; ? &quot;allow&quot; : &quot;reject&quot;)" /></authorize></validate-graphql-request>${echo}`,
      }),
    });
    expect((await send(gateway, '/api/graphql', gql('{ __schema { types { name } } }'))).json()).toEqual({
      errors: [{ message: 'Access to /Query/__schema is not allowed.' }],
    });
    const removed = JSON.parse((await send(gateway, '/api/graphql', gql('{ user(id: 1) { id secret } }'))).text) as { query: string };
    expect(removed.query.replace(/\s+/g, ' ')).toBe('{ user(id: 1) { id } }');
    expect((await send(gateway, '/api/graphql', gql('mutation { deleteUser(id: 1) }'))).json()).toEqual({
      errors: [{ message: 'Access to /Mutation/deleteUser is not allowed.' }],
    });
    const admin = gql('mutation { deleteUser(id: 1) }');
    expect((await send(gateway, '/api/graphql', { ...admin, headers: { ...admin.headers, 'x-admin': '1' } })).text).toContain('deleteUser');
  });
});

describe('validate-odata-request', () => {
  it('checks the OData version range and system query options (400)', async () => {
    const { gateway } = buildGateway({
      api: policies({
        inbound: '<validate-odata-request error-variable-name="odataErrors" min-odata-version="4.0" max-odata-version="4.0" /><return-response />',
      }),
    });
    expect((await send(gateway, '/api/People?$filter=x', { headers: { 'OData-Version': '4.0' } })).status).toBe(200);
    const high = await send(gateway, '/api/People', { headers: { 'OData-Version': '4.01' } });
    expect(high.status).toBe(400);
    expect(high.json()).toMatchObject({ message: 'OData version 4.01 is higher than max-odata-version 4.0.' });
    expect((await send(gateway, '/api/People?$frobnicate=1', { headers: { 'OData-Version': '4.0' } })).json()).toMatchObject({
      message: 'Unknown OData system query option "$frobnicate".',
    });
  });
});

describe('validate-client-certificate', () => {
  // A self-signed test certificate (CN=client.contoso, valid 2026-12-02 to 2036-11-29), made with openssl req -x509.
  const CERT =
    'MIIBhzCCAS2gAwIBAgIUaiFlywG3gsfV779N17ot5yGhP7AwCgYIKoZIzj0EAwIwGTEXMBUGA1UEAwwOY2xpZW50LmNvbnRvc28wHhcNMjYxMjAyMTMxNjEwWhcNMzYxMTI5MTMxNjEwWjAZMRcwFQYDVQQDDA5jbGllbnQuY29udG9zbzBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABCwmeSg4JmDaFqMgmLeXhIQVddDCrMC2DoCZsNUznC8TooG8ASV5gS4eqZcjrPlDxhDLFwnlzTRz2LIK+EFWUPOjUzBRMB0GA1UdDgQWBBR73kkEhZUk6a/E6KCj+fv6AsAZ8TAfBgNVHSMEGDAWgBR73kkEhZUk6a/E6KCj+fv6AsAZ8TAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQCnWcm9k+1L1kWiEV67bixp5UPQ2TOl1E9oof2zy8Qc8gIgToIm63s9xmczmKnWfuhRhKVcBYgl1gNCmH9dsdaCMFM=';
  it('accepts a matching certificate, rejects a missing or foreign one with 401, checks dates on the clock', async () => {
    const cert = new X509Certificate(Buffer.from(CERT, 'base64'));
    const thumb = cert.fingerprint.replace(/:/g, '');
    const { gateway, clock, diagnostics } = buildGateway({
      api: policies({
        inbound: `<validate-client-certificate validate-revocation="false" validate-trust="false"><identities><identity thumbprint="${thumb}" /><identity common-name="other" /></identities></validate-client-certificate><return-response />`,
      }),
    });
    expect(diagnostics).toEqual([]);
    clock.set(Date.UTC(2027, 0, 1));
    expect((await send(gateway, '/api/x', { headers: { [CLIENT_CERT_HEADER]: CERT } })).status).toBe(200);
    expect(
      (await send(gateway, '/api/x', { headers: { [CLIENT_CERT_HEADER]: `-----BEGIN CERTIFICATE-----\n${CERT}\n-----END CERTIFICATE-----` } })).status,
    ).toBe(200);
    expect((await send(gateway, '/api/x')).status).toBe(401);
    clock.set(Date.UTC(2037, 0, 1));
    expect((await send(gateway, '/api/x', { headers: { [CLIENT_CERT_HEADER]: CERT } })).status).toBe(401);
  });
  it('warns that trust and revocation cannot be checked offline', () => {
    const { diagnostics } = buildGateway({ api: policies({ inbound: '<validate-client-certificate />' }) });
    expect(diagnostics.map((d) => `${d.severity}:${d.code}`)).toEqual(['warning:policy/offline']);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildGateway, policies, send, tryBuildGateway } from '../../helpers/gateway.js';

/**
 * validate-content's `schema-id` / `schema-ref` (schemas of the instance, given in settings.schemas),
 * `allow-additional-properties` and `case-insensitive-property-names` (validate-content-policy page).
 */
const SPEC = `
openapi: 3.0.1
info: { title: Orders, version: '1' }
paths:
  /orders:
    post:
      requestBody:
        content:
          application/json: { schema: { $ref: '#/components/schemas/Order' } }
      responses:
        '201': { description: created }
components:
  schemas:
    Order:
      type: object
      additionalProperties: false
      required: [id]
      properties:
        id: { type: integer }
        customer: { $ref: '#/components/schemas/Customer' }
    Customer:
      type: object
      required: [Name]
      properties:
        Name: { type: string }
`;

const ADDRESS_SCHEMAS = {
  components: {
    schemas: {
      address: { type: 'object', required: ['city'], properties: { city: { type: 'string' }, zip: { type: 'string', pattern: '^[0-9]{5}$' } } },
    },
  },
};

function gateway(content: string, settings: Record<string, unknown> = {}) {
  return buildGateway({
    specification: SPEC,
    settings,
    api: policies({
      inbound: `<validate-content unspecified-content-type-action="prevent" max-size="10000" size-exceeded-action="prevent">${content}</validate-content><return-response><set-body>ok</set-body></return-response>`,
      onError:
        '<return-response><set-status code="400" reason="Bad Request" /><set-body>@(context.LastError.Reason + ":" + context.LastError.Message)</set-body></return-response>',
    }),
  }).gateway;
}
const post = (g: ReturnType<typeof gateway>, body: unknown) =>
  send(g, '/api/orders', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }).then((r) => r.text);

describe('validate-content schema-id / schema-ref', () => {
  it("checks the body against the schema that schema-id names, at schema-ref, instead of the operation's", async () => {
    const g = gateway(
      '<content type="application/json" validate-as="json" action="prevent" schema-id="addresses" schema-ref="#/components/schemas/address" />',
      { schemas: { addresses: ADDRESS_SCHEMAS } },
    );
    expect(await post(g, { city: 'Oslo', zip: '01234' })).toBe('ok');
    // The operation's schema would need "id"; the named schema needs "city" and a 5-digit zip.
    expect(await post(g, { id: 1 })).toBe('SchemaValidation:required property "city" is missing');
    expect(await post(g, { city: 'Oslo', zip: 'x' })).toBe('SchemaValidation:/zip: must match pattern "^[0-9]{5}$"');
  });

  it('reads a schema file named in settings.schemas; without schema-ref the document itself is the schema', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'apim-schema-'));
    try {
      const file = path.join(dir, 'city.json');
      writeFileSync(file, JSON.stringify(ADDRESS_SCHEMAS.components.schemas.address));
      const g = gateway('<content type="application/json" validate-as="json" action="prevent" schema-id="City" />', { schemas: { city: file } });
      expect(await post(g, { city: 'Oslo' })).toBe('ok');
      expect(await post(g, { zip: '12345' })).toBe('SchemaValidation:required property "city" is missing');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('schema-ref without schema-id points into the API specification (emulator choice)', async () => {
    const g = gateway('<content type="application/json" validate-as="json" action="prevent" schema-ref="#/components/schemas/Customer" />');
    expect(await post(g, { Name: 'Ann' })).toBe('ok');
    expect(await post(g, { id: 1 })).toBe('SchemaValidation:required property "Name" is missing');
  });

  it('an unknown schema-id is an error when schemas were given, a warning when none were; a bad schema-ref is an error', () => {
    const missing = tryBuildGateway({
      specification: SPEC,
      settings: { schemas: { other: {} } },
      api: policies({
        inbound:
          '<validate-content unspecified-content-type-action="ignore" max-size="100" size-exceeded-action="ignore">\n<content validate-as="json" action="prevent" schema-id="nope" /></validate-content>',
      }),
    });
    expect(missing.gateway).toBeNull();
    expect(missing.diagnostics.find((d) => d.severity === 'error')).toMatchObject({
      code: 'policy/bad-attribute-value',
      line: 3,
      message: 'schema-id "nope" is not in settings.schemas (given: other)',
    });
    const none = tryBuildGateway({
      specification: SPEC,
      api: policies({
        inbound:
          '<validate-content unspecified-content-type-action="ignore" max-size="100" size-exceeded-action="ignore"><content validate-as="json" action="prevent" schema-id="nope" /></validate-content>',
      }),
    });
    expect(none.gateway).not.toBeNull();
    expect(none.diagnostics.map((d) => `${d.severity}:${d.code}`)).toEqual(['warning:policy/offline']);
    const ref = tryBuildGateway({
      specification: SPEC,
      api: policies({
        inbound:
          '<validate-content unspecified-content-type-action="ignore" max-size="100" size-exceeded-action="ignore"><content validate-as="json" action="prevent" schema-ref="#/components/schemas/Missing" /></validate-content>',
      }),
    });
    expect(ref.diagnostics.find((d) => d.severity === 'error')?.message).toContain('schema-ref "#/components/schemas/Missing" is not a local reference');
  });
});

describe('validate-content runtime overrides', () => {
  it('allow-additional-properties="true" lets through what additionalProperties: false refuses; "false" refuses what the schema allows', async () => {
    const base = gateway('<content type="application/json" validate-as="json" action="prevent" />');
    expect(await post(base, { id: 1, extra: true })).toBe('SchemaValidation:property "extra" is not allowed');
    expect(await post(base, { id: 1, customer: { Name: 'a', vip: true } })).toBe('ok');
    const allow = gateway('<content type="application/json" validate-as="json" action="prevent" allow-additional-properties="true" />');
    expect(await post(allow, { id: 1, extra: true })).toBe('ok');
    const deny = gateway('<content type="application/json" validate-as="json" action="prevent" allow-additional-properties="false" />');
    expect(await post(deny, { id: 1, customer: { Name: 'a', vip: true } })).toBe('SchemaValidation:/customer: property "vip" is not allowed');
  });

  it('case-insensitive-property-names="true" matches property names whatever their case', async () => {
    const strict = gateway('<content type="application/json" validate-as="json" action="prevent" />');
    expect(await post(strict, { ID: 1 })).toMatch(/^SchemaValidation:/);
    const relaxed = gateway('<content type="application/json" validate-as="json" action="prevent" case-insensitive-property-names="true" />');
    expect(await post(relaxed, { ID: 1, Customer: { name: 'a' } })).toBe('ok');
    expect(await post(relaxed, { ID: 'one' })).toBe('SchemaValidation:/id: must be integer');
  });
});

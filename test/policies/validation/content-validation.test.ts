import { afterEach, describe, expect, it } from 'vitest';
import { backendPool, buildGateway, FORWARD, policies, send } from '../../helpers/gateway.js';

/** validate-content / -parameters / -headers / -status-code against the API's OpenAPI specification. */
const pool = backendPool();
afterEach(() => pool.closeAll());

const SPEC = `
openapi: 3.0.1
info: { title: Orders, version: '1' }
paths:
  /orders/{id}:
    get:
      parameters:
        - { name: id, in: path, required: true, schema: { type: integer } }
        - { name: verbose, in: query, schema: { type: boolean } }
        - { name: x-tenant, in: header, required: true, schema: { type: string, enum: [a, b] } }
      responses:
        '200':
          description: ok
          headers:
            x-rate: { required: true, schema: { type: integer } }
          content:
            application/json: { schema: { $ref: '#/components/schemas/Order' } }
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
      required: [id, qty]
      properties:
        id: { type: integer }
        qty: { type: integer, minimum: 1 }
`;

const ERRORS =
  '<return-response><set-status code="599" reason="E" /><set-body>@(context.LastError.Reason + "|" + context.Response.StatusCode + "|" + context.LastError.Message)</set-body></return-response>';

describe('validate-content', () => {
  const api = (action: string) =>
    policies({
      inbound: `<validate-content unspecified-content-type-action="prevent" max-size="100" size-exceeded-action="prevent" errors-variable-name="errs"><content type="application/json" validate-as="json" action="${action}" /></validate-content><return-response><set-body>@(context.Variables.ContainsKey("errs") ? "found" : "none")</set-body></return-response>`,
      onError: `<return-response><set-status code="400" reason="Bad Request" /><set-body>@(context.LastError.Source + ":" + context.LastError.Reason + ":" + context.LastError.Message)</set-body></return-response>`,
    });
  it("prevent: a body that breaks the operation's schema stops the request with 400", async () => {
    const { gateway } = buildGateway({ specification: SPEC, api: api('prevent') });
    const bad = await send(gateway, '/api/orders', { method: 'POST', body: '{"id":1,"qty":0}', headers: { 'content-type': 'application/json' } });
    expect(bad.status).toBe(400);
    expect(bad.text).toBe('validate-content:SchemaValidation:/qty: must be >= 1');
    const ok = await send(gateway, '/api/orders', { method: 'POST', body: '{"id":1,"qty":2}', headers: { 'content-type': 'application/json' } });
    expect(ok.text).toBe('none');
  });
  it('size-exceeded-action and unspecified-content-type-action', async () => {
    const { gateway } = buildGateway({ specification: SPEC, api: api('prevent') });
    expect(
      (
        await send(gateway, '/api/orders', {
          method: 'POST',
          body: `{"id":1,"qty":2,"pad":"${'x'.repeat(100)}"}`,
          headers: { 'content-type': 'application/json' },
        })
      ).text,
    ).toMatch(/^validate-content:MaxSize:/);
    expect((await send(gateway, '/api/orders', { method: 'POST', body: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).text).toBe(
      'validate-content:UnspecifiedContentType:Content type "application/x-www-form-urlencoded" is not specified for this request.',
    );
  });
  it('detect: findings go to errors-variable-name and the request goes on', async () => {
    const { gateway } = buildGateway({ specification: SPEC, api: api('detect') });
    const r = await send(gateway, '/api/orders', { method: 'POST', body: '{"qty":0}', headers: { 'content-type': 'application/json' } });
    expect(r.text).toBe('found');
    expect(r.context!.variables.get('errs')).toEqual([
      { Name: 'RequestBody', Type: 'RequestBody', ValidationRule: 'SchemaValidation', Details: 'required property "id" is missing', Action: 'detect' },
      { Name: 'RequestBody', Type: 'RequestBody', ValidationRule: 'SchemaValidation', Details: '/qty: must be >= 1', Action: 'detect' },
    ]);
  });
  it('without a specification: a warning at load, JSON checked for well-formedness only', async () => {
    const { gateway, diagnostics } = buildGateway({ api: api('prevent') });
    expect(diagnostics.filter((d) => d.severity === 'warning').map((d) => d.code)).toContain('policy/no-specification');
    expect((await send(gateway, '/api/orders', { method: 'POST', body: '{"qty":0}', headers: { 'content-type': 'application/json' } })).text).toBe('none');
    expect((await send(gateway, '/api/orders', { method: 'POST', body: '{"qty":', headers: { 'content-type': 'application/json' } })).text).toMatch(
      /^validate-content:BodyFormat:The body is not valid JSON/,
    );
  });
});

describe('validate-parameters, validate-headers, validate-status-code', () => {
  it('validate-parameters checks path, query and header parameters, and reports unspecified ones', async () => {
    const { gateway } = buildGateway({
      specification: SPEC,
      api: policies({
        inbound:
          '<validate-parameters specified-parameter-action="prevent" unspecified-parameter-action="prevent" errors-variable-name="e"><headers specified-parameter-action="prevent" unspecified-parameter-action="ignore" /></validate-parameters><return-response />',
        onError: ERRORS,
      }),
    });
    expect((await send(gateway, '/api/orders/12?verbose=true', { headers: { 'x-tenant': 'a', 'x-other': '1' } })).status).toBe(200);
    expect((await send(gateway, '/api/orders/abc', { headers: { 'x-tenant': 'a' } })).text).toBe('Schema|400|path parameter "id": must be integer');
    expect((await send(gateway, '/api/orders/1', { headers: { 'x-tenant': 'z' } })).text).toMatch(
      /^Schema\|400\|header parameter "x-tenant": must be equal to one of the allowed values/,
    );
    expect((await send(gateway, '/api/orders/1')).text).toBe('Required|400|Required header parameter "x-tenant" is missing.');
    expect((await send(gateway, '/api/orders/1?debug=1', { headers: { 'x-tenant': 'a' } })).text).toBe(
      'Unspecified|400|query parameter "debug" is not specified for this operation.',
    );
  });

  it('validate-headers and validate-status-code check the backend response (prevent = 502)', async () => {
    let status = 200;
    let rate = '5';
    const b = await pool.backend((_req, res) => {
      res.statusCode = status;
      if (rate) res.setHeader('x-rate', rate);
      res.setHeader('Content-Type', 'application/json');
      res.end('{"id":1,"qty":1}');
    });
    const { gateway } = buildGateway({
      serviceUrl: b.url,
      specification: SPEC,
      api: policies({
        backend: FORWARD,
        outbound:
          '<validate-status-code unspecified-status-code-action="prevent"><status-code code="404" action="ignore" /></validate-status-code><validate-headers specified-header-action="prevent" unspecified-header-action="ignore" />',
        onError: ERRORS,
      }),
    });
    expect((await send(gateway, '/api/orders/1', { headers: { 'x-tenant': 'a' } })).status).toBe(200);
    rate = 'many';
    expect((await send(gateway, '/api/orders/1')).text).toBe('Schema|502|response header "x-rate": must be integer');
    rate = '';
    expect((await send(gateway, '/api/orders/1')).text).toBe('Required|502|Required response header "x-rate" is missing.');
    status = 500;
    expect((await send(gateway, '/api/orders/1')).text).toBe('Unspecified|502|Status code 500 is not specified for this operation.');
    status = 404;
    rate = '1';
    expect((await send(gateway, '/api/orders/1')).status).toBe(404);
  });
});

import { describe, expect, it } from 'vitest';
import { buildGateway, policies, send } from '../../helpers/gateway.js';

/** A request that matches no operation raises OperationNotFound (source configuration) into on-error, as APIM does. */
describe('OperationNotFound', () => {
  const operations = [{ id: 'get-order', method: 'GET', urlTemplate: '/orders/{id}' }];

  it("runs on-error with LastError.Reason OperationNotFound (Microsoft's 405 snippet)", async () => {
    const { gateway } = buildGateway({
      operations,
      global: policies({
        inbound: '<base />',
        onError:
          '<choose><when condition="@(context.LastError.Source == &quot;configuration&quot; &amp;&amp; context.LastError.Reason == &quot;OperationNotFound&quot;)"><return-response><set-status code="405" reason="Method not allowed" /><set-body>@(context.LastError.Message)</set-body></return-response></when></choose>',
      }),
      api: policies({ inbound: '<base /><return-response />' }),
    });
    const r = await send(gateway, '/api/orders/1', { method: 'DELETE' });
    expect(r.status).toBe(405);
    expect(r.text).toBe('Unable to match incoming request to an operation.');
    expect((await send(gateway, '/api/orders/1')).status).toBe(200);
  });

  it('without an on-error that answers, the caller still gets 404', async () => {
    const { gateway } = buildGateway({ operations, api: policies({ inbound: '<return-response />' }) });
    const r = await send(gateway, '/api/nothing');
    expect(r.status).toBe(404);
    expect(r.json()).toMatchObject({ statusCode: 404, message: 'Resource not found' });
  });
});

import type { PolicyDefinition } from '../engine/policy-sdk.js';

/** `<authentication-basic username password>`: sets `Authorization: Basic base64(username:password)` on the backend request. */
export const authenticationBasic: PolicyDefinition = {
  name: 'authentication-basic',
  summary: 'Sets the Authorization header to Basic credentials for the backend.',
  support: 'full',
  sections: ['inbound'],
  scopes: ['global', 'product', 'api', 'operation'],
  attributes: [
    { name: 'username', required: true, expressions: true },
    { name: 'password', required: true, expressions: true },
  ],
  compile(el, cx) {
    const username = cx.string(el, 'username')!;
    const password = cx.string(el, 'password')!;
    return (ctx) => {
      const credentials = Buffer.from(`${username(ctx)}:${password(ctx)}`, 'utf8').toString('base64');
      ctx.request.headers.set('Authorization', [`Basic ${credentials}`]);
      return 'continue';
    };
  },
};

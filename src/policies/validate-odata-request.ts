import type { Flow, PolicyDefinition } from '../engine/policy-sdk.js';
import { PolicyError, gatewayErrorResponse } from '../engine/policy-sdk.js';

const VERSIONS = ['4.0', '4.01'];

/**
 * `<validate-odata-request error-variable-name default-odata-version min-odata-version max-odata-version max-size />`.
 * Attribute table: learn.microsoft.com/azure/api-management/validate-odata-request-policy (read 2026-12-02).
 * Checks the OData-Version / OData-MaxVersion headers against the allowed range, the payload size, and that system
 * query options are known ($filter, $select...); the OData metadata document is not loaded, so entity sets and
 * property names are not checked (docs/emulator-choices.md). A violation is a request error: 400 with the message.
 */
export const validateOdataRequest: PolicyDefinition = {
  name: 'validate-odata-request',
  summary: 'Checks OData version headers, payload size and system query options of an OData request (no $metadata offline).',
  support: 'approximate',
  sections: ['inbound'],
  scopes: ['global', 'product', 'api'],
  attributes: [
    { name: 'error-variable-name', expressions: false },
    { name: 'default-odata-version', expressions: true, kind: 'enum', values: VERSIONS, default: '4.01' },
    { name: 'min-odata-version', expressions: true, kind: 'enum', values: VERSIONS },
    { name: 'max-odata-version', expressions: true, kind: 'enum', values: VERSIONS },
    { name: 'max-size', expressions: true, kind: 'int', min: 0 },
  ],
  compile(el, cx) {
    cx.needsBody('request');
    const errorVariable = el.attributes.find((a) => a.name === 'error-variable-name')?.value.text;
    const defaultVersion = cx.string(el, 'default-odata-version') ?? (() => '4.01');
    const min = cx.string(el, 'min-odata-version');
    const max = cx.string(el, 'max-odata-version');
    const maxSize = cx.int(el, 'max-size');
    return async (ctx): Promise<Flow> => {
      const errors: string[] = [];
      const version =
        ctx.request.headers.getJoined('OData-Version')?.trim() ?? ctx.request.headers.getJoined('OData-MaxVersion')?.trim() ?? defaultVersion(ctx);
      const v = Number(version);
      if (!Number.isFinite(v)) errors.push(`OData version "${version}" is not a version number.`);
      else {
        if (min && v < Number(min(ctx))) errors.push(`OData version ${version} is lower than min-odata-version ${min(ctx)}.`);
        if (max && v > Number(max(ctx))) errors.push(`OData version ${version} is higher than max-odata-version ${max(ctx)}.`);
      }
      if (maxSize && ctx.request.body) {
        const n = (await ctx.request.body.buffer()).length;
        if (n > maxSize(ctx)) errors.push(`The request is ${n} bytes, more than max-size ${maxSize(ctx)}.`);
      }
      for (const [name] of ctx.request.url.query.entries()) {
        if (name.startsWith('$') && !SYSTEM_OPTIONS.has(name.toLowerCase())) errors.push(`Unknown OData system query option "${name}".`);
      }
      if (errors.length === 0) return 'continue';
      if (errorVariable) ctx.variables.set(errorVariable, errors);
      throw new PolicyError('validate-odata-request', 'ODataRequestValidationFailure', errors.join(' '), gatewayErrorResponse(400, errors.join(' ')));
    };
  },
};

const SYSTEM_OPTIONS = new Set([
  '$filter',
  '$select',
  '$expand',
  '$orderby',
  '$top',
  '$skip',
  '$count',
  '$search',
  '$format',
  '$compute',
  '$index',
  '$schemaversion',
  '$skiptoken',
  '$deltatoken',
  '$apply',
  '$levels',
  '$id',
]);

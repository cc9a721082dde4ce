import type { ElementSpec, PolicyDefinition } from '../engine/policy-sdk.js';
import { compileOfflineDataSource } from './support/offline-resolver.js';

const SET_BODY: ElementSpec = {
  name: 'set-body',
  max: 1,
  attributes: [{ name: 'template', expressions: false, kind: 'enum', values: ['liquid', 'none'] }],
  text: { expressions: true },
};
const INCLUDE_FRAGMENT: ElementSpec = { name: 'include-fragment', attributes: [{ name: 'fragment-id', required: true, expressions: false }] };

/**
 * `<sql-data-source>`: GraphQL resolver over Azure SQL (T-SQL request with parameters, optional response policies).
 * Element and attribute tables: learn.microsoft.com/azure/api-management/sql-data-source-policy (ms.date 06/07/2023,
 * read 2026-12-02). Validated in full; offline there is no Azure SQL, so the resolved field answers a GraphQL error
 * that says so (load warning `policy/offline`).
 */
export const sqlDataSource: PolicyDefinition = {
  name: 'sql-data-source',
  summary: 'GraphQL resolver over Azure SQL: validated; no database offline, so its field answers an error that says so.',
  support: 'approximate',
  sections: ['backend'],
  attributes: [],
  ordered: true,
  elements: [
    {
      name: 'connection-info',
      min: 1,
      max: 1,
      elements: [
        {
          name: 'connection-string',
          min: 1,
          max: 1,
          attributes: [{ name: 'use-managed-identity', expressions: true, kind: 'bool', default: 'false' }],
          text: { expressions: true, required: true },
        },
        INCLUDE_FRAGMENT,
        {
          name: 'authentication-certificate',
          max: 1,
          attributes: [
            { name: 'thumbprint', expressions: true },
            { name: 'certificate-id', expressions: true },
            { name: 'body', expressions: true },
            { name: 'password', expressions: true },
          ],
        },
      ],
    },
    INCLUDE_FRAGMENT,
    {
      name: 'request',
      min: 1,
      max: 1,
      attributes: [{ name: 'single-result', expressions: true, kind: 'bool', default: 'false' }],
      elements: [
        INCLUDE_FRAGMENT,
        SET_BODY,
        { name: 'sql-statement', min: 1, max: 1, text: { expressions: true, required: true } },
        {
          name: 'parameters',
          max: 1,
          elements: [
            {
              name: 'parameter',
              attributes: [
                { name: 'name', required: true, expressions: false },
                { name: 'sql-type', expressions: false },
              ],
              text: { expressions: true },
            },
          ],
        },
      ],
    },
    { name: 'response', max: 1, policies: ['include-fragment', 'set-body', 'publish-event'], section: 'outbound' },
  ],
  compile: (el, cx) => compileOfflineDataSource(el, cx, 'Azure SQL database'),
};

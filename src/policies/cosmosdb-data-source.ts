import type { ElementSpec, PolicyDefinition } from '../engine/policy-sdk.js';
import { compileOfflineDataSource } from './support/offline-resolver.js';

const LIQUID = { name: 'template', expressions: false, kind: 'enum', values: ['liquid'] } as const;
const ID: ElementSpec = { name: 'id', max: 1, attributes: [LIQUID], text: { expressions: true, required: true } };
const PARTITION_KEY: ElementSpec = {
  name: 'partition-key',
  max: 1,
  attributes: [{ name: 'data-type', expressions: false, kind: 'enum', values: ['string', 'number', 'bool', 'none', 'null'] }, LIQUID],
  text: { expressions: true },
};
const CONSISTENCY = {
  name: 'consistency-level',
  expressions: false,
  kind: 'enum',
  values: ['bounded-staleness', 'consistent-prefix', 'eventual', 'session', 'strong'],
} as const;
const TRIGGERS = [
  { name: 'pre-trigger', expressions: false },
  { name: 'post-trigger', expressions: false },
] as const;

/**
 * `<cosmosdb-data-source>`: GraphQL resolver over Cosmos DB (one of query-, read-, delete- or write-request).
 * Element and attribute tables: learn.microsoft.com/azure/api-management/cosmosdb-data-source-policy (ms.date
 * 03/18/2024, read 2026-12-02). Validated in full; offline there is no Cosmos DB, so the resolved field answers a
 * GraphQL error that says so (load warning `policy/offline`).
 */
export const cosmosdbDataSource: PolicyDefinition = {
  name: 'cosmosdb-data-source',
  summary: 'GraphQL resolver over Cosmos DB: validated; no database offline, so its field answers an error that says so.',
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
          attributes: [{ name: 'use-managed-identity', expressions: false, kind: 'bool', default: 'false' }],
          text: { expressions: true, required: true },
        },
        { name: 'database-name', min: 1, max: 1, text: { expressions: true, required: true } },
        { name: 'container-name', min: 1, max: 1, text: { expressions: true, required: true } },
      ],
    },
    {
      name: 'query-request',
      max: 1,
      attributes: [{ name: 'enable-low-precision-order-by', expressions: false, kind: 'bool' }],
      elements: [
        { name: 'sql-statement', max: 1, text: { expressions: true } },
        {
          name: 'parameters',
          max: 1,
          elements: [{ name: 'parameter', attributes: [{ name: 'name', required: true, expressions: false }], text: { expressions: true } }],
        },
        PARTITION_KEY,
        {
          name: 'paging',
          max: 1,
          elements: [
            { name: 'max-item-count', min: 1, max: 1, attributes: [LIQUID], text: { expressions: true, required: true } },
            { name: 'continuation-token', min: 1, max: 1, attributes: [LIQUID], text: { expressions: true, required: true } },
          ],
        },
      ],
    },
    { name: 'read-request', max: 1, elements: [{ ...ID, min: 1 }, PARTITION_KEY] },
    {
      name: 'delete-request',
      max: 1,
      attributes: [CONSISTENCY, ...TRIGGERS],
      elements: [
        { name: 'etag', max: 1, attributes: [{ name: 'type', expressions: false }, LIQUID], text: { expressions: true } },
        { ...ID, min: 1 },
        PARTITION_KEY,
      ],
    },
    {
      name: 'write-request',
      max: 1,
      attributes: [
        { name: 'type', expressions: false, kind: 'enum', values: ['insert', 'replace', 'upsert'], default: 'upsert' },
        CONSISTENCY,
        { name: 'indexing-directive', expressions: false, kind: 'enum', values: ['default', 'include', 'exclude'], default: 'default' },
        ...TRIGGERS,
      ],
      elements: [
        ID,
        PARTITION_KEY,
        {
          name: 'etag',
          max: 1,
          attributes: [{ name: 'type', expressions: false, kind: 'enum', values: ['match', 'no-match'] }, LIQUID],
          text: { expressions: true },
        },
        {
          name: 'set-body',
          max: 1,
          attributes: [{ name: 'template', expressions: false, kind: 'enum', values: ['liquid', 'none'] }],
          text: { expressions: true },
        },
      ],
    },
    { name: 'response', max: 1, policies: ['set-body', 'publish-event'], section: 'outbound' },
  ],
  compile(el, cx) {
    const requests = ['query-request', 'read-request', 'delete-request', 'write-request'].filter((n) =>
      el.children.some((c) => c.kind === 'element' && c.name === n),
    );
    if (requests.length !== 1) {
      cx.diagnostics.error(
        el.source,
        el.start,
        requests.length === 0 ? 'policy/missing-element' : 'policy/too-many-elements',
        `<cosmosdb-data-source> needs exactly one of <query-request>, <read-request>, <delete-request>, <write-request>${requests.length ? `; found ${requests.map((r) => `<${r}>`).join(', ')}` : ''}`,
      );
    }
    return compileOfflineDataSource(el, cx, 'Cosmos DB');
  },
};

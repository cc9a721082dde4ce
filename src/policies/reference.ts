/**
 * Every policy of Microsoft's policy reference, by element name, with the section of the reference index that lists
 * it. A test walks this list and asserts that each one is known to the registry (test/policies/reference.test.ts).
 *
 * Source: "API Management policy reference", learn.microsoft.com/azure/api-management/api-management-policies
 * (repository MicrosoftDocs/azure-docs, articles/api-management/api-management-policies.md, ms.date 03/28/2024),
 * completed with the policies the reference pages added since (AI gateway, Service Bus), read 2026-12-02.
 */
export const POLICY_REFERENCE_SOURCE = 'learn.microsoft.com/azure/api-management/api-management-policies (read 2026-12-02)';

export const POLICY_REFERENCE: ReadonlyArray<{ readonly name: string; readonly group: string }> = [
  // Rate limiting and quotas
  { name: 'rate-limit', group: 'Rate limiting and quotas' },
  { name: 'rate-limit-by-key', group: 'Rate limiting and quotas' },
  { name: 'quota', group: 'Rate limiting and quotas' },
  { name: 'quota-by-key', group: 'Rate limiting and quotas' },
  { name: 'limit-concurrency', group: 'Rate limiting and quotas' },
  { name: 'azure-openai-token-limit', group: 'Rate limiting and quotas' },
  { name: 'llm-token-limit', group: 'Rate limiting and quotas' },
  // Authentication and authorization
  { name: 'check-header', group: 'Authentication and authorization' },
  { name: 'get-authorization-context', group: 'Authentication and authorization' },
  { name: 'ip-filter', group: 'Authentication and authorization' },
  { name: 'validate-azure-ad-token', group: 'Authentication and authorization' },
  { name: 'validate-jwt', group: 'Authentication and authorization' },
  { name: 'validate-client-certificate', group: 'Authentication and authorization' },
  { name: 'authentication-basic', group: 'Authentication and authorization' },
  { name: 'authentication-certificate', group: 'Authentication and authorization' },
  { name: 'authentication-managed-identity', group: 'Authentication and authorization' },
  // Content safety
  { name: 'llm-content-safety', group: 'Content safety' },
  // Content validation
  { name: 'validate-content', group: 'Content validation' },
  { name: 'validate-graphql-request', group: 'Content validation' },
  { name: 'validate-odata-request', group: 'Content validation' },
  { name: 'validate-parameters', group: 'Content validation' },
  { name: 'validate-headers', group: 'Content validation' },
  { name: 'validate-status-code', group: 'Content validation' },
  // Routing
  { name: 'forward-request', group: 'Routing' },
  { name: 'set-backend-service', group: 'Routing' },
  { name: 'proxy', group: 'Routing' },
  // Caching
  { name: 'cache-lookup', group: 'Caching' },
  { name: 'cache-store', group: 'Caching' },
  { name: 'cache-lookup-value', group: 'Caching' },
  { name: 'cache-store-value', group: 'Caching' },
  { name: 'cache-remove-value', group: 'Caching' },
  { name: 'azure-openai-semantic-cache-lookup', group: 'Caching' },
  { name: 'azure-openai-semantic-cache-store', group: 'Caching' },
  { name: 'llm-semantic-cache-lookup', group: 'Caching' },
  { name: 'llm-semantic-cache-store', group: 'Caching' },
  // Transformation
  { name: 'set-method', group: 'Transformation' },
  { name: 'set-status', group: 'Transformation' },
  { name: 'set-variable', group: 'Transformation' },
  { name: 'set-body', group: 'Transformation' },
  { name: 'set-header', group: 'Transformation' },
  { name: 'set-query-parameter', group: 'Transformation' },
  { name: 'rewrite-uri', group: 'Transformation' },
  { name: 'json-to-xml', group: 'Transformation' },
  { name: 'xml-to-json', group: 'Transformation' },
  { name: 'find-and-replace', group: 'Transformation' },
  { name: 'redirect-content-urls', group: 'Transformation' },
  { name: 'xsl-transform', group: 'Transformation' },
  { name: 'return-response', group: 'Transformation' },
  { name: 'mock-response', group: 'Transformation' },
  // Cross-domain
  { name: 'cross-domain', group: 'Cross-domain' },
  { name: 'cors', group: 'Cross-domain' },
  { name: 'jsonp', group: 'Cross-domain' },
  // Integration and external communication
  { name: 'send-request', group: 'Integration and external communication' },
  { name: 'send-one-way-request', group: 'Integration and external communication' },
  { name: 'log-to-eventhub', group: 'Integration and external communication' },
  { name: 'send-service-bus-message', group: 'Integration and external communication' },
  // set-backend-service with dapr-* attributes is the reference's "Send request to a service (Dapr)"
  { name: 'publish-to-dapr', group: 'Integration and external communication' },
  { name: 'invoke-dapr-binding', group: 'Integration and external communication' },
  // Logging
  { name: 'trace', group: 'Logging' },
  { name: 'emit-metric', group: 'Logging' },
  { name: 'azure-openai-emit-token-metric', group: 'Logging' },
  { name: 'llm-emit-token-metric', group: 'Logging' },
  // GraphQL resolvers
  { name: 'sql-data-source', group: 'GraphQL resolvers' },
  { name: 'cosmosdb-data-source', group: 'GraphQL resolvers' },
  { name: 'http-data-source', group: 'GraphQL resolvers' },
  { name: 'publish-event', group: 'GraphQL resolvers' },
  // Policy control and flow
  { name: 'choose', group: 'Policy control and flow' },
  { name: 'include-fragment', group: 'Policy control and flow' },
  { name: 'retry', group: 'Policy control and flow' },
  { name: 'wait', group: 'Policy control and flow' },
];

import type { PolicyCatalog, PolicyDefinition, PolicySection } from '../engine/policy-sdk.js';
import { azureOpenAiTokenLimit } from './azure-openai-token-limit.js';
import { authenticationBasic } from './authentication-basic.js';
import { authenticationCertificate } from './authentication-certificate.js';
import { authenticationManagedIdentity } from './authentication-managed-identity.js';
import { checkHeader } from './check-header.js';
import { cors } from './cors.js';
import { getAuthorizationContext } from './get-authorization-context.js';
import { ipFilter } from './ip-filter.js';
import { validateAzureAdToken } from './validate-azure-ad-token.js';
import { validateJwt } from './validate-jwt.js';
import { choose } from './choose.js';
import { findAndReplace } from './find-and-replace.js';
import { forwardRequest } from './forward-request.js';
import { limitConcurrency } from './limit-concurrency.js';
import { llmTokenLimit } from './llm-token-limit.js';
import { mockResponse } from './mock-response.js';
import { quota } from './quota.js';
import { quotaByKey } from './quota-by-key.js';
import { rateLimit } from './rate-limit.js';
import { rateLimitByKey } from './rate-limit-by-key.js';
import { retry } from './retry.js';
import { returnResponse } from './return-response.js';
import { rewriteUri } from './rewrite-uri.js';
import { sendRequest } from './send-request.js';
import { setBackendService } from './set-backend-service.js';
import { setBody } from './set-body.js';
import { setHeader } from './set-header.js';
import { setMethod } from './set-method.js';
import { setQueryParameter } from './set-query-parameter.js';
import { setStatus } from './set-status.js';
import { setVariable } from './set-variable.js';
import { trace } from './trace.js';
import { azureOpenAiEmitTokenMetric, llmEmitTokenMetric } from './llm-emit-token-metric.js';
import { azureOpenAiSemanticCacheLookup, llmSemanticCacheLookup } from './semantic-cache-lookup.js';
import { azureOpenAiSemanticCacheStore, llmSemanticCacheStore } from './semantic-cache-store.js';
import { cacheLookup } from './cache-lookup.js';
import { cacheLookupValue } from './cache-lookup-value.js';
import { cacheRemoveValue } from './cache-remove-value.js';
import { cacheStore } from './cache-store.js';
import { cacheStoreValue } from './cache-store-value.js';
import { emitMetric } from './emit-metric.js';
import { llmContentSafety } from './llm-content-safety.js';
import { logToEventHub } from './log-to-eventhub.js';
import { wait } from './wait.js';
import { crossDomain } from './cross-domain.js';
import { invokeDaprBinding } from './invoke-dapr-binding.js';
import { jsonToXmlPolicy } from './json-to-xml.js';
import { jsonp } from './jsonp.js';
import { proxy } from './proxy.js';
import { publishToDapr } from './publish-to-dapr.js';
import { redirectContentUrls } from './redirect-content-urls.js';
import { sendOneWayRequest } from './send-one-way-request.js';
import { sendServiceBusMessage } from './send-service-bus-message.js';
import { validateClientCertificate } from './validate-client-certificate.js';
import { validateContent } from './validate-content.js';
import { validateGraphqlRequest } from './validate-graphql-request.js';
import { validateHeaders } from './validate-headers.js';
import { validateOdataRequest } from './validate-odata-request.js';
import { validateParameters } from './validate-parameters.js';
import { validateStatusCode } from './validate-status-code.js';
import { xmlToJsonPolicy } from './xml-to-json.js';
import { xslTransform } from './xsl-transform.js';
import { cosmosdbDataSource } from './cosmosdb-data-source.js';
import { httpDataSource } from './http-data-source.js';
import { publishEvent } from './publish-event.js';
import { sqlDataSource } from './sql-data-source.js';

/**
 * Every policy apim-emulator knows. Adding a policy: write its file in this folder (importing only
 * ../engine/policy-sdk.js, expressions and dotnet), add it to IMPLEMENTED, drop its name from NOT_YET_SUPPORTED, and
 * give it its line in docs/policies.md (CONTRIBUTING.md). `base` and `include-fragment` are structural and handled by the compiler.
 */
const IMPLEMENTED: readonly PolicyDefinition[] = [
  // Access control and identity
  authenticationBasic,
  authenticationCertificate,
  authenticationManagedIdentity,
  checkHeader,
  cors,
  getAuthorizationContext,
  ipFilter,
  validateAzureAdToken,
  validateJwt,
  // AI gateway: metrics, caches, content safety, event hub logging
  azureOpenAiEmitTokenMetric,
  llmEmitTokenMetric,
  azureOpenAiSemanticCacheLookup,
  azureOpenAiSemanticCacheStore,
  llmSemanticCacheLookup,
  llmSemanticCacheStore,
  cacheLookup,
  cacheLookupValue,
  cacheRemoveValue,
  cacheStore,
  cacheStoreValue,
  emitMetric,
  llmContentSafety,
  logToEventHub,
  azureOpenAiTokenLimit,
  limitConcurrency,
  llmTokenLimit,
  quota,
  quotaByKey,
  rateLimit,
  rateLimitByKey,
  choose,
  findAndReplace,
  forwardRequest,
  mockResponse,
  retry,
  returnResponse,
  rewriteUri,
  sendRequest,
  setBackendService,
  setBody,
  setHeader,
  setMethod,
  setQueryParameter,
  setStatus,
  setVariable,
  trace,
  wait,
  // Transformation
  jsonToXmlPolicy,
  xmlToJsonPolicy,
  xslTransform,
  redirectContentUrls,
  // Cross-domain
  crossDomain,
  jsonp,
  // Routing and integration (offline sinks: support/sinks.ts)
  proxy,
  sendOneWayRequest,
  sendServiceBusMessage,
  publishToDapr,
  invokeDaprBinding,
  // Content validation
  validateClientCertificate,
  validateContent,
  validateGraphqlRequest,
  validateHeaders,
  validateOdataRequest,
  validateParameters,
  validateStatusCode,
  // GraphQL resolvers of synthetic GraphQL APIs (support/graphql-resolvers.ts)
  httpDataSource,
  sqlDataSource,
  cosmosdbDataSource,
  publishEvent,
];

const ALL_SECTIONS: readonly PolicySection[] = ['inbound', 'backend', 'outbound', 'on-error'];

/**
 * Real APIM policies that apim-emulator recognises but does not execute yet: loading a document that uses one fails
 * with "<x> is not supported by apim-emulator yet" (never a silent no-op).
 */
const NOT_YET_SUPPORTED: Record<string, string> = {
  'set-graphql-resolver':
    'Retired GraphQL resolver policy, replaced by http-data-source in APIM itself: not in the current policy reference, so not executed; write the resolver with <http-data-source>.',
};

const BY_NAME = new Map<string, PolicyDefinition>();
for (const d of IMPLEMENTED) BY_NAME.set(d.name, d);
for (const [name, summary] of Object.entries(NOT_YET_SUPPORTED)) {
  if (!BY_NAME.has(name)) BY_NAME.set(name, { name, summary, support: 'unsupported', sections: ALL_SECTIONS, attributes: [] });
}

export function getPolicyDefinition(name: string): PolicyDefinition | undefined {
  return BY_NAME.get(name);
}

export function policyNames(): string[] {
  return [...BY_NAME.keys(), 'base', 'include-fragment'];
}

export function allPolicyDefinitions(): PolicyDefinition[] {
  return [...BY_NAME.values()];
}

/** The registry as the pipeline compiler and the gateway receive it (injected: the pipeline imports no policy). */
export const POLICY_CATALOG: PolicyCatalog = {
  get: getPolicyDefinition,
  names: policyNames,
  all: allPolicyDefinitions,
};

/** Backends: definitions (ARM shapes → one model), validation, pool selection and circuit breakers. See docs/backends.md. */
export type {
  BackendInputFile,
  LoadBackendsOptions,
  BackendDefinition,
  BackendCredentials,
  BackendPoolMember,
  CircuitBreakerRule,
  StatusCodeRange,
  BreakerOutcome,
  BackendSelection,
  SelectionCredentials,
  SessionSource,
  SessionAssignment,
  SessionAffinityCounts,
  BackendStateSnapshot,
  BreakerSnapshot,
  BreakerState,
  CircuitBreakerEvent,
} from './types.js';
export { loadBackends, isBackendDocument, type LoadBackendsResult } from './load.js';
export { BackendRegistry, type BackendRegistryOptions } from './registry.js';
export { CircuitBreaker } from './breaker.js';
export { requestCookie } from './session.js';
export { parseIsoDuration, formatTimeSpan, retryAfterMs } from './duration.js';
export { KNOWN_ERROR_REASONS, MAX_POOL_MEMBERS, memberName } from './validate.js';
export { API_VERSION_LEVELS, levelFor } from './schema.js';
export { parseJsonWithPositions, JsonSyntaxError, type JsonNode } from '../source/json.js';

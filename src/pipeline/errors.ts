import type { LastError, PolicyScope, PolicySection } from '../engine/context.js';

/** A response the gateway itself produces for an error (reference §6.1 shapes). */
export interface ErrorResponse {
  statusCode: number;
  statusReason: string;
  headers?: Record<string, string>;
  /** Serialised as JSON when an object. */
  body?: Record<string, unknown> | string;
}

/**
 * An error raised while running the pipeline, in APIM's vocabulary (`context.LastError`, reference §3.5-3.6).
 * Policies throw it with Source/Reason/Message and optionally the response APIM presets (429 for rate-limit, 503 for an
 * open breaker); the executor fills Scope, Section, Path and PolicyId from the statement that failed.
 */
export class PolicyError extends Error {
  scope: PolicyScope | '' = '';
  section: PolicySection | '' = '';
  path = '';
  policyId = '';
  located = false;
  /** Leave context.Response as it is (e.g. fail-on-error-status-code keeps the backend's response for on-error). */
  keepResponse = false;

  constructor(
    readonly source: string,
    readonly reason: string,
    message: string,
    readonly response?: ErrorResponse,
  ) {
    super(message);
    this.name = 'PolicyError';
  }

  toLastError(): LastError {
    return {
      source: this.source,
      reason: this.reason,
      message: this.message,
      scope: this.scope,
      section: this.section,
      path: this.path,
      policyId: this.policyId,
    };
  }
}

export const STATUS_REASONS: Record<number, string> = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found',
  304: 'Not Modified', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 408: 'Request Timeout', 409: 'Conflict', 413: 'Payload Too Large', 415: 'Unsupported Media Type',
  429: 'Too Many Requests', 500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway',
  503: 'Service Unavailable', 504: 'Gateway Timeout',
};

export function reasonPhrase(status: number): string {
  return STATUS_REASONS[status] ?? '';
}

/** `{"statusCode":N,"message":"..."}`, the gateway's own error body (reference §6.1). */
export function gatewayErrorResponse(statusCode: number, message: string, extra?: Record<string, unknown>, headers?: Record<string, string>): ErrorResponse {
  return {
    statusCode,
    statusReason: reasonPhrase(statusCode),
    body: { statusCode, message, ...extra },
    ...(headers ? { headers } : {}),
  };
}

import type { Readable } from 'node:stream';
import type { HeaderMap } from './headers.js';

export interface UpstreamRequest {
  method: string;
  url: string;
  headers: HeaderMap;
  body: Readable | Buffer | null;
  /** Time to wait for response headers (forward-request timeout); measured on the clock. */
  timeoutMs: number;
  followRedirects: boolean;
  signal: AbortSignal;
}

export interface UpstreamResponse {
  statusCode: number;
  statusReason: string;
  headers: HeaderMap;
  body: Readable;
}

/** Why an upstream call failed, in APIM's LastError reasons. */
export class UpstreamError extends Error {
  constructor(
    readonly reason: 'BackendConnectionFailure' | 'Timeout' | 'ClientConnectionFailure',
    message: string,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

/**
 * How the engine calls backends: a required dependency of the gateway. The shells provide it: `serve` an HTTP client
 * over undici (src/server/undici-upstream.ts), `test` an in-process upstream that calls the mock backends' handlers
 * directly (src/mocks/in-process.ts). The engine itself opens no socket.
 */
export interface Upstream {
  send(req: UpstreamRequest): Promise<UpstreamResponse>;
  close(): Promise<void>;
}

/** An upstream for gateways that only compile (validate) or call no backend: every send fails as an unreachable backend. */
export const NO_UPSTREAM: Upstream = {
  send: (req) => Promise.reject(new UpstreamError('BackendConnectionFailure', `no upstream: ${req.url} is not reachable from this gateway`)),
  close: () => Promise.resolve(),
};

import type { GatewayContext, RuntimeServices } from '../../engine/policy-sdk.js';
import { HeaderMap, MessageBody, PolicyError, StoredResponse, UpstreamError, defineSetting, gatewayErrorResponse } from '../../engine/policy-sdk.js';

/** Dapr's default HTTP port on the sidecar; the setting `dapr.sidecarUrl` points elsewhere (a local test server). */
export const DAPR_DEFAULT_SIDECAR = 'http://localhost:3500';

/** The configured Dapr sidecar, or undefined when none is configured (then Dapr policies only record). */
export const DAPR_SIDECAR_SETTING = defineSetting<string>('dapr.sidecarUrl', `Dapr sidecar base URL (default: none, Dapr policies only record)`, (v) =>
  typeof v === 'string' && /^https?:\/\//.test(v)
    ? { ok: true, value: v.replace(/\/+$/, '') }
    : { ok: false, message: `settings["dapr.sidecarUrl"] is ${JSON.stringify(v)}; allowed: an http(s) URL` },
);

export function configuredSidecar(services: RuntimeServices): string | undefined {
  const r = services.setting(DAPR_SIDECAR_SETTING);
  return r.ok ? r.value : undefined;
}

export function sidecarBase(services: RuntimeServices): string {
  return configuredSidecar(services) ?? DAPR_DEFAULT_SIDECAR;
}

/** `{sidecar}/v1.0/invoke/{app-id}[.{namespace}]/method/{method}`: Dapr's service invocation URL. */
export function daprInvokeUrl(sidecar: string, appId: string, namespace: string | undefined, method: string): string {
  const app = namespace ? `${appId}.${namespace}` : appId;
  return `${sidecar}/v1.0/invoke/${encodeURIComponent(app)}/method/${method.replace(/^\/+/, '')}`;
}

export interface DaprCall {
  policy: string;
  url: string;
  contentType: string;
  body: string;
  timeoutS: number;
  ignoreError: boolean;
  responseVariable: string | undefined;
}

/**
 * Sends one call to the configured sidecar, or, with none configured, answers as Dapr does on success (204 No
 * Content); the response goes to response-variable-name. Errors raise with the policy's name as Source unless
 * ignore-error is set (then the variable holds null).
 */
export async function callDapr(ctx: GatewayContext, services: RuntimeServices, c: DaprCall): Promise<void> {
  const sidecar = configuredSidecar(services);
  if (!sidecar) {
    if (c.responseVariable) ctx.variables.set(c.responseVariable, new StoredResponse(204, 'No Content', new HeaderMap(), null));
    return;
  }
  const headers = new HeaderMap();
  headers.set('Content-Type', [c.contentType]);
  const payload = Buffer.from(c.body, 'utf8');
  headers.set('Content-Length', [String(payload.length)]);
  try {
    const res = await services.upstream.send({
      method: 'POST',
      url: c.url,
      headers,
      body: payload,
      timeoutMs: c.timeoutS * 1000,
      followRedirects: false,
      signal: ctx.abort.signal,
    });
    const buf = await MessageBody.fromStream(res.body).buffer();
    if (res.statusCode >= 400 && !c.ignoreError) {
      throw new PolicyError(
        c.policy,
        'DaprError',
        `The Dapr sidecar answered ${res.statusCode}: ${buf.toString('utf8').slice(0, 200)}`,
        gatewayErrorResponse(500, 'Internal server error'),
      );
    }
    if (c.responseVariable)
      ctx.variables.set(c.responseVariable, new StoredResponse(res.statusCode, res.statusReason, res.headers, MessageBody.fromBuffer(buf)));
  } catch (e) {
    if (e instanceof PolicyError) throw e;
    if (c.ignoreError) {
      if (c.responseVariable) ctx.variables.set(c.responseVariable, null);
      return;
    }
    const reason = e instanceof UpstreamError ? e.reason : 'BackendConnectionFailure';
    throw new PolicyError(c.policy, reason, e instanceof Error ? e.message : String(e), gatewayErrorResponse(500, 'Internal server error'));
  }
}

import type { BackendRegistry, Flow, GatewayContext, PolicyDefinition, XmlElement } from '../engine/policy-sdk.js';
import { isPromise, MessageBody, PolicyError, UpstreamError, gatewayErrorResponse, reasonPhrase } from '../engine/policy-sdk.js';
import { managedIdentityTokens } from './support/managed-identity.js';
import { compileGraphqlExecutor, GRAPHQL_RESOLVERS_SETTING } from './support/graphql-resolvers.js';

/** Default `timeout` of forward-request in seconds (docs/apim-behaviour.md: forward-request). */
const DEFAULT_TIMEOUT_S = 300;

/**
 * `<forward-request>`: sends the request to the backend chosen by set-backend-service (or the API's service URL).
 * With a backend-id the registry picks a pool member and its circuit breaker sees the outcome. For a synthetic GraphQL
 * API (resolvers in settings["graphql.resolvers"]) it executes the GraphQL request with those resolvers instead.
 */
export const forwardRequest: PolicyDefinition = {
  name: 'forward-request',
  summary: 'Calls the backend (pool member chosen per attempt; breaker updated with the outcome).',
  support: 'full',
  sections: ['backend'],
  settings: [GRAPHQL_RESOLVERS_SETTING],
  attributes: [
    { name: 'timeout', expressions: true, kind: 'int', min: 0, default: String(DEFAULT_TIMEOUT_S) },
    { name: 'timeout-ms', expressions: true, kind: 'int', min: 0 },
    { name: 'continue-timeout', expressions: true, kind: 'int', min: 0 },
    { name: 'http-version', expressions: false, kind: 'enum', values: ['1', '2', '2or1'], default: '1' },
    { name: 'follow-redirects', expressions: true, kind: 'bool', default: 'false' },
    { name: 'buffer-request-body', expressions: false, kind: 'bool', default: 'false' },
    { name: 'buffer-response', expressions: false, kind: 'bool', default: 'true' },
    { name: 'fail-on-error-status-code', expressions: false, kind: 'bool', default: 'false' },
  ],
  compile(el, cx) {
    if (el.attributes.some((a) => a.name === 'timeout') && el.attributes.some((a) => a.name === 'timeout-ms')) {
      cx.diagnostics.error(
        el.source,
        cx.offsetOf(el, 'timeout-ms'),
        'policy/conflicting-attributes',
        '<forward-request> takes either "timeout" or "timeout-ms", not both',
      );
    }
    const timeoutMs = cx.int(el, 'timeout-ms');
    const timeoutS = cx.int(el, 'timeout') ?? (() => DEFAULT_TIMEOUT_S);
    const timeout = timeoutMs ?? ((ctx: GatewayContext) => timeoutS(ctx) * 1000);
    const followRedirects = cx.bool(el, 'follow-redirects') ?? (() => false);
    // Both attributes reject expressions (validated), so their value is known now.
    const bufferRequest = literalFlag(el, 'buffer-request-body');
    const failOnError = literalFlag(el, 'fail-on-error-status-code');
    const { upstream, backends } = cx.services;
    // A synthetic GraphQL API (resolvers given for it) is answered here by its resolvers, not by a backend.
    const graphql = compileGraphqlExecutor(el, cx);
    if (graphql) {
      cx.needsBody('request');
      return async (ctx): Promise<Flow> => {
        await graphql(ctx);
        return 'continue';
      };
    }

    const path = cx.path;
    return async (ctx): Promise<Flow> => {
      const target = resolveTarget(ctx, backends, path);
      // A previous attempt's response (inside retry) is discarded: drain it so its connection is reused.
      ctx.response.body?.liveStream?.resume();

      const body = ctx.request.body;
      let payload: Buffer | import('node:stream').Readable | null = null;
      if (body) {
        if (bufferRequest || body.isBuffered) payload = await body.buffer();
        else if (body.liveStream) payload = body.toStream();
        else if (ctx.requestBodySent) {
          throw new PolicyError(
            'forward-request',
            'BackendConnectionFailure',
            'The request body was already sent to the backend and was not buffered, so it cannot be sent again. Set buffer-request-body="true" on <forward-request> when it runs inside <retry>.',
            gatewayErrorResponse(500, 'Internal server error'),
          );
        }
        if (payload && !Buffer.isBuffer(payload)) ctx.requestBodySent = true;
      }

      const headers = ctx.request.headers.clone();
      for (const [n, v] of Object.entries(target.credentials.headers)) headers.set(n, v);
      if (target.credentials.authorization)
        headers.set('Authorization', [`${target.credentials.authorization.scheme} ${target.credentials.authorization.parameter}`]);
      const identity = target.credentials.managedIdentity;
      if (identity?.resource) {
        // A backend with managed-identity credentials gets the gateway's token for its resource (the same offline
        // token source as authentication-managed-identity).
        const source = managedIdentityTokens(cx.services);
        if (!source.ok)
          throw new PolicyError('forward-request', 'ManagedIdentityTokenNotObtained', source.message, gatewayErrorResponse(500, 'Internal server error'));
        try {
          headers.set('Authorization', [`Bearer ${source.value.acquire(identity.resource, identity.clientId).token}`]);
        } catch (e) {
          throw new PolicyError(
            'forward-request',
            'ManagedIdentityTokenNotObtained',
            e instanceof Error ? e.message : String(e),
            gatewayErrorResponse(500, 'Internal server error'),
          );
        }
      }
      const xff = headers.getJoined('X-Forwarded-For');
      headers.set('X-Forwarded-For', [xff ? `${xff}, ${ctx.request.ipAddress}` : ctx.request.ipAddress]);
      if (Buffer.isBuffer(payload)) headers.set('Content-Length', [String(payload.length)]);

      const url = backendUrl(ctx, target.baseUrl, target.credentials.query);
      const method = ctx.request.method;
      // The trace event's common fields, built only when the request is traced or observed.
      const attempt = ctx.tracing
        ? ({ kind: 'attempt', policy: 'forward-request', path, backendId: target.backendId, memberId: target.memberId, method, url } as const)
        : null;
      if (attempt) ctx.trace({ ...attempt, phase: 'sent', message: `${method} ${url}${target.why ? ` (${target.why})` : ''}` });
      ctx.lastBackend = { backendId: target.backendId, memberId: target.memberId, url };
      const sentAt = ctx.clock.now();
      try {
        const res = await upstream.send({
          method: ctx.request.method,
          url,
          headers,
          body: payload,
          timeoutMs: timeout(ctx),
          followRedirects: followRedirects(ctx),
          signal: ctx.abort.signal,
        });
        // The breaker reads the headers only when the status trips it (Retry-After): copied on demand, not per request.
        const tripped =
          target.memberId && backends
            ? backends.report(target.memberId, {
                status: res.statusCode,
                get headers() {
                  return res.headers.toRecord();
                },
              })
            : false;
        // Pool session affinity: the session cookie goes on every response of the pool, visible to outbound policies.
        if (target.setCookie) res.headers.append('Set-Cookie', [target.setCookie]);
        ctx.response = { statusCode: res.statusCode, statusReason: res.statusReason, headers: res.headers, body: MessageBody.fromStream(res.body) };
        if (attempt) {
          ctx.trace({
            ...attempt,
            phase: 'answered',
            status: res.statusCode,
            durationMs: ctx.clock.now() - sentAt,
            message: `${target.memberId || url} answered ${res.statusCode}`,
          });
          if (await tripAnswer(tripped)) traceTrip(ctx, backends!, target.backendId, target.memberId, path);
        } else if (isPromise(tripped)) void tripped.catch(() => undefined);
        if (failOnError && res.statusCode >= 400) {
          const err = new PolicyError(
            'forward-request',
            'BackendErrorStatusCode',
            `The backend answered ${res.statusCode} and fail-on-error-status-code is true.`,
          );
          err.keepResponse = true;
          throw err;
        }
        return 'continue';
      } catch (e) {
        if (!(e instanceof UpstreamError)) throw e;
        const tripped =
          target.memberId && backends && e.reason !== 'ClientConnectionFailure' ? backends.report(target.memberId, { errorReason: e.reason }) : false;
        if (attempt) {
          ctx.trace({
            ...attempt,
            phase: 'failed',
            reason: e.reason,
            durationMs: ctx.clock.now() - sentAt,
            message: `${target.memberId || url} failed: ${e.reason}: ${e.message}`,
          });
          if (await tripAnswer(tripped)) traceTrip(ctx, backends!, target.backendId, target.memberId, path);
        } else if (isPromise(tripped)) void tripped.catch(() => undefined);
        // APIM answers both a backend timeout and a connection failure with 500 when on-error does not handle them
        // (docs/apim-behaviour.md: Errors and LastError reasons; Gateway error responses).
        throw new PolicyError('forward-request', e.reason, e.message, gatewayErrorResponse(500, 'Internal server error'));
      }
    };
  },
};

function literalFlag(el: XmlElement, name: string): boolean {
  return (
    el.attributes
      .find((a) => a.name === name)
      ?.value.text.trim()
      .toLowerCase() === 'true'
  );
}

/*
 * LastError reasons BackendNotFound, BackendNotConfigured and BackendErrorStatusCode are apim-emulator's names: APIM
 * is SILENT on the reason for these cases (docs/emulator-choices.md). Timeout and BackendConnectionFailure are APIM's.
 */
interface ResolvedTarget {
  baseUrl: string;
  backendId: string;
  memberId: string;
  credentials: {
    headers: Record<string, string[]>;
    query: Record<string, string[]>;
    authorization?: { scheme: string; parameter: string };
    managedIdentity?: { resource?: string; clientId?: string };
  };
  why: string;
  /** Set-Cookie value for a pool with sessionAffinity. */
  setCookie?: string;
}

const NO_CREDENTIALS = { headers: {}, query: {} };

type Selection = ReturnType<BackendRegistry['select']>;

/**
 * The selection as typed trace events (tracing only, so the snapshot's cost stays off the hot path): a pool's choice
 * with every member's priority, weight and availability, or a breaker decision that refused the backend.
 */
function traceSelection(ctx: GatewayContext, backends: BackendRegistry, sel: Selection, path: string): void {
  const snap = backends.state().find((s) => s.id === sel.backendId);
  if (sel.ok) {
    if (snap?.type !== 'Pool' || !snap.members) return;
    const members = snap.members.map((m) => ({ backendId: m.backendId, priority: m.priority, weight: m.weight, available: m.available }));
    const priority = members.find((m) => m.backendId === sel.memberId)?.priority ?? 0;
    ctx.trace({
      kind: 'pool',
      policy: 'forward-request',
      path,
      backendId: sel.backendId,
      priority,
      members,
      chosen: sel.memberId,
      why: sel.why,
      message: sel.why,
    });
    return;
  }
  const breaker = snap?.breaker;
  ctx.trace({
    kind: 'breaker',
    policy: 'forward-request',
    path,
    decision: 'unavailable',
    backendId: sel.backendId,
    memberId: snap?.type === 'Single' ? sel.backendId : '',
    ...(breaker ? { rule: breaker.rule, ...(breaker.openUntil ? { reopensAt: breaker.openUntil } : {}) } : {}),
    statusCode: sel.statusCode,
    message: sel.why,
  });
}

/** This attempt's outcome opened the member's breaker: rule and reopen time. */
/**
 * Whether the outcome opened the breaker. With breakers shared on Redis the store decides after a round trip: a traced
 * (or observed) request waits for it so that its trace shows the trip; an untraced one never waits.
 */
async function tripAnswer(tripped: boolean | Promise<boolean>): Promise<boolean> {
  if (!isPromise(tripped)) return tripped;
  try {
    return await tripped;
  } catch {
    return false;
  }
}

function traceTrip(ctx: GatewayContext, backends: BackendRegistry, backendId: string, memberId: string, path: string): void {
  const breaker = backends.state().find((s) => s.id === memberId)?.breaker;
  const rule = breaker?.rule ?? '';
  const reopensAt = breaker?.openUntil ?? '';
  ctx.trace({
    kind: 'breaker',
    policy: 'forward-request',
    path,
    decision: 'opened',
    backendId,
    memberId,
    rule,
    reopensAt,
    message: `${memberId}: circuit breaker rule ${rule} opened until ${reopensAt}${breaker?.lastTripReason ? ` (${breaker.lastTripReason})` : ''}`,
  });
}

function resolveTarget(ctx: GatewayContext, backends: BackendRegistry | null, path: string): ResolvedTarget {
  const t = ctx.backendTarget;
  if (t?.kind === 'backend') {
    if (!backends || !backends.has(t.backendId)) {
      throw new PolicyError(
        'forward-request',
        'BackendNotFound',
        `Backend "${t.backendId}" is not defined.`,
        gatewayErrorResponse(500, 'Internal server error'),
      );
    }
    // The request headers are read only by a pool with sessionAffinity (its session cookie).
    const sel = backends.select(t.backendId, ctx.request.headers);
    if (ctx.tracing) traceSelection(ctx, backends, sel, path);
    if (!sel.ok) {
      throw new PolicyError(
        'forward-request',
        sel.reason,
        sel.message,
        gatewayErrorResponse(sel.statusCode, reasonPhrase(sel.statusCode) || 'Service Unavailable'),
      );
    }
    return {
      baseUrl: sel.url,
      backendId: sel.backendId,
      memberId: sel.memberId,
      credentials: sel.credentials,
      why: sel.why,
      setCookie: sel.session?.setCookie,
    };
  }
  const baseUrl = t?.kind === 'url' ? t.baseUrl : ctx.api.serviceUrl;
  if (!baseUrl) {
    throw new PolicyError(
      'forward-request',
      'BackendNotConfigured',
      'No backend to forward to: the API has no service URL and no <set-backend-service> ran.',
      gatewayErrorResponse(500, 'Internal server error'),
    );
  }
  return { baseUrl, backendId: '', memberId: '', credentials: NO_CREDENTIALS, why: '' };
}

/** Backend URL = base URL + the request path relative to the API suffix + query (docs/apim-behaviour.md: Pools, breakers and backend URLs). */
export function backendUrl(ctx: GatewayContext, baseUrl: string, extraQuery: Record<string, string[]>): string {
  const base = baseUrl.replace(/\/+$/, '');
  const apiPrefix = ctx.api.path ? `/${ctx.api.path.replace(/^\/+|\/+$/g, '')}` : '';
  let rel = ctx.request.url.path;
  if (apiPrefix && (rel === apiPrefix || rel.startsWith(`${apiPrefix}/`) || rel.startsWith(`${apiPrefix};`))) rel = rel.slice(apiPrefix.length);
  // The route's `;rev=N` and Segment version name belong to the gateway URL, not the backend's (src/gateway/routes.ts).
  if (rel.startsWith(';')) rel = rel.replace(/^;rev=\d+/i, '') || '/';
  const v = ctx.api.version;
  if (v && rel.length > v.length && rel.charCodeAt(v.length + 1) === 47 && rel.slice(1, v.length + 1).toLowerCase() === v.toLowerCase())
    rel = rel.slice(v.length + 1);
  else if (v && rel.length === v.length + 1 && rel.slice(1).toLowerCase() === v.toLowerCase()) rel = '/';
  const names = Object.keys(extraQuery);
  let qs: string;
  if (names.length === 0) qs = ctx.request.url.queryString;
  else {
    const q = ctx.request.url.query.clone();
    for (const n of names) q.set(n, extraQuery[n]!);
    const s = q.toString();
    qs = s ? `?${s}` : '';
  }
  return `${base}${rel === '/' && base.endsWith('/') ? '' : rel}${qs}`;
}

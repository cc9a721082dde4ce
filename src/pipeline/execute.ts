import type { GatewayContext, GatewayResponse, PolicySection } from '../engine/context.js';
import { MessageBody } from '../engine/body.js';
import { HeaderMap } from '../engine/headers.js';
import type { CompiledPipeline } from './compiler.js';
import { gatewayErrorResponse, PolicyError } from './errors.js';
import type { ErrorResponse } from './errors.js';

/**
 * Runs a compiled pipeline for one request: inbound, backend, outbound; any error skips the rest and runs on-error
 * with `context.LastError` set (reference §3.5). The response to send is left in `ctx.response`.
 */
export async function runPipeline(p: CompiledPipeline, ctx: GatewayContext): Promise<void> {
  try {
    for (const section of ['inbound', 'backend', 'outbound'] as const) {
      if (section === 'outbound' && ctx.beforeOutbound.length > 0) for (const hook of ctx.beforeOutbound.splice(0)) await hook(ctx);
      await bufferBodies(p, section, ctx);
      let flow = p.sections[section](ctx);
      if (typeof flow !== 'string') flow = await flow;
      if (flow === 'stop') {
        // A cache hit in inbound skips the backend, yet outbound runs (cache-store sees the hit and does nothing).
        if (section === 'inbound' && ctx.answeredFromCache) {
          const out = p.sections.outbound(ctx);
          if (typeof out !== 'string') await out;
        }
        break;
      }
    }
  } catch (e) {
    await handleError(p, ctx, e);
  }
  if (ctx.completed.length > 0) await runCompletedHooks(ctx);
}

/** Runs the `completed` hooks; one that fails is traced (it cannot change the response any more). */
async function runCompletedHooks(ctx: GatewayContext): Promise<void> {
  for (const hook of ctx.completed.splice(0)) {
    try {
      await hook(ctx);
    } catch (e) {
      ctx.trace({ kind: 'error', message: `after the pipeline: ${e instanceof Error ? e.message : String(e)}` });
    }
  }
}

async function handleError(p: CompiledPipeline, ctx: GatewayContext, e: unknown): Promise<void> {
  const err = toPolicyError(e, 'inbound');
  ctx.lastError = err.toLastError();
  ctx.trace({ kind: 'error', message: `${err.source}: ${err.reason}: ${err.message}`, data: { ...ctx.lastError } });
  // The error's preset response (429 from rate-limit, 503 from an open breaker...) is what on-error sees in
  // context.Response and what the client gets unless on-error changes it.
  if (!err.keepResponse) applyErrorResponse(ctx, err.response ?? gatewayErrorResponse(500, 'Internal server error', { activityId: ctx.requestId }));
  try {
    await bufferBodies(p, 'on-error', ctx);
    const flow = p.sections['on-error'](ctx);
    if (typeof flow !== 'string') await flow;
  } catch (e2) {
    const err2 = toPolicyError(e2, 'on-error');
    ctx.lastError = err2.toLastError();
    ctx.trace({ kind: 'error', message: `error in on-error: ${err2.source}: ${err2.reason}: ${err2.message}`, data: { ...ctx.lastError } });
    applyErrorResponse(ctx, gatewayErrorResponse(500, 'Internal server error', { activityId: ctx.requestId }));
  }
}

function toPolicyError(e: unknown, section: PolicySection): PolicyError {
  if (e instanceof PolicyError) return e;
  const pe = new PolicyError('gateway', 'InternalError', e instanceof Error ? e.message : String(e), gatewayErrorResponse(500, 'Internal server error'));
  pe.section = section;
  return pe;
}

export function applyErrorResponse(ctx: GatewayContext, r: ErrorResponse): void {
  // Drain a backend body we are replacing so its socket returns to the pool.
  ctx.response.body?.liveStream?.resume();
  ctx.response = toGatewayResponse(r);
}

/** The gateway's own error response as a GatewayResponse (JSON body when the body is an object). */
export function toGatewayResponse(r: ErrorResponse): GatewayResponse {
  const headers = new HeaderMap();
  let body: MessageBody | null = null;
  if (r.body !== undefined) {
    const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
    body = MessageBody.fromBuffer(text);
    if (typeof r.body !== 'string') headers.set('Content-Type', ['application/json; charset=utf-8']);
  }
  for (const [n, v] of Object.entries(r.headers ?? {})) headers.set(n, [v]);
  return { statusCode: r.statusCode, statusReason: r.statusReason, headers, body };
}

async function bufferBodies(p: CompiledPipeline, section: PolicySection, ctx: GatewayContext): Promise<void> {
  const needs = p.needsBody[section];
  if (needs.request && ctx.request.body && !ctx.request.body.isBuffered) await ctx.request.body.buffer();
  if (needs.response && ctx.response.body && !ctx.response.body.isBuffered) await ctx.response.body.buffer();
}

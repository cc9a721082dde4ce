import type { GatewayContext, PolicySection } from '../engine/context.js';
import { applyErrorResponse, gatewayErrorResponse, PolicyError } from '../engine/policy-sdk.js';
import type { CompiledPipeline } from './compiler.js';

/**
 * Runs a compiled pipeline for one request: inbound, backend, outbound; any error skips the rest and runs on-error
 * with `context.LastError` set (docs/architecture.md, "Errors"). The response to send is left in `ctx.response`.
 */
export async function runPipeline(p: CompiledPipeline, ctx: GatewayContext): Promise<void> {
  try {
    for (const section of ['inbound', 'backend', 'outbound'] as const) {
      if (section === 'outbound' && ctx.beforeOutbound.length > 0) for (const hook of ctx.beforeOutbound.splice(0)) await hook(ctx);
      await bufferBodies(p, section, ctx);
      let flow = p.sections[section](ctx);
      if (typeof flow !== 'string') flow = await flow;
      if (flow === 'continue') continue;
      // skip-backend in inbound (a cache hit) answers without the backend, yet outbound runs on that answer.
      if (flow === 'skip-backend' && section === 'inbound') {
        if (ctx.beforeOutbound.length > 0) ctx.beforeOutbound.length = 0;
        const out = p.sections.outbound(ctx);
        if (typeof out !== 'string') await out;
      }
      break;
    }
  } catch (e) {
    await handleError(p, ctx, e);
  }
  if (ctx.completed.length > 0) await runCompletedHooks(ctx);
  if (ctx.tracing) ctx.trace({ kind: 'response', statusCode: ctx.response.statusCode, message: `response ${ctx.response.statusCode}` });
}

/** Runs the `completed` hooks; one that fails is traced (it cannot change the response any more). */
async function runCompletedHooks(ctx: GatewayContext): Promise<void> {
  for (const hook of ctx.completed.splice(0)) {
    try {
      await hook(ctx);
    } catch (e) {
      ctx.trace({ kind: 'error', phase: 'completion', lastError: null, message: `after the pipeline: ${e instanceof Error ? e.message : String(e)}` });
    }
  }
}

async function handleError(p: CompiledPipeline, ctx: GatewayContext, e: unknown): Promise<void> {
  const err = toPolicyError(e, 'inbound');
  ctx.lastError = err.toLastError();
  ctx.trace({ kind: 'error', phase: 'pipeline', lastError: { ...ctx.lastError }, message: `${err.source}: ${err.reason}: ${err.message}` });
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
    ctx.trace({
      kind: 'error',
      phase: 'on-error',
      lastError: { ...ctx.lastError },
      message: `error in on-error: ${err2.source}: ${err2.reason}: ${err2.message}`,
    });
    applyErrorResponse(ctx, gatewayErrorResponse(500, 'Internal server error', { activityId: ctx.requestId }));
  }
}

function toPolicyError(e: unknown, section: PolicySection): PolicyError {
  if (e instanceof PolicyError) return e;
  const pe = new PolicyError('gateway', 'InternalError', e instanceof Error ? e.message : String(e), gatewayErrorResponse(500, 'Internal server error'));
  pe.section = section;
  return pe;
}

async function bufferBodies(p: CompiledPipeline, section: PolicySection, ctx: GatewayContext): Promise<void> {
  const needs = p.needsBody[section];
  if (needs.request && ctx.request.body && !ctx.request.body.isBuffered) await ctx.request.body.buffer();
  if (needs.response && ctx.response.body && !ctx.response.body.isBuffered) await ctx.response.body.buffer();
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, Response } from 'express';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { Gateway } from '../gateway/gateway.js';
import type { GatewayDefinition } from '../gateway/definition.js';

/** What one reload did: applied (swapped) or kept the old gateway, what changed, and the diagnostics of the new inputs. */
export interface ReloadOutcome {
  applied: boolean;
  /** Human-readable changes, e.g. "api basic-api: policy changed"; empty when nothing changed. */
  changes: string[];
  diagnostics: Diagnostic[];
  /** The one log line for this reload. */
  message: string;
}

/**
 * The gateways one reload produced, with the requests running on them. A retired generation closes its gateways
 * (upstream connections) once its last request is done, so requests in flight finish on the pipeline they started on.
 */
export class Generation {
  private active = 0;
  private onIdle: (() => void) | null = null;

  constructor(
    private readonly handler: (req: IncomingMessage, res: ServerResponse) => void,
    readonly gateways: readonly Gateway[],
  ) {}

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.active++;
    res.once('close', () => {
      this.active--;
      if (this.active === 0 && this.onIdle) this.finish();
    });
    this.handler(req, res);
  }

  /** No new requests come here; `done` runs when the last one in flight has finished (at once when none are). */
  retire(done: () => void): void {
    this.onIdle = done;
    if (this.active === 0) this.finish();
  }

  private finish(): void {
    const f = this.onIdle;
    this.onIdle = null;
    f?.();
  }
}

/**
 * Runs reloads one at a time: a reload asked for while one runs is done once more after it (edits that land during a
 * compile are not lost, and a burst of file events costs at most two compiles).
 */
export class ReloadQueue {
  private running: Promise<ReloadOutcome> | null = null;
  private again: Promise<ReloadOutcome> | null = null;

  constructor(private readonly run: () => Promise<ReloadOutcome>) {}

  request(): Promise<ReloadOutcome> {
    if (!this.running) {
      this.running = this.run().finally(() => (this.running = null));
      return this.running;
    }
    this.again ??= this.running.then(
      () => {
        this.again = null;
        return this.request();
      },
      () => {
        this.again = null;
        return this.request();
      },
    );
    return this.again;
  }
}

/** POST /_emulator/reload: 200 with what changed when applied, 422 with the diagnostics when the old gateway was kept. */
export function reloadRoute(reload: () => Promise<ReloadOutcome>) {
  return (_req: Request, res: Response): void => {
    reload().then(
      (r) => {
        res
          .status(r.applied ? 200 : 422)
          .json({ applied: r.applied, message: r.message, changes: r.changes, diagnostics: r.diagnostics.filter((d) => d.severity !== 'info') });
      },
      (e: unknown) => {
        res.status(500).json({ applied: false, message: `reload failed: ${(e as Error).message}` });
      },
    );
  };
}

/** What differs between two definitions, named the way APIM names its entities. */
export function describeChanges(before: GatewayDefinition, after: GatewayDefinition): string[] {
  const out: string[] = [];
  const text = (s: { text: string } | undefined) => s?.text ?? '';
  if (text(before.globalPolicy) !== text(after.globalPolicy)) out.push('global policy changed');
  diffById('fragment', before.fragments, after.fragments, (f) => f.source.text, out);
  diffById(
    'named value',
    before.namedValues.map((n) => ({ id: n.name, v: n })),
    after.namedValues.map((n) => ({ id: n.name, v: n })),
    (n) => `${n.v.value}|${n.v.secret}`,
    out,
  );
  diffById(
    'backend file',
    before.backendFiles.map((b) => ({ id: b.file, t: b.text })),
    after.backendFiles.map((b) => ({ id: b.file, t: b.text })),
    (b) => b.t,
    out,
  );
  diffById(
    'product',
    before.products,
    after.products,
    (p) => JSON.stringify({ ...p, policy: text(p.policy) }),
    out,
    (p) => (text(p.policy) !== text(before.products.find((x) => x.id === p.id)?.policy) ? 'policy changed' : 'settings changed'),
  );
  diffById(
    'api',
    before.apis,
    after.apis,
    (a) =>
      JSON.stringify({
        ...a,
        policy: text(a.policy),
        specification: text(a.specification),
        operations: a.operations.map((op) => ({ ...op, policy: text(op.policy) })),
      }),
    out,
    (a) => {
      const old = before.apis.find((x) => x.id === a.id)!;
      const parts: string[] = [];
      if (text(old.policy) !== text(a.policy)) parts.push('policy changed');
      for (const op of a.operations) {
        const o = old.operations.find((x) => x.id === op.id);
        if (o && text(o.policy) !== text(op.policy)) parts.push(`operation ${op.id} policy changed`);
      }
      return parts.length ? parts.join(', ') : 'settings or operations changed';
    },
  );
  diffById('subscription', before.subscriptions, after.subscriptions, (s) => JSON.stringify(s), out);
  return out;
}

function diffById<T extends { id: string }>(kind: string, before: T[], after: T[], key: (x: T) => string, out: string[], how?: (x: T) => string): void {
  const old = new Map(before.map((x) => [x.id, x]));
  for (const x of after) {
    const o = old.get(x.id);
    if (!o) out.push(`${kind} ${x.id} added`);
    else if (key(o) !== key(x)) out.push(`${kind} ${x.id}: ${how ? how(x) : 'changed'}`);
    old.delete(x.id);
  }
  for (const id of old.keys()) out.push(`${kind} ${id} removed`);
}

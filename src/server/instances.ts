import type { HeaderMap } from '../engine/headers.js';

/**
 * Request and response header naming the simulated gateway instance (emulator-only; APIM has no such header). On a
 * response it says which instance served the request; on a request it pins one (tests, demos). Only used with N > 1.
 */
export const INSTANCE_HEADER = 'x-emulator-instance';

/** Most simulated instances `serve` accepts: each one is a fully compiled gateway with its own upstream connections. */
export const MAX_INSTANCES = 64;

/**
 * Spreads requests over N simulated gateway instances (APIM scale units): round-robin in arrival order, unless the
 * request pins one with `x-emulator-instance: <n>`. Pinned requests do not move the rotation, so a test can pin a few
 * requests without changing which instance the next unpinned one reaches (emulator choice, docs/configuration.md).
 */
export class InstanceSelector {
  private next = 0;

  constructor(readonly count: number) {
    if (!Number.isInteger(count) || count < 2) throw new RangeError(`an InstanceSelector needs at least 2 instances, got ${count}`);
  }

  /**
   * The instance for a request. Removes the pin header from `headers` (it is for the emulator, not the backend).
   * A pin that is not an instance number gives `{ error }`, answered 400 by the server.
   */
  pick(headers: HeaderMap): { instance: number } | { error: string } {
    const pin = headers.get(INSTANCE_HEADER);
    if (pin === undefined) {
      const instance = this.next;
      this.next = instance + 1 === this.count ? 0 : instance + 1;
      return { instance };
    }
    headers.delete(INSTANCE_HEADER);
    const text = pin.length === 1 ? pin[0]!.trim() : '';
    const n = /^\d{1,3}$/.test(text) ? Number(text) : Number.NaN;
    if (!(n < this.count)) {
      const got = pin.length === 1 ? JSON.stringify(pin[0]) : `${pin.length} values`;
      return { error: `The ${INSTANCE_HEADER} request header must be one gateway instance number from 0 to ${this.count - 1}; got ${got}.` };
    }
    return { instance: n };
  }

  /** Back to instance 0 for the next unpinned request (POST /_emulator/reset). */
  reset(): void {
    this.next = 0;
  }
}

import type { Upstream, UpstreamRequest, UpstreamResponse } from '../engine/upstream.js';

/**
 * An upstream whose real implementation is imported on demand: `serve` starts listening without loading undici
 * (~235 ms of CPU, docs/performance.md, start-up) and `prefetch()` loads it right after, while the server waits for
 * its first request. Once loaded, a send goes straight to the real upstream (no extra promise per request).
 */
export class LazyUpstream implements Upstream {
  private loading: Promise<Upstream> | undefined;
  private loaded: Upstream | undefined;

  constructor(private readonly create: () => Promise<Upstream>) {}

  /** Starts loading now (idempotent); resolves when the real upstream exists. */
  prefetch(): Promise<Upstream> {
    this.loading ??= this.create().then((u) => (this.loaded = u));
    return this.loading;
  }

  send(req: UpstreamRequest): Promise<UpstreamResponse> {
    return this.loaded ? this.loaded.send(req) : this.prefetch().then((u) => u.send(req));
  }

  close(): Promise<void> {
    return this.loading ? this.loading.then((u) => u.close()) : Promise.resolve();
  }
}

import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough, Readable } from 'node:stream';
import type { Clock } from '../clock.js';
import { HeaderMap } from '../engine/headers.js';
import { UpstreamError } from '../engine/upstream.js';
import type { Upstream, UpstreamRequest, UpstreamResponse } from '../engine/upstream.js';
import type { MockBackend, MockBackendSet } from './backend.js';

/**
 * An upstream that calls the mock backends' handlers directly, with no socket: `apim-emulator test` uses it by
 * default (`--real-sockets` keeps real HTTP). The mock sees a request object and answers into a response object that
 * behave like Node's for what the mock uses (body stream, rawHeaders, writeHead/write/end, socket.destroy for a cut
 * or a reset, 'close' when the caller goes away). Timeouts race on the injected clock, as in the HTTP upstream.
 */
export class InProcessUpstream implements Upstream {
  constructor(
    private readonly clock: Clock,
    private readonly mocks: MockBackendSet,
  ) {}

  async send(req: UpstreamRequest): Promise<UpstreamResponse> {
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      throw new UpstreamError('BackendConnectionFailure', `Unable to reach the backend: invalid URL ${req.url}`);
    }
    const mock = this.find(url.origin);
    if (!mock) {
      throw new UpstreamError(
        'BackendConnectionFailure',
        `Unable to connect to the backend: ${url.origin} is not a mock backend (scenarios do not reach the network; give the backend a script under "mocks").`,
      );
    }
    if (req.signal.aborted) throw new UpstreamError('ClientConnectionFailure', 'The client closed the connection before the backend answered.');
    const exchange = new Exchange(req, url);
    void mock.handle(exchange.request as unknown as IncomingMessage, exchange.response as unknown as ServerResponse);

    const timer = new AbortController();
    const deadline = this.clock.deadline(req.timeoutMs, timer.signal).then(
      () => 'timeout' as const,
      () => 'cancelled' as const,
    );
    const aborted = new Promise<'aborted'>((resolve) => {
      if (req.signal.aborted) resolve('aborted');
      else req.signal.addEventListener('abort', () => resolve('aborted'), { once: true });
    });
    try {
      const raced = await Promise.race([exchange.head, deadline, aborted]);
      if (raced === 'timeout') {
        exchange.abort();
        throw new UpstreamError('Timeout', `Request to the backend timed out: no response headers within ${formatSeconds(req.timeoutMs)}.`);
      }
      if (raced === 'aborted' || raced === 'cancelled') {
        exchange.abort();
        throw new UpstreamError('ClientConnectionFailure', 'The client closed the connection before the backend answered.');
      }
      if (raced instanceof UpstreamError) throw raced;
      return raced;
    } finally {
      timer.abort(DEADLINE_CANCELLED);
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private find(origin: string): MockBackend | undefined {
    for (const m of this.mocks.all()) if (new URL(m.url).origin === origin) return m;
    return undefined;
  }
}

const DEADLINE_CANCELLED = new Error('deadline cancelled: the backend answered');
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** One request/response pair between the gateway and a mock. */
class Exchange {
  readonly request: Readable & { method: string; url: string; rawHeaders: string[]; socket: FakeSocket };
  readonly response: FakeResponse;
  readonly head: Promise<UpstreamResponse | UpstreamError>;

  constructor(req: UpstreamRequest, url: URL) {
    const body = req.body === null ? Readable.from([]) : Buffer.isBuffer(req.body) ? Readable.from([req.body]) : req.body;
    const rawHeaders: string[] = ['host', url.host];
    for (const [name, values] of req.headers.entries()) {
      if (HOP_BY_HOP.has(name.toLowerCase()) || name.toLowerCase() === 'host') continue;
      for (const v of values) rawHeaders.push(name, v);
    }
    let settle!: (r: UpstreamResponse | UpstreamError) => void;
    this.head = new Promise((resolve) => (settle = resolve));
    const socket = new FakeSocket(settle);
    this.response = new FakeResponse(settle, socket);
    socket.response = this.response;
    this.request = Object.assign(body, { method: req.method, url: url.pathname + url.search, rawHeaders, socket });
  }

  /** The gateway gave up (timeout, client gone): the mock sees its connection close. */
  abort(): void {
    this.response.closeEarly();
  }
}

/** What the mock does to the connection: destroy (a cut mid-body) or reset (before any answer). */
class FakeSocket {
  response: FakeResponse | null = null;

  constructor(private readonly settle: (r: UpstreamResponse | UpstreamError) => void) {}

  destroy(): void {
    if (this.response?.headersSent) this.response.cut();
    else this.settle(new UpstreamError('BackendConnectionFailure', 'Underlying transport connection was unexpectedly closed.'));
    this.response?.closeEarly();
  }

  resetAndDestroy(): void {
    this.destroy();
  }
}

class FakeResponse extends EventEmitter {
  headersSent = false;
  writableFinished = false;
  private closed = false;
  private readonly body = new PassThrough();

  constructor(
    private readonly settle: (r: UpstreamResponse | UpstreamError) => void,
    readonly socket: FakeSocket,
  ) {
    super();
  }

  writeHead(status: number, headers: Record<string, string | string[]>): this {
    this.headersSent = true;
    const map = new HeaderMap();
    for (const [n, v] of Object.entries(headers)) map.set(n, Array.isArray(v) ? v : [v]);
    this.settle({ statusCode: status, statusReason: '', headers: map, body: this.body });
    return this;
  }

  flushHeaders(): void {}

  write(data: string | Buffer, cb?: () => void): boolean {
    const ok = this.body.write(data);
    if (cb) queueMicrotask(cb);
    return ok;
  }

  end(data?: string | Buffer): this {
    if (data !== undefined) this.body.end(data);
    else this.body.end();
    this.writableFinished = true;
    this.finish();
    return this;
  }

  /** A body cut mid-way: the reader sees the stream fail, as after a dropped connection. */
  cut(): void {
    this.body.destroy(new Error('other side closed'));
  }

  closeEarly(): void {
    if (!this.writableFinished) this.body.destroy();
    this.finish();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }
}

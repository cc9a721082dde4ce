import { Readable } from 'node:stream';

/** Thrown when a body that was read without `preserveContent: true` is read again (APIM semantics, docs/expressions.md). */
export class BodyConsumedError extends Error {
  constructor() {
    super('The message body has already been read. Use As<T>(preserveContent: true) to read it more than once.');
    this.name = 'BodyConsumedError';
  }
}

/** Thrown when synchronous code (an expression) reads a body that is still streaming and was not buffered. */
export class BodyNotBufferedError extends Error {
  constructor() {
    super('internal: the message body was not buffered before a policy read it');
    this.name = 'BodyNotBufferedError';
  }
}

/**
 * A request or response body. It starts either buffered (bytes in memory) or as a stream straight from the socket;
 * the pipeline buffers it before any policy that reads it runs (known at compile time), and otherwise lets it stream
 * through untouched (server-sent events keep flowing chunk by chunk).
 */
export class MessageBody {
  private content: Buffer | null;
  private stream: Readable | null;
  private consumed = false;

  private constructor(content: Buffer | null, stream: Readable | null) {
    this.content = content;
    this.stream = stream;
  }

  static fromBuffer(content: Buffer | string): MessageBody {
    return new MessageBody(typeof content === 'string' ? Buffer.from(content, 'utf8') : content, null);
  }

  static fromStream(stream: Readable): MessageBody {
    return new MessageBody(null, stream);
  }

  get isBuffered(): boolean {
    return this.content !== null;
  }

  get isConsumed(): boolean {
    return this.consumed;
  }

  /** Reads a streaming body into memory (idempotent). */
  async buffer(): Promise<Buffer> {
    if (this.content) return this.content;
    const chunks: Buffer[] = [];
    if (this.stream) for await (const c of this.stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
    this.stream = null;
    this.content = Buffer.concat(chunks);
    return this.content;
  }

  /**
   * `Body.As<T>(preserveContent)` for policy code: returns the bytes; without preserveContent the body counts as
   * consumed afterwards and a second read throws.
   */
  read(preserveContent: boolean): Buffer {
    if (this.consumed) throw new BodyConsumedError();
    if (!this.content) throw new BodyNotBufferedError();
    if (!preserveContent) this.consumed = true;
    return this.content;
  }

  /** Bytes without consuming (for the engine itself: forwarding, caching, tracing). */
  peek(): Buffer | null {
    return this.content;
  }

  /** The body to send on the wire: the buffered bytes, or the live stream (which can then be used only once). */
  toStream(): Readable {
    if (this.content) return Readable.from([this.content]);
    if (!this.stream) return Readable.from([]);
    const s = this.stream;
    this.stream = null;
    return s;
  }

  /** The live stream if the body was never buffered (so a caller can pipe it), else null. */
  get liveStream(): Readable | null {
    return this.content ? null : this.stream;
  }

  get byteLength(): number | undefined {
    return this.content?.length;
  }
}

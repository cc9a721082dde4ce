import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';

/** A real redis-server on a free loopback port, no persistence; tests skip visibly when the binary is missing. */
export const REDIS_BINARY = 'redis-server';

export function redisAvailable(): boolean {
  return spawnSync(REDIS_BINARY, ['--version'], { stdio: 'ignore' }).status === 0;
}

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export class RedisServer {
  private child: ChildProcess | null = null;
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(port?: number): Promise<RedisServer> {
    const r = new RedisServer(port ?? (await freePort()));
    await r.start();
    return r;
  }

  async start(): Promise<void> {
    const child = spawn(REDIS_BINARY, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], {
      stdio: 'ignore',
    });
    this.child = child;
    // Ready when it accepts a connection (bounded: 10 s).
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode})`);
      const ok = await new Promise<boolean>((resolve) => {
        const sock = net.connect(this.port, '127.0.0.1', () => {
          sock.end();
          resolve(true);
        });
        sock.on('error', () => resolve(false));
      });
      if (ok) return;
      if (Date.now() > deadline) throw new Error('redis-server did not start within 10 s');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}

/**
 * One redis-server for a test file and the stores and backends its tests open, closed after each test. Registers the
 * vitest hooks only when the binary exists (the file's describe is skipped otherwise, with the warning printed here).
 */
export interface RedisFixture {
  readonly available: boolean;
  /** URL of the running server (inside tests only). */
  url(): string;
  /** A fresh key prefix, so tests sharing the server never see each other's keys. */
  prefix(tag: string): string;
  /** Closed after each test. */
  readonly closeAfterEach: Array<{ close(): Promise<void> }>;
}

export function redisFixture(
  name: string,
  hooks: { beforeAll(fn: () => Promise<void>): void; afterAll(fn: () => Promise<void>): void; afterEach(fn: () => Promise<void>): void },
): RedisFixture {
  const available = redisAvailable();
  if (!available) console.warn(`[${name}] skipped: redis-server is not installed`);
  let server: RedisServer | null = null;
  let n = 0;
  const closeAfterEach: Array<{ close(): Promise<void> }> = [];
  if (available) {
    hooks.beforeAll(async () => {
      server = await RedisServer.start();
    });
    hooks.afterAll(async () => {
      await server?.stop();
    });
    hooks.afterEach(async () => {
      await Promise.all(closeAfterEach.splice(0).map((s) => s.close()));
    });
  }
  return {
    available,
    url: () => server!.url,
    prefix: (tag) => `${tag}${n++}:`,
    closeAfterEach,
  };
}

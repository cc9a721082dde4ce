import http from 'node:http';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Clock } from '../../src/clock.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { startServer } from '../../src/server/index.js';
import type { RunningServer, ServerOptions } from '../../src/server/index.js';

/** Servers started by a test file; close them all in afterEach. */
export const running: Array<{ close(): Promise<void> }> = [];

export async function closeAll(): Promise<void> {
  await Promise.all(running.splice(0).map((s) => s.close()));
}

export async function serve(gateway: Gateway, clock: Clock, o: Partial<ServerOptions> = {}): Promise<RunningServer> {
  const s = await startServer({ gateway, clock, logger: false, ...o });
  running.push(s);
  return s;
}

export interface HttpResult {
  status: number;
  statusMessage: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  text: string;
  json: () => unknown;
}

/** One request over a fresh connection (no keep-alive agent, so nothing lingers after the test). */
export function request(url: string, o: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: o.method ?? 'GET', headers: o.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          statusMessage: res.statusMessage ?? '',
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          text,
          json: () => JSON.parse(text) as unknown,
        });
      });
    });
    req.on('error', reject);
    if (o.body !== undefined) req.write(o.body);
    req.end();
  });
}

export function getJson<T = Record<string, unknown>>(url: string): Promise<T> {
  return request(url).then((r) => {
    if (r.status !== 200) throw new Error(`GET ${url} answered ${r.status}: ${r.text}`);
    return r.json() as T;
  });
}

/** A promise with its resolve function, for handing control between a test and a backend. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A pino logger that collects its JSON lines in memory. */
export function memoryLogger(): { logger: pino.Logger; lines: () => Array<Record<string, unknown>> } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.push(chunk.toString('utf8'));
      cb();
    },
  });
  const logger = pino({ level: 'info' }, stream);
  return {
    logger,
    lines: () =>
      out
        .join('')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

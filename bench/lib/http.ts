import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
import { Agent, request } from 'undici';

/** Listens on an ephemeral loopback port; resolves to the server's base URL. */
export async function listen(server: http.Server, backlog?: number): Promise<string> {
  await new Promise<void>((r) => (backlog === undefined ? server.listen(0, '127.0.0.1', r) : server.listen(0, '127.0.0.1', backlog, r)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

/** A loopback port that was free a moment ago (for a server in another process that must be told its port). */
export async function freePort(): Promise<number> {
  const s = http.createServer();
  await listen(s);
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A 1 KB Azure OpenAI chat completion, the body every mock backend answers with. */
export const COMPLETION = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'gpt-4o',
    choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'x'.repeat(800) } }],
    usage: { prompt_tokens: 10, completion_tokens: 200, total_tokens: 210 },
  }),
);

export const CHAT_PATH = '/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21';
export const CHAT_BODY = JSON.stringify({ messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 200 });

/** A node:http backend answering every request (after reading its body) with `body` and its `Content-Length`. */
export function fixedBackend(body: Buffer = COMPLETION): http.Server {
  return http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
      res.end(body);
    });
  });
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);

/**
 * The baseline every gateway figure is compared with: a thin node:http + undici reverse proxy (pooled Agent,
 * streaming both ways, upstream aborted when the client disconnects). Not listening yet; `close()` the agent after.
 */
export function bareProxy(upstream: string): { server: http.Server; agent: Agent } {
  // The emulator's default cap per backend (DEFAULT_CONNECTIONS_PER_BACKEND): a lower cap would queue long-lived
  // streams behind each other (1,000 SSE streams through 128 connections wait seconds for their first event).
  const agent = new Agent({ connections: 2048, keepAliveTimeout: 30_000 });
  const server = http.createServer((req, res) => {
    void (async () => {
      const ac = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) ac.abort();
      });
      try {
        const headers: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
        const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
        const up = await request(upstream + (req.url ?? '/'), {
          method: req.method as 'GET',
          headers,
          body: hasBody ? req : null,
          dispatcher: agent,
          signal: ac.signal,
        });
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
        res.writeHead(up.statusCode, out);
        pipeline(up.body, res, () => undefined);
      } catch (e) {
        if (process.env.BENCH_DEBUG) console.error(e);
        if (!res.headersSent) res.writeHead(502).end();
        else res.destroy();
      }
    })();
  });
  return { server, agent };
}

/**
 * The benches' backends file: two Azure OpenAI-shaped backends on `upstream` and a priority pool `pool` of them
 * (aoai-1 first), each with `circuitBreaker` when given.
 */
export function aoaiPoolBackends(upstream: string, circuitBreaker?: unknown): { backends: unknown[] } {
  const single = (name: string) => ({ name, properties: { url: `${upstream}/openai`, protocol: 'http', ...(circuitBreaker ? { circuitBreaker } : {}) } });
  return {
    backends: [
      single('aoai-1'),
      single('aoai-2'),
      {
        name: 'pool',
        properties: {
          type: 'Pool',
          pool: {
            services: [
              { id: '/backends/aoai-1', priority: 1 },
              { id: '/backends/aoai-2', priority: 2 },
            ],
          },
        },
      },
    ],
  };
}

import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServeOptions } from '../../src/cli/serve.js';

/** Microsoft's APIOps sample tree (MIT), beside the clone; the tests that need it skip with a message when absent. */
export const SAMPLE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/corpus/apiops-sample/SampleArtifacts');
export const SAMPLE_PRESENT = existsSync(SAMPLE_DIR);
if (!SAMPLE_PRESENT) console.warn(`[apiops] ${SAMPLE_DIR} is absent: APIOps sample tests are skipped (CI has it beside the clone).`);

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

export interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

/** A real local service on 127.0.0.1 that records what reached it and answers `answer.status` (200) with a JSON echo. */
export async function startEcho(): Promise<{ url: string; received: Received[]; answer: { status: number }; close(): Promise<void> }> {
  const received: Received[] = [];
  const answer = { status: 200 };
  const server: Server = createServer((req, res) => {
    received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => res.writeHead(answer.status, { 'content-type': 'application/json', 'x-echo': 'local' }).end(JSON.stringify({ url: req.url })));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    answer,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** serve options for an APIOps tree on a free port, quiet. */
export function apiopsOptions(dir: string, extra: Partial<ServeOptions> = {}): ServeOptions {
  return {
    apiops: dir,
    backends: [],
    apiPath: '',
    fragments: [],
    namedValues: [],
    namedValuesFiles: [],
    mocks: [],
    port: 0,
    logLevel: 'silent',
    params: {},
    ...extra,
  };
}

export const quiet = { out: () => undefined, err: () => undefined };

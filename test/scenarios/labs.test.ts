import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeaderMap } from '../../src/engine/headers.js';
import type { MetricRecord } from '../../src/engine/services.js';
import { createEnvironment, type ScenarioEnvironment } from '../../src/scenarios/environment.js';
import { loadScenario, runScenarioFile, type ScenarioResult } from '../../src/scenarios/index.js';

/**
 * Two AI-Gateway labs run end to end as scenarios, with the lab's own policy XML and backends transcription (its
 * `policyPlaceholders` substituted by the config loader), mock backends answering like Azure OpenAI and the virtual clock.
 */
const corpus = fileURLToPath(new URL('../../../shared/corpus/ai-gateway/', import.meta.url));
const labFiles = [
  'zero-to-production__policy-1.xml',
  'zero-to-production__policy-2.xml',
  'zero-to-production__policy-3.xml',
  'zero-to-production__policy-4.xml',
  'zero-to-production__backends.json',
  'google-gemini-api__policy.xml',
  'google-gemini-api__backends.json',
];
const exists = labFiles.every((f) => existsSync(path.join(corpus, f)));
if (!exists) console.warn(`lab scenario tests skipped: the AI-Gateway corpus is absent (${corpus})`);

// Created in a hook, not at import: when every test is skipped (no corpus) no hook runs, and nothing is left behind.
let dir = '';
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'apim-scenario-labs-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CHAT = '/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21';
const KEY = 'zero-to-production-key';

/**
 * The lab deploys its policy as the API policy of an API with subscription keys in the `api-key` header
 * (modules/apim/v1/openai-api.bicep); the policies read `context.Subscription.Id`, so calls carry a key.
 */
function zeroToProductionConfig(policy: string): Record<string, unknown> {
  return {
    backends: [path.join(corpus, 'zero-to-production__backends.json')],
    apis: [
      {
        id: 'openai',
        path: 'openai',
        subscriptionKeyParameterNames: { header: 'api-key', query: 'api-key' },
        policy: path.join(corpus, `zero-to-production__${policy}.xml`),
      },
    ],
    subscriptions: [
      { id: 'team-a', scope: 'api:openai', primaryKey: KEY },
      { id: 'team-b', scope: 'api:openai', primaryKey: `${KEY}-b` },
    ],
  };
}

/** Writes `<name>.json` (config) and `<name>.scenario.yaml` (which names it) into the temp dir; returns the scenario's path. */
function writeLab(name: string, config: Record<string, unknown>, scenario: string): string {
  writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(config, null, 2));
  const file = path.join(dir, `${name}.scenario.yaml`);
  writeFileSync(file, `name: ${name}\nconfig: ${name}.json\nsnapshot: false\n${scenario}`);
  return file;
}

async function runLab(name: string, config: Record<string, unknown>, scenario: string): Promise<ScenarioResult> {
  return runScenarioFile(writeLab(name, config, scenario));
}

/**
 * The world a scenario file runs in (its gateway, virtual clock and mocks), for what expectations cannot see: the
 * metrics policies emit and the requests the mocks received.
 */
async function withEnvironment(file: string, use: (env: ScenarioEnvironment) => Promise<void>): Promise<void> {
  const loaded = loadScenario(file);
  expect(loaded.diagnostics).toEqual([]);
  const created = await createEnvironment(loaded.scenario!);
  if ('failure' in created) throw new Error(created.failure.diagnostics.map((d) => d.message).join('; '));
  try {
    await use(created.env);
  } finally {
    await created.env.close();
  }
}

/** Sends one JSON request straight into the gateway, as the scenario runner does; returns the status and body text. */
async function post(env: ScenarioEnvironment, pathAndQuery: string, headers: Record<string, string>, body: unknown): Promise<{ status: number; body: string }> {
  const q = pathAndQuery.indexOf('?');
  const buf = Buffer.from(JSON.stringify(body), 'utf8');
  const h = new HeaderMap(Object.entries({ ...headers, 'Content-Type': 'application/json', 'Content-Length': String(buf.length) }).map(([k, v]) => [k, [v]]));
  const result = await env.gateway.handle({
    method: 'POST',
    path: q < 0 ? pathAndQuery : pathAndQuery.slice(0, q),
    search: q < 0 ? '' : pathAndQuery.slice(q),
    scheme: 'https',
    host: 'apim-emulator.local',
    port: 443,
    headers: h,
    body: Readable.from([buf]),
    ip: '127.0.0.1',
    tracing: false,
  });
  const text = result.response.body ? (await result.response.body.buffer()).toString('utf8') : '';
  return { status: result.response.statusCode, body: text };
}

/** Each failure with its explanation, so a broken expectation shows what happened. */
function failuresOf(r: ScenarioResult): string[] {
  return r.failures.map((f) => [f.message, ...f.details].join('\n'));
}

/** The timeline without its two header lines. */
function timelineOf(r: ScenarioResult): string[] {
  return r.timeline!.trimEnd().split('\n').slice(2);
}

describe.skipIf(!exists)('the zero-to-production lab (token limit + pool + semantic cache) as scenarios', () => {
  it("policy-1: a 429 on the priority-1 member is retried onto priority 2; all members out gives the lab's 503", async () => {
    const r = await runLab(
      'z2p-policy-1',
      zeroToProductionConfig('policy-1'),
      `mocks:
  openai1: "429 aoai retry-after=30; aoai"
steps:
  - name: 429 on openai1 is retried onto openai2
    send: &chat
      path: ${CHAT}
      headers: { api-key: ${KEY} }
      body: { messages: [{ role: user, content: hi }] }
    expect:
      status: 200
      attempts: [openai1 429, openai2 200]
      body: { object: chat.completion }
      breakers: { openai1: open, openai2: closed, openai3: closed }
  - name: while openai1 is open, priority 2 shares 50/50
    send: *chat
    repeat: 4
    expect:
      status: 200
      attemptCount: 1
      distribution: { openai2: 50, openai3: 50 }
      tolerance: 0
      mockRequests: { openai1: 1, openai2: 3, openai3: 2 }
  - advance: 29s
    expect: { breakers: { openai1: open } }
  - advance: 1s
    expect: { breakers: { openai1: closed } }
  - name: openai1 serves again after its Retry-After
    send: *chat
    expect: { attempts: [openai1 200], mockRequests: { openai1: 2 } }
  - name: every member answers 429
    script: { openai1: "429 aoai retry-after=60; aoai", openai2: "429 aoai; aoai", openai3: "429 aoai; aoai" }
  - name: retry-count 2 tries all three (smooth WRR goes on with openai3), the last 429 reaches the client
    send: *chat
    expect:
      status: 429
      attempts: [openai1 429, openai3 429, openai2 429]
      breakers: { openai1: open, openai2: open, openai3: open }
  # The retry treats the pool's BackendUnavailable as a failed attempt (docs/emulator-choices.md), so the selection is
  # tried three times; then the lab's on-error turns it into a bare 503 that does not reveal the pool.
  - name: the pool is unavailable and on-error answers 503
    send: *chat
    expect:
      status: 503
      attempts: []
      trace: { ran: ["on-error choose[1]/when[1]/return-response[1]"] }
      mockRequests: { openai1: 3, openai2: 4, openai3: 3 }
  - advance: 1m
    expect: { breakers: { openai1: closed, openai2: closed, openai3: closed } }
  - send: *chat
    expect: { status: 200, attempts: [openai1 200] }
`,
    );
    expect(failuresOf(r)).toEqual([]);
    expect({ requests: r.requests, virtualMs: r.virtualMs }).toEqual({ requests: 9, virtualMs: 90000 });
    expect(timelineOf(r)).toEqual([
      "step 1 '429 on openai1 is retried onto openai2': send POST /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
      '  +00:00:00.000 openai1 429, openai2 200 → 200',
      '  +00:00:00.000 breaker openai1 opened for 00:00:30 (Retry-After 00:00:30), until +00:00:30.000',
      "step 2 'while openai1 is open, priority 2 shares 50/50': send 4× POST /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
      '  +00:00:00.000 #1 openai3 200 → 200',
      '  +00:00:00.000 #2 openai2 200 → 200',
      '  +00:00:00.000 #3 openai3 200 → 200',
      '  +00:00:00.000 #4 openai2 200 → 200',
      'step 3: advance 29s → +00:00:29.000',
      'step 4: advance 1s → +00:00:30.000',
      '  +00:00:30.000 breaker openai1 closed',
      "step 5 'openai1 serves again after its Retry-After': send POST /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
      '  +00:00:30.000 openai1 200 → 200',
      "step 6 'every member answers 429': script openai1 = 429 aoai retry-after=60; aoai; openai2 = 429 aoai; aoai; openai3 = 429 aoai; aoai",
      "step 7 'retry-count 2 tries all three (smooth WRR goes on with openai3), the last 429 reaches the client': send POST /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
      '  +00:00:30.000 openai1 429, openai3 429, openai2 429 → 429',
      '  +00:00:30.000 breaker openai1 opened for 00:01:00 (Retry-After 00:01:00), until +00:01:30.000',
      '  +00:00:30.000 breaker openai3 opened for 00:01:00 (tripDuration PT1M), until +00:01:30.000',
      '  +00:00:30.000 breaker openai2 opened for 00:01:00 (tripDuration PT1M), until +00:01:30.000',
      "step 8 'the pool is unavailable and on-error answers 503': send POST /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
      '  +00:00:30.000 openai-backend-pool unavailable, openai-backend-pool unavailable, openai-backend-pool unavailable → 503',
      'step 9: advance 1m → +00:01:30.000',
      '  +00:01:30.000 breaker openai1 closed',
      '  +00:01:30.000 breaker openai2 closed',
      '  +00:01:30.000 breaker openai3 closed',
      'step 10: send POST /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21',
      '  +00:01:30.000 openai1 200 → 200',
    ]);
  });

  it('policy-2: token metrics are emitted from the usage of the member that served', async () => {
    const file = writeLab(
      'z2p-policy-2',
      zeroToProductionConfig('policy-2'),
      `mocks:
  openai1: "429 aoai retry-after=30; aoai completion-tokens=40"
  openai2: "aoai completion-tokens=40"
  openai3: "aoai completion-tokens=20"
steps:
  - send:
      path: ${CHAT}
      headers: { api-key: ${KEY}, x-user-id: alice }
      body: { messages: [{ role: user, content: hi }] }
    expect:
      status: 200
      attempts: [openai1 429, openai2 200]
      body: { usage.prompt_tokens: 1, usage.completion_tokens: 40, usage.total_tokens: 41 }
      trace: { ran: [azure-openai-emit-token-metric] }
`,
    );
    const r = await runScenarioFile(file);
    expect(failuresOf(r)).toEqual([]);

    // The same world again, watching what the policy emits (scenario expectations do not see metrics).
    await withEnvironment(file, async (env) => {
      const metrics: MetricRecord[] = [];
      env.gateway.services.emitMetric = (m) => metrics.push(m);
      const chat = { messages: [{ role: 'user', content: 'hi' }] };
      expect((await post(env, CHAT, { 'api-key': KEY, 'x-user-id': 'alice' }, chat)).status).toBe(200);
      expect((await post(env, CHAT, { 'api-key': `${KEY}-b` }, chat)).status).toBe(200);
      const dims = (subscription: string, user: string) => ({ 'Subscription ID': subscription, 'Client IP': '127.0.0.1', 'API ID': 'openai', 'User ID': user });
      expect(metrics).toEqual([
        // Only the 200 from openai2 reports usage; openai1's 429 emits nothing.
        { name: 'Total Tokens', namespace: 'openai', value: 41, dimensions: dims('team-a', 'alice') },
        { name: 'Prompt Tokens', namespace: 'openai', value: 1, dimensions: dims('team-a', 'alice') },
        { name: 'Completion Tokens', namespace: 'openai', value: 40, dimensions: dims('team-a', 'alice') },
        // openai1 is open now; the next priority-2 pick (smooth weighted round robin) is openai3, which reports 20.
        { name: 'Total Tokens', namespace: 'openai', value: 21, dimensions: dims('team-b', 'N/A') },
        { name: 'Prompt Tokens', namespace: 'openai', value: 1, dimensions: dims('team-b', 'N/A') },
        { name: 'Completion Tokens', namespace: 'openai', value: 20, dimensions: dims('team-b', 'N/A') },
      ]);
      expect([1, 2, 3].map((n) => env.mocks.get(`openai${n}`)!.describe().requestCount)).toEqual([1, 1, 1]);
    });
  });

  it('policy-3: usage over tokens-per-minute ({tpm} = 500) gives 429 with Retry-After until the window frees up', async () => {
    const r = await runLab(
      'z2p-policy-3',
      zeroToProductionConfig('policy-3'),
      `mocks:
  openai1: "aoai completion-tokens=299"
steps:
  - name: 300 tokens used
    send: &a
      path: ${CHAT}
      headers: { api-key: ${KEY} }
      body: { messages: [{ role: user, content: hi }] }
    expect: { status: 200, attempts: [openai1 200], body: { usage.total_tokens: 300 } }
  - advance: 10s
  - name: 300 < 500, let through (600 used)
    send: *a
    expect: { status: 200, attempts: [openai1 200] }
  - name: over the limit
    send: *a
    expect:
      status: 429
      attempts: []
      headers: { Retry-After: "50" }
      bodyContains: Token limit is exceeded
      mockRequests: { openai1: 2 }
  - name: another subscription has its own counter
    send:
      path: ${CHAT}
      headers: { api-key: ${KEY}-b }
      body: { messages: [{ role: user, content: hi }] }
    expect: { status: 200, attempts: [openai1 200], mockRequests: { openai1: 3 } }
  - advance: 49s
  - send: *a
    expect: { status: 429, headers: { Retry-After: "1" }, mockRequests: { openai1: 3 } }
  - advance: 1s
  - name: the first 300 tokens left the window
    send: *a
    expect: { status: 200, attempts: [openai1 200], mockRequests: { openai1: 4 } }
`,
    );
    expect(failuresOf(r)).toEqual([]);
    expect({ requests: r.requests, virtualMs: r.virtualMs }).toEqual({ requests: 6, virtualMs: 60000 });
    expect(timelineOf(r)).toEqual([
      "step 1 '300 tokens used': send POST /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
      '  +00:00:00.000 openai1 200 → 200',
      'step 2: advance 10s → +00:00:10.000',
      "step 3 '300 < 500, let through (600 used)': send POST /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
      '  +00:00:10.000 openai1 200 → 200',
      "step 4 'over the limit': send POST /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
      '  +00:00:10.000 no backend called → 429',
      "step 5 'another subscription has its own counter': send POST /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
      '  +00:00:10.000 openai1 200 → 200',
      'step 6: advance 49s → +00:00:59.000',
      'step 7: send POST /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21',
      '  +00:00:59.000 no backend called → 429',
      'step 8: advance 1s → +00:01:00.000',
      "step 9 'the first 300 tokens left the window': send POST /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
      '  +00:01:00.000 openai1 200 → 200',
    ]);
  });

  it('policy-4: a repeated prompt is answered from the semantic cache without calling the backend, for 120 s', async () => {
    const r = await runLab(
      'z2p-policy-4',
      zeroToProductionConfig('policy-4'),
      `mocks:
  openai1: "aoai completion-tokens=299"
steps:
  - name: first time, the backend answers and the answer is stored
    send: &a
      path: ${CHAT}
      headers: { api-key: ${KEY} }
      body: { messages: [{ role: user, content: How do I make a cake? }] }
    expect: { status: 200, attempts: [openai1 200], body: { id: chatcmpl-openai1-1 } }
  - name: same prompt, answered from the cache
    send: *a
    repeat: 3
    expect:
      status: 200
      attempts: []
      backend: null
      body: { id: chatcmpl-openai1-1 }
      # The hit skips the rest of inbound (token limit included) and the backend; outbound runs (the store sees the hit).
      trace:
        ran: [azure-openai-semantic-cache-lookup, "outbound azure-openai-semantic-cache-store[1]"]
        notRan: [azure-openai-token-limit, authentication-managed-identity, forward-request]
      mockRequests: { openai1: 1 }
  - name: another prompt goes to the backend
    send: &b
      path: ${CHAT}
      headers: { api-key: ${KEY} }
      body: { messages: [{ role: user, content: Tell me a joke }] }
    expect: { status: 200, attempts: [openai1 200], body: { id: chatcmpl-openai1-2 }, mockRequests: { openai1: 2 } }
  - name: a third prompt is over the token limit (600 of 500 used)
    send:
      path: ${CHAT}
      headers: { api-key: ${KEY} }
      body: { messages: [{ role: user, content: Write a poem }] }
    expect: { status: 429, attempts: [] }
  - name: cached prompts are still answered (the lookup runs before the token limit); no vary-by, so any subscription
    send:
      path: ${CHAT}
      headers: { api-key: ${KEY}-b }
      body: { messages: [{ role: user, content: How do I make a cake? }] }
    expect: { status: 200, attempts: [], body: { id: chatcmpl-openai1-1 }, mockRequests: { openai1: 2 } }
  - advance: 1m59s
  - send: *a
    expect: { status: 200, attempts: [], body: { id: chatcmpl-openai1-1 } }
  - advance: 1s
  - name: after 120 s the entry has expired
    send: *a
    expect: { status: 200, attempts: [openai1 200], body: { id: chatcmpl-openai1-3 }, mockRequests: { openai1: 3 } }
`,
    );
    expect(failuresOf(r)).toEqual([]);
    expect({ requests: r.requests, virtualMs: r.virtualMs }).toEqual({ requests: 9, virtualMs: 120000 });
    expect(timelineOf(r)).toEqual([
      "step 1 'first time, the backend answers and the answer is stored': send POST /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
      '  +00:00:00.000 openai1 200 → 200',
      "step 2 'same prompt, answered from the cache': send 3× POST /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
      '  +00:00:00.000 #1 no backend called → 200',
      '  +00:00:00.000 #2 no backend called → 200',
      '  +00:00:00.000 #3 no backend called → 200',
      "step 3 'another prompt goes to the backend': send POST /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
      '  +00:00:00.000 openai1 200 → 200',
      "step 4 'a third prompt is over the token limit (600 of 500 used)': send POST /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
      '  +00:00:00.000 no backend called → 429',
      "step 5 'cached prompts are still answered (the lookup runs before the token limit); no vary-by, so any subscription': send POST /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
      '  +00:00:00.000 no backend called → 200',
      'step 6: advance 1m59s → +00:01:59.000',
      'step 7: send POST /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21',
      '  +00:01:59.000 no backend called → 200',
      'step 8: advance 1s → +00:02:00.000',
      "step 9 'after 120 s the entry has expired': send POST /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
      '  +00:02:00.000 openai1 200 → 200',
    ]);
  });
});

/** APIM's default global policy: the lab's `<backend><base /></backend>` relies on its forward-request. */
const APIM_DEFAULT_GLOBAL = `<policies>
    <inbound></inbound>
    <backend>
        <forward-request />
    </backend>
    <outbound></outbound>
    <on-error></on-error>
</policies>
`;

describe.skipIf(!exists)('the google-gemini-api lab: a single backend with a circuit breaker', () => {
  it("a failure in the rule's ranges trips it, the client gets 503 while open, it serves again after tripDuration or Retry-After", async () => {
    writeFileSync(path.join(dir, 'apim-default-global.xml'), APIM_DEFAULT_GLOBAL);
    const file = writeLab(
      'gemini',
      {
        globalPolicy: 'apim-default-global.xml',
        namedValues: { 'gemini-api-key': { value: 'Bearer gemini-stand-in-key', secret: true } },
        backends: [path.join(corpus, 'google-gemini-api__backends.json')],
        apis: [
          {
            id: 'gemini',
            path: 'gemini',
            subscriptionKeyParameterNames: { header: 'api-key', query: 'api-key' },
            policy: path.join(corpus, 'google-gemini-api__policy.xml'),
          },
        ],
        subscriptions: [{ id: 'gemini-sub', scope: 'api:gemini', primaryKey: 'gemini-key' }],
      },
      `mocks:
  gemini-backend: "404; 500; 429 aoai retry-after=20; aoai"
steps:
  - name: 404 is outside the rule's ranges
    send: &chat
      path: /gemini/chat/completions
      headers: { api-key: gemini-key }
      body: { model: gemini-2.0-flash, messages: [{ role: user, content: hi }] }
    expect: { status: 404, attempts: [gemini-backend 404], breakers: { gemini-backend: closed } }
  - name: 500 trips it for tripDuration PT1M
    send: *chat
    expect: { status: 500, attempts: [gemini-backend 500], breakers: { gemini-backend: open } }
  - name: while open, 503 without calling the backend
    send: *chat
    repeat: 3
    expect: { status: 503, attempts: [], body: { statusCode: 503, message: Service Unavailable }, mockRequests: { gemini-backend: 2 } }
  - advance: 59s
  - send: *chat
    expect: { status: 503, attempts: [] }
  - advance: 1s
    expect: { breakers: { gemini-backend: closed } }
  - name: 429 with Retry-After 20 trips it for 20 s (acceptRetryAfter)
    send: *chat
    expect: { status: 429, attempts: [gemini-backend 429], breakers: { gemini-backend: open } }
  - advance: 19s
  - send: *chat
    expect: { status: 503, attempts: [] }
  - advance: 1s
  - name: serves again
    send: *chat
    expect: { status: 200, attempts: [gemini-backend 200], breakers: { gemini-backend: closed }, mockRequests: { gemini-backend: 4 } }
`,
    );
    const r = await runScenarioFile(file);
    expect(failuresOf(r)).toEqual([]);
    expect({ requests: r.requests, virtualMs: r.virtualMs }).toEqual({ requests: 9, virtualMs: 80000 });
    expect(timelineOf(r)).toEqual([
      "step 1 '404 is outside the rule's ranges': send POST /gemini/chat/completions",
      '  +00:00:00.000 gemini-backend 404 → 404',
      "step 2 '500 trips it for tripDuration PT1M': send POST /gemini/chat/completions",
      '  +00:00:00.000 gemini-backend 500 → 500',
      '  +00:00:00.000 breaker gemini-backend opened for 00:01:00 (tripDuration PT1M), until +00:01:00.000',
      "step 3 'while open, 503 without calling the backend': send 3× POST /gemini/chat/completions",
      '  +00:00:00.000 #1 gemini-backend unavailable → 503',
      '  +00:00:00.000 #2 gemini-backend unavailable → 503',
      '  +00:00:00.000 #3 gemini-backend unavailable → 503',
      'step 4: advance 59s → +00:00:59.000',
      'step 5: send POST /gemini/chat/completions',
      '  +00:00:59.000 gemini-backend unavailable → 503',
      'step 6: advance 1s → +00:01:00.000',
      '  +00:01:00.000 breaker gemini-backend closed',
      "step 7 '429 with Retry-After 20 trips it for 20 s (acceptRetryAfter)': send POST /gemini/chat/completions",
      '  +00:01:00.000 gemini-backend 429 → 429',
      '  +00:01:00.000 breaker gemini-backend opened for 00:00:20 (Retry-After 00:00:20), until +00:01:20.000',
      'step 8: advance 19s → +00:01:19.000',
      'step 9: send POST /gemini/chat/completions',
      '  +00:01:19.000 gemini-backend unavailable → 503',
      'step 10: advance 1s → +00:01:20.000',
      '  +00:01:20.000 breaker gemini-backend closed',
      "step 11 'serves again': send POST /gemini/chat/completions",
      '  +00:01:20.000 gemini-backend 200 → 200',
    ]);

    // What the backend receives: the lab's url path and the header credential from the named value.
    await withEnvironment(file, async (env) => {
      const res = await post(
        env,
        '/gemini/chat/completions',
        { 'api-key': 'gemini-key' },
        { model: 'gemini-2.0-flash', messages: [{ role: 'user', content: 'hi' }] },
      );
      expect(res.status).toBe(404);
      const [req] = env.mocks.get('gemini-backend')!.requests;
      expect(req).toMatchObject({ method: 'POST', path: '/v1beta/openai/chat/completions' });
      expect(req!.headers['authorization']).toBe('Bearer gemini-stand-in-key');
    });
  });
});

import { UndiciUpstream } from '../../src/server/undici-upstream.js';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveExample } from '../helpers/example.js';
import { VirtualClock } from '../../src/clock.js';
import type { MockBackendSet } from '../../src/mocks/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { CHROMIUM_PRESENT, launchBrowser, outputDir } from '../helpers/browser.js';

/**
 * The web console in a real headless Chromium, on the bundled example (policies/example) with its mock backends and a
 * virtual clock: foundry1 is scripted to 429, a traced request fails over, and the page must show the breaker open
 * with its reopen time, the request's trace tree with the pool's choice, and the breaker closing once the clock is
 * advanced from the page itself. Screenshots go to test-output/console/.
 */

const CHAT = '/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21';

describe.skipIf(!CHROMIUM_PRESENT)('web console in headless Chromium', () => {
  let server: RunningServer;
  let mocks: MockBackendSet;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  const clock = new VirtualClock(Date.UTC(2025, 0, 1), 'advance');
  const shots = outputDir('console');
  const pageErrors: string[] = [];

  beforeAll(async () => {
    ({ server, mocks } = await serveExample(clock));
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
  }, 60_000);

  afterAll(async () => {
    expect(pageErrors).toEqual([]);
    await browser?.close();
    await server?.close();
    await mocks?.closeAll();
  });

  async function admin(method: string, p: string, body?: string, contentType = 'application/json'): Promise<unknown> {
    // X-Emulator-Request: state-changing admin calls must show they do not come from a cross-site page (SECURITY.md).
    const res = await fetch(`${server.url}/_emulator${p}`, {
      method,
      headers: { 'x-emulator-request': '1', ...(body !== undefined ? { 'content-type': contentType } : {}) },
      ...(body !== undefined ? { body } : {}),
    });
    const text = await res.text();
    expect(res.status, `${method} ${p}: ${text}`).toBe(200);
    return JSON.parse(text) as unknown;
  }

  async function chat(traced: boolean): Promise<{ status: number; traceId: string | null }> {
    const res = await fetch(`${server.url}${CHAT}`, {
      method: 'POST',
      headers: { 'api-key': 'example-key', 'content-type': 'application/json', ...(traced ? { 'Apim-Debug-Authorization': 'console-test' } : {}) },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Hello' }] }),
    });
    await res.text();
    return { status: res.status, traceId: res.headers.get('apim-trace-id') };
  }

  const member = (id: string) => page.locator(`.pool [data-backend="${id}"]`);

  it('serves the page to a browser at /_emulator/ and goes live over SSE', async () => {
    await page.goto(`${server.url}/_emulator/`);
    await page.waitForSelector('body[data-live="true"]');
    expect(await page.textContent('#clock')).toContain('virtual clock: 2025-01-01T00:00:00Z');
    // The example's pool: priority 1 (foundry1), priority 2 (foundry2 + foundry3 at 50 %), priority 3 (foundry4).
    const groups = page.locator('.pool[data-pool="openai-backend-pool"] .group');
    expect(await groups.count()).toBe(3);
    expect(await groups.nth(1).textContent()).toMatch(/priority 2[\s\S]*foundry2[\s\S]*weight 50 \(50%\)[\s\S]*foundry3/);
    expect(await member('foundry1').getAttribute('data-breaker')).toBe('closed');
    // An API client still gets the JSON list of endpoints.
    const api = await fetch(`${server.url}/_emulator/`, { headers: { accept: 'application/json' } });
    expect(api.status).toBe(404);
    expect(((await api.json()) as { endpoints: string[] }).endpoints).toContain('GET  /_emulator/health');
  });

  it('shows foundry1 open with its reopen time after a scripted 429, and the request in the timeline', async () => {
    await admin('PUT', '/mocks/foundry1/script', '429 retry-after=30; aoai', 'text/plain');
    const sent = await chat(true);
    expect(sent.status).toBe(200);
    await page.waitForSelector('.pool [data-backend="foundry1"][data-breaker="open"]');
    const badge = await member('foundry1').locator('.badge.open').textContent();
    expect(badge).toContain('open until 2025-01-01T00:00:30Z');
    expect(badge).toContain('30 s left');
    expect(await member('foundry1').textContent()).toMatch(/recent: 429/);
    expect(await member('foundry1').textContent()).toContain(
      'window PT1M: 1 failure of 1 · rule openAIBreakerRule trips at 1 failure [429], opens for PT1M or Retry-After · trips 1',
    );
    expect(await member('foundry2').textContent()).toMatch(/recent: 200/);
    await page.waitForSelector('#events-list li.opened');
    expect(await page.textContent('#events-list')).toMatch(/foundry1 opened for 00:00:30/);
    const row = page.locator(`#requests-body tr[data-trace-id="${sent.traceId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toMatch(/POST \/openai\/deployments\/gpt-4o\/chat\/completions.*openai \/ openai-any.*200.*foundry1 → foundry2/);
  });

  it('opens the trace tree from the keyboard: policy steps, the pool choice, the retry and the response', async () => {
    const button = page.locator('#requests-body tr[data-trace-id] button').first();
    await button.focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('#trace-body .trace');
    const tree = page.locator('#trace-body');
    // Sections and policy steps as nodes.
    expect(await tree.locator('[data-section="inbound"]').count()).toBe(1);
    expect(await tree.locator('[data-section="backend"] [data-policy="retry"]').count()).toBe(1);
    expect(await tree.locator('[data-policy="forward-request"]').count()).toBeGreaterThanOrEqual(2);
    // The pool's choice for each attempt, under the forward-request step that made it.
    const choices = tree.locator('[data-policy="forward-request"] [data-kind="pool"]');
    expect(await choices.count()).toBe(2);
    expect(await choices.nth(0).textContent()).toMatch(/openai-backend-pool[\s\S]*priority 1[\s\S]*foundry1/);
    expect(await choices.nth(1).textContent()).toMatch(/openai-backend-pool[\s\S]*priority 2[\s\S]*foundry2/);
    expect(await tree.textContent()).toMatch(/→ 200\b/);
    await page.screenshot({ path: path.join(shots, 'console.png') });
  });

  it('closes the breaker when the virtual clock is advanced from the page', async () => {
    await page.fill('#advance-amount', '30');
    await page.selectOption('#advance-unit', '1000');
    await page.click('#advance');
    await page.waitForSelector('.pool [data-backend="foundry1"][data-breaker="closed"]');
    expect(await page.textContent('#clock')).toContain('2025-01-01T00:00:30Z');
    await page.waitForSelector('#events-list li.closed');
    expect(await page.locator('#events-list li').first().textContent()).toMatch(/2025-01-01T00:00:30\.000Z foundry1 closed/);
    // Untraced requests sent while the console is open are in the timeline too, with their tree from the console's own
    // history (no trace id: APIM tracing was not asked for).
    expect((await chat(false)).traceId).toBeNull();
    const plain = page.locator('#requests-body tr:not([data-trace-id])').first();
    await plain.waitFor();
    await plain.locator('button').click();
    await page.waitForSelector('#trace-body:not([data-trace-id]) .trace');
    expect(await page.locator('#trace-body [data-policy="forward-request"] [data-kind="pool"]').first().textContent()).toMatch(
      /openai-backend-pool[\s\S]*foundry1/,
    );
    expect(await page.textContent('#trace-body')).not.toContain('was not traced');
    await page.screenshot({ path: path.join(shots, 'console-closed.png') });
  });

  it('edits a mock script and resets through the admin API', async () => {
    await page.selectOption('#mock-name', 'foundry2');
    await page.fill('#mock-script', '500x2; aoai');
    await page.click('#mock-save');
    await page.waitForFunction(`document.getElementById('mock-msg').textContent.startsWith('foundry2 now answers')`);
    const script = (await admin('GET', '/mocks/foundry2/script')) as { scriptText: string };
    expect(script.scriptText).toBe('500x2; aoai');
    // A mistake is explained on the page, with its position.
    await page.fill('#mock-script', '42x');
    await page.click('#mock-save');
    await page.waitForSelector('#mock-msg.error');
    expect(await page.textContent('#mock-msg')).toMatch(/invalid mock script: PUT \/_emulator\/mocks\/foundry2\/script:1:\d+/);

    await page.click('#reset');
    await page.waitForFunction(`document.getElementById('control-msg').textContent.startsWith('reset: ')`);
    await page.waitForFunction(`!document.querySelector('.pool').textContent.includes('chosen 2×')`);
    expect(await member('foundry1').textContent()).toContain('chosen 0×');
  });

  it('asks for the admin token when the server requires one, and takes it from the URL fragment', async () => {
    const { Gateway } = await import('../../src/gateway/gateway.js');
    const c = new VirtualClock(0);
    const built = Gateway.build(
      {
        service: { name: 'apim', region: 'local', gatewayId: 'managed' },
        apis: [],
        products: [],
        subscriptions: [],
        namedValues: [],
        fragments: [],
        backendFiles: [],
      },
      { clock: c, upstream: new UndiciUpstream(c) },
    );
    const token = 'console-browser-token-0123456789';
    const guarded = await startServer({ gateway: built.gateway!, clock: c, logger: false, admin: { token } });
    try {
      const p2 = await browser.context.newPage();
      await p2.goto(`${guarded.url}/_emulator/`);
      await p2.waitForSelector('#token-form:not([hidden])');
      expect(await p2.textContent('#token-msg')).toContain('needs a token');
      await p2.fill('#token', token);
      await p2.press('#token', 'Enter');
      await p2.waitForSelector('body[data-live="true"]');
      expect(await p2.isHidden('#token-form')).toBe(true);
      // A new tab opened with the token in the fragment connects at once; the fragment is dropped from the address.
      const p3 = await browser.context.newPage();
      await p3.goto(`${guarded.url}/_emulator/#token=${token}`);
      await p3.waitForSelector('body[data-live="true"]');
      expect(p3.url()).toBe(`${guarded.url}/_emulator/`);
      await p2.close();
      await p3.close();
    } finally {
      await guarded.close();
    }
  });

  it('labels every control for assistive technology', async () => {
    // Evaluated in the page (a string: the test's TypeScript has no DOM types).
    const unlabeled = await page.evaluate<string[]>(
      `[...document.querySelectorAll('input, select, textarea')].filter((c) => !c.id || !document.querySelector('label[for="' + c.id + '"]')).map((c) => c.outerHTML)`,
    );
    expect(unlabeled).toEqual([]);
  });
});

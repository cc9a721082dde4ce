import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTestCommand } from '../../src/cli/test-command.js';
import { CHROMIUM_PRESENT, launchBrowser, outputDir } from '../helpers/browser.js';

/**
 * `apim-emulator test --report html` on two bundled example scenarios, opened from disk in headless Chromium: the page
 * needs nothing but itself, shows each scenario with the chart of which backend answered over time (foundry1's 429 and
 * its open band), the request timeline, and a request's trace tree with the pool's choice.
 */

const scenarios = ['trip-on-429.scenario.yaml', 'priority-fallback.scenario.yaml'].map((f) =>
  fileURLToPath(new URL(`../../examples/scenarios/${f}`, import.meta.url)),
);

describe.skipIf(!CHROMIUM_PRESENT)('HTML scenario report in headless Chromium', () => {
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  const dir = outputDir('report');
  const file = path.join(dir, 'report.html');
  const outside: string[] = [];
  let stdout = '';
  let exit = -1;

  beforeAll(async () => {
    exit = await runTestCommand(scenarios, { reporter: 'text', report: 'html', output: file, snapshots: false }, (s) => (stdout += s));
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('request', (r) => {
      if (r.url() !== pathToFileURL(file).href) outside.push(r.url());
    });
    await page.goto(pathToFileURL(file).href);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('writes one page and says where; the text report still goes to stdout', () => {
    expect(exit).toBe(0);
    expect(stdout).toContain('2 scenarios: 2 passed, 0 failed, 0 invalid');
    expect(stdout).toContain(`HTML report written to ${file}`);
  });

  it('is self-contained: the browser loads nothing else', () => {
    expect(outside).toEqual([]);
  });

  it('charts which backend answered over time, with the open breaker as a band', async () => {
    const trip = page.locator('section[data-scenario="trip on 429 without Retry-After"]');
    expect(await trip.getAttribute('data-status')).toBe('passed');
    expect(await trip.locator('h2').textContent()).toMatch(/^PASS trip on 429 without Retry-After/);
    const chart = trip.locator('svg.chart');
    expect(await chart.locator('circle[data-backend="foundry1"][data-status="429"]').count()).toBe(1);
    expect(await chart.locator('circle[data-backend="foundry1"][data-status="200"]').count()).toBe(1);
    expect(await chart.locator('circle[data-backend="foundry2"]').count()).toBe(1);
    expect(await chart.locator('circle[data-backend="foundry3"]').count()).toBe(1);
    // foundry1 was open from +0 to +1 min, the band's tooltip says so.
    expect(await chart.locator('rect.open-band title').allTextContents()).toEqual(['foundry1 open +00:00:00.000 → +00:01:00.000']);
  });

  it('lists the requests and opens a trace tree with the pool choice', async () => {
    const trip = page.locator('section[data-scenario="trip on 429 without Retry-After"]');
    const rows = trip.locator('tbody tr');
    expect(await rows.count()).toBe(3);
    expect(await rows.nth(0).textContent()).toMatch(/\+00:00:00\.000.*POST \/openai\/deployments\/gpt-4o\/chat\/completions.*200.*foundry1 429, foundry2 200/);
    await rows.nth(0).locator('button').focus();
    await page.keyboard.press('Enter');
    const tree = trip.locator('.trace-host .trace');
    await tree.waitFor();
    const choices = tree.locator('[data-kind="pool"]');
    expect(await tree.locator('[data-kind="breaker"]').count()).toBe(1);
    expect(await choices.count()).toBe(2);
    expect(await choices.nth(1).textContent()).toMatch(/openai-backend-pool[\s\S]*priority 2[\s\S]*foundry2/);
    expect(await tree.locator('[data-policy="retry"]').count()).toBe(1);
    await page.screenshot({ path: path.join(dir, 'report.png'), fullPage: true });
  });

  it('keeps the snapshot-format timeline for each scenario', async () => {
    const pre = page.locator('section[data-scenario="trip on 429 without Retry-After"] pre.timeline');
    expect(await pre.textContent()).toContain('breaker foundry1 opened for 00:01:00 (tripDuration PT1M), until +00:01:00.000');
  });
});

/** The page also works with no browser: it is plain HTML. A guard for hostile text in names and paths. */
describe('HTML scenario report escaping', () => {
  it('escapes text and keeps embedded JSON from closing its script element', async () => {
    const { htmlReport } = await import('../../src/scenarios/report-html.js');
    const html = htmlReport({
      results: [
        {
          path: '/x/a.scenario.yaml',
          file: 'a.scenario.yaml',
          name: '<img src=x onerror=alert(1)>',
          status: 'passed',
          diagnostics: [],
          steps: [],
          failures: [],
          timeline: 'step 1\n',
          snapshot: null,
          coverage: [],
          requests: 1,
          virtualMs: 0,
          wallMs: 1,
          entries: [],
          requestLog: [
            {
              step: 1,
              at: 0,
              method: 'GET',
              path: '/</script><script>alert(1)</script>',
              status: 200,
              attempts: [{ kind: 'sent', backendId: 'b', memberId: 'b', url: 'http://b', status: 200 }],
              lastError: null,
              trace: [],
            },
          ],
        },
      ],
      coverage: [],
      counts: { passed: 1, failed: 0, invalid: 0 },
      exitCode: 0,
      diagnostics: [],
      wallMs: 3,
    });
    writeFileSync(path.join(outputDir('report'), 'escaping.html'), html);
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html.match(/<\/script>/g)?.length).toBe(3);
  });
});

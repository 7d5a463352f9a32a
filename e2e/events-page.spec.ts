import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIRequestContext } from '@playwright/test';
import { trackerLoaded } from './support/browser.ts';
import { ROOT, startRelay } from './support/stack.ts';
import { expect, test } from './support/test.ts';

/**
 * The README shows this page. Every run saves the screenshot as a test artifact
 * (test-results/…/events-page.png); `UPDATE_SCREENSHOT=1 npx playwright test e2e/events-page.spec.ts`
 * also writes it to docs/, so ordinary runs leave the tree clean.
 */
const README_SCREENSHOT = join(ROOT, 'docs/events-page.png');

/** Event types the relay's live feed holds, from the page's own data endpoint. */
async function storedTypes(request: APIRequestContext, relayUrl: string): Promise<string[]> {
  const data = (await (await request.get(`${relayUrl}/_events/data`)).json()) as { recent: { type: string }[] };
  return data.recent.map((e) => e.type);
}

test('without credentials the relay shows the events it received on /_events', async ({ page }, testInfo) => {
  // The embedded default a new user gets from `npm start`: no key, no token, no upstream.
  const relay = await startRelay({});
  try {
    const at = (path: string) => new URL(path, relay.url).href;
    await page.goto(at('/index.html?utm_source=readme'));
    await trackerLoaded(page);
    await page.click('#login');
    await trackerLoaded(page);
    await page.click('button[type=submit]');
    await page.click('#upgrade');
    await trackerLoaded(page);
    await page.click('#upgrade');
    await expect(page.locator('#status')).toHaveText('Upgraded');
    await expect.poll(() => storedTypes(page.request, relay.url)).toContain('plan_upgraded');

    await page.goto(at('/_events'));
    const body = page.locator('body');
    for (const text of ['plan_upgraded', 'user_identify', 'pageview', 'ada@example.com', '/upgrade.html']) {
      await expect(body).toContainText(text);
    }

    await page.setViewportSize({ width: 1100, height: 420 });
    const png = await page.screenshot({ path: testInfo.outputPath('events-page.png'), fullPage: true });
    if (process.env['UPDATE_SCREENSHOT']) {
      mkdirSync(join(ROOT, 'docs'), { recursive: true });
      writeFileSync(README_SCREENSHOT, png);
    }
    await testInfo.attach('events-page', { body: png, contentType: 'image/png' });
  } finally {
    await relay.close();
  }
});

test('the live /_events page shows an event that arrives while it is loading', async ({ page, newPage }) => {
  const relay = await startRelay({});
  try {
    const at = (path: string) => new URL(path, relay.url).href;
    const visitor = await newPage();
    // Hold the page's stream request until an event has been stored after its snapshot.
    await page.route('**/_events/stream', async (route) => {
      await visitor.goto(at('/second.html'));
      await expect.poll(() => storedTypes(page.request, relay.url)).toContain('pageview');
      await route.continue();
    });
    await page.goto(at('/_events'));
    await expect(page.locator('#rows')).toContainText('/second.html');
  } finally {
    await relay.close();
  }
});

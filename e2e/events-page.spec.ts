import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { trackerLoaded } from './support/browser.ts';
import { ROOT, startRelay } from './support/stack.ts';
import { expect, test } from './support/test.ts';

const SCREENSHOT = join(ROOT, 'docs/events-page.png');

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

    await page.goto(at('/_events'));
    const events = page.locator('body');
    await expect(events).toContainText('plan_upgraded');
    await expect(events).toContainText('user_identify');
    await expect(events).toContainText('pageview');
    await expect(events).toContainText('ada@example.com');

    mkdirSync(join(ROOT, 'docs'), { recursive: true });
    await page.setViewportSize({ width: 1100, height: 420 });
    const png = await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await testInfo.attach('events-page', { body: png, contentType: 'image/png' });
  } finally {
    await relay.close();
  }
});

/**
 * A headless Chromium for Vitest tests that load a page for real (the framework examples):
 * the one the e2e suite uses (scripts/provision.mjs), with the same flags.
 */
import { chromium, type Browser, type Page } from 'playwright';
import { requireChromium } from '../../scripts/provision.mjs';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    headless: true,
    executablePath: requireChromium(),
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
  });
}

/**
 * A page that looks like a person's browser to the tracker: Playwright sets
 * `navigator.webdriver`, and the tracker sends nothing for automation unless the tag says
 * `data-allow-automation` — which an example's page, written for people, does not.
 */
export async function visitorPage(browser: Browser): Promise<Page> {
  const page = await browser.newPage();
  await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'webdriver', { get: () => false }));
  return page;
}

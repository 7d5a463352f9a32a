/**
 * A headless Chromium for Vitest tests that load a page for real (the framework examples):
 * Debian's /usr/bin/chromium when present, as the e2e suite uses, with the same flags.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright';

export function launchChromium(): Promise<Browser> {
  const executablePath = existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined;
  return chromium.launch({
    headless: true,
    ...(executablePath ? { executablePath } : {}),
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

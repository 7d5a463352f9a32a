/** Small reads of browser state the scenarios share. */
import type { BrowserContext, Page } from '@playwright/test';

export const ANON_COOKIE = '__eventn_id';

/** Resolves once u.js has replaced the stub (the stub has no `track` method). */
export async function trackerLoaded(page: Page): Promise<void> {
  await page.waitForFunction(() => typeof (window as { usermaven?: { track?: unknown } }).usermaven?.track === 'function');
}

/** The `__eventn_id` cookie of the context, or undefined. */
export async function anonymousIdCookie(context: BrowserContext): Promise<string | undefined> {
  const cookies = await context.cookies();
  return cookies.find((c) => c.name === ANON_COOKIE)?.value;
}

/** What the page itself says its context is, to compare with what arrived upstream. */
export async function pageTruth(page: Page) {
  return page.evaluate(() => ({
    url: location.href,
    page_title: document.title,
    referer: document.referrer,
    doc_path: location.pathname,
    doc_host: location.hostname,
    doc_search: location.search,
    vp_size: `${innerWidth}x${innerHeight}`,
    screen_resolution: `${screen.width}x${screen.height}`,
    user_agent: navigator.userAgent,
    user_language: navigator.language,
    doc_encoding: document.characterSet,
  }));
}

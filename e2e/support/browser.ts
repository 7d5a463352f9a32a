/** Small reads of browser state the scenarios share. */
import type { BrowserContext, Page } from '@playwright/test';

import { ANON_COOKIE } from '../../src/shared/visitor-id.ts';

export { ANON_COOKIE };

/**
 * Resolves once u.js has replaced the stub (the stub has no `track` method). When it does
 * not, says why: what /u.js answered now and whether it even parses.
 */
export async function trackerLoaded(page: Page): Promise<void> {
  try {
    await page.waitForFunction(() => typeof (window as { usermaven?: { track?: unknown } }).usermaven?.track === 'function', null, {
      timeout: 10_000,
    });
  } catch (error) {
    const why = await page
      .evaluate(async () => {
        const script = document.querySelector<HTMLScriptElement>('script[src*="u.js"]');
        if (!script) return 'the page has no u.js script tag';
        const res = await fetch(script.src);
        const text = await res.text();
        let parse = 'parses';
        try {
          new Function(text);
        } catch (e) {
          parse = `does not parse: ${String(e)}`;
        }
        return `${script.src} answers ${res.status}, ${text.length} chars, ${parse}`;
      })
      .catch((e: unknown) => `could not check u.js: ${String(e)}`);
    throw new Error(`u.js did not load on ${page.url()}: ${why}`, { cause: error });
  }
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

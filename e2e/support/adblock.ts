/**
 * The ad-blocker every scenario also runs behind: EasyList + EasyPrivacy as Debian ships them
 * for uBlock Origin (`webext-ublock-origin-chromium`), parsed from the local files (no network)
 * into `@ghostery/adblocker-playwright`, which aborts matching requests with
 * `net::ERR_BLOCKED_BY_CLIENT` like a real extension would.
 */
import { existsSync, readFileSync } from 'node:fs';
import { PlaywrightBlocker, Request, type RequestType } from '@ghostery/adblocker-playwright';
import type { Page } from '@playwright/test';

export const FILTER_LIST_DIR = '/usr/share/chromium/extensions/ublock-origin/assets/thirdparties/easylist';
export const FILTER_LISTS = ['easylist.txt', 'easyprivacy.txt'] as const;

let cached: PlaywrightBlocker | undefined;

/** Parsed once per worker (~1 s for both lists). */
export function loadBlocker(): PlaywrightBlocker {
  if (cached) return cached;
  const texts = FILTER_LISTS.map((name) => {
    const file = `${FILTER_LIST_DIR}/${name}`;
    if (!existsSync(file)) {
      throw new Error(`ad-blocker: ${file} is missing; install Debian's webext-ublock-origin-chromium (.ci/run does)`);
    }
    return readFileSync(file, 'utf8');
  });
  // `debug` keeps the matching filter's text, so a failure can say which rule fired.
  cached = PlaywrightBlocker.parse(texts.join('\n'), { debug: true });
  return cached;
}

/** Starts blocking in `page`; call before the page's first navigation. */
export async function enableBlocking(page: Page): Promise<void> {
  // The blocker's types come from the `playwright` package, ours from `@playwright/test`:
  // the same runtime objects under two declaration trees.
  await loadBlocker().enableBlockingInPage(page as unknown as Parameters<PlaywrightBlocker['enableBlockingInPage']>[0]);
}

/** The filter that blocks `url` as a `type` request from `sourceUrl`, or undefined. */
export function blockingFilter(url: string, type: RequestType, sourceUrl: string): string | undefined {
  const { match, filter } = loadBlocker().match(Request.fromRawDetails({ url, type, sourceUrl }));
  return match ? (filter?.toString() ?? '(unknown filter)') : undefined;
}

import type { PageContext } from '../event.ts';

/**
 * The ad-platform ids present in cookies (Google Analytics, Meta pixel and click). An
 * empty value counts as absent: JSON leaves out `undefined`.
 */
export const adIds = (cookies: Record<string, string>): Record<string, string> =>
  ({ _ga: cookies._ga || undefined, _fbp: cookies._fbp || undefined, _fbc: cookies._fbc || undefined }) as Record<string, string>;

/**
 * The page context of one call: `href` and `title` as they were at that call (a queued
 * call keeps its own), the rest as it is now. `doc_path`, `doc_host`, `doc_search`, `utm`
 * and `click_id` are all in `url`: the relay derives them (derivePage in
 * src/relay/enrich.ts), which keeps about 120 B gzip out of u.js.
 */
export const context = (href: string, title: string): PageContext => ({
  url: href,
  page_title: title,
  referer: document.referrer,
  vp_size: innerWidth + 'x' + innerHeight,
  screen_resolution: screen.width + 'x' + screen.height,
  user_agent: navigator.userAgent,
  user_language: navigator.language,
  doc_encoding: document.characterSet,
  local_tz_offset: new Date().getTimezoneOffset(),
});

import type { PageContext } from '../event.ts';

/** The keys of `keys` for which `get` has a value, as an object. */
export const pick = (get: (k: string) => string | null | undefined, keys: string) => {
  const o: Record<string, string> = {};
  for (const k of keys.split(' ')) {
    const v = get(k);
    if (v) o[k] = v;
  }
  return o;
};

/**
 * The page context of one call: `href` and `title` as they were at that call (a queued
 * call keeps its own), the rest as it is now. One object literal, no helpers: every byte
 * of u.js counts.
 */
export const context = (href: string, title: string): PageContext => {
  const u = new URL(href);
  const p = u.searchParams;
  return {
    url: href,
    page_title: title,
    referer: document.referrer,
    doc_path: u.pathname,
    doc_host: u.hostname,
    doc_search: u.search,
    vp_size: innerWidth + 'x' + innerHeight,
    screen_resolution: screen.width + 'x' + screen.height,
    user_agent: navigator.userAgent,
    user_language: navigator.language,
    doc_encoding: document.characterSet,
    local_tz_offset: new Date().getTimezoneOffset(),
    utm: pick((k) => p.get('utm_' + k), 'source medium campaign term content'),
    // Ad-platform click ids: Google (gclid; gbraid/wbraid from iOS apps; dclid Display &
    // Video), Meta, Microsoft, TikTok, X, LinkedIn.
    click_id: pick((k) => p.get(k), 'gclid gbraid wbraid dclid fbclid msclkid ttclid twclid li_fat_id'),
  };
};

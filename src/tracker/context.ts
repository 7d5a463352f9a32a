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

/** The URL-derived part of the page context: pure, so a queued call can use its own URL. */
export const fromUrl = (href: string) => {
  const u = new URL(href);
  const p = u.searchParams;
  return {
    url: href,
    doc_path: u.pathname,
    doc_host: u.hostname,
    doc_search: u.search,
    utm: pick((k) => p.get('utm_' + k), 'source medium campaign term content'),
    // Ad-platform click ids: Google (gclid; gbraid/wbraid from iOS apps; dclid Display &
    // Video), Meta, Microsoft, TikTok, X, LinkedIn.
    click_id: pick((k) => p.get(k), 'gclid gbraid wbraid dclid fbclid msclkid ttclid twclid li_fat_id'),
  };
};

/** The whole page context of one call (`href`/`title` as they were at that call). */
export const context = (href: string, title: string): PageContext => ({
  ...fromUrl(href),
  page_title: title,
  referer: document.referrer,
  vp_size: innerWidth + 'x' + innerHeight,
  screen_resolution: screen.width + 'x' + screen.height,
  user_agent: navigator.userAgent,
  user_language: navigator.language,
  doc_encoding: document.characterSet,
  local_tz_offset: new Date().getTimezoneOffset(),
});

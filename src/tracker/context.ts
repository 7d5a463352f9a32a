import type { InboundEvent } from '../shared/event.ts';
import { anonymousId, jar, uuid } from './id.ts';
import { COMPANY, USER, load } from './store.ts';

/** Where and when a call was made: see `made` in api.ts. */
export interface Made {
  t?: number;
  u?: string;
  d?: string;
}

/**
 * One event with everything it carries: who (anonymous id, user and company remembered
 * across pages, ad-platform ids from cookies) and the page context of the call: `made.u`
 * and `made.d` (a queued call's page) or the page now. `doc_path`, `doc_host`,
 * `doc_search`, `utm` and `click_id` are all in `url`: the relay derives them (derivePage
 * in src/relay/enrich.ts), which keeps about 120 B gzip out of u.js. One object literal:
 * every byte of u.js counts.
 */
export const event = (
  event_type: string,
  event_attributes: Record<string, unknown>,
  made: Made,
  cookies = jar(),
): InboundEvent => ({
  event_id: uuid(),
  event_type,
  _timestamp: made.t || Date.now(),
  user: { ...load(USER), anonymous_id: anonymousId(cookies) },
  // JSON leaves out what is undefined: no company, an absent or empty ad cookie
  company: load(COMPANY) || undefined,
  event_attributes,
  ids: { _ga: cookies._ga || undefined, _fbp: cookies._fbp || undefined, _fbc: cookies._fbc || undefined } as Record<string, string>,
  src: 'umbeacon',
  url: made.u || location.href,
  page_title: made.d ?? document.title,
  referer: document.referrer,
  vp_size: innerWidth + 'x' + innerHeight,
  screen_resolution: screen.width + 'x' + screen.height,
  user_agent: navigator.userAgent,
  user_language: navigator.language,
  doc_encoding: document.characterSet,
  local_tz_offset: new Date().getTimezoneOffset(),
});

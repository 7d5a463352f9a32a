import type { CompactEvent } from '../shared/compact.ts';
import { NS } from './config.ts';
import { anonymousId, jar, uuid } from './id.ts';
import { COMPANY, PROPS, USER, load } from './store.ts';

/** Where and when a call was made: see `made` in api.ts. */
export interface Made {
  t?: number;
  u?: string;
  d?: string;
}

/**
 * One event in the compact form the relay expands to Usermaven's field names
 * (src/shared/compact.ts has the table): who (anonymous id, user, company and super
 * properties remembered across pages) and the page context of the call: `made.u` and
 * `made.d` (a queued call's page) or the page now. What the request itself carries is not
 * repeated (language, ad-platform cookies; the user agent is, since a request sent while the
 * page unloads may leave without the page's own User-Agent override), and what `url` holds (path, host,
 * query, utm, click ids) the relay derives. One object literal: every byte of u.js counts.
 */
export const event = (e: string, a: Record<string, unknown> | unknown[] | undefined, made: Made): CompactEvent => ({
  i: uuid(),
  e,
  t: made.t || Date.now(),
  n: anonymousId(jar()),
  u: load(USER),
  c: load(COMPANY),
  // (read twice rather than kept in a local: the builder stays one expression, −4 B)
  p: { ...load(PROPS)?.[''], ...load(PROPS)?.[e] },
  a,
  l: made.u || location.href,
  d: made.d ?? document.title,
  r: document.referrer,
  v: innerWidth + 'x' + innerHeight,
  w: screen.width + 'x' + screen.height,
  x: document.characterSet,
  z: new Date().getTimezoneOffset(),
  g: navigator.userAgent,
  m: NS,
});

import Cookies from 'js-cookie';
import { COOKIE_DOMAIN, COOKIELESS, ENDPOINT, KEY } from './config.ts';
import { DOMAIN, RETIRED, load, save } from './store.ts';
import { ANON_COOKIE as ANON, COOKIE_MAX_AGE_S } from '../shared/visitor-id.ts';

/** The anonymous-id cookie; its name and lifetime are the relay's (src/shared/visitor-id.ts). */
export { ANON };

/**
 * A random v4 UUID: `crypto.randomUUID` in secure contexts; elsewhere (plain http on a LAN
 * host) a blob URL ends in one, as browsers name blobs with a random v4 UUID (File API,
 * "blob URL"; Chromium, Firefox and WebKit all do). The blob way registers the URL with the
 * browser process, a synchronous round trip on the load path, so it is only the fallback.
 * The empty blob's URL is not revoked: an entry of a few bytes per event, freed with the page.
 */
export const uuid = (): string => crypto.randomUUID?.() || URL.createObjectURL(new Blob()).slice(-36);

/**
 * Every cookie of the page, the first of a name winning as in js-cookie's `get()`; none
 * when cookies are blocked (document.cookie throws). Read here rather than with js-cookie,
 * whose reader and read converter cost ~170 B of every page load for a few UUIDs.
 */
export const jar = (): Record<string, string> => {
  const o: Record<string, string> = {};
  try {
    document.cookie.split('; ').map((c) => {
      const [k, ...v] = c.split('=');
      o[k!] ??= decodeURIComponent(v.join('='));
    });
  } catch {
    // blocked, or a value that is not URI-encoded: the cookies read so far
  }
  return o;
};

/**
 * The registrable domain of the page (`example.co.uk` for `www.shop.example.co.uk`): the
 * shortest parent the browser accepts a cookie on. Browsers refuse a cookie on a public
 * suffix (`co.uk`, `github.io`: the Public Suffix List is built in), so trying from the
 * shortest up finds it without shipping the list, as Google Analytics' `cookieDomain: 'auto'`
 * does. An IP address or a single label (`localhost`) has no parent: '' (host-only).
 */
export const probe = (): string =>
  (!/^[\d.]+$|:/.test(location.hostname) &&
    location.hostname
      .split('.')
      // Its parents, shortest first: from the last two labels to the whole host.
      .map((_, i, p) => p.slice(i).join('.'))
      .reverse()
      .slice(1)
      .find((d) => {
        const c = 'um_t=1;path=/;domain=' + d;
        try {
          document.cookie = c;
          if (document.cookie.includes('um_t=1')) return (document.cookie = c + ';max-age=0');
        } catch {
          // cookies blocked: host-only, and the next page tries again
        }
      })) ||
  '';

/** The cookie's domain, found once per page: `data-cookie-domain`, the stored probe, or a probe. */
let dom: string | undefined;

/**
 * The visitor's anonymous id, in this order: our `__eventn_id` cookie (also when the relay
 * set it with Set-Cookie); the official Usermaven tracker's `__eventn_id_<key>` cookie, so
 * a site that switches keeps its visitors; the `_um` parameter of a cross-domain link
 * (the official SDK's `data-domains`); the localStorage copy (cookies blocked); a new UUID.
 * `fresh` starts a new visitor (`reset(true)`). Cookieless (`data-privacy-policy="strict"`):
 * '' and nothing stored, as the official SDK sends it.
 *
 * The cookie goes on the registrable domain, so `www.` and `app.` share one visitor, and the
 * relay's Set-Cookie carries the same Domain (the `d` parameter of every request). It is
 * written only when it does not hold the id already, so a longer-lived server cookie is not
 * shortened: Safari caps cookies written by JavaScript to 7 days (WebKit, "ITP 2.1"). The
 * first probe rewrites it and removes a host-only copy an older u.js or relay left.
 */
export const anonymousId = (cookies: Record<string, string>, fresh?: boolean) => {
  if (COOKIELESS) return '';
  // The relay answers every batch with a Set-Cookie of its newest id, and the answer to a batch
  // sent before reset(true) can land after it: the id a reset retired never counts again, from
  // any source (the official SDK's cookie may hold it too, if u.js adopted it from there).
  const retired = load(RETIRED);
  // Only ids of [\w-] count (UUIDs, the official SDK's): js-cookie writes the id as it is,
  // without its write converter (build.mjs), so nothing a cookie must escape may come back.
  const live = (v?: string) => v != retired && /^[\w-]+$/.test(v!) && v;
  fresh && save(RETIRED, cookies[ANON] || load(ANON));
  // In order, each source read only when the ones before it hold nothing (this runs per event).
  const id: string =
    (!fresh &&
      (live(cookies[ANON]) ||
        live(cookies[ANON + '_' + KEY]) ||
        live(/[?&]_um=([\w-]+)/.exec(location.search)?.[1]) ||
        live(load(ANON)))) ||
    uuid();
  if (dom == null) {
    dom = COOKIE_DOMAIN ?? load(DOMAIN);
    if (dom == null) {
      (dom = probe()) && save(DOMAIN, dom);
      try {
        // A host-only copy beside the domain cookie would be a second visitor id.
        document.cookie = ANON + '=;path=/;max-age=0';
      } catch {}
      cookies = {};
    }
    dom && ENDPOINT.searchParams.set('d', dom.replace(/^\./, ''));
  }
  if (cookies[ANON] != id)
    try {
      Cookies.set(ANON, id, {
        // js-cookie's default path is cut out at build time (build.mjs): the tracker sets it.
        // max-age rather than expires: js-cookie's date arithmetic is cut out too.
        path: '/',
        'max-age': COOKIE_MAX_AGE_S + '',
        sameSite: 'Lax',
        secure: location.protocol == 'https:',
        domain: dom,
      });
    } catch {
      // cookies blocked: the localStorage copy keeps the visitor
    }
  save(ANON, id);
  return id;
};

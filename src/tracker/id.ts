import Cookies from 'js-cookie';
import { COOKIE_DOMAIN } from './config.ts';
import { load, save } from './store.ts';
import { ANON_COOKIE as ANON, COOKIE_DAYS } from '../shared/visitor-id.ts';

/** The anonymous-id cookie; its name and lifetime are the relay's (src/shared/visitor-id.ts). */
export { ANON };

/**
 * A random v4 UUID: a blob URL ends in one, as browsers name blobs with a random v4 UUID
 * (File API, "blob URL"; Chromium, Firefox and WebKit all do). Unlike `crypto.randomUUID`
 * it works outside secure contexts (plain http) too, so one way costs fewer bytes. The
 * empty blob's URL is not revoked: an entry of a few bytes per event, freed with the page.
 */
export const uuid = (): string => URL.createObjectURL(new Blob()).slice(-36);

/** Every cookie of the page; none when cookies are blocked (document.cookie throws). */
export const jar = (): Record<string, string> => {
  try {
    return Cookies.get();
  } catch {
    return {};
  }
};

/**
 * The visitor's anonymous id, in this order: our `__eventn_id` cookie (also when the relay
 * set it with Set-Cookie); the official Usermaven tracker's `__eventn_id_<key>` cookie, so
 * a site that switches keeps its visitors; the localStorage copy (cookies blocked); a new
 * UUID. `fresh` starts a new visitor (logout). The cookie is written only when it does not
 * hold the id already, so a longer-lived server cookie is not shortened: Safari caps
 * cookies written by JavaScript to 7 days (WebKit, "ITP 2.1").
 */
export const anonymousId = (cookies: Record<string, string>, fresh?: boolean) => {
  const id: string = fresh
    ? uuid()
    : cookies[ANON] || cookies[Object.keys(cookies).find((k) => k.startsWith(ANON))!] || load(ANON) || uuid();
  if (cookies[ANON] != id)
    try {
      Cookies.set(ANON, id, {
        // js-cookie's default path is cut out at build time (build.mjs): the tracker sets it
        path: '/',
        expires: COOKIE_DAYS,
        sameSite: 'Lax',
        secure: location.protocol == 'https:',
        domain: COOKIE_DOMAIN,
      });
    } catch {
      // cookies blocked: the localStorage copy keeps the visitor
    }
  save(ANON, id);
  return id;
};

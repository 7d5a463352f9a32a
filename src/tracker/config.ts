// Configuration from the script tag's data-* attributes, read once while the script runs:
// `document.currentScript` is set during that first run (also for `async` scripts) and
// never later, in callbacks (HTML spec, "document.currentScript"). The official SDK's
// attributes keep its names and its parsing (`data-autocapture="true"`, not just present).
const tag = document.currentScript as HTMLScriptElement | null;
/** Every data-* attribute of the tag; handed on to the opt-in chunk (chunk.ts) as they are. */
export const data = tag?.dataset || {};

/** A boolean data-* attribute: present means on, unless its value is "false". */
export const on = (v?: string) => v != null && v != 'false';

/**
 * The official snippet's `data-tracking-host` names where events go; for u.js that is the
 * relay's origin. Left pointing at Usermaven's own host (a page that swapped lib.js for
 * u.js and kept the rest of the tag), it is ignored: the relay that served u.js takes them.
 */
const host = data.trackingHost;

/**
 * Where events are posted. The literal "/u/e" appears exactly once in u.js: the relay
 * rewrites it when it serves the script under another collect path. A relative endpoint
 * resolves against the relay origin (`data-tracking-host`) or else the script's own src,
 * not the page: the relay that served u.js is the one that takes its events, also when a
 * site loads u.js from a relay on another host. A copy of the script inlined into the page
 * (no src) resolves against the page. The query carries what the relay must know about the
 * page's settings: `c` and `i`, the official SDK's `cookie_policy` and `ip_policy` by short
 * names the relay also takes (src/relay/privacy-policy.ts), and `d`, the cookie domain (id.ts).
 */
export const ENDPOINT = new URL(data.endpoint || "/u/e", (!/usermaven\.com/.test(host!) && host) || tag?.src || location.href);
export const DEBUG = on(data.debug);
export const AUTO_PAGEVIEW = data.autoPageview != 'false';
export const ALLOW_AUTOMATION = on(data.allowAutomation);
export const REQUIRE_CONSENT = on(data.requireConsent);
export const RESPECT_DNT = on(data.respectDnt);
export const COOKIE_DOMAIN = data.cookieDomain;
/** The workspace key of the official snippet: names its cookie and its stored user. */
export const KEY = data.key;
/** `data-namespace`: the global's name (`window[namespace]`, queue `window[namespace + "Q"]`). */
export const NS = data.namespace;
/** Keys removed from every event's attributes (`data-property-blacklist="a,b"`, split as the official SDK does). */
export const BLACKLIST = data.propertyBlacklist?.split(',') || [];

// `data-privacy-policy="strict"` is cookieless mode: both policies strict, as the official SDK
// sets them. The relay honours them (no Set-Cookie, the IP dropped or truncated) and passes
// them on to Usermaven.
const strict = data.privacyPolicy == 'strict' && 'strict';
const cookiePolicy = strict || data.cookiePolicy;
const ipPolicy = strict || data.ipPolicy;
cookiePolicy && ENDPOINT.searchParams.set('c', cookiePolicy);
ipPolicy && ENDPOINT.searchParams.set('i', ipPolicy);
/** No cookie, no stored id: the anonymous id is empty, as the official SDK sends it. */
export const COOKIELESS = cookiePolicy == 'strict';

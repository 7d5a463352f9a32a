// Configuration from the script tag's data-* attributes, read once while the script runs:
// `document.currentScript` is set during that first run (also for `async` scripts) and
// never later, in callbacks (HTML spec, "document.currentScript").
const tag = document.currentScript as HTMLScriptElement | null;
const data = tag?.dataset || {};

/** A boolean data-* attribute: present means on, unless its value is "false". */
export const on = (v?: string) => v != null && v != 'false';

/**
 * Where events are posted. The literal "/u/e" appears exactly once in u.js: the relay
 * rewrites it when it serves the script under another collect path. A relative endpoint
 * resolves against the script's own src, not the page: the relay that served u.js is the
 * one that takes its events, also when a site loads u.js from a relay on another host.
 * A copy of the script inlined into the page (no src) resolves against the page.
 */
export const ENDPOINT = new URL(data.endpoint || "/u/e", tag?.src || location.href);
export const DEBUG = on(data.debug);
export const AUTO_PAGEVIEW = data.autoPageview != 'false';
export const ALLOW_AUTOMATION = on(data.allowAutomation);
export const REQUIRE_CONSENT = on(data.requireConsent);
export const RESPECT_DNT = on(data.respectDnt);
export const COOKIE_DOMAIN = data.cookieDomain;

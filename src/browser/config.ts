// The tracker's settings for the npm package: the same names as src/tracker/config.ts (which
// reads them from the script tag's data-* attributes), set from `usermavenClient(options)`
// instead. build.mjs bundles the tracker's modules for the package with this file in place of
// theirs, so api, id, context, consent and transport read their settings from here; a unit
// test (test/browser/config.test.ts) keeps the two modules' exports the same. Exported `let`s:
// ES module bindings are live, so a module reads the value `configure` set.
import type { UsermavenOptions } from './options.ts';

/** The options as given (`getConfig()`), and for the opt-in loader (chunk.ts). */
export let data: Record<string, any> = {};
export const on = (v?: unknown) => v != null && v !== false && v != 'false';
/** Where events are posted: `endpoint` (default the relay's `/u/e`) on `trackingHost` (default the page's origin). */
export let ENDPOINT = new URL('http://localhost/u/e');
export let DEBUG = false;
export let AUTO_PAGEVIEW = true;
/** The `autoPageview` option, which AUTO_PAGEVIEW returns to after a hold. */
let autoPageview = true;
export let ALLOW_AUTOMATION = false;
export let REQUIRE_CONSENT = false;
export let RESPECT_DNT = false;
export let COOKIE_DOMAIN: string | undefined;
export let KEY: string | undefined;
export let NS: string | undefined;
export let BLACKLIST: string[] = [];
export let COOKIELESS = false;

/** `tracking_host` → `trackingHost`: the official client takes both spellings. */
const camel = (o: Record<string, unknown>) => {
  const out: Record<string, any> = {};
  for (const k in o) out[k.replace(/_(\w)/g, (_, c: string) => c.toUpperCase())] = o[k];
  return out;
};

/**
 * Applies the client's options by the script tag's rules (src/tracker/config.ts): the same
 * endpoint resolution (a `trackingHost` left on Usermaven's own host is ignored: the relay on
 * the page's origin takes the events), the same policies in the endpoint's query.
 */
export const configure = (options: UsermavenOptions) => {
  const o = (data = camel(options as Record<string, unknown>));
  const host: string | undefined = o.trackingHost;
  ENDPOINT = new URL(o.endpoint || '/u/e', (!/usermaven\.com/.test(host!) && host) || location.href);
  DEBUG = o.logLevel == 'DEBUG' || on(o.debug);
  AUTO_PAGEVIEW = autoPageview = o.autoPageview !== false && o.autoPageview != 'false';
  ALLOW_AUTOMATION = on(o.allowAutomation);
  REQUIRE_CONSENT = on(o.requireConsent);
  RESPECT_DNT = on(o.respectDnt);
  COOKIE_DOMAIN = o.cookieDomain;
  KEY = o.key;
  NS = o.namespace;
  const b = o.propertyBlacklist;
  BLACKLIST = typeof b == 'string' ? b.split(',') : b || [];
  const strict = o.privacyPolicy == 'strict' && 'strict';
  const policies = [
    ['cookie_policy', strict || o.cookiePolicy],
    ['ip_policy', strict || o.ipPolicy],
  ];
  for (const [k, v] of policies) v && v != 'keep' && ENDPOINT.searchParams.set(k!, v);
  COOKIELESS = policies[0]![1] == 'strict';
};

/**
 * Turns the automatic pageview on for one call: the React and Next.js hooks count a route
 * with the tracker's own once-per-route rule (api.ts `autoPage`) also when `autoPageview` is
 * off, so the hook and the history watcher together send one pageview per route.
 */
export const forcePageview = (count: () => void) => {
  const was = AUTO_PAGEVIEW;
  AUTO_PAGEVIEW = true;
  try {
    count();
  } finally {
    AUTO_PAGEVIEW = was;
  }
};

/**
 * Holds the automatic pageview while a router renders the page whose URL it already changed
 * (routes.ts `hold`, for Next's Pages Router): the tracker's history watcher counts nothing then.
 */
export const holdPageviews = (held: boolean) => {
  AUTO_PAGEVIEW = !held && autoPageview;
};

/**
 * The visitor id: one `__eventn_id` cookie per site, read and written by the same rules
 * everywhere — the tracker (src/tracker/id.ts), the relay's `Set-Cookie` (src/relay/), and
 * the Node client's `anonymousIdFrom` (src/client/anonymous-id.ts).
 *
 * The relay re-issues the cookie from the server because Safari's ITP caps cookies written
 * by `document.cookie` at 7 days, but not first-party cookies set in an HTTP response
 * (WebKit blog, "Full Third-Party Cookie Blocking and More", 2020). That only helps when the
 * server's cookie is the same cookie as the tracker's — same name, `Path` and `Domain`
 * (RFC 6265 §5.3 step 11) — or the browser keeps both, and the subdomains share the short one.
 *
 * Everything here is pure and tree-shakable: the tracker imports the constants and pays
 * nothing for the functions.
 */

/** Name of the anonymous-id cookie, shared with the official Usermaven tracker. */
export const ANON_COOKIE = '__eventn_id';

/** Lifetime of the cookie in days: the most browsers keep (RFC 6265bis §5.5 "cookie-max-age" cap; Chrome 104+). */
export const COOKIE_DAYS = 400;
export const COOKIE_MAX_AGE_S = COOKIE_DAYS * 24 * 60 * 60;

/** A UUID (any version), as `crypto.randomUUID()` makes them. */
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The official tracker's anonymous id: 10 characters of [a-z0-9]. */
export const OFFICIAL_ID_RE = /^[a-z0-9]{10}$/i;

/** True for a value the relay accepts as an anonymous id and re-issues as a cookie. */
export function isAnonymousId(value: unknown): value is string {
  return typeof value === 'string' && (UUID_RE.test(value) || OFFICIAL_ID_RE.test(value));
}

/**
 * The cookie the official SDK keeps its anonymous id in, `__eventn_id_<key>`; undefined for a
 * key that is not safe in a cookie name (RFC 6265 §4.1.1 token characters we expect).
 */
export function officialCookieName(apiKey: string): string | undefined {
  return /^[A-Za-z0-9_-]{1,100}$/.test(apiKey) ? `${ANON_COOKIE}_${apiKey}` : undefined;
}

/**
 * The visitor id in a `Cookie` header: the first cookie called `name` whose value is a valid
 * id. A value may be quoted (`__eventn_id="<uuid>"`, RFC 6265 §4.1.1 allows DQUOTEs around a
 * cookie-value) and %-encoded (js-cookie writes it so); both are the same visitor. When the
 * browser sends two cookies of that name (a host-only one beside a domain one), an invalid
 * one does not hide a valid one.
 */
export function visitorIdFrom(header: string | null | undefined, name: string = ANON_COOKIE): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    try {
      value = decodeURIComponent(value);
    } catch {
      continue; // a malformed %-escape: not a value the tracker or the relay wrote
    }
    if (isAnonymousId(value)) return value;
  }
  return undefined;
}

/**
 * The anonymous id a body carries, when well-formed (so a forged value is never echoed in a
 * cookie): the last event's, the newest. After the official SDK's `reset(true)` a batch may
 * still start with events of the old visitor; re-issuing that id would bring it back.
 */
export function anonymousIdOf(events: readonly Record<string, unknown>[]): string | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i]!;
    const user = event['user'] as Record<string, unknown> | undefined;
    const id = user?.['anonymous_id'];
    if (isAnonymousId(id)) return id;
  }
  return undefined;
}

/** A domain name of two labels or more, as a `Domain` attribute names it (leading dot ignored, RFC 6265 §5.2.3). */
const DOMAIN_RE = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

/** `Example.COM.` and `.example.com` → `example.com`; undefined for anything that is not a domain name. */
export function normalizeDomain(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  const d = value.trim().toLowerCase().replace(/^\./, '').replace(/\.$/, '');
  return DOMAIN_RE.test(d) && !/^[\d.]+$/.test(d) ? d : undefined;
}

/**
 * True when a cookie for `domain` is visible on `host`: the host is the domain or one of its
 * subdomains, and not an IP address (RFC 6265 §5.1.3 "domain-match").
 */
export function domainMatches(host: string, domain: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  if (h.includes(':') || /^[\d.]+$/.test(h)) return false;
  return h === domain || h.endsWith(`.${domain}`);
}

/**
 * The `Domain` of the visitor cookie the relay sets for a request to `host` (no port), or
 * undefined for a host-only cookie. The rule, first that applies:
 *
 * 1. `configured` (the relay's `COOKIE_DOMAIN`), when `host` is it or below it;
 * 2. `reported`, the domain the tracker put its own cookie on (the `d` parameter of its
 *    requests), when `host` is it or below it. The tracker finds the registrable domain by
 *    trying the shortest parent first, as the browser refuses a cookie on a public suffix;
 *    a server cannot try cookies, so it takes the tracker's answer rather than guessing
 *    (dropping the first label is wrong for `www.example.co.uk`);
 * 3. host-only.
 *
 * A `reported` value the browser would refuse (a public suffix such as `co.uk`) costs only the
 * sender: its browser ignores that `Set-Cookie` and keeps the tracker's cookie.
 */
export function cookieDomain(host: string, options: { configured?: string | undefined; reported?: string | null | undefined } = {}): string | undefined {
  for (const candidate of [options.configured, options.reported]) {
    const domain = normalizeDomain(candidate);
    if (domain && domainMatches(host, domain)) return domain;
  }
  return undefined;
}

/**
 * The `Domain` the official Usermaven SDK (@usermaven/sdk-js 1.5.x, `getCookieDomain` /
 * `extractRoot`) puts its `__eventn_id_<key>` cookie on for a page on `host`, so the relay's
 * copy on its route is the same cookie and `reset(true)` deletes both. Its heuristic, as it
 * is: a name of the form `label.tld` with a TLD part of 2–6 letters and dots, else the last
 * two labels (three when both are two letters long, `example.co.uk`). Undefined = host-only.
 */
export function officialCookieDomain(host: string, configured?: string): string | undefined {
  const chosen = cookieDomain(host, { configured });
  if (chosen) return chosen;
  const h = host.toLowerCase();
  if (h === 'localhost' || h.includes(':') || /^[\d.]+$/.test(h)) return undefined;
  let root = /[a-z0-9][a-z0-9-]+\.[a-z.]{2,6}$/.exec(h)?.[0];
  if (!root) {
    const p = h.split('.');
    const n = p.length;
    root = h;
    if (n > 2) {
      root = `${p[n - 2]}.${p[n - 1]}`;
      if (p[n - 1]!.length === 2 && p[n - 2]!.length === 2) root = `${p[n - 3]}.${root}`;
    }
  }
  return cookieDomain(host, { configured: root });
}

export interface VisitorCookieOptions {
  /** `Secure`: the browser talks https to the relay (or to the proxy in front of it). */
  secure: boolean;
  /** Default `__eventn_id`; the official SDK's route writes `__eventn_id_<key>`. */
  name?: string;
  /** From `cookieDomain()`; undefined = host-only. */
  domain?: string | undefined;
}

/**
 * The `Set-Cookie` value for the visitor id: the attributes the tracker writes with js-cookie
 * (`path=/`, 400 days, `SameSite=Lax`, `Secure` on https, the same `Domain`).
 */
export function visitorCookie(id: string, options: VisitorCookieOptions): string {
  const domain = options.domain ? `; Domain=${options.domain}` : '';
  return `${options.name ?? ANON_COOKIE}=${id}; Max-Age=${COOKIE_MAX_AGE_S}${domain}; Path=/; SameSite=Lax${options.secure ? '; Secure' : ''}`;
}

/**
 * The anonymous-id cookie, re-issued by the server. Safari's ITP caps cookies written by
 * `document.cookie` at 7 days, but not first-party cookies set in an HTTP response
 * (WebKit blog, "Full Third-Party Cookie Blocking and More", 2020), so the relay refreshes it.
 * Max-Age is 400 days: the most browsers keep (RFC 6265bis §5.5, "cookie-max-age" cap;
 * Chrome 104+).
 */
import { ANON_COOKIE, isAnonymousId } from '../shared/event.ts';

export const COOKIE_MAX_AGE_S = 400 * 24 * 60 * 60;

export function anonCookie(id: string, options: { secure: boolean; name?: string }): string {
  return `${options.name ?? ANON_COOKIE}=${id}; Max-Age=${COOKIE_MAX_AGE_S}; Path=/; SameSite=Lax${options.secure ? '; Secure' : ''}`;
}

/** Read a cookie from a `Cookie` header; undefined when absent. */
export function readCookie(header: string | null, name: string = ANON_COOKIE): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** The anonymous id the body carries, when well-formed (so a forged value is never echoed). */
export function anonymousIdOf(events: readonly Record<string, unknown>[]): string | undefined {
  for (const event of events) {
    const user = event['user'] as Record<string, unknown> | undefined;
    const id = user?.['anonymous_id'];
    if (isAnonymousId(id)) return id;
  }
  return undefined;
}

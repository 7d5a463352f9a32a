/**
 * Origin and CORS checks for the routes that take events. With ALLOWED_ORIGINS set, a
 * cross-origin sender must be listed; same-origin always passes. Browsers send `Origin` on
 * every POST (Fetch standard, "origin serialization"); image requests carry only `Referer`,
 * so the pixel checks that instead.
 */
import { RelayError } from './errors.ts';
import { Reply } from './reply.ts';
import type { RequestContext } from './request-context.ts';

export interface OriginPolicy {
  /**
   * Throws 403 when the sender is not allowed; returns the cross-origin Origin to echo in CORS
   * headers, if any. Same-origin is judged against `context.origin`: the forwarded one only
   * from a trusted proxy (request-context.ts).
   */
  check(request: Request, context: RequestContext, useReferer?: boolean): string | undefined;
  /** The answer to a CORS preflight (`OPTIONS`) on a collect route. */
  preflight(request: Request, context: RequestContext): Reply;
}

export function createOriginPolicy(allowedOrigins: readonly string[]): OriginPolicy {
  const allowed = new Set(allowedOrigins.map((o) => o.replace(/\/$/, '').toLowerCase()));

  function check(request: Request, context: RequestContext, useReferer = false): string | undefined {
    let origin = request.headers.get('origin');
    if (!origin && useReferer) {
      const referer = request.headers.get('referer');
      try {
        origin = referer ? new URL(referer).origin : null;
      } catch {
        origin = null;
      }
    }
    if (!origin || origin === 'null') {
      if (allowed.size > 0) throw new RelayError(403, 'origin', 'ALLOWED_ORIGINS is set and the request names no origin');
      return undefined;
    }
    const normalized = origin.toLowerCase();
    if (normalized === context.origin) return undefined;
    if (allowed.size > 0 && !allowed.has(normalized)) throw new RelayError(403, 'origin', `origin ${origin} is not in ALLOWED_ORIGINS`);
    return origin;
  }

  return {
    check,
    preflight(request, context) {
      const origin = check(request, context);
      const headers: Record<string, string> = {
        'access-control-allow-methods': 'POST, OPTIONS',
        'access-control-allow-headers': 'content-type',
        'access-control-max-age': '86400',
      };
      corsHeaders(headers, origin);
      return new Reply(204, headers);
    },
  };
}

/** Only the collect routes (no `vary` of their own) use this, so `vary` is set, not appended. */
export function corsHeaders(headers: Record<string, string>, origin: string | undefined) {
  if (!origin) return;
  headers['access-control-allow-origin'] = origin;
  headers['access-control-allow-credentials'] = 'true';
  headers['vary'] = 'Origin';
}

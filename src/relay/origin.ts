/**
 * Origin and CORS checks for the routes that take events. With ALLOWED_ORIGINS set, a
 * cross-origin sender must be listed; same-origin always passes. Browsers send `Origin` on
 * every POST (Fetch standard, "origin serialization"); image requests carry only `Referer`,
 * so the pixel checks that instead.
 */
import type { TrustProxy } from './client-ip.ts';
import { RelayError } from './errors.ts';
import { Reply } from './reply.ts';

export interface OriginPolicy {
  /** Throws 403 when the sender is not allowed; returns the cross-origin Origin to echo in CORS headers, if any. */
  check(request: Request, url: URL, useReferer?: boolean): string | undefined;
  /** The answer to a CORS preflight (`OPTIONS`) on a collect route. */
  preflight(request: Request, url: URL): Reply;
  /** `Secure` when the browser talks https to us or, behind a trusted proxy, to the proxy. */
  isSecure(request: Request, url: URL): boolean;
  /** The host name the browser asked for (no port): `X-Forwarded-Host` behind a trusted proxy. */
  host(request: Request, url: URL): string;
}

export function createOriginPolicy(allowedOrigins: readonly string[], trust: TrustProxy): OriginPolicy {
  const allowed = new Set(allowedOrigins.map((o) => o.replace(/\/$/, '').toLowerCase()));

  function check(request: Request, url: URL, useReferer = false): string | undefined {
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
    if (normalized === requestOrigin(request, url)) return undefined;
    if (allowed.size > 0 && !allowed.has(normalized)) throw new RelayError(403, 'origin', `origin ${origin} is not in ALLOWED_ORIGINS`);
    return origin;
  }

  function requestOrigin(request: Request, url: URL): string {
    if (!trust.enabled) return url.origin.toLowerCase();
    const proto = request.headers.get('x-forwarded-proto')?.split(',')[0]?.trim();
    const host = request.headers.get('x-forwarded-host')?.split(',')[0]?.trim();
    return `${proto ?? url.protocol.slice(0, -1)}://${host ?? url.host}`.toLowerCase();
  }

  return {
    check,
    preflight(request, url) {
      const origin = check(request, url);
      const headers: Record<string, string> = {
        'access-control-allow-methods': 'POST, OPTIONS',
        'access-control-allow-headers': 'content-type',
        'access-control-max-age': '86400',
      };
      corsHeaders(headers, origin);
      return new Reply(204, headers);
    },
    host(request, url) {
      const forwarded = trust.enabled ? request.headers.get('x-forwarded-host')?.split(',')[0]?.trim() : undefined;
      return forwarded ? forwarded.replace(/:\d+$/, '').toLowerCase() : url.hostname;
    },
    isSecure(request, url) {
      if (url.protocol === 'https:') return true;
      return trust.enabled && request.headers.get('x-forwarded-proto')?.split(',')[0]?.trim() === 'https';
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

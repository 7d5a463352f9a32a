/**
 * Talking to Usermaven's server-to-server events API: the one place that builds the request and
 * classifies the answer. The relay's forwarder, the Node client, the edge consumer and the
 * importer all send through here; how long to wait after a failure is `retry-timing.ts`.
 *
 * The server token is part of the request URL. Nothing this module returns or throws
 * contains that URL or the token in any spelling (`redact.ts`): results carry a status, a
 * short reason and a category.
 *
 * Redirects are never followed: fetch would re-send a 301/302 as a GET (the events vanish
 * behind a 200) and take the token to whatever host the `Location` names. A 3xx is a failure
 * to retry, with the target host in its reason.
 */
import { createRedactor } from './redact.ts';
import { parseRetryAfter } from './retry-timing.ts';

export const DEFAULT_UPSTREAM_URL = 'https://events.usermaven.com';
export const S2S_PATH = '/api/v1/s2s/event';

/**
 * The s2s endpoint under `base`, without the token (safe to log). A path in `base` is a prefix:
 * an egress proxy at `https://proxy.example/usermaven` gets
 * `https://proxy.example/usermaven/api/v1/s2s/event`.
 */
export function s2sEndpoint(base: string = DEFAULT_UPSTREAM_URL): string {
  const url = new URL(base);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}${S2S_PATH}`;
}

export interface UpstreamOptions {
  /** Base URL, e.g. `https://events.usermaven.com` (a path is a prefix). Fixed by configuration, never by a client. */
  url?: string;
  apiKey: string;
  serverToken: string;
  /** Abort a request that has not answered in this many ms. */
  timeoutMs?: number;
  /** Injected for tests; defaults to the global `fetch`. */
  fetch?: typeof fetch;
}

export type SendResult =
  | { kind: 'ok'; status: number }
  /** Try again later: 5xx, 408, 429, 3xx, timeout, network error. */
  | { kind: 'retry'; status: number; reason: string; retryAfterMs?: number; problem?: UpstreamProblem }
  /** The upstream refused the batch (other 4xx): retrying the same bytes will not help. */
  | { kind: 'reject'; status: number; reason: string; problem?: UpstreamProblem };

/**
 * What is wrong upstream, as a word fit for a public status page (`/healthz`), where the
 * upstream's own text never goes.
 */
export type UpstreamProblem =
  | 'timeout'
  | 'unreachable'
  | 'redirected'
  | 'credentials'
  | 'rate_limited'
  | 'server_error'
  /** Every event refused, not just a few: the upstream's fault, not the events' (see forwarder). */
  | 'refusing_all'
  | 'refused';

/** The category of a failed answer. */
export function problemOf(result: Exclude<SendResult, { kind: 'ok' }>): UpstreamProblem {
  if (result.problem) return result.problem;
  const { status } = result;
  if (status === 0) return 'unreachable';
  if (status >= 300 && status < 400) return 'redirected';
  if (isCredentialProblem(status)) return 'credentials';
  if (status === 429) return 'rate_limited';
  if (status === 408) return 'timeout';
  if (status >= 500) return 'server_error';
  return 'refused';
}

export interface Upstream {
  /**
   * POST a JSON array (already serialized) to the s2s endpoint. Never throws. Aborting `signal`
   * cuts the request (the answer is a retry with status 0).
   */
  send(body: string, signal?: AbortSignal): Promise<SendResult>;
  /** Host of the upstream, safe to log. */
  readonly host: string;
}

export function createUpstream(options: UpstreamOptions): Upstream {
  const base = new URL(options.url ?? DEFAULT_UPSTREAM_URL);
  const target = new URL(s2sEndpoint(base.href));
  target.searchParams.set('token', `${options.apiKey}.${options.serverToken}`);
  const href = target.href;
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 15_000;
  // Longest first, so an echoed URL is hidden whole (not just its token).
  const hide = createRedactor([href, target.pathname + target.search, target.search, `${options.apiKey}.${options.serverToken}`, options.serverToken]);

  return {
    host: base.host,
    async send(body, signal) {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), timeoutMs);
      const cut = () => controller.abort();
      if (signal?.aborted) cut();
      else signal?.addEventListener('abort', cut, { once: true });
      try {
        const res = await doFetch(href, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: controller.signal,
          redirect: 'manual',
        });
        // Read the body so the connection can be reused; keep a short excerpt as the reason.
        const text = await res.text().catch(() => '');
        if (res.ok) return { kind: 'ok', status: res.status };
        if (res.status >= 300 && res.status < 400) {
          const to = redirectHost(res.headers.get('location'), href);
          return { kind: 'retry', status: res.status, reason: hide(`upstream answered ${res.status} (redirect to ${to}, not followed: set USERMAVEN_URL to the final address)`), problem: 'redirected' };
        }
        // Redact before cutting: an excerpt cut mid-token would keep half the secret unmatched.
        const reason = `upstream answered ${res.status}${text ? `: ${hide(text).slice(0, 200)}` : ''}`;
        if (isRetryableStatus(res.status)) {
          const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), Date.now());
          return retryAfterMs === undefined
            ? { kind: 'retry', status: res.status, reason }
            : { kind: 'retry', status: res.status, reason, retryAfterMs };
        }
        return { kind: 'reject', status: res.status, reason };
      } catch (error) {
        if (signal?.aborted) return { kind: 'retry', status: 0, reason: 'upstream request cut short (stopping)' };
        if (controller.signal.aborted) return { kind: 'retry', status: 0, reason: `upstream timed out after ${timeoutMs} ms`, problem: 'timeout' };
        return { kind: 'retry', status: 0, reason: hide(`upstream unreachable: ${describeNetworkError(error)}`), problem: 'unreachable' };
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', cut);
      }
    },
  };
}

/** Wrong key/token or wrong URL: no event is to blame, so these never count as a refusal of events. */
export function isCredentialProblem(status: number): boolean {
  return status === 401 || status === 403 || status === 404;
}

/** 5xx, 408 and 429 are worth retrying; every other 4xx is the batch's fault. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } } | null)?.cause;
  if (cause?.code) return cause.code;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** The host a `Location` points to (never its path or query: they may carry the token). */
function redirectHost(location: string | null, base: string): string {
  if (!location) return 'nowhere (no Location)';
  try {
    return new URL(location, base).host || 'an unknown host';
  } catch {
    return 'an unparseable Location';
  }
}

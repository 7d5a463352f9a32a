/**
 * Talking to Usermaven's server-to-server events API: one place that builds the request,
 * classifies the answer and computes the back-off. The relay's forwarder, the Node client
 * and the importer all send through here, so they share one retry policy.
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

/**
 * `Retry-After` is either delta-seconds or an HTTP-date (RFC 9110 §10.2.3).
 * Returns ms to wait, or undefined when absent or unparseable. Capped at one hour.
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  let ms: number;
  if (/^\d+$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else {
    const at = Date.parse(trimmed);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(Math.max(ms, 0), 3_600_000);
}

export const BACKOFF = { baseMs: 500, maxMs: 60_000 } as const;

/**
 * Exponential back-off with jitter: 0.5 s doubling to 60 s. `attempt` counts failures so far
 * (1 after the first). Jitter is "equal jitter": half fixed, half random, so retries from
 * many relays spread out but never collapse to zero.
 */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF.maxMs, BACKOFF.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/** Wait before the next try: the upstream's `Retry-After` when it gave one, else back-off. */
export function retryDelayMs(result: Extract<SendResult, { kind: 'retry' }>, attempt: number, random?: () => number): number {
  return result.retryAfterMs ?? backoffMs(attempt, random);
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

export { redact } from './redact.ts';

/**
 * The relay's wait before retry number `attempt`. The shared back-off doubles to 60 s, right
 * for a one-off sender. A relay holding a backlog must notice soon that the upstream is back
 * (catch-up goal: 30 s), so its back-off stops growing at attempt 6: 8–16 s between tries,
 * jittered. `Retry-After` still wins. The edge consumer uses it too, per queued message.
 */
export function relayRetryDelay(result: Extract<SendResult, { kind: 'retry' }>, attempt: number): number {
  return retryDelayMs(result, Math.min(attempt, 6));
}

/** Every failure waits like a retry: a wrong credential or URL is retried like an outage (and logged). */
export function asRetry(failure: Exclude<SendResult, { kind: 'ok' }>): Extract<SendResult, { kind: 'retry' }> {
  return failure.kind === 'retry' ? failure : { kind: 'retry', status: failure.status, reason: failure.reason };
}


/**
 * How long to wait before trying again: the one home of back-off and `Retry-After`, for every
 * sender (the relay's forwarder and the Node client through it, the edge consumer, the importer).
 * Pure: the time and the randomness are passed in.
 */
import type { SendResult } from './upstream.ts';

type Retry = Extract<SendResult, { kind: 'retry' }>;

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
export function retryDelayMs(result: Retry, attempt: number, random?: () => number): number {
  return result.retryAfterMs ?? backoffMs(attempt, random);
}

/** The attempt from which the relay's back-off stops growing (8–16 s between tries). */
export const RELAY_BACKOFF_CAP_ATTEMPT = 6;

/**
 * The wait before retry number `attempt` for anything holding a backlog: the relay's forwarder,
 * the edge consumer (per queued message) and the importer. The shared back-off doubles to 60 s;
 * a sender with a backlog must notice soon that the upstream is back (catch-up goal: 30 s), so
 * this one stops growing at attempt 6: 8–16 s between tries, jittered. `Retry-After` still wins.
 */
export function relayRetryDelay(result: Retry, attempt: number, random?: () => number): number {
  return retryDelayMs(result, Math.min(attempt, RELAY_BACKOFF_CAP_ATTEMPT), random);
}

/** Every failure waits like a retry: a wrong credential or URL, or a blanket refusal, is waited out like an outage. */
export function asRetry(failure: Exclude<SendResult, { kind: 'ok' }>): Retry {
  return failure.kind === 'retry' ? failure : { kind: 'retry', status: failure.status, reason: failure.reason };
}

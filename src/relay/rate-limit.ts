/**
 * Per-client token bucket, counted in events (not requests): one request of 500 events costs
 * 500. `rate` tokens per second refill a bucket of `burst` tokens; a request that does not fit
 * gets 429 with `Retry-After` and stores nothing.
 *
 * Time is monotonic (`performance.now()`): a bucket refills by elapsed time, and with the wall
 * clock a step back of an hour made every bucket owe an hour (429, `Retry-After: 3590`).
 */
export interface RateLimiter {
  /** Take `cost` tokens for `key`; returns 0 when allowed, else ms until it would be. */
  take(key: string, cost: number): number;
}

/** Milliseconds that only go forward (not wall-clock time): for intervals. */
export const monotonic = (): number => performance.now();

export function createRateLimiter(options: { rate: number; burst?: number; /** Monotonic ms. */ now?: () => number; maxKeys?: number }): RateLimiter {
  const { rate } = options;
  // The burst must fit one full request, or a tracker flushing its offline queue could never
  // get through.
  const burst = Math.max(options.burst ?? rate * 10, 1);
  const now = options.now ?? monotonic;
  const maxKeys = options.maxKeys ?? 50_000;
  const buckets = new Map<string, { tokens: number; at: number }>();

  return {
    take(key, cost) {
      const t = now();
      let b = buckets.get(key);
      if (!b) {
        if (buckets.size >= maxKeys) prune(t);
        b = { tokens: burst, at: t };
        buckets.set(key, b);
      } else {
        b.tokens = Math.min(burst, b.tokens + ((t - b.at) / 1000) * rate);
        b.at = t;
      }
      if (cost <= b.tokens) {
        b.tokens -= cost;
        return 0;
      }
      return Math.ceil(((cost - b.tokens) / rate) * 1000);
    },
  };

  /** Drop buckets that have refilled (they hold no state worth keeping); then the oldest. */
  function prune(t: number) {
    for (const [key, b] of buckets) if (b.tokens + ((t - b.at) / 1000) * rate >= burst) buckets.delete(key);
    if (buckets.size >= maxKeys) {
      let n = buckets.size - Math.floor(maxKeys / 2);
      for (const key of buckets.keys()) {
        if (n-- <= 0) break;
        buckets.delete(key);
      }
    }
  }
}

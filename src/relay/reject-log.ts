/**
 * The reject log: what the relay refused, counted by reason. The first refusal of each reason
 * is logged at once with its message; after that only counts, one line per window, so a flood
 * produces a line every few seconds rather than one per request. The totals since start are
 * what `/healthz` shows under `rejects`.
 */
import type { Logger } from '../delivery/log.ts';

export interface RejectLog {
  /** Count one refusal, or `n` (logs it when it is the first of its reason). */
  count(code: string, route: string, status: number, message: string, n?: number): void;
  /** Log the current window's counts if the window has run out (any request may close it). */
  tick(): void;
  /** Log the current window's counts now (on shutdown). */
  flush(): void;
  /** Rejects by reason since start; the live object, for /healthz to serialise. */
  readonly totals: Readonly<Record<string, number>>;
}

export function createRejectLog(options: { log: Logger; /** Monotonic ms. */ clock: () => number; windowMs?: number | undefined }): RejectLog {
  const { log, clock: now } = options;
  const windowMs = options.windowMs ?? 10_000;
  const totals: Record<string, number> = {};
  let windowCounts: Record<string, number> = {};
  /** Rejects counted in the current window (so the per-request check needs no `Object.keys`). */
  let windowCounted = 0;
  let windowStart = now();

  const flush = (force: boolean) => {
    const t = now();
    if (!force && t - windowStart < windowMs) return;
    if (windowCounted > 0) log.info('rejected (counted)', { counts: windowCounts, windowMs: t - windowStart });
    windowCounts = {};
    windowCounted = 0;
    windowStart = t;
  };

  return {
    count(code, route, status, message, n = 1) {
      const first = totals[code] === undefined;
      totals[code] = (totals[code] ?? 0) + n;
      if (first) log.warn('rejected', { reason: code, status, route, message, ...(n === 1 ? {} : { count: n }) });
      else {
        windowCounts[code] = (windowCounts[code] ?? 0) + n;
        windowCounted++;
      }
      flush(false);
    },
    tick() {
      if (windowCounted > 0) flush(false);
    },
    flush() {
      flush(true);
    },
    totals,
  };
}

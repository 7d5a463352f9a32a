/**
 * Time for the delivery engine: `now` and one cancellable `sleep`. The forwarder, the Node
 * client and the importer all wait through this, so a stop, a drain deadline or an interrupt
 * wakes every back-off the same way. Runtime-neutral: `setTimeout` only.
 */

export interface Clock {
  now(): number;
  /** Resolve after `ms`, or early when `signal` aborts (at once when it already has). */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/**
 * A clock on real timers. `keepAlive()` is asked as each wait starts; when it says no, the
 * timer does not hold the process open (the Node client is idle with nothing to send).
 */
export function timerClock(keepAlive: () => boolean = () => true): Clock {
  return {
    now: Date.now,
    sleep: (ms, signal) =>
      new Promise<void>((resolve) => {
        if (signal.aborted) return resolve();
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        if (!keepAlive()) (timer as { unref?: () => void }).unref?.();
        signal.addEventListener('abort', done, { once: true });
      }),
  };
}

export const systemClock: Clock = timerClock();

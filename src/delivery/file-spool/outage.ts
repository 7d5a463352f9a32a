/**
 * Whether the spool can write, and getting back once it can. When a write fails (ENOSPC, EIO, a
 * read-only remount) every append after it is refused at once with `SpoolUnavailableError` —
 * the relay answers 503 with Retry-After and /healthz says why — while a probe tries every
 * `retryMs` to make the next segment (the write that needs room); when it succeeds the spool
 * takes appends again, with nobody having to restart it.
 */
import type { Logger } from '../log.ts';
import { SpoolUnavailableError, storageFailure, type SpoolHealth } from '../spool.ts';

export interface Outage {
  /** Set while appends are refused. */
  readonly error: SpoolUnavailableError | undefined;
  /** A write failed: refuse appends, and probe until one can succeed. */
  failed(error: unknown): void;
  /** Refuse every append from now on, for good (the directory belongs to someone else now). */
  stop(error: SpoolUnavailableError): void;
  health(): SpoolHealth;
  /** Stop probing (on close). */
  close(): void;
}

export function createOutage(options: { now: () => number; log: Logger; retryMs: number; probe: () => Promise<void> }): Outage {
  const { now, log, retryMs, probe } = options;
  let failure: { error: SpoolUnavailableError; since: number } | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** No more probing: closed, or stopped for good. */
  let over = false;

  // Unref'd: a client script on a full disk still exits when its work is done.
  const schedule = () => (timer = setTimeout(tryAgain, retryMs)).unref?.();
  const tryAgain = async () => {
    if (over || !failure) return;
    try {
      await probe();
      const { since } = failure;
      failure = null;
      log.info('spool writes again', { failedForMs: now() - since });
    } catch {
      schedule();
    }
  };

  return {
    get error() {
      return failure?.error;
    },
    failed(error) {
      if (failure) return;
      const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
      failure = { error: new SpoolUnavailableError(storageFailure(code), code), since: now() };
      log.error('spool cannot write; refusing new events until it can', { reason: failure.error.reason, code, detail: error instanceof Error ? error.message : String(error) });
      schedule();
    },
    stop(error) {
      over = true; // no probe: this does not heal
      clearTimeout(timer);
      failure = { error, since: now() };
    },
    health: () => (failure ? { ok: false, reason: failure.error.reason, since: failure.since } : { ok: true }),
    close() {
      over = true;
      clearTimeout(timer);
    },
  };
}

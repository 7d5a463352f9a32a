/**
 * The spool: where acknowledged events wait until the upstream has taken them. The relay
 * core only sees this interface; the Node adapter passes a file-backed implementation
 * (`src/delivery/file-spool/`), tests may pass `createMemorySpool()`.
 *
 * Records are single events serialized as JSON (one string each), in arrival order.
 */

export interface SpoolBatch {
  /** Serialized events, oldest first. */
  records: string[];
  /** Opaque position after the last record; pass to `ack`. */
  cursor: unknown;
}

export interface SpoolStats {
  /** Records appended but not yet acknowledged upstream. */
  depth: number;
  /** Bytes those records occupy. */
  bytes: number;
  /** Arrival time (ms) of the oldest unsent record, if any. */
  oldestAt?: number;
  /** Bytes of dead letters kept (they count against the cap too), when the spool keeps them. */
  deadLetterBytes?: number;
}

/** Whether the spool can store right now. Not ok while its writes fail; it heals by itself. */
export type SpoolHealth = { ok: true } | { ok: false; reason: StorageFailure; since: number };

/** Why a spool cannot store: a category, safe to show on a public health check. */
export type StorageFailure = 'disk_full' | 'not_writable' | 'write_error' | 'taken_over';

export interface Spool {
  /**
   * Append records durably. Resolves only once they would survive a crash (fsync).
   * Rejects with `SpoolFullError` when the disk cap would be exceeded; nothing is written then.
   */
  append(records: readonly string[]): Promise<void>;
  /** Up to `maxRecords` / `maxBytes` of the oldest unsent records, or null when empty. */
  read(maxRecords: number, maxBytes: number): Promise<SpoolBatch | null>;
  /** Mark everything up to `cursor` as delivered (checkpoint advances, spent space freed). */
  ack(cursor: unknown): Promise<void>;
  /** Keep a record the upstream refused, with the reason, out of the way. */
  deadLetter(record: string, reason: string): Promise<void>;
  stats(): SpoolStats;
  /** Absent: always ok (the memory spool). */
  health?(): SpoolHealth;
  close(): Promise<void>;
}

export class SpoolFullError extends Error {
  constructor(readonly limitBytes: number, readonly deadLetterBytes = 0) {
    const mb = (n: number) => Math.round(n / 1048576);
    super(
      deadLetterBytes >= limitBytes / 2
        ? `spool is full (cap ${mb(limitBytes)} MB, ${mb(deadLetterBytes)} MB of it dead letters: see umbeacon dead-letters); events are not accepted until there is room`
        : `spool is full (cap ${mb(limitBytes)} MB); events are not accepted until the upstream catches up`,
    );
    this.name = 'SpoolFullError';
  }
}

/**
 * The spool cannot write (disk full, read-only, I/O error): nothing was stored. Retry later;
 * the spool keeps probing and takes appends again as soon as a write succeeds.
 */
export class SpoolUnavailableError extends Error {
  constructor(readonly reason: StorageFailure, readonly code: string) {
    super(`${STORAGE_MESSAGES[reason]} (${code}); events are not accepted until it can write again`);
    this.name = 'SpoolUnavailableError';
  }
}

export const STORAGE_MESSAGES: Record<StorageFailure, string> = {
  disk_full: 'the spool cannot write: no space left on its disk',
  not_writable: 'the spool cannot write: its directory is not writable',
  write_error: 'the spool cannot write: the disk reports an error',
  taken_over: 'the spool stopped writing: another process took its directory over; restart this one',
};

/** The category of a failed write's `code` (ENOSPC, EROFS, EIO, …). */
export function storageFailure(code: string | undefined): StorageFailure {
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG') return 'disk_full';
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') return 'not_writable';
  return 'write_error';
}

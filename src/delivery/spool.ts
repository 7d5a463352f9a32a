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
}

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
  close(): Promise<void>;
}

export class SpoolFullError extends Error {
  constructor(readonly limitBytes: number) {
    super(`spool is full (cap ${Math.round(limitBytes / 1048576)} MB); events are not accepted until the upstream catches up`);
    this.name = 'SpoolFullError';
  }
}

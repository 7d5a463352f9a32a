/**
 * What writer, reader and acknowledgement share: where the unsent records start, how far each
 * live segment is committed, and the counts `stats()` reports. One object, mutated in place;
 * the spool runs on one thread, so each step sees the last one's result.
 */
import type { SpoolStats } from '../spool.ts';

export interface Position {
  segment: number;
  offset: number;
}

export interface Ledger {
  /** Everything before it is delivered. May sit at the end of a segment that is done. */
  head: Position;
  /** Committed (synced) size of every live segment. */
  readonly sizes: Map<number, number>;
  /** The segment appends go to. */
  current: number;
  /** Unsent records and the bytes their lines take. */
  depth: number;
  bytes: number;
  /** Arrival time of the first unsent record, when there is one. */
  oldestAt: number | undefined;
  /** Size of the dead-letter file: it counts against the cap like unsent records. */
  deadLetterBytes: number;
}

/** The head, stepped over spent segments. */
export function firstUnsent(ledger: Ledger): Position {
  let { segment, offset } = ledger.head;
  while ((ledger.sizes.get(segment) ?? 0) <= offset && segment < ledger.current) {
    segment++;
    offset = 0;
  }
  return { segment, offset };
}

export function statsOf(ledger: Ledger): SpoolStats {
  const { depth, bytes, oldestAt, deadLetterBytes } = ledger;
  const stats: SpoolStats = depth > 0 && oldestAt !== undefined ? { depth, bytes, oldestAt } : { depth, bytes };
  if (deadLetterBytes > 0) stats.deadLetterBytes = deadLetterBytes;
  return stats;
}

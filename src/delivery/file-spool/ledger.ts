/**
 * The ledger: where the unsent records start, how far each live segment is committed, and the
 * counts `stats()` reports. It has one writer — this module: the writer, the reader,
 * acknowledgement and recovery change it only through the named transitions below, and read
 * it through `LedgerView`. The spool runs on one thread, so each transition sees the last one's
 * result.
 *
 * Invariants, in order (every transition keeps them: test/delivery/file-spool/ledger.test.ts
 * tests each one, and model.test.ts runs the whole spool against an in-memory model):
 * 1. `current` only grows (`segmentStarted`, `rotated`), and the current segment is live.
 * 2. Only the current segment grows (`appended`), and only by lines synced to disk.
 * 3. The head only moves forward (`acknowledged`, `skipped`), never past a live segment's
 *    committed end.
 * 4. A segment stops being live (`released`) only once the head has moved past it: what is
 *    before the head is delivered, so nothing unsent is ever released.
 * 5. `depth` and `bytes` count the records between the head and the committed end: `appended`
 *    adds, `acknowledged` takes away; neither goes below zero.
 * 6. `oldestAt` is known exactly while `depth > 0`, and undefined when the spool is empty.
 * 7. `deadLetterBytes` is the size of the dead-letter file (`deadLettered`, `deadLettersAre`).
 */
import type { SpoolStats } from '../spool.ts';

export interface Position {
  segment: number;
  offset: number;
}

/** What the ledger holds; recovery builds it from the disk (recovery.ts). */
export interface LedgerState {
  /** Everything before it is delivered. May sit at the end of a segment that is done. */
  head: Position;
  /** Committed (synced) size of every live segment. */
  sizes: Map<number, number>;
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

export interface LedgerView {
  readonly head: Position;
  readonly current: number;
  readonly depth: number;
  readonly bytes: number;
  readonly oldestAt: number | undefined;
  readonly deadLetterBytes: number;
  /** Committed size of `segment` (0 when it is not live). */
  size(segment: number): number;
  /** Live segments, oldest first. */
  segments(): number[];
}

export interface Ledger extends LedgerView {
  /** The current segment exists on disk (made, or reopened as it was). */
  segmentStarted(): void;
  /** Appends go to the next segment from now on; it exists on disk, empty. */
  rotated(): void;
  /** `records` lines of `bytes` bytes, the first arrived at `at`, are synced at the end of the current segment. */
  appended(records: number, bytes: number, at: number): void;
  /**
   * Everything before `to` is delivered: `records` lines of `bytes` bytes. `nextAt` is the
   * arrival of the record after them when the read saw it; else `oldestAt` waits for `oldestIs`.
   */
  acknowledged(to: Position, records: number, bytes: number, nextAt: number | undefined): void;
  /** The head steps over lines that are no records (reader.ts logs them). */
  skipped(to: Position): void;
  /** The arrival time of the first unsent record, read from disk. */
  oldestIs(at: number | undefined): void;
  /** Live segments the head has moved past: delivered, to be deleted. */
  spent(): number[];
  /** `segment` is deleted. */
  released(segment: number): void;
  deadLettered(bytes: number): void;
  deadLettersAre(bytes: number): void;
}

export function createLedger(state: LedgerState): Ledger {
  const s: LedgerState = { ...state, head: { ...state.head }, sizes: new Map(state.sizes) };
  return {
    get head() {
      return { ...s.head };
    },
    get current() {
      return s.current;
    },
    get depth() {
      return s.depth;
    },
    get bytes() {
      return s.bytes;
    },
    get oldestAt() {
      return s.oldestAt;
    },
    get deadLetterBytes() {
      return s.deadLetterBytes;
    },
    size: (segment) => s.sizes.get(segment) ?? 0,
    segments: () => [...s.sizes.keys()].sort((a, b) => a - b),

    segmentStarted() {
      if (!s.sizes.has(s.current)) s.sizes.set(s.current, 0);
    },
    rotated() {
      s.current++;
      s.sizes.set(s.current, 0);
    },
    appended(records, bytes, at) {
      if (s.depth === 0) s.oldestAt = at;
      s.sizes.set(s.current, (s.sizes.get(s.current) ?? 0) + bytes);
      s.depth += records;
      s.bytes += bytes;
    },
    acknowledged(to, records, bytes, nextAt) {
      s.head = { segment: to.segment, offset: to.offset };
      s.depth = Math.max(0, s.depth - records);
      s.bytes = Math.max(0, s.bytes - bytes);
      if (s.depth === 0) s.oldestAt = undefined;
      else if (nextAt !== undefined) s.oldestAt = nextAt;
    },
    skipped(to) {
      s.head = { segment: to.segment, offset: to.offset };
    },
    oldestIs(at) {
      s.oldestAt = s.depth === 0 ? undefined : at;
    },
    spent: () => [...s.sizes.keys()].filter((segment) => segment < s.head.segment).sort((a, b) => a - b),
    released(segment) {
      if (segment < s.head.segment) s.sizes.delete(segment);
    },
    deadLettered(bytes) {
      s.deadLetterBytes += bytes;
    },
    deadLettersAre(bytes) {
      s.deadLetterBytes = bytes;
    },
  };
}

/** The head, stepped over spent segments. */
export function firstUnsent(ledger: LedgerView): Position {
  let { segment, offset } = ledger.head;
  while (ledger.size(segment) <= offset && segment < ledger.current) {
    segment++;
    offset = 0;
  }
  return { segment, offset };
}

export function statsOf(ledger: LedgerView): SpoolStats {
  const { depth, bytes, oldestAt, deadLetterBytes } = ledger;
  const stats: SpoolStats = depth > 0 && oldestAt !== undefined ? { depth, bytes, oldestAt } : { depth, bytes };
  if (deadLetterBytes > 0) stats.deadLetterBytes = deadLetterBytes;
  return stats;
}

/**
 * The run's counts, with one writer per count: the reader counts records and bytes, the
 * dispatcher requests, retries and events sent, the report skipped records, and the start what
 * earlier runs did. Everyone else reads `progress()`.
 */

export interface ImportProgress {
  /** Records read in this run. */
  read: number;
  /** Valid events found in this run. */
  valid: number;
  /** Events acknowledged upstream, including earlier runs of a resumed import. */
  sent: number;
  /** The part of `sent` that earlier runs sent (0 unless resumed). */
  sentBefore: number;
  /** Skipped records, including those reported by earlier runs. */
  skipped: number;
  /** Bytes of input read so far (from the start of the input, not of this run). */
  bytesRead: number;
  /** Where this run started reading (0 unless resumed). */
  bytesBefore: number;
  /** Size of the input file; undefined for standard input. */
  totalBytes?: number;
  requests: number;
  retries: number;
  elapsedMs: number;
}

export class Tally {
  private readCount = 0;
  private validCount = 0;
  private sentCount = 0;
  private sentBefore = 0;
  private skippedCount = 0;
  private bytesRead = 0;
  private bytesBefore = 0;
  private requests = 0;
  private retries = 0;
  private totalBytes: number | undefined;

  constructor(private readonly started: number) {}

  /** The input's size, once known (not for standard input). */
  sized(bytes: number): void {
    this.totalBytes = bytes;
  }

  /** Where the run starts: events sent and bytes read by earlier runs, records they reported. */
  resumed(sent: number, offset: number, skipped: number): void {
    this.sentCount = this.sentBefore = sent;
    this.bytesRead = this.bytesBefore = offset;
    this.skippedCount = skipped;
  }

  /** Reader: a record ending at byte `end` was read. */
  recordRead(end: number): void {
    this.readCount++;
    this.bytesRead = end;
  }

  /** Reader: that record is a valid event. */
  recordValid(): void {
    this.validCount++;
  }

  /** Report: skipped records so far, earlier runs' included. */
  skipped(total: number): void {
    this.skippedCount = total;
  }

  /** Dispatcher: a request went out. */
  requested(): void {
    this.requests++;
  }

  /** Dispatcher: a failure was retried (or given up after). */
  retried(): void {
    this.retries++;
  }

  /** Dispatcher: the upstream took `events`. */
  sent(events: number): void {
    this.sentCount += events;
  }

  progress(now: number): ImportProgress {
    const p: ImportProgress = {
      read: this.readCount,
      valid: this.validCount,
      sent: this.sentCount,
      sentBefore: this.sentBefore,
      skipped: this.skippedCount,
      bytesRead: this.bytesRead,
      bytesBefore: this.bytesBefore,
      requests: this.requests,
      retries: this.retries,
      elapsedMs: now - this.started,
    };
    if (this.totalBytes !== undefined) p.totalBytes = this.totalBytes;
    return p;
  }
}

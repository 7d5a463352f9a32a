/**
 * A spool held in memory: same contract as the file spool except durability. For tests, and
 * for the Node client's non-durable mode. `maxBytes` caps it like `DATA_MAX_MB` caps the disk.
 *
 * @example
 *   const spool = createMemorySpool({ maxBytes: 1 << 20 });
 *   await spool.append(['{"event_type":"a"}']);
 */
import { SpoolFullError, type Spool, type SpoolBatch } from './spool.ts';

export interface MemorySpool extends Spool {
  /** Records moved aside by `deadLetter`, with their reasons. */
  readonly deadLetters: { record: string; reason: string; at: number }[];
}

export function createMemorySpool(options: { maxBytes?: number; now?: () => number } = {}): MemorySpool {
  const now = options.now ?? Date.now;
  const maxBytes = options.maxBytes ?? Infinity;
  // Sequence numbers make the cursor independent of how many records were acked since read.
  const queue: { seq: number; record: string; bytes: number; at: number }[] = [];
  const deadLetters: { record: string; reason: string; at: number }[] = [];
  let nextSeq = 0;
  let bytes = 0;
  let closed = false;

  const assertOpen = () => {
    if (closed) throw new Error('spool is closed');
  };

  return {
    deadLetters,
    async append(records) {
      assertOpen();
      const size = records.reduce((n, r) => n + byteLength(r), 0);
      if (bytes + size > maxBytes) throw new SpoolFullError(maxBytes);
      const at = now();
      for (const record of records) {
        const b = byteLength(record);
        queue.push({ seq: nextSeq++, record, bytes: b, at });
        bytes += b;
      }
    },
    async read(maxRecords, maxBatchBytes): Promise<SpoolBatch | null> {
      assertOpen();
      if (queue.length === 0) return null;
      const records: string[] = [];
      let total = 0;
      let last = -1;
      for (const item of queue) {
        if (records.length >= maxRecords) break;
        // Always hand out at least one record, or an oversized one would block the queue.
        if (records.length > 0 && total + item.bytes > maxBatchBytes) break;
        records.push(item.record);
        total += item.bytes;
        last = item.seq;
      }
      return { records, cursor: last + 1 };
    },
    async ack(cursor) {
      assertOpen();
      const upTo = cursor as number;
      while (queue.length > 0 && queue[0]!.seq < upTo) bytes -= queue.shift()!.bytes;
    },
    async deadLetter(record, reason) {
      deadLetters.push({ record, reason, at: now() });
    },
    stats() {
      const head = queue[0];
      return head ? { depth: queue.length, bytes, oldestAt: head.at } : { depth: 0, bytes: 0 };
    },
    async close() {
      closed = true;
    },
  };
}

const encoder = new TextEncoder();
function byteLength(s: string): number {
  // ASCII fast path: most events are ASCII, and encoding them just to count is wasteful.
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return encoder.encode(s).length;
  return s.length;
}

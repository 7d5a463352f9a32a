/**
 * Reads from the head: batches of whole records, decoded only as far as the JSON. Lines that
 * are not records (zero-filled blocks after a crash on some filesystems) are logged and
 * stepped over so they never block delivery.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { Logger } from '../log.ts';
import type { SpoolBatch } from '../spool.ts';
import { firstUnsent, type Ledger } from './ledger.ts';
import { arrivalEnd, LINE_RE, NL, segPath } from './segment.ts';

/** What `ack` gets back: where the batch ends and what it held. */
export interface Cursor {
  segment: number;
  offset: number;
  count: number;
  bytes: number;
  /** Arrival time of the record after this batch, when the read saw it. */
  nextAt?: number;
}

export interface SegmentReader {
  read(maxRecords: number, maxBatchBytes: number): Promise<SpoolBatch | null>;
  /** Arrival time of the first unsent record (one small read at the head). */
  headArrival(): Promise<number | undefined>;
  /** Let go of a segment about to be deleted. */
  release(segment: number): Promise<void>;
  close(): Promise<void>;
}

export function createReader(dir: string, ledger: Ledger, log: Logger): SegmentReader {
  let reader: { segment: number; fh: FileHandle } | null = null;
  const readerFor = async (segment: number) => {
    if (reader?.segment === segment) return reader.fh;
    await reader?.fh.close();
    reader = { segment, fh: await open(segPath(dir, segment), 'r') };
    return reader.fh;
  };

  const read = async (maxRecords: number, maxBatchBytes: number): Promise<SpoolBatch | null> => {
    const at = firstUnsent(ledger);
    const { segment } = at;
    let { offset } = at;
    const committed = ledger.size(segment);
    if (offset >= committed || ledger.depth === 0) return null;
    const fh = await readerFor(segment);
    let want: number = Math.min(committed - offset, maxBatchBytes + maxRecords * 16 + 70_000);
    for (;;) {
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await fh.read(buf, 0, want, offset);
      const records: string[] = [];
      let pos = 0;
      let batchBytes = 0;
      let lineBytes = 0;
      let nextAt: number | undefined;
      while (pos < bytesRead) {
        const nl = buf.indexOf(NL, pos);
        if (nl < 0 || nl >= bytesRead) break;
        const tab = arrivalEnd(buf, pos, nl);
        if (tab < 0) {
          log.warn('spool skipped an unreadable line', { segment: segPath(dir, segment), offset: offset + pos, bytes: nl - pos + 1 });
          pos = nl + 1;
          continue;
        }
        const recordBytes = nl - tab - 1;
        if (records.length >= maxRecords || (records.length > 0 && batchBytes + recordBytes > maxBatchBytes)) {
          nextAt = Number(buf.toString('latin1', pos, tab));
          break;
        }
        // Decode only the JSON: the whole line and a regex per record were most of the
        // forwarder's CPU per event.
        records.push(buf.toString('utf8', tab + 1, nl));
        batchBytes += recordBytes;
        lineBytes += nl - pos + 1;
        pos = nl + 1;
      }
      if (records.length === 0 && pos === 0 && want < committed - offset) {
        want = Math.min(committed - offset, want * 2);
        continue;
      }
      if (records.length === 0) {
        // Only unreadable lines so far: move the head past them so they never block delivery.
        offset += pos;
        ledger.skipped({ segment, offset });
        // The rest of this segment was unreadable; later segments may still hold records.
        if (offset >= committed) return read(maxRecords, maxBatchBytes);
        want = Math.min(committed - offset, want);
        continue;
      }
      const cursor: Cursor = { segment, offset: offset + pos, count: records.length, bytes: lineBytes };
      if (nextAt !== undefined) cursor.nextAt = nextAt;
      return { records, cursor };
    }
  };

  return {
    read,
    async headArrival() {
      const { segment, offset } = firstUnsent(ledger);
      if (offset >= ledger.size(segment)) return undefined;
      const fh = await readerFor(segment);
      const buf = Buffer.alloc(20);
      const { bytesRead } = await fh.read(buf, 0, 20, offset);
      const m = LINE_RE.exec(buf.toString('utf8', 0, bytesRead));
      return m ? Number(m[1]) : undefined;
    },
    async release(segment) {
      if (reader?.segment !== segment) return;
      await reader.fh.close();
      reader = null;
    },
    async close() {
      await reader?.fh.close();
      reader = null;
    },
  };
}

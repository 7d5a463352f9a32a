/**
 * Appends with group commit: appends that arrive while a write is being synced queue up and
 * go out together in the next write, so a busy relay pays one sync per burst instead of one
 * per request. An append resolves only after its lines are on stable storage.
 *
 * Taken apart along its state: this file holds the queue (what waits, what is reserved against
 * the cap, the flush in progress); `active-segment.ts` the files (the segment written, the next
 * one, a torn write to step over); `outage.ts` whether writes fail and the probe that heals it.
 */
import type { Logger } from '../log.ts';
import { SpoolFullError, SpoolUnavailableError, type SpoolHealth } from '../spool.ts';
import { openActiveSegment } from './active-segment.ts';
import type { Ledger } from './ledger.ts';
import { createOutage } from './outage.ts';
import type { SpoolIo } from './segment.ts';

export interface SegmentWriter {
  append(records: readonly string[]): Promise<void>;
  /** How many times appends were synced so far. */
  syncs(): number;
  health(): SpoolHealth;
  /** Refuse every append from now on, for good (the directory belongs to someone else now). */
  stop(error: SpoolUnavailableError): void;
  /** Wait for queued appends, then close the files. */
  close(): Promise<void>;
}

interface Pending {
  lines: string[];
  bytes: number;
  at: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export async function createWriter(options: {
  dir: string;
  ledger: Ledger;
  segmentBytes: number;
  maxBytes: number;
  now: () => number;
  log: Logger;
  io: SpoolIo;
  retryMs: number;
}): Promise<SegmentWriter> {
  const { ledger, maxBytes, now } = options;
  const segment = await openActiveSegment(options);
  const outage = createOutage({ now, log: options.log, retryMs: options.retryMs, probe: segment.probe });

  let queued: Pending[] = [];
  let queuedBytes = 0;
  /** Bytes appended but not yet synced; they count against the cap too. */
  let reserved = 0;
  let flushing: Promise<void> | null = null;
  let syncCount = 0;

  const flush = async () => {
    while (queued.length > 0) {
      const group = queued;
      queued = [];
      const groupBytes = queuedBytes;
      queuedBytes = 0;
      try {
        if (outage.error) throw outage.error;
        const buf = Buffer.from(group.map((g) => g.lines.join('')).join(''), 'utf8');
        let records = 0;
        for (const g of group) records += g.lines.length;
        await segment.write(buf, records, group[0]!.at);
        syncCount++;
        for (const g of group) g.resolve();
      } catch (error) {
        if (!(error instanceof SpoolUnavailableError)) outage.failed(error);
        for (const g of group) g.reject(outage.error ?? error);
      }
      reserved -= groupBytes;
    }
    flushing = null;
  };

  return {
    append(records) {
      if (records.length === 0) return Promise.resolve();
      if (outage.error) return Promise.reject(outage.error);
      const at = now();
      const lines = records.map((r) => `${at}\t${r}\n`);
      let size = 0;
      for (const l of lines) size += Buffer.byteLength(l);
      if (ledger.bytes + ledger.deadLetterBytes + reserved + size > maxBytes) return Promise.reject(new SpoolFullError(maxBytes, ledger.deadLetterBytes));
      reserved += size;
      return new Promise<void>((resolve, reject) => {
        queued.push({ lines, bytes: size, at, resolve, reject });
        queuedBytes += size;
        flushing ??= flush();
      });
    },
    syncs: () => syncCount,
    health: outage.health,
    stop: outage.stop,
    async close() {
      outage.close();
      await flushing;
      await segment.close();
    },
  };
}

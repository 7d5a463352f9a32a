/**
 * The durable spool: events wait on disk, not in memory, until the upstream has taken them.
 *
 * Layout under `dir`:
 *   seg-0000000000000001.log   segments, preallocated with zeros and filled in order; one record
 *                              a line: `<arrival ms>\t<json>\n`                    (segment.ts)
 *   checkpoint.json            {"segment":n,"offset":bytes} padded to 64 bytes, overwritten in
 *                              place — everything before it is delivered
 *                                                                                  (checkpoint.ts)
 *   dead-letter.ndjson         {"at":…,"reason":…,"event":{…}} — records the upstream refused
 *                                                                                  (dead-letter.ts)
 *   owner-<n>.lock             the process that has the directory open             (lock.ts)
 *
 * Who does what: `recovery.ts` rebuilds the ledger on open; `writer.ts` appends with group
 * commit (`active-segment.ts` writes and rotates segments, `outage.ts` refuses appends while
 * writes fail); `reader.ts` hands out batches from the head; this file wires them and
 * acknowledges (checkpoint, then delete spent segments). `ledger.ts` is the state they share,
 * changed only through its named transitions, with its own invariants.
 *
 * Design constraints:
 * - An append resolves only after its data is synced (O_DSYNC writes, or `fdatasync`), and
 *   appends that arrive during a sync share the next one: one sync per burst, not per request.
 * - Synced writes overwrite preallocated zeros, so a sync never commits a size change.
 * - Memory does not grow with the backlog: only counts and segment sizes are kept in memory;
 *   records are read from disk when sent.
 *
 * Invariants, in order:
 * 1. One process has the directory open at a time (lock.ts); a second open is refused, and a
 *    lock left by a dead process is taken over. A holder that finds its lock taken over (it
 *    was judged dead from another host) stops writing and acknowledging at once.
 * 2. A record is acknowledged only after its whole line is synced, so after a crash or power
 *    cut only an unacknowledged tail can be torn. Recovery cuts it off and logs it.
 * 3. Records are appended in order and handed out in order; the checkpoint only moves forward.
 * 4. Everything before the checkpoint is delivered. A segment is deleted only after the
 *    checkpoint moved past it, so a lost or stale checkpoint means re-sending, never losing —
 *    and the upstream de-duplicates re-sent events on `event_id`.
 * 5. Between segments' zeros and lines there is no third thing: a line is `<digits>\t<json>\n`
 *    or it is skipped with a warning, never passed on.
 * 6. Bytes of unsent records, dead letters and bytes being written never exceed `maxBytes`; an
 *    append that would cross it fails whole with `SpoolFullError`, writing nothing. (Dead
 *    letters are kept even past it: they were acknowledged.)
 * 7. Acknowledging never needs free space: the checkpoint is overwritten in place, and spent
 *    segments are deleted. So a full disk drains as the upstream takes events, and a restart
 *    resumes after the last acknowledged batch.
 * 8. While writes fail, every append fails fast with `SpoolUnavailableError` and `health()`
 *    says why; a probe clears it once a new segment can be made again.
 *
 * test/delivery/file-spool/model.test.ts runs the spool against a plain in-memory model
 * (append, read, ack, dead-letter, crash and reopen): nothing acknowledged is lost, and the
 * order is kept.
 *
 * @example
 *   const spool = await createFileSpool({ dir: './data/spool', maxBytes: 512 * 1024 * 1024 });
 *   await spool.append([JSON.stringify(event)]);   // on disk when this resolves
 */
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../log.ts';
import { SpoolUnavailableError, type Spool } from '../spool.ts';
import { openCheckpoint } from './checkpoint.ts';
import { appendDeadLetter, deadLetterSize, resendDeadLetters } from './dead-letter.ts';
import { ensureWritableDir } from './directory.ts';
import { acquireLock, type Holder, type LockOptions } from './lock.ts';
import { statsOf } from './ledger.ts';
import { createReader, type Cursor } from './reader.ts';
import { recover } from './recovery.ts';
import { nodeIo, segPath, type SpoolIo } from './segment.ts';
import { createWriter } from './writer.ts';

export { DirectoryLockedError } from './lock.ts';
export { DirectoryNotWritableError } from './directory.ts';
export { summarizeDeadLetters, type DeadLetterSummary } from './dead-letter.ts';

export interface FileSpoolOptions {
  dir: string;
  /** Cap on unsent bytes; appends beyond it fail with `SpoolFullError`. Default: no cap. */
  maxBytes?: number;
  /** Segment size (default 4 MiB), preallocated with zeros. Spent segments are deleted. */
  segmentBytes?: number;
  logger?: Logger;
  now?: () => number;
  /** While writes fail (disk full), try again this often (default 1 s). */
  retryMs?: number;
  /** Replace the writes that can fail on a full disk (tests inject ENOSPC and EIO). */
  io?: Partial<SpoolIo>;
  /** Lock heartbeat and staleness (see lock.ts). */
  lock?: Pick<LockOptions, 'heartbeatMs' | 'staleMs'>;
}

export interface FileSpool extends Spool {
  readonly dir: string;
  readonly deadLetterPath: string;
  /** How many times appends were synced to disk so far (group commit makes this ≪ appends). */
  syncs(): number;
  /** Move the dead letters whose reason `match`es back into the spool (`umbeacon dead-letters --resend`). */
  resendDeadLetters(match?: (reason: string) => boolean): Promise<{ moved: number; kept: number }>;
}

export async function createFileSpool(options: FileSpoolOptions): Promise<FileSpool> {
  const { dir } = options;
  const log = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const segmentBytes = options.segmentBytes ?? 4 * 1024 * 1024;
  const checkpointPath = join(dir, 'checkpoint.json');
  const deadLetterPath = join(dir, 'dead-letter.ndjson');
  await ensureWritableDir(dir);
  let onLost = (_holder: Holder | null) => {};
  const lock = await acquireLock(dir, { ...options.lock, onLost: (holder) => onLost(holder) });

  let ledger, writer, checkpoint;
  try {
    checkpoint = await openCheckpoint(checkpointPath);
    ledger = await recover(dir, checkpoint.start, segmentBytes, log);
    ledger.deadLettersAre(await deadLetterSize(deadLetterPath));
    const io = { ...nodeIo, ...options.io };
    writer = await createWriter({ dir, ledger, segmentBytes, maxBytes: options.maxBytes ?? Infinity, now, log, io, retryMs: options.retryMs ?? 1000 });
  } catch (error) {
    await checkpoint?.close();
    await lock.release();
    throw error;
  }
  const reader = createReader(dir, ledger, log);
  /** Set when another process took the directory over: then this one neither writes nor acks. */
  let lost = false;
  onLost = (holder) => {
    lost = true;
    log.error('spool directory taken over by another process; refusing new events', { dir, holder: holder ? `pid ${holder.pid} on ${holder.host}` : 'unknown' });
    writer.stop(new SpoolUnavailableError('taken_over', 'ELOCKLOST'));
  };
  let closed = false;

  return {
    dir,
    deadLetterPath,
    syncs: writer.syncs,
    append(records) {
      if (closed) return Promise.reject(new Error('spool is closed'));
      return writer.append(records);
    },

    async read(maxRecords, maxBatchBytes) {
      if (closed) throw new Error('spool is closed');
      if (lost) return null;
      return reader.read(maxRecords, maxBatchBytes);
    },

    async ack(raw) {
      const cursor = raw as Cursor;
      if (lost) return; // the checkpoint is the new holder's now; what was sent is re-sent, never lost
      ledger.acknowledged(cursor, cursor.count, cursor.bytes, cursor.nextAt);
      await checkpoint.write(ledger.head);
      // Spent segments: everything before the head's segment is delivered (invariant 4).
      for (const segment of ledger.spent()) {
        ledger.released(segment);
        await reader.release(segment);
        await unlink(segPath(dir, segment)).catch(() => {});
      }
      if (ledger.depth > 0 && cursor.nextAt === undefined) ledger.oldestIs(await reader.headArrival());
    },

    async deadLetter(record, reason) {
      // Kept even over the cap: they were acknowledged. The cap then holds new appends back.
      ledger.deadLettered(await appendDeadLetter(deadLetterPath, now(), record, reason));
    },

    async resendDeadLetters(match) {
      const result = await resendDeadLetters(writer, deadLetterPath, match);
      ledger.deadLettersAre(await deadLetterSize(deadLetterPath));
      return result;
    },

    stats: () => statsOf(ledger),
    health: writer.health,

    async close() {
      if (closed) return;
      closed = true;
      await writer.close();
      await reader.close();
      await checkpoint.close();
      await lock.release();
    },
  };
}

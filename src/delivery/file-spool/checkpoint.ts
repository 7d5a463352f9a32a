/**
 * The checkpoint: `checkpoint.json`, `{"segment":n,"offset":bytes}` — everything before it is
 * delivered. It is a fixed 64 bytes (the JSON, padded with spaces) overwritten in place through
 * a handle opened at start: acknowledging never allocates, so it works on a full disk, and
 * delivered space is freed even then. (A temp file renamed over it needed a new block per ack;
 * on a full disk every ack failed, spent segments were never deleted and a restart re-sent
 * everything.)
 *
 * Deliberately not synced: a checkpoint lost in a power cut only means re-sending from an older
 * one (or from the oldest segment still on disk — spent segments are deleted only after the
 * checkpoint moved past them), which the upstream de-duplicates by event_id. Syncing it would
 * put a journal commit per batch in the way of the appends, which do need theirs. A 64-byte
 * write lies within one sector; if it were ever torn, the JSON would not parse and the spool
 * would start over from the oldest segment — re-sending, never losing.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { Position } from './ledger.ts';

export const CHECKPOINT_BYTES = 64;

export interface Checkpoint {
  /** Where the last run left off ({0, 0} when missing or unreadable). */
  readonly start: Position;
  write(head: Position): Promise<void>;
  close(): Promise<void>;
}

export async function openCheckpoint(path: string): Promise<Checkpoint> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r+');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    fh = await open(path, 'w+');
  }
  const start = await parse(fh);
  const write = async (head: Position) => {
    const buf = Buffer.alloc(CHECKPOINT_BYTES, 0x20);
    buf.write(JSON.stringify(head), 0, 'latin1');
    buf[CHECKPOINT_BYTES - 1] = 0x0a;
    await fh.write(buf, 0, CHECKPOINT_BYTES, 0);
  };
  try {
    // Give it its full size now (a file from an older version may be shorter), while there is room.
    await write(start);
    if ((await fh.stat()).size > CHECKPOINT_BYTES) await fh.truncate(CHECKPOINT_BYTES);
  } catch (error) {
    await fh.close();
    throw error;
  }
  return { start, write, close: () => fh.close() };
}

async function parse(fh: FileHandle): Promise<Position> {
  try {
    const buf = Buffer.alloc(256);
    const { bytesRead } = await fh.read(buf, 0, 256, 0);
    const value = JSON.parse(buf.toString('utf8', 0, bytesRead)) as { segment?: unknown; offset?: unknown };
    if (Number.isSafeInteger(value.segment) && Number.isSafeInteger(value.offset)) {
      return { segment: value.segment as number, offset: value.offset as number };
    }
  } catch {
    // Missing (first start) or unreadable: start from the oldest segment. Re-sending is safe;
    // the upstream de-duplicates on event_id.
  }
  return { segment: 0, offset: 0 };
}

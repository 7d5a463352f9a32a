/**
 * The importer's checkpoint: how far into the input everything has been acknowledged
 * upstream. It only ever moves past batches the upstream answered 2xx, in input order, so a
 * resumed run has no gaps; batches in flight when the run died are sent again under the same
 * `event_id`s, which the upstream de-duplicates.
 *
 * Written with write-to-temp + rename, so a crash leaves the old or the new checkpoint, never
 * half of one. No fsync: losing the last write to a power cut only means re-sending a few
 * batches, which is safe for the same reason.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import type { InputFormat } from './import-reader.ts';

export interface Checkpoint {
  version: 1;
  /** Absolute path of the input, or `-` for standard input. */
  input: string;
  format: InputFormat;
  /** Byte offset to continue reading at. */
  offset: number;
  /** Line number at `offset`. */
  line: number;
  /** Records (events and skipped ones) before `offset`. */
  records: number;
  /** Events acknowledged upstream so far (over all runs). */
  sent: number;
  /** The input was read to the end and everything in it was acknowledged. */
  done: boolean;
  /** The last acknowledged record (bytes `start`..`offset`) and its text's SHA-256, to notice a replaced file. */
  tail?: { start: number; sha256: string };
  updatedAt: string;
}

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

/** The checkpoint at `path`, or undefined when there is none. */
export function loadCheckpoint(path: string): Checkpoint | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CheckpointError(`cannot read checkpoint ${path}: ${(error as Error).message}`);
  }
  let value: Partial<Checkpoint>;
  try {
    value = JSON.parse(text) as Partial<Checkpoint>;
  } catch {
    throw new CheckpointError(`checkpoint ${path} is not valid JSON; delete it to start over`);
  }
  if (value.version !== 1 || typeof value.offset !== 'number' || typeof value.line !== 'number' || typeof value.records !== 'number' || (value.format !== 'ndjson' && value.format !== 'array')) {
    throw new CheckpointError(`checkpoint ${path} is not an umbeacon import checkpoint; delete it to start over`);
  }
  return value as Checkpoint;
}

export function saveCheckpoint(path: string, checkpoint: Checkpoint): void {
  const temp = `${path}.tmp`;
  writeFileSync(temp, JSON.stringify(checkpoint, null, 2) + '\n');
  renameSync(temp, path);
}

/** SHA-256 of a record's text, as stored in `tail`. */
export function tailHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Throws unless `checkpoint` belongs to the file at `path`: the same path, at least as long,
 * and the same last acknowledged record where the checkpoint says it is.
 */
export function verifyCheckpoint(checkpoint: Checkpoint, path: string): void {
  if (checkpoint.input !== path) {
    throw new CheckpointError(`the checkpoint is for ${checkpoint.input}, not ${path}; pass --checkpoint to pick another, or drop --resume to start over`);
  }
  if (path === '-') return;
  const size = statSync(path).size;
  if (size < checkpoint.offset) {
    throw new CheckpointError(`${path} is shorter (${size} B) than the checkpoint's position (${checkpoint.offset} B); it is not the file that was being imported. Drop --resume to start over`);
  }
  const { tail } = checkpoint;
  if (!tail) return;
  const length = checkpoint.offset - tail.start;
  const buffer = Buffer.alloc(Math.max(0, length));
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buffer, 0, buffer.length, tail.start);
  } finally {
    closeSync(fd);
  }
  if (tailHash(buffer.toString('utf8').trim()) !== tail.sha256) {
    throw new CheckpointError(`${path} changed before the checkpoint's position (line ${checkpoint.line}); it is not the file that was being imported. Drop --resume to start over`);
  }
}

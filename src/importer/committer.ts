/**
 * The importer's ordered committer: batches finish in any order (several requests are in
 * flight), but the checkpoint only moves past a batch once every batch before it has landed,
 * so a resumed run has no gaps. Batches that finished early wait in a map until then.
 */
import { openCheckpointWriter, tailHash, type CheckpointWriter } from './checkpoint.ts';
import type { InputFormat } from './reader.ts';

/** A place in the input: byte offset, line number, and records before it. */
export interface Position {
  offset: number;
  line: number;
  records: number;
}

/** What the committer needs to know of a finished batch. */
export interface Finished {
  seq: number;
  /** Events the upstream took (refused ones are reported instead). */
  accepted: number;
  /** Where the input continues after the batch. */
  end: Position;
  /** The batch's last record (start offset and text), to notice a replaced input on resume. */
  tail: { start: number; text: string };
}

export interface CommitterOptions {
  checkpointPath: string;
  /** Absolute input path, or `-`. */
  input: string;
  /** The input's format (detected while reading, so asked for at each write). */
  format: () => InputFormat;
  /** Where this run started. */
  startAt: Position;
  /** Events acknowledged by earlier runs. */
  sentBefore: number;
  /** Dry run: never write. */
  dryRun: boolean;
}

export interface Committer {
  /** A batch was delivered: commit it and every waiting batch after it that is now in order. */
  finished(batch: Finished): void;
  /** Sequence number of the first batch not committed yet. */
  readonly next: number;
  /** Where a resume would continue. */
  readonly committed: Position;
  /** Write the starting position (a fresh run: an early interrupt still leaves a checkpoint). */
  begin(): void;
  /** The whole input was read and acknowledged. */
  complete(at: Position): void;
  /** No more writes (a request abandoned at an interrupt may still land later). */
  close(): void;
}

export function createCommitter(options: CommitterOptions): Committer {
  const { startAt } = options;
  const waiting = new Map<number, Finished>();
  let committed: Position = startAt;
  let sent = options.sentBefore;
  let next = 0;
  let writer: CheckpointWriter | undefined;
  let closed = false;

  const write = (at: Position, done: boolean, tail?: Finished['tail']) => {
    if (options.dryRun || closed) return;
    writer ??= openCheckpointWriter(options.checkpointPath);
    writer.save({
      version: 1,
      input: options.input,
      format: options.format(),
      offset: at.offset,
      line: at.line,
      records: at.records,
      sent,
      done,
      ...(tail && !done ? { tail: { start: tail.start, sha256: tailHash(tail.text) } } : {}),
      updatedAt: new Date().toISOString(),
    });
  };

  return {
    finished(batch) {
      waiting.set(batch.seq, batch);
      let last: Finished | undefined;
      for (let b = waiting.get(next); b; b = waiting.get(next)) {
        waiting.delete(next++);
        sent += b.accepted;
        committed = b.end;
        last = b;
      }
      if (last) write(committed, false, last.tail);
    },
    get next() {
      return next;
    },
    get committed() {
      return committed;
    },
    begin() {
      write(startAt, false);
    },
    complete(at) {
      committed = at;
      write(at, true);
    },
    close() {
      closed = true;
      writer?.close();
    },
  };
}

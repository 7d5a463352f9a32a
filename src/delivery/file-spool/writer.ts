/**
 * Appends with group commit: appends that arrive while a write is being synced queue up and
 * go out together in the next write, so a busy relay pays one sync per burst instead of one
 * per request. An append resolves only after its lines are on stable storage.
 *
 * When a write fails (ENOSPC, EIO, a read-only remount) the appends in it are refused, and so
 * is every append after it, at once, with `SpoolUnavailableError` — the relay answers 503 with
 * Retry-After and /healthz says why. Meanwhile a probe tries every `retryMs` to make the next
 * segment (the write that needs room); when it succeeds the writer moves on to that fresh
 * segment and takes appends again, with nobody having to restart it.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Logger } from '../log.ts';
import { SpoolFullError, SpoolUnavailableError, storageFailure, type SpoolHealth } from '../spool.ts';
import type { Ledger } from './ledger.ts';
import { DSYNC, openSegment, type SpoolIo } from './segment.ts';

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
  const { dir, ledger, segmentBytes, maxBytes, now, log, io, retryMs } = options;
  const { sizes } = ledger;
  let writer: FileHandle;
  if (sizes.has(ledger.current)) writer = await openSegment(dir, ledger.current);
  else {
    writer = await io.createSegment(dir, ledger.current, segmentBytes);
    sizes.set(ledger.current, 0);
  }
  /** The next segment, zero-filled ahead of time so rotating never waits for it. */
  let next: { segment: number; ready: Promise<FileHandle> } | null = null;
  const prepareNext = () => {
    const segment = ledger.current + 1;
    const ready = io.createSegment(dir, segment, segmentBytes);
    ready.catch(() => {}); // a failure surfaces when rotate awaits it
    next = { segment, ready };
    return next;
  };
  /** Switch to the next segment; the current one stays the writer's until that exists. */
  const rotate = async () => {
    const pending = next && next.segment === ledger.current + 1 ? next : prepareNext();
    let fh: FileHandle;
    try {
      fh = await pending.ready;
    } finally {
      next = null;
    }
    await writer.close().catch(() => {});
    writer = fh;
    ledger.current++;
    sizes.set(ledger.current, 0);
  };

  let queued: Pending[] = [];
  let queuedBytes = 0;
  /** Bytes appended but not yet synced; they count against the cap too. */
  let reserved = 0;
  let flushing: Promise<void> | null = null;
  let syncCount = 0;
  let failure: { error: SpoolUnavailableError; since: number } | null = null;
  /** After a failed write the current segment may end in a torn line: the next write starts a fresh one. */
  let mustRotate = false;
  let probeTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const fail = (error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    if (failure) return;
    failure = { error: new SpoolUnavailableError(storageFailure(code), code), since: now() };
    log.error('spool cannot write; refusing new events until it can', { reason: failure.error.reason, code, detail: error instanceof Error ? error.message : String(error) });
    schedule();
  };
  // Unref'd: a client script on a full disk still exits when its work is done.
  const schedule = () => (probeTimer = setTimeout(probe, retryMs)).unref?.();
  const probe = async () => {
    if (closed || !failure) return;
    try {
      await (next ?? prepareNext()).ready;
      const { since } = failure;
      failure = null;
      log.info('spool writes again', { failedForMs: now() - since });
    } catch {
      next = null;
      schedule();
    }
  };

  const flush = async () => {
    while (queued.length > 0) {
      const group = queued;
      queued = [];
      const groupBytes = queuedBytes;
      queuedBytes = 0;
      const used = () => sizes.get(ledger.current) ?? 0;
      let buf: Buffer | undefined;
      let writing = false;
      try {
        if (failure) throw failure.error;
        buf = Buffer.from(group.map((g) => g.lines.join('')).join(''), 'utf8');
        if (mustRotate || (used() > 0 && used() + buf.length > segmentBytes)) {
          await rotate();
          mustRotate = false;
        }
        // Overwrite the preallocated zeros: the file size does not change, so fdatasync only
        // flushes data instead of also committing a metadata change to the journal — the
        // trick write-ahead logs use (PostgreSQL's wal_init_zero); measured here at about a
        // third of the sync latency of a growing file.
        writing = true;
        await io.write(writer, buf, used());
        if (!DSYNC) await writer.datasync();
        syncCount++;
        sizes.set(ledger.current, used() + buf.length);
        if (!next && used() > segmentBytes / 2) prepareNext();
        // The flush that makes the spool non-empty takes oldestAt from its first group.
        if (ledger.depth === 0) ledger.oldestAt = group[0]!.at;
        for (const g of group) {
          ledger.depth += g.lines.length;
          ledger.bytes += g.bytes;
          g.resolve();
        }
      } catch (error) {
        if (!(error instanceof SpoolUnavailableError)) {
          fail(error);
          // The records are not acknowledged. A partial write may have left a torn line after
          // the committed end: blank it (no new space needed) and start a fresh segment next.
          if (writing && buf) {
            mustRotate = true;
            await io.write(writer, Buffer.alloc(buf.length), used()).catch(() => {});
          }
        }
        for (const g of group) g.reject(failure?.error ?? error);
      }
      reserved -= groupBytes;
    }
    flushing = null;
  };

  return {
    append(records) {
      if (records.length === 0) return Promise.resolve();
      if (failure) return Promise.reject(failure.error);
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
    health: () => (failure ? { ok: false, reason: failure.error.reason, since: failure.since } : { ok: true }),
    stop(error) {
      closed = true; // no probe: this does not heal
      clearTimeout(probeTimer);
      failure = { error, since: now() };
    },
    async close() {
      closed = true;
      clearTimeout(probeTimer);
      await flushing;
      await writer.close();
      const pending = next as { ready: Promise<FileHandle> } | null;
      if (pending) await pending.ready.then((fh) => fh.close(), () => {});
    },
  };
}

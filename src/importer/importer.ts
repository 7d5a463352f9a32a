/**
 * The bulk importer: reads an input (streaming), converts each record, sends bulk arrays with
 * a few requests in flight, and moves the checkpoint past batches the upstream acknowledged —
 * in input order, so a resumed run has no gaps. Retries follow the relay's policy
 * (`src/delivery/upstream.ts`). No terminal output here: the command renders `progress()` and
 * the summary.
 *
 * Three parts, each in its own file: reading (batches.ts: records → events → batches), sending
 * (dispatcher.ts: requests in flight on the shared delivery engine) and committing
 * (committer.ts: the checkpoint follows acknowledged batches in input order). This file checks
 * the options, wires the three together and decides how the run ends.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { LIMITS } from '../shared/event.ts';
import { systemClock } from '../delivery/clock.ts';
import { createUpstream, type Upstream } from '../delivery/upstream.ts';
import { openInput, readBatches } from './batches.ts';
import { CheckpointError, loadCheckpoint, verifyCheckpoint, type Checkpoint } from './checkpoint.ts';
import { createCommitter, type Position } from './committer.ts';
import { createDispatcher } from './dispatcher.ts';
import type { InputFormat } from './reader.ts';
import { openReport, type SkippedRecord } from './report.ts';

export interface ImportOptions {
  /** Path of the input file, or `-` for standard input. */
  input: string;
  /** Standard input (default `process.stdin`); injectable for tests. */
  stdin?: AsyncIterable<Uint8Array>;
  apiKey: string;
  /** Not needed for a dry run. */
  serverToken?: string;
  /** Upstream base URL (default Usermaven's). */
  url?: string;
  /** Injected upstream (tests, benchmarks); otherwise built from key, token and url. */
  upstream?: Upstream;
  /** Check and count; send nothing, write no checkpoint. */
  dryRun?: boolean;
  /** Continue from the checkpoint, if there is one. */
  resume?: boolean;
  /** Default: next to the input, `FILE.checkpoint.json`. */
  checkpointPath?: string;
  /** Default: next to the input, `FILE.errors.ndjson`. */
  reportPath?: string;
  format?: InputFormat | 'auto';
  /** Most events per second (default: no limit). */
  rate?: number;
  /** Skipped records tolerated; one more stops the import (default 0). */
  maxErrors?: number;
  /** Requests in flight (default 4). */
  concurrency?: number;
  /** Events per request (default and maximum 500). */
  batchSize?: number;
  /** Retries of one request before giving up (default 10, about 4 minutes of back-off). */
  maxRetries?: number;
  /** Upstream request timeout in ms (default 15 s). */
  timeoutMs?: number;
  /** Abort = interrupt: stop reading, keep the checkpoint, report how to resume. */
  signal?: AbortSignal;
  /** Called for each skipped record, as it is found. */
  onSkip?: (entry: SkippedRecord) => void;
  /** Called with one-line notices (a checkpoint ignored, a resume position). */
  onNotice?: (message: string) => void;
  /** Waits in-flight requests this long after an interrupt before giving up on them (default 2 s). */
  graceMs?: number;
}

export type ImportOutcome =
  /** Everything read and acknowledged (bad records within --max-errors). */
  | 'done'
  /** The checkpoint says this input was already imported completely. */
  | 'already-done'
  /** More bad records than --max-errors. */
  | 'too-many-errors'
  /** Interrupted (signal). */
  | 'interrupted'
  /** The upstream refused the credentials, or kept failing past --max-retries. */
  | 'upstream-failed';

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

export interface ImportSummary extends ImportProgress {
  outcome: ImportOutcome;
  dryRun: boolean;
  /** Why the import stopped early (upstream failure, checkpoint problem). */
  reason?: string;
  checkpointPath: string;
  reportPath: string;
  /** Where a `--resume` continues: the first line not yet acknowledged. */
  resumeLine?: number;
}

export interface ImportRun {
  progress(): ImportProgress;
  done: Promise<ImportSummary>;
}

/** Thrown before any work when the options or the checkpoint are unusable (exit code 2). */
export class ImportSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportSetupError';
  }
}

/** Default file names next to the input (standard input: in the working directory). */
export function defaultPaths(input: string): { checkpointPath: string; reportPath: string } {
  const base = input === '-' ? resolve('umbeacon-stdin') : resolve(input);
  return { checkpointPath: `${base}.checkpoint.json`, reportPath: `${base}.errors.ndjson` };
}

/**
 * Starts an import. `done` resolves with a summary whatever happens to the events (bad records,
 * upstream down, interrupt); it rejects with `ImportSetupError` when the import cannot start.
 *
 * @example
 *   const run = startImport({ input: 'events.ndjson', apiKey, serverToken, maxErrors: 10 });
 *   const timer = setInterval(() => console.error(run.progress().sent), 1000);
 *   const summary = await run.done;
 *   clearInterval(timer);
 */
export function startImport(options: ImportOptions): ImportRun {
  const started = Date.now();
  const input = options.input === '-' ? '-' : resolve(options.input);
  const paths = defaultPaths(options.input);
  const checkpointPath = options.checkpointPath ? resolve(options.checkpointPath) : paths.checkpointPath;
  const reportPath = options.reportPath ? resolve(options.reportPath) : paths.reportPath;
  const dryRun = options.dryRun ?? false;
  const maxErrors = options.maxErrors ?? 0;
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const rate = options.rate && options.rate > 0 ? options.rate : undefined;
  const batchSize = Math.max(1, Math.min(LIMITS.upstreamEvents, options.batchSize ?? LIMITS.upstreamEvents, rate ? Math.ceil(rate) : Infinity));
  const maxRetries = options.maxRetries ?? 10;
  const graceMs = options.graceMs ?? 2000;

  const stats = { read: 0, valid: 0, sent: 0, sentBefore: 0, skipped: 0, bytesRead: 0, bytesBefore: 0, requests: 0, retries: 0 };
  let totalBytes: number | undefined;
  const progress = (): ImportProgress => ({
    ...stats,
    ...(totalBytes === undefined ? {} : { totalBytes }),
    elapsedMs: Date.now() - started,
  });

  const done = (async (): Promise<ImportSummary> => {
    // --- setup: everything that can fail before a single event is read -------------------
    if (!dryRun && !options.upstream && !options.serverToken) {
      throw new ImportSetupError('no server token: set USERMAVEN_SERVER_TOKEN (or pass --server-token), or use --dry-run');
    }
    if (!options.apiKey && !dryRun) throw new ImportSetupError('no API key: set USERMAVEN_API_KEY (or pass --api-key)');
    if (options.url !== undefined && !dryRun && !URL.canParse(options.url)) {
      throw new ImportSetupError(`USERMAVEN_URL / --url must be an absolute URL such as https://events.usermaven.com (got ${JSON.stringify(options.url.slice(0, 60))})`);
    }
    if (input !== '-') {
      try {
        const info = statSync(input);
        if (!info.isFile()) throw new ImportSetupError(`${options.input} is not a file`);
        totalBytes = info.size;
      } catch (error) {
        if (error instanceof ImportSetupError) throw error;
        throw new ImportSetupError(`cannot read ${options.input}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
    }
    let checkpoint: Checkpoint | undefined;
    try {
      const found = dryRun ? undefined : loadCheckpoint(checkpointPath);
      if (options.resume && !dryRun) {
        if (found) {
          verifyCheckpoint(found, input);
          checkpoint = found;
        } else options.onNotice?.(`no checkpoint at ${checkpointPath}; starting from the beginning`);
      } else if (found && !found.done) {
        options.onNotice?.(`a checkpoint of an earlier run exists (line ${found.line}); starting over — pass --resume to continue it instead`);
      } else if (found?.done && !dryRun) {
        options.onNotice?.('an earlier import of this input finished; importing it again (same event_ids, so the upstream de-duplicates)');
      }
    } catch (error) {
      if (error instanceof CheckpointError) throw new ImportSetupError(error.message);
      throw error;
    }

    const base = { dryRun, checkpointPath, reportPath };
    if (checkpoint?.done) {
      stats.sent = checkpoint.sent;
      return { ...progress(), ...base, outcome: 'already-done' };
    }
    if (checkpoint) options.onNotice?.(`resuming at line ${checkpoint.line} (${checkpoint.sent} events already sent)`);

    const startAt: Position = checkpoint ? { offset: checkpoint.offset, line: checkpoint.line, records: checkpoint.records } : { offset: 0, line: 1, records: 0 };
    let format: InputFormat = checkpoint?.format ?? 'ndjson';
    const report = openReport(reportPath, checkpoint ? checkpoint.offset : undefined);
    stats.skipped = report.count;
    stats.sent = checkpoint?.sent ?? 0;
    stats.sentBefore = stats.sent;
    stats.bytesRead = startAt.offset;
    stats.bytesBefore = startAt.offset;

    const upstream =
      options.upstream ??
      (dryRun
        ? undefined
        : createUpstream({
            apiKey: options.apiKey,
            serverToken: options.serverToken ?? '',
            ...(options.url ? { url: options.url } : {}),
            ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
          }));

    // --- stopping ---------------------------------------------------------------------------
    let outcome: ImportOutcome | undefined;
    let reason: string | undefined;
    const halt = new AbortController();
    const stop = (why: ImportOutcome, message?: string) => {
      if (outcome) return;
      outcome = why;
      if (message) reason = message;
      if (why !== 'too-many-errors') halt.abort();
    };
    const onAbort = () => stop('interrupted');
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const skip = (entry: SkippedRecord) => {
      report.add(entry);
      stats.skipped = report.count;
      options.onSkip?.(entry);
      if (!dryRun && report.count > maxErrors) stop('too-many-errors');
    };

    const committer = createCommitter({ checkpointPath, input, format: () => format, startAt, sentBefore: stats.sent, dryRun });
    // A fresh run starts its checkpoint at once, so an early interrupt still leaves one to resume.
    if (!checkpoint) committer.begin();

    const dispatcher = createDispatcher({
      upstream: upstream!,
      clock: systemClock,
      halt: halt.signal,
      concurrency,
      rate,
      maxRetries,
      nextCommit: () => committer.next,
      counts: stats,
      skip,
      onDelivered: (batch) => committer.finished(batch),
      onFailed: (message) => stop('upstream-failed', message),
    });

    const reader = readBatches({
      source: openInput(input, startAt.offset, options.stdin),
      // A checkpoint at offset 0 may predate format detection: detect again.
      format: checkpoint && checkpoint.offset > 0 ? checkpoint.format : (options.format ?? 'auto'),
      onFormat: (f) => (format = f),
      startAt,
      batchSize,
      apiKey: options.apiKey,
      now: Date.now(),
      dryRun,
      counts: stats,
      skip,
      stopped: () => outcome !== undefined,
    });
    try {
      for await (const batch of reader.batches) {
        // After too many errors, still send the good events before the bad record, so the
        // checkpoint stops right at it.
        if (outcome && outcome !== 'too-many-errors') break;
        await dispatcher.dispatch(batch);
        if (outcome) break;
      }
    } catch (error) {
      // The input itself failed (unreadable file, broken pipe): stop like an interrupt.
      stop('interrupted', `reading ${options.input} failed: ${(error as Error).message}`);
    }

    // --- finishing --------------------------------------------------------------------------
    // Wait for the requests in flight. After an interrupt or a failure they get `graceMs` to
    // land (fewer re-sends on resume), then they are abandoned: the checkpoint never counted them.
    let graceTimer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      const begin = () => (graceTimer = setTimeout(resolve, graceMs));
      if (halt.signal.aborted) begin();
      else halt.signal.addEventListener('abort', begin, { once: true });
    });
    await Promise.race([Promise.allSettled(dispatcher.inflight()), grace]);
    clearTimeout(graceTimer);
    options.signal?.removeEventListener('abort', onAbort);
    // A failure can also happen in the last batches, after reading ended.
    const final: ImportOutcome = outcome ?? (dryRun && report.count > maxErrors ? 'too-many-errors' : 'done');
    if (final === 'done' && !dryRun) committer.complete(reader.position());
    committer.close();
    const summary: ImportSummary = { ...progress(), ...base, outcome: final };
    if (reason) summary.reason = reason;
    if (final !== 'done' && !dryRun) summary.resumeLine = committer.committed.line;
    return summary;
  })();

  return { progress, done };
}

/**
 * The bulk importer: reads an input (streaming), converts each record, sends bulk arrays with
 * a few requests in flight, and moves the checkpoint past batches the upstream acknowledged —
 * in input order, so a resumed run has no gaps. Retries follow the relay's policy
 * (`src/delivery/upstream.ts`). No terminal output here: the command renders `progress()` and
 * the summary.
 *
 * The parts, each in its own file, each the one writer of its state: setting up (setup.ts:
 * options, input, checkpoint), reading (batches.ts: records → events → batches), sending
 * (dispatcher.ts: requests in flight, rounds of the shared delivery policy), committing
 * (committer.ts: the checkpoint follows acknowledged batches in input order) and counting
 * (tally.ts). This file wires them together and decides how the run ends (`Ending`).
 */
import { LIMITS } from '../shared/event.ts';
import { systemClock } from '../delivery/clock.ts';
import { createUpstream, type Upstream } from '../delivery/upstream.ts';
import { openInput, readBatches } from './batches.ts';
import { createCommitter } from './committer.ts';
import { createDispatcher } from './dispatcher.ts';
import type { InputFormat } from './reader.ts';
import { openReport, type SkippedRecord } from './report.ts';
import { prepareImport } from './setup.ts';
import { Tally, type ImportProgress } from './tally.ts';

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
  const tally = new Tally(Date.now());
  const progress = () => tally.progress(Date.now());
  return { progress, done: runImport(options, tally) };
}

/** How the run ends: the first reason to stop wins. */
class Ending {
  outcome: ImportOutcome | undefined;
  reason: string | undefined;
  /** Aborted = no new batch, no more retries: every reason but too many errors, which still sends the good events before the bad record. */
  readonly halt = new AbortController();

  stop(why: ImportOutcome, message?: string): void {
    if (this.outcome) return;
    this.outcome = why;
    if (message) this.reason = message;
    if (why !== 'too-many-errors') this.halt.abort();
  }
}

async function runImport(options: ImportOptions, tally: Tally): Promise<ImportSummary> {
  const plan = prepareImport(options);
  const { input, dryRun, checkpointPath, reportPath, checkpoint, startAt } = plan;
  const maxErrors = options.maxErrors ?? 0;
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const rate = options.rate && options.rate > 0 ? options.rate : undefined;
  const batchSize = Math.max(1, Math.min(LIMITS.upstreamEvents, options.batchSize ?? LIMITS.upstreamEvents, rate ? Math.ceil(rate) : Infinity));
  if (plan.totalBytes !== undefined) tally.sized(plan.totalBytes);
  const base = { dryRun, checkpointPath, reportPath };
  if (checkpoint?.done) return { ...tally.progress(Date.now()), sent: checkpoint.sent, ...base, outcome: 'already-done' };
  if (checkpoint) options.onNotice?.(`resuming at line ${checkpoint.line} (${checkpoint.sent} events already sent)`);

  let format: InputFormat = checkpoint?.format ?? 'ndjson';
  const report = openReport(reportPath, checkpoint ? checkpoint.offset : undefined);
  tally.resumed(checkpoint?.sent ?? 0, startAt.offset, report.count);
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

  const ending = new Ending();
  const halt = ending.halt.signal;
  const onAbort = () => ending.stop('interrupted');
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const skip = (entry: SkippedRecord) => {
    report.add(entry);
    tally.skipped(report.count);
    options.onSkip?.(entry);
    if (!dryRun && report.count > maxErrors) ending.stop('too-many-errors');
  };

  const committer = createCommitter({ checkpointPath, input, format: () => format, startAt, sentBefore: checkpoint?.sent ?? 0, dryRun });
  // A fresh run starts its checkpoint at once, so an early interrupt still leaves one to resume.
  if (!checkpoint) committer.begin();

  const dispatcher = createDispatcher({
    upstream: upstream!,
    clock: systemClock,
    halt,
    concurrency,
    rate,
    maxRetries: options.maxRetries ?? 10,
    nextCommit: () => committer.next,
    tally,
    skip,
    onDelivered: (batch) => committer.finished(batch),
    onFailed: (message) => ending.stop('upstream-failed', message),
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
    tally,
    skip,
    stopped: () => ending.outcome !== undefined,
  });
  try {
    for await (const batch of reader.batches) {
      // After too many errors, still send the good events before the bad record, so the
      // checkpoint stops right at it.
      if (ending.outcome && ending.outcome !== 'too-many-errors') break;
      await dispatcher.dispatch(batch);
      if (ending.outcome) break;
    }
  } catch (error) {
    // The input itself failed (unreadable file, broken pipe): stop like an interrupt.
    ending.stop('interrupted', `reading ${options.input} failed: ${(error as Error).message}`);
  }

  // Wait for the requests in flight. After an interrupt or a failure they get `graceMs` to
  // land (fewer re-sends on resume), then they are abandoned: the checkpoint never counted them.
  let graceTimer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => {
    const begin = () => (graceTimer = setTimeout(resolve, options.graceMs ?? 2000));
    if (halt.aborted) begin();
    else halt.addEventListener('abort', begin, { once: true });
  });
  await Promise.race([Promise.allSettled(dispatcher.inflight()), grace]);
  clearTimeout(graceTimer);
  options.signal?.removeEventListener('abort', onAbort);
  // A failure can also happen in the last batches, after reading ended.
  const final: ImportOutcome = ending.outcome ?? (dryRun && report.count > maxErrors ? 'too-many-errors' : 'done');
  if (final === 'done' && !dryRun) committer.complete(reader.position());
  committer.close();
  const summary: ImportSummary = { ...tally.progress(Date.now()), ...base, outcome: final };
  if (ending.reason) summary.reason = ending.reason;
  if (final !== 'done' && !dryRun) summary.resumeLine = committer.committed.line;
  return summary;
}

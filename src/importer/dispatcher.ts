/**
 * The importer's sending side: a few batches in flight, an optional rate, and the importer's
 * delivery policy on the shared engine (`src/delivery/deliver.ts`): a refused event is reported
 * (not dead-lettered), a failing upstream is retried up to `maxRetries` times in a row and then
 * given up, and wrong credentials or URL (401/403/404) stop at once.
 */
import type { Clock } from '../delivery/clock.ts';
import { deliverBatch } from '../delivery/deliver.ts';
import { isCredentialProblem, retryDelayMs, type Upstream } from '../delivery/upstream.ts';
import type { Batch } from './batches.ts';
import type { SkippedRecord } from './report.ts';

export interface SendCounts {
  sent: number;
  requests: number;
  retries: number;
}

export interface DispatcherOptions {
  upstream: Upstream;
  clock: Clock;
  /** Aborted = stop: no new batch, no more retries (requests in flight may still land). */
  halt: AbortSignal;
  concurrency: number;
  /** Most events per second (undefined: no limit). */
  rate: number | undefined;
  maxRetries: number;
  /** Sequence number of the first batch the checkpoint still waits for. */
  nextCommit: () => number;
  counts: SendCounts;
  /** A record the upstream refused on its own. */
  skip: (entry: SkippedRecord) => void;
  /** The whole batch is accepted or reported. */
  onDelivered: (batch: Batch) => void;
  /** The upstream failed for good (credentials, or past `maxRetries`). */
  onFailed: (reason: string) => void;
}

export interface Dispatcher {
  /** Send `batch` once a slot is free (resolves when it is on its way, or at a stop). */
  dispatch(batch: Batch): Promise<void>;
  /** Deliveries still running. */
  inflight(): Promise<void>[];
}

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { upstream, clock, halt, concurrency, rate, counts } = options;
  const inflight = new Set<Promise<void>>();
  let rateStart = 0;
  let rated = 0;
  // Batches acknowledged out of order wait in the committer until the ones before them land;
  // the window bounds that (memory, and what a crash makes us re-send) when one batch lags behind.
  const window = concurrency * 2;
  // Resolves on interrupt or failure, so waiting for a free slot never outlasts a stop.
  const halted = new Promise<void>((resolve) => halt.addEventListener('abort', () => resolve(), { once: true }));

  /** Sends one batch until the upstream has all of it (refused events reported), or gives up. */
  const deliver = async (batch: Batch): Promise<void> => {
    let attempt = 0;
    let failed = '';
    const delivery = await deliverBatch(batch.jsons, {
      // The request itself is not cut at a stop: it gets the grace period to land.
      send: (body) => upstream.send(body),
      sleep: clock.sleep,
      signal: halt,
      onRequest: () => void counts.requests++,
      onAccepted: (from, to) => {
        batch.accepted += to - from;
        counts.sent += to - from;
        attempt = 0;
      },
      onRefused: (i, refusal) => {
        options.skip({ line: batch.lines[i]!, record: batch.records[i]!, offset: batch.offsets[i]!, reason: `the upstream refused it: ${refusal.reason}`, text: batch.jsons[i]! });
      },
      onFailure: (failure) => {
        if (failure.kind === 'reject' && isCredentialProblem(failure.status)) {
          failed = `${failure.reason} — check USERMAVEN_API_KEY, USERMAVEN_SERVER_TOKEN and USERMAVEN_URL`;
          return null;
        }
        attempt++;
        counts.retries++;
        if (attempt > options.maxRetries) {
          failed = `${failure.reason} (gave up after ${options.maxRetries} retries)`;
          return null;
        }
        return retryDelayMs(failure.kind === 'retry' ? failure : { kind: 'retry', status: failure.status, reason: failure.reason }, attempt);
      },
    });
    if (delivery.outcome === 'done') options.onDelivered(batch);
    else if (delivery.outcome === 'gave-up') options.onFailed(failed);
  };

  return {
    async dispatch(batch) {
      while (!halt.aborted && inflight.size > 0 && (inflight.size >= concurrency || batch.seq - options.nextCommit() >= window)) {
        await Promise.race([...inflight, halted]);
      }
      if (halt.aborted) return;
      if (rate) {
        if (rated === 0) rateStart = clock.now();
        const due = rateStart + (rated / rate) * 1000;
        rated += batch.jsons.length;
        if (due > clock.now()) await clock.sleep(due - clock.now(), halt);
        if (halt.aborted) return;
      }
      const tracked: Promise<void> = deliver(batch)
        .catch((error: unknown) => options.onFailed(`unexpected: ${(error as Error).message}`))
        .finally(() => inflight.delete(tracked));
      inflight.add(tracked);
    },
    inflight: () => [...inflight],
  };
}

/**
 * The importer's sending side: a few batches in flight, an optional rate, and rounds of the
 * shared delivery policy (`src/delivery/policy.ts`) on the shared engine (`deliver.ts`), as the
 * relay runs them. This file applies the verdicts the importer's way:
 *
 * - an event refused on its own after others were taken is reported (not dead-lettered);
 * - a round in which the upstream took nothing is a blanket refusal (an upstream refusing
 *   everything, not bad records): nothing is reported, the batch is sent again after the
 *   relay's back-off, and counts as a failure;
 * - a failure no event is to blame for is retried with the relay's capped back-off (or
 *   `Retry-After`) up to `maxRetries` times in a row and then given up, so the checkpoint stays
 *   before the batch and `--resume` sends it; wrong credentials or URL (401/403/404) stop at once;
 * - what the isolation budget left unsplit goes again in the next round of the same batch.
 */
import type { Clock } from '../delivery/clock.ts';
import { deliverBatch, type DeliveryHooks, type Failure, type Refusal } from '../delivery/deliver.ts';
import {
  afterFailure,
  afterRound,
  arrangeRound,
  blanketReason,
  concurrencyAt,
  INITIAL_STATE,
  judgeRound,
  noteRefusal,
  planRound,
  type Patience,
  type PolicyOptions,
  type Verdict,
} from '../delivery/policy.ts';
import { UPSTREAM_LIMITS } from '../delivery/sizing.ts';
import type { Upstream } from '../delivery/upstream.ts';
import type { Batch } from './batches.ts';
import type { SkippedRecord } from './report.ts';
import type { Tally } from './tally.ts';

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
  tally: Tally;
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

/** Most requests spent isolating refused events per round, as the relay's forwarder. */
const ISOLATION_BUDGET = 64;

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { upstream, clock, halt, concurrency, rate, tally } = options;
  const inflight = new Set<Promise<void>>();
  let rateStart = 0;
  let rated = 0;
  // Batches acknowledged out of order wait in the committer until the ones before them land;
  // the window bounds that (memory, and what a crash makes us re-send) when one batch lags behind.
  const window = concurrency * 2;
  // Resolves on interrupt or failure, so waiting for a free slot never outlasts a stop.
  const halted = new Promise<void>((resolve) => halt.addEventListener('abort', () => resolve(), { once: true }));
  // The policy's memory (suspects, refusal pressure), shared by the batches of the run.
  let state = INITIAL_STATE;
  const policy: PolicyOptions = { maxEvents: UPSTREAM_LIMITS.maxEvents, concurrency: 1, budget: ISOLATION_BUDGET };
  const patience: Patience = { maxRetries: options.maxRetries, credentialsFatal: true };

  /** Sends one batch until the upstream has all of it (refused events reported), or gives up. */
  const deliver = async (batch: Batch): Promise<void> => {
    // Indexes into the batch of the events still to send.
    let pending = batch.jsons.map((_, i) => i);
    let attempt = 0;
    /** Failure number `attempt`: the wait before the next try, or null once the run gives up. */
    const failed = (failure: Failure): number | null => {
      const next = afterFailure(failure, ++attempt, patience);
      // Wrong credentials stop at once: no retry to count.
      if (!('giveUp' in next) || attempt > options.maxRetries) tally.retried();
      if ('wait' in next) return next.wait;
      options.onFailed(next.giveUp);
      return null;
    };
    while (pending.length > 0 && !halt.aborted) {
      const round = arrangeRound(state, pending.map((i) => batch.jsons[i]!), planRound(state, clock.now(), policy));
      const inBatch = (k: number) => pending[round.order[k]!]!;
      const reasons = new Map<number, Refusal>();
      const hooks: DeliveryHooks = {
        // The request itself is not cut at a stop: it gets the grace period to land.
        send: (body) => upstream.send(body),
        sleep: clock.sleep,
        signal: halt,
        onRequest: () => tally.requested(),
        onAccepted: (from, to) => {
          batch.accepted += to - from;
          tally.sent(to - from);
          attempt = 0;
        },
        onRefused: (k, refusal) => {
          reasons.set(k, refusal);
          state = noteRefusal(state, clock.now());
        },
        onFailure: failed,
        concurrency: () => concurrencyAt(state, clock.now(), policy),
        isolationBudget: policy.budget,
      };
      const first = await deliverBatch(round.records, hooks, round.ranges);
      let verdict: Verdict = judgeRound(first);
      if (verdict.kind === 'recheck') {
        const indexes = verdict.indexes;
        verdict = judgeRound(first, { indexes, delivery: await deliverBatch(round.records, hooks, indexes.map((k) => [k, k + 1])) });
      }
      state = afterRound(state, round.records, verdict);
      if (verdict.kind === 'settled' || verdict.kind === 'interrupted') {
        for (const k of verdict.bad) {
          const i = inBatch(k);
          options.skip({ line: batch.lines[i]!, record: batch.records[i]!, offset: batch.offsets[i]!, reason: `the upstream refused it: ${reasons.get(k)!.reason}`, text: batch.jsons[i]! });
        }
      }
      if (verdict.kind === 'interrupted') return;
      if (verdict.kind === 'refused-all') {
        // Nothing taken: the upstream refuses everything, not these events. Like an outage.
        const wait = failed({ ...verdict.refusal, reason: blanketReason(verdict.refusal, round.records.length) });
        if (wait === null) return;
        await clock.sleep(wait, halt);
        continue;
      }
      pending = verdict.kind === 'settled' ? verdict.unsplit.map(inBatch) : [];
    }
    // Done also when the last answer landed after a stop: the checkpoint may count it.
    if (pending.length === 0) options.onDelivered(batch);
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

/**
 * The one routine that sends a batch of serialized events upstream and isolates the events the
 * upstream refuses. The relay's forwarder (and the Node client through it), the importer and
 * the edge queue consumer all call it; what differs between them is policy, passed in as hooks:
 *
 * - a refused event: `onRefused` (the forwarder keeps it for a dead-letter verdict, the importer
 *   reports it);
 * - a failure no event is to blame for (5xx, 408, 429, 3xx, timeout, network, and wrong
 *   credentials or URL: 401/403/404): `onFailure` says how long to wait before sending the same
 *   events again, or gives up (the forwarder retries forever, the importer gives up after
 *   `--max-retries` and at once on bad credentials);
 * - stopping: `signal` aborts the request in flight and any wait.
 *
 * The work list holds index ranges of `records` still to send. A chunk the upstream refuses is
 * replaced by its two halves until the refused events stand alone. Up to `concurrency` chunks
 * go out at once (1 keeps the upstream's arrival order: the default), and at most
 * `isolationBudget` requests are spent isolating; what is still unresolved then is handed back,
 * so a batch full of refused events cannot hold the line.
 *
 * @example
 *   const result = await deliverBatch(records, {
 *     send: (body, signal) => upstream.send(body, signal),
 *     sleep: clock.sleep,
 *     signal: stop.signal,
 *     onFailure: (failure) => (isCredentialProblem(failure.status) ? null : retryDelayMs(failure, ++attempt)),
 *     onRefused: (index, refusal) => report(records[index], refusal.reason),
 *   });
 */
import { isCredentialProblem, type SendResult } from './upstream.ts';

export type Failure = Exclude<SendResult, { kind: 'ok' }>;
export type Refusal = Extract<SendResult, { kind: 'reject' }>;
/** Records `from` (inclusive) to `to` (exclusive). */
export type Range = readonly [from: number, to: number];

export interface DeliveryHooks {
  /** POST one JSON array body; never throws (see `Upstream.send`). */
  send(body: string, signal: AbortSignal): Promise<SendResult>;
  /** Cancellable wait (`Clock.sleep`). */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** Aborted = stop: the request in flight is cut, nothing more is sent. */
  signal: AbortSignal;
  /**
   * A failure no event is to blame for. Return ms to wait before sending the same chunk again,
   * or null to give up the batch.
   */
  onFailure(failure: Failure): number | null;
  /** The upstream took records `from`..`to`, answering `status`. */
  onAccepted?(from: number, to: number, status: number): void;
  /** The upstream refused record `index` on its own. */
  onRefused?(index: number, refusal: Refusal): void;
  /** A request is about to go out. */
  onRequest?(): void;
  /** Chunks sent at once (default 1: one request at a time, in record order); asked before each wave when a function. */
  concurrency?: number | (() => number);
  /** Most answered requests spent isolating after the first refusal; failures retried meanwhile do not count (default: no limit). */
  isolationBudget?: number;
}

export interface Delivery {
  /** done: every record accepted, refused or unresolved; stopped: `signal` aborted; gave-up: `onFailure` said so. */
  outcome: 'done' | 'stopped' | 'gave-up';
  /** Records the upstream took. */
  accepted: number;
  /** Indexes of records refused on their own, ascending. */
  refused: number[];
  /**
   * The part of `refused` refused before the upstream took anything in this call: proof of
   * nothing, since the upstream may have been refusing everything (or only just come back).
   * The forwarder sends these alone once more after something was taken.
   */
  unproven: number[];
  /** The last refusal's answer (when any). */
  refusal?: Refusal;
  /** Ranges refused as a group that the budget left unsplit (suspects), ascending. */
  unresolved: Range[];
  /** The failure `onFailure` gave up on. */
  failure?: Failure;
}

/** A failure (retry later) or a refusal (these events are to blame)? 401/403/404 blame the configuration. */
export function isRefusal(result: SendResult): result is Refusal {
  return result.kind === 'reject' && !isCredentialProblem(result.status);
}

/**
 * Send `records` (serialized events) in the given `ranges` (default: all of them as one chunk),
 * isolating refused events by halving. Resolves when every record is accepted, refused on its
 * own or left unresolved by the budget, or when stopped or given up. Never throws unless a hook does.
 */
export async function deliverBatch(records: readonly string[], hooks: DeliveryHooks, ranges: readonly Range[] = [[0, records.length]]): Promise<Delivery> {
  const concurrency = () => Math.max(1, (typeof hooks.concurrency === 'function' ? hooks.concurrency() : hooks.concurrency) ?? 1);
  let budget = hooks.isolationBudget ?? Infinity;
  let isolating = false;
  const work: Range[] = ranges.filter(([from, to]) => to > from);
  const result: Delivery = { outcome: 'done', accepted: 0, refused: [], unproven: [], unresolved: [] };
  const body = ([from, to]: Range) => `[${from === 0 && to === records.length ? records.join(',') : records.slice(from, to).join(',')}]`;

  while (work.length > 0) {
    if (hooks.signal.aborted) return { ...result, outcome: 'stopped' };
    if (isolating && budget <= 0) {
      result.unresolved.push(...work);
      break;
    }
    const wave = work.splice(0, Math.min(concurrency(), isolating ? budget : Infinity));
    const counted = isolating;
    const answers = await Promise.all(
      wave.map((range) => {
        hooks.onRequest?.();
        return hooks.send(body(range), hooks.signal);
      }),
    );
    // Put what is left of this wave back at the front, in record order: a failed chunk as it
    // was, a refused one as its halves. Answers that arrived count even after a stop.
    const again: Range[] = [];
    let failure: Failure | undefined;
    answers.forEach((answer, i) => {
      const [from, to] = wave[i]!;
      if (answer.kind === 'ok') {
        result.accepted += to - from;
        hooks.onAccepted?.(from, to, answer.status);
      } else if (isRefusal(answer)) {
        isolating = true;
        result.refusal = answer;
        if (to - from === 1) {
          result.refused.push(from);
          if (result.accepted === 0) result.unproven.push(from);
          hooks.onRefused?.(from, answer);
        } else {
          const mid = from + Math.ceil((to - from) / 2);
          again.push([from, mid], [mid, to]);
        }
      } else {
        failure ??= answer;
        again.push([from, to]);
      }
    });
    work.unshift(...again);
    // The budget pays for answers (taken or refused) only: a failure is the upstream's outage,
    // retried with back-off like any other. Counting failures let an outage that began while
    // a refused event was being isolated use up the budget, and the batch's good events went
    // to the spool's tail as suspects, behind newer ones.
    if (counted) budget -= answers.filter((a) => a.kind === 'ok' || isRefusal(a)).length;
    // A request cut by a stop is no failure of the upstream.
    if (failure && !hooks.signal.aborted) {
      const delay = hooks.onFailure(failure);
      if (delay === null) return { ...result, outcome: 'gave-up', failure };
      await hooks.sleep(delay, hooks.signal);
    }
  }
  result.refused.sort((a, b) => a - b);
  result.unproven.sort((a, b) => a - b);
  result.unresolved.sort((a, b) => a[0] - b[0]);
  return result;
}

/**
 * The delivery policy: every decision a round of delivery takes, as pure functions of the
 * policy's state, the round's outcome and the time (passed in). The Node forwarder (and the
 * Node client through it), the edge queue consumer and the importer's dispatcher call these and
 * only apply what they say: acknowledge, dead-letter (or report), hand back, wait.
 *
 * A round: read a batch, `planRound` and `arrangeRound` it, send it through the engine
 * (`deliver.ts`: requests, halving refused chunks), `judgeRound` the outcome (`recheck` first
 * when it asks), `afterRound` the state, apply the verdict.
 *
 * Invariants, in order:
 * 1. An event is condemned (dead-lettered, or reported as bad by the importer) only when the
 *    upstream refused it on its own in a round in which it took other events.
 * 2. A round in which the upstream took nothing is a blanket refusal: the upstream refusing
 *    everything (a broken deploy, a proxy, an API change), not bad events. Nothing is condemned
 *    or acknowledged; everything is kept and sent again after the back-off, as in an outage.
 * 3. A failure no event is to blame for (5xx, 408, 429, 3xx, timeout, network; 401/403/404,
 *    wrong credentials or URL) is waited out (`retry-timing.ts`), never condemned; each driver
 *    says how patient it is (`afterFailure`).
 * 4. Isolating refused events spends at most `budget` answered requests a round; what is left
 *    unsplit is set aside as suspects (the spool's tail, the queue, the importer's next round),
 *    so a batch full of refused events cannot hold up the line.
 * 5. Suspects go after the fresh events, so they cannot sink their neighbours again, and a run
 *    of bad events at the head cannot pass for a blanket refusal for long: each blanket round
 *    learns new suspects.
 * 6. Under a flood of refused events (a client posting events the upstream refuses) rounds get
 *    smaller and send up to `concurrency` requests at once, from chunks sized for the refusal
 *    rate (about 1/√rate, the classic group-testing size); otherwise one request at a time, in
 *    order.
 */
import type { Delivery, Failure, Range, Refusal } from './deliver.ts';
import { asRetry, relayRetryDelay } from './retry-timing.ts';
import { requestRanges, type RequestLimits } from './sizing.ts';
import { isCredentialProblem } from './upstream.ts';

export interface PolicyOptions {
  /** Most events a round reads (the request limit). */
  maxEvents: number;
  /** Requests at once during a flood. */
  concurrency: number;
  /** Most answered requests spent isolating refused events per round. */
  budget: number;
}

export interface PolicyState {
  /** Keys of suspected events (event_id, else the record), oldest first; bounded. */
  readonly suspects: ReadonlySet<string>;
  /** When events were refused on their own lately. */
  readonly refusedAt: readonly number[];
  /** Share of the events sent that were proven bad, as a moving average. */
  readonly rate: number;
}

export const INITIAL_STATE: PolicyState = { suspects: new Set(), refusedAt: [], rate: 0 };

/** Refused events within this window count towards a flood. */
const WINDOW_MS = 10_000;
/** This many refused events within the window is a flood. */
const FLOOD = 8;
/** Most suspects remembered; forgetting one only costs it its place at the back. */
const MAX_SUSPECTS = 10_000;

export interface RoundPlan {
  /** Most events to read for this round. */
  maxRecords: number;
  /** Events per chunk in the first requests (Infinity: the whole batch in one). */
  chunk: number;
  /** Requests at once. */
  concurrency: number;
}

export function flooded(state: PolicyState, now: number): boolean {
  const since = now - WINDOW_MS;
  return state.refusedAt.filter((t) => t >= since).length >= FLOOD;
}

/** Requests at once right now: several only during a flood (asked again before each wave). */
export function concurrencyAt(state: PolicyState, now: number, options: PolicyOptions): number {
  return flooded(state, now) ? options.concurrency : 1;
}

/** How big the next round is, and how it starts. */
export function planRound(state: PolicyState, now: number, options: PolicyOptions): RoundPlan {
  const { maxEvents, concurrency, budget } = options;
  if (!flooded(state, now)) return { maxRecords: maxEvents, chunk: Infinity, concurrency: 1 };
  const chunk = Math.max(1, Math.min(64, Math.floor(1 / Math.sqrt(Math.max(state.rate, 1e-4)))));
  return { maxRecords: Math.min(maxEvents, Math.max(concurrency, (budget * chunk) / 2)), chunk, concurrency };
}

export interface Round {
  /** The records in the order they go out: fresh first, suspects last. */
  records: readonly string[];
  /** `order[i]`: the index in the batch of `records[i]`. */
  order: number[];
  /** The first requests, as index ranges of `records`. */
  ranges: Range[];
}

/**
 * The order and first requests of a round over `batch`. Suspects go after the fresh events, one
 * per request during a flood. With `limits`, requests are also cut to the upstream's size limits
 * (the forwarder's spool reads are sized already; a queue batch is not).
 */
export function arrangeRound(state: PolicyState, batch: readonly string[], plan: RoundPlan, limits?: RequestLimits): Round {
  const fresh: number[] = [];
  const suspected: number[] = [];
  batch.forEach((record, i) => (isSuspect(state, record) ? suspected : fresh).push(i));
  const order = suspected.length === 0 ? batch.map((_, i) => i) : fresh.concat(suspected);
  const records = suspected.length === 0 ? batch : order.map((i) => batch[i]!);
  const sized = (from: number, to: number, size: number): Range[] =>
    chunks(from, to, size).flatMap(([a, b]) => (limits ? requestRanges(records, limits, a, b) : [[a, b] as const]));
  const ranges = [...sized(0, fresh.length, plan.chunk), ...sized(fresh.length, records.length, plan.concurrency > 1 ? 1 : Infinity)];
  return { records, order, ranges };
}

/** An event was refused on its own (counts towards a flood at once, mid-round too). */
export function noteRefusal(state: PolicyState, now: number): PolicyState {
  const refusedAt = [...state.refusedAt, now];
  while (refusedAt.length > 4 * FLOOD || refusedAt[0]! < now - WINDOW_MS) refusedAt.shift();
  return { ...state, refusedAt };
}

export type Verdict =
  /** Everything taken: acknowledge the batch. */
  | { kind: 'delivered' }
  /**
   * Nothing taken: the upstream refuses everything. Keep every event, acknowledge nothing, wait
   * like an outage (`afterFailure` with `refusal`). `suspects`: the events refused on their own.
   */
  | { kind: 'refused-all'; suspects: number[]; refusal: Refusal }
  /** Events refused before anything was taken: send each alone once more, then judge again with it. */
  | { kind: 'recheck'; indexes: number[] }
  /**
   * Condemn `bad` (proven: refused on their own after others were taken), set `unsplit` aside
   * as suspects, acknowledge the rest.
   */
  | { kind: 'settled'; bad: number[]; unsplit: number[]; refusal?: Refusal }
  /**
   * Cut short: stopped, or the driver's patience ran out on `failure`. The events taken stay
   * taken; `bad` are proven and may be condemned; everything else is kept.
   */
  | { kind: 'interrupted'; bad: number[]; failure?: Failure };

/** What the second look at events refused before anything was taken found. */
export interface Recheck {
  /** The rechecked indexes (a driver short of requests may recheck only some). */
  indexes: readonly number[];
  /** The engine's outcome for them, one range each (indexes of the same `records`). */
  delivery: Delivery;
}

/** The verdict on a round (indexes are of the round's `records`). */
export function judgeRound(first: Delivery, recheck?: Recheck): Verdict {
  const proven = first.refused.filter((i) => !first.unproven.includes(i));
  if (first.outcome !== 'done') return interrupted(proven, first);
  if (first.refused.length === 0 && first.unresolved.length === 0) return { kind: 'delivered' };
  if (first.accepted === 0) return { kind: 'refused-all', suspects: first.refused, refusal: first.refusal! };
  if (first.unproven.length > 0 && !recheck) return { kind: 'recheck', indexes: first.unproven };
  const unsplit = first.unresolved.flatMap(([from, to]) => Array.from({ length: to - from }, (_, k) => from + k));
  if (recheck) {
    if (recheck.delivery.outcome !== 'done') return interrupted(proven, recheck.delivery);
    proven.push(...recheck.delivery.refused);
    const checked = new Set(recheck.indexes);
    unsplit.push(...first.unproven.filter((i) => !checked.has(i)));
  }
  const verdict: Verdict = { kind: 'settled', bad: proven.sort(byNumber), unsplit: unsplit.sort(byNumber) };
  if (first.refusal) verdict.refusal = first.refusal;
  return verdict;
}

function interrupted(bad: number[], delivery: Delivery): Verdict {
  return delivery.failure ? { kind: 'interrupted', bad, failure: delivery.failure } : { kind: 'interrupted', bad };
}

/** The state after a round of `records` judged `verdict`, at `now`. */
export function afterRound(state: PolicyState, records: readonly string[], verdict: Verdict): PolicyState {
  switch (verdict.kind) {
    case 'delivered':
      return observe(forget(state, records), 0, records.length);
    case 'refused-all':
      // Only the events refused on their own become suspects: the unsplit rest goes first
      // next round, so each round learns something new.
      return markSuspects(state, verdict.suspects.map((i) => records[i]!));
    case 'settled': {
      const next = forget(state, verdict.bad.map((i) => records[i]!));
      return markSuspects(observe(next, verdict.bad.length, records.length), verdict.unsplit.map((i) => records[i]!));
    }
    case 'interrupted':
      return forget(state, verdict.bad.map((i) => records[i]!));
    case 'recheck':
      return state;
  }
}

/** How patient a driver is with failures no event is to blame for. */
export interface Patience {
  /** Give up after this many failures in a row (default: never). */
  maxRetries?: number;
  /** Give up at once on 401/403/404: wrong credentials or URL (default: wait them out, logged). */
  credentialsFatal?: boolean;
  /** The wait before retry `attempt` (default `relayRetryDelay`). */
  retryDelay?: (result: ReturnType<typeof asRetry>, attempt: number) => number;
}

export type AfterFailure = { wait: number } | { giveUp: string };

/**
 * A failure (or a blanket refusal) that is number `attempt` in a row: wait, or give up. A blanket
 * refusal is an outage here, whatever its status.
 */
export function afterFailure(failure: Failure, attempt: number, patience: Patience = {}): AfterFailure {
  if (patience.credentialsFatal && failure.kind === 'reject' && isCredentialProblem(failure.status)) {
    return { giveUp: `${failure.reason} — check USERMAVEN_API_KEY, USERMAVEN_SERVER_TOKEN and USERMAVEN_URL` };
  }
  if (patience.maxRetries !== undefined && attempt > patience.maxRetries) {
    return { giveUp: `${failure.reason} (gave up after ${patience.maxRetries} retries)` };
  }
  return { wait: (patience.retryDelay ?? relayRetryDelay)(asRetry(failure), attempt) };
}

/** The reason of a blanket refusal, for logs and status. */
export function blanketReason(refusal: Refusal, events: number): string {
  return `upstream refused every event of the batch (${events}): ${refusal.reason}`;
}

export function isSuspect(state: PolicyState, record: string): boolean {
  return state.suspects.size > 0 && state.suspects.has(keyOf(record));
}

/** `records` become suspects (the latest at the back of the memory). */
export function markSuspects(state: PolicyState, records: readonly string[]): PolicyState {
  if (records.length === 0) return state;
  const suspects = new Set(state.suspects);
  for (const record of records) {
    const key = keyOf(record);
    suspects.delete(key);
    suspects.add(key);
  }
  for (const key of suspects) {
    if (suspects.size <= MAX_SUSPECTS) break;
    suspects.delete(key);
  }
  return { ...state, suspects };
}

function forget(state: PolicyState, records: readonly string[]): PolicyState {
  if (state.suspects.size === 0 || !records.some((r) => state.suspects.has(keyOf(r)))) return state;
  const suspects = new Set(state.suspects);
  for (const record of records) suspects.delete(keyOf(record));
  return { ...state, suspects };
}

/** A round ended with `refused` of `sent` events proven bad. */
function observe(state: PolicyState, refused: number, sent: number): PolicyState {
  if (sent === 0 || (state.rate === 0 && refused === 0)) return state;
  return { ...state, rate: state.rate / 2 + refused / sent / 2 };
}

/** Ranges of `size` records from `from` to `to` (one range when `size` is Infinity). */
export function chunks(from: number, to: number, size: number): [number, number][] {
  if (to <= from) return [];
  if (size === Infinity || to - from <= size) return [[from, to]];
  const out: [number, number][] = [];
  for (let i = from; i < to; i += size) out.push([i, Math.min(to, i + size)]);
  return out;
}

function keyOf(record: string): string {
  return eventIdOf(record) ?? (record.length <= 200 ? record : `${record.length}:${record.slice(0, 100)}:${record.slice(-100)}`);
}

/** The event_id of a serialized event, for logs and suspects. */
export function eventIdOf(record: string): string | undefined {
  return /"event_id":"([^"]{1,100})"/.exec(record)?.[1];
}

const byNumber = (a: number, b: number) => a - b;

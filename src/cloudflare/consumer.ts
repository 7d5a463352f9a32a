/**
 * The queue side: a batch of up to 100 queued events goes to Usermaven in bulk, as one round of
 * the delivery policy (src/delivery/policy.ts) on the delivery engine (src/delivery/deliver.ts),
 * the round the Node relay's forwarder runs. This file only applies the verdict, message by
 * message:
 *
 * - acked only after the upstream answered 2xx for a request holding it;
 * - refused for good (a 4xx other than 401/403/404, isolated by halving, in a round in which the
 *   upstream took other events): sent to `DEAD_LETTERS` with the reason, then acked;
 * - refused while the upstream took nothing (it refuses everything: a broken deploy, a proxy),
 *   5xx, 408, 429, timeout, bad credentials: `retry()` with the policy's delay, `Retry-After`
 *   included, so the queue brings it back later instead of the invocation sleeping;
 * - out of time, or left unsplit by the isolation budget: handed back at once.
 *
 * The queue remembers nothing of a message but its `attempts`: a message that came back before
 * counts as a suspect and goes after the fresh ones.
 *
 * Per-message `ack`/`retry` only: `retryAll()` or a throw would also re-deliver messages
 * already acked under Miniflare, and costs a duplicate send for each in production.
 * A message that has used up the queue's retries (`max_retries`) is sent to the queue again
 * as a new message instead, so a long outage ends in delivery, not in loss; the queue's
 * retention then bounds how long an event can wait.
 */
import { deadLetterOf } from '../delivery/dead-letter.ts';
import { deliverBatch, type DeliveryHooks, type Failure, type Refusal } from '../delivery/deliver.ts';
import { silentLogger, type Logger } from '../delivery/log.ts';
import { afterFailure, arrangeRound, blanketReason, eventIdOf, INITIAL_STATE, judgeRound, markSuspects, planRound, type Patience } from '../delivery/policy.ts';
import { relayRetryDelay } from '../delivery/retry-timing.ts';
import { UPSTREAM_LIMITS } from '../delivery/sizing.ts';
import type { SendResult, Upstream } from '../delivery/upstream.ts';
import type { MessageBatch, QueueMessage, QueueProducer } from './bindings.ts';

/** Longest delay the platform takes for `retry`/`send` (Queues limits: 12 hours). */
const MAX_DELAY_SECONDS = 43_200;

export interface ConsumerOptions {
  upstream: Upstream;
  /** The `DEAD_LETTERS` producer; without it refused events are retried (and logged). */
  deadLetters?: QueueProducer | undefined;
  /** The `EVENTS` producer, for messages that used up their retries. */
  events?: QueueProducer | undefined;
  logger?: Logger;
  /**
   * Stop after this long: the request in flight is cut and what is left is handed back at once
   * (default 30 s), so one invocation never runs into the platform's limits.
   */
  budgetMs?: number;
  /** Stops the invocation early, like the budget running out (tests). */
  signal?: AbortSignal;
  /** The consumer's `max_retries` (default 3, the platform's default). */
  maxRetries?: number;
  /** Most events / bytes per upstream request (defaults: the forwarder's). */
  maxEvents?: number;
  maxBytes?: number;
  /**
   * Most requests spent isolating refused events in one invocation (default 40: a free plan
   * Worker may make 50 subrequests per invocation). Suspects left unsplit come back later.
   */
  isolationBudget?: number;
  /** Delay before retry number `attempt` (default: `Retry-After`, else the relay's back-off). */
  retryDelay?: (result: Extract<SendResult, { kind: 'retry' }>, attempt: number) => number;
}

export interface ConsumeResult {
  delivered: number;
  deadLettered: number;
  retried: number;
  requeued: number;
  upstreamRequests: number;
}

/**
 * Settle every message of `batch`; never throws, never uses `ackAll`/`retryAll`.
 *
 * @example
 *   export default {
 *     async queue(batch, env) {
 *       await consumeBatch(batch, { upstream: createUpstream({ apiKey, serverToken }), deadLetters: env.DEAD_LETTERS, events: env.EVENTS });
 *     },
 *   };
 */
export async function consumeBatch(batch: MessageBatch, options: ConsumerOptions): Promise<ConsumeResult> {
  const log = options.logger ?? silentLogger;
  const maxRetries = options.maxRetries ?? 3;
  const retryDelay = options.retryDelay ?? relayRetryDelay;
  const result: ConsumeResult = { delivered: 0, deadLettered: 0, retried: 0, requeued: 0, upstreamRequests: 0 };
  const unsettled = new Set<QueueMessage>(batch.messages);
  // Miniflare has been seen handing a consumer an empty batch; nothing to do then.
  if (unsettled.size === 0) return result;

  const ack = (m: QueueMessage) => {
    unsettled.delete(m);
    m.ack();
  };
  /** Hand a message back to the queue for later: retry, or a fresh copy once retries run out. */
  const later = async (m: QueueMessage, delaySeconds: number) => {
    unsettled.delete(m);
    const delay = Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(delaySeconds)));
    // `attempts` counts deliveries: with max_retries = N the last one is N + 1. Retrying it
    // would end the message (deleted, or moved to the consumer's dead_letter_queue).
    if (m.attempts > maxRetries && options.events && typeof m.body === 'string') {
      try {
        await options.events.send(m.body, { contentType: 'text', delaySeconds: delay });
        m.ack();
        result.requeued++;
        return;
      } catch (error) {
        log.error('queue send failed', { reason: errorMessage(error), what: 'requeue after the last retry' });
      }
    }
    m.retry({ delaySeconds: delay });
    result.retried++;
  };
  const deadLetter = async (m: QueueMessage, status: number, reason: string) => {
    if (!options.deadLetters) {
      log.error('dead letter not kept: no DEAD_LETTERS binding; retrying the event', { status, reason });
      return later(m, 60);
    }
    try {
      await options.deadLetters.send(deadLetterOf(m.body, reason, Date.now(), status), { contentType: 'json' });
    } catch (error) {
      log.error('queue send failed', { reason: errorMessage(error), what: 'dead letter' });
      return later(m, 60);
    }
    ack(m);
    result.deadLettered++;
    log.warn('dead letter', { status, reason, event_id: typeof m.body === 'string' ? eventIdOf(m.body) : undefined });
  };

  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) stop.abort();
  const timer = setTimeout(() => stop.abort(), options.budgetMs ?? 30_000);
  const patience: Patience = { retryDelay };
  /** Hand `left` back with the wait the policy gives each for its attempt count. */
  const backOff = async (left: QueueMessage[], failure: Failure) => {
    const delays = left.map((m) => waitOf(afterFailure(failure, m.attempts, patience)) / 1000);
    log.warn('upstream failing', { host: options.upstream.host, status: failure.status, reason: failure.reason, left: left.length, delaySeconds: Math.ceil(Math.max(0, ...delays)) });
    for (const [i, m] of left.entries()) await later(m, delays[i]!);
  };
  try {
    const records: string[] = [];
    const messages: QueueMessage[] = [];
    const strays: QueueMessage[] = [];
    for (const m of batch.messages) {
      if (typeof m.body === 'string') {
        records.push(m.body);
        messages.push(m);
      } else strays.push(m);
    }
    if (strays.length > 0) {
      // The relay queues text only. Anything else is most likely a dead letter (an object),
      // delivered because this Worker was also made a consumer of umbeacon-dead-letters:
      // sending it there again would loop. Held back for the longest delay, never dropped.
      log.error('not an event record; is this Worker consuming the dead-letter queue too?', { queue: batch.queue, messages: strays.length });
      for (const m of strays) await later(m, MAX_DELAY_SECONDS);
    }
    const budget = options.isolationBudget ?? 40;
    const limits = { maxEvents: options.maxEvents ?? UPSTREAM_LIMITS.maxEvents, maxBytes: options.maxBytes ?? UPSTREAM_LIMITS.maxBytes };
    const policy = { maxEvents: limits.maxEvents, concurrency: 1, budget };
    const state = markSuspects(INITIAL_STATE, records.filter((_, i) => messages[i]!.attempts > 1));
    const round = arrangeRound(state, records, planRound(state, Date.now(), policy), limits);
    const inRound = round.order.map((i) => messages[i]!);
    const reasons = new Map<number, Refusal>();
    const hooks: DeliveryHooks = {
      send: (body, signal) => options.upstream.send(body, signal),
      // Never waits: a failure hands the messages back to the queue with the delay instead.
      sleep: async () => {},
      signal: stop.signal,
      onFailure: () => null,
      onAccepted: (from, to) => {
        for (const m of inRound.slice(from, to)) ack(m);
        result.delivered += to - from;
      },
      onRefused: (index, refusal) => void reasons.set(index, refusal),
      onRequest: () => void result.upstreamRequests++,
      isolationBudget: budget,
    };
    const first = await deliverBatch(round.records, hooks, round.ranges);
    let verdict = judgeRound(first);
    if (verdict.kind === 'recheck') {
      // Once more each, alone, with what is left of the budget (subrequests are limited); the
      // rest come back later.
      const indexes = verdict.indexes.slice(0, Math.max(0, budget + 1 - result.upstreamRequests));
      verdict = judgeRound(first, { indexes, delivery: await deliverBatch(round.records, hooks, indexes.map((i) => [i, i + 1])) });
    }
    if (verdict.kind === 'settled' || verdict.kind === 'interrupted') {
      for (const i of verdict.bad) await deadLetter(inRound[i]!, reasons.get(i)!.status, reasons.get(i)!.reason);
    }
    if (verdict.kind === 'refused-all') {
      // Nothing taken: the upstream refuses everything, not these events. Kept, like an outage.
      await backOff([...unsettled], { ...verdict.refusal, reason: blanketReason(verdict.refusal, round.records.length) });
    } else if (verdict.kind === 'interrupted' && verdict.failure) await backOff([...unsettled], verdict.failure);
    else if (verdict.kind === 'interrupted') log.warn('consumer out of time; handing the rest back', { left: unsettled.size });
  } catch (error) {
    log.error('consumer failed', { reason: errorMessage(error) });
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
  // Out of time, suspects the isolation budget left unsplit, or an unexpected error: whatever
  // is still unsettled comes back soon.
  for (const m of [...unsettled]) await later(m, 0);
  return result;
}

function waitOf(next: ReturnType<typeof afterFailure>): number {
  return 'wait' in next ? next.wait : 0;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

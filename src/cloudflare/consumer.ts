/**
 * The queue side: a batch of up to 100 queued events goes to Usermaven in bulk, through the
 * delivery engine's one send-and-isolate routine (src/delivery/deliver.ts) and the relay's
 * retry policy, as the Node relay's forwarder does. Each message is settled on its own:
 *
 * - acked only after the upstream answered 2xx for a request holding it;
 * - refused for good (a 4xx other than 401/403/404, isolated by halving): sent to
 *   `DEAD_LETTERS` with the reason, then acked;
 * - anything else (5xx, 408, 429, timeout, bad credentials, out of time): `retry()` with the
 *   policy's delay, `Retry-After` included, so the queue brings it back later instead of the
 *   invocation sleeping.
 *
 * Per-message `ack`/`retry` only: `retryAll()` or a throw would also re-deliver messages
 * already acked under Miniflare, and costs a duplicate send for each in production.
 * A message that has used up the queue's retries (`max_retries`) is sent to the queue again
 * as a new message instead, so a long outage ends in delivery, not in loss; the queue's
 * retention then bounds how long an event can wait.
 */
import { LIMITS } from '../shared/event.ts';
import { deliverBatch, type Failure, type Range, type Refusal } from '../delivery/deliver.ts';
import { asRetry, relayRetryDelay } from '../delivery/forwarder.ts';
import { silentLogger, type Logger } from '../delivery/log.ts';
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
      await options.deadLetters.send({ record: m.body, status, reason }, { contentType: 'json' });
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
    const refused: [number, Refusal][] = [];
    let failure: Failure | undefined;
    const delivery = await deliverBatch(
      records,
      {
        send: (body, signal) => options.upstream.send(body, signal),
        // Never waits: a failure hands the messages back to the queue with the delay instead.
        sleep: async () => {},
        signal: stop.signal,
        onFailure: (f) => ((failure = f), null),
        onAccepted: (from, to) => {
          for (const m of messages.slice(from, to)) ack(m);
          result.delivered += to - from;
        },
        onRefused: (index, refusal) => void refused.push([index, refusal]),
        onRequest: () => void result.upstreamRequests++,
        isolationBudget: options.isolationBudget ?? 40,
      },
      rangesOf(records, options.maxEvents ?? LIMITS.upstreamEvents, options.maxBytes ?? LIMITS.upstreamBytes),
    );
    for (const [index, refusal] of refused) await deadLetter(messages[index]!, refusal.status, refusal.reason);
    if (failure) {
      // An outage (or credentials the upstream refuses): no event is to blame, so all that is
      // left waits the policy's delay, each by its own attempt count.
      const retry = asRetry(failure);
      const left = [...unsettled];
      const delays = left.map((m) => retryDelay(retry, m.attempts) / 1000);
      log.warn('upstream failing', { host: options.upstream.host, status: failure.status, reason: failure.reason, left: left.length, delaySeconds: Math.ceil(Math.max(...delays)) });
      for (const [i, m] of left.entries()) await later(m, delays[i]!);
    } else if (delivery.outcome === 'stopped') log.warn('consumer out of time; handing the rest back', { left: unsettled.size });
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

/** Index ranges of `records`, cut so each upstream request stays within its event and byte limits. */
function rangesOf(records: readonly string[], maxEvents: number, maxBytes: number): Range[] {
  const out: Range[] = [];
  const encoder = new TextEncoder();
  let from = 0;
  let bytes = 2;
  records.forEach((record, i) => {
    const size = encoder.encode(record).length + 1;
    if (i > from && (i - from >= maxEvents || bytes + size > maxBytes)) {
      out.push([from, i]);
      from = i;
      bytes = 2;
    }
    bytes += size;
  });
  if (records.length > from) out.push([from, records.length]);
  return out;
}

function eventIdOf(record: string): string | undefined {
  return /"event_id":"([^"]{1,100})"/.exec(record)?.[1];
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The queue side: a batch of up to 100 queued events goes to Usermaven in bulk, through the
 * same upstream policy as the Node relay's forwarder. Each message is settled on its own:
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
import { silentLogger, type Logger } from '../delivery/log.ts';
import { retryDelayMs, type SendResult, type Upstream } from '../delivery/upstream.ts';
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
  now?: () => number;
  /** Start no upstream request after this long; what is left is retried (default 30 s). */
  budgetMs?: number;
  /** The consumer's `max_retries` (default 3, the platform's default). */
  maxRetries?: number;
  /** Most events / bytes per upstream request (defaults: the forwarder's). */
  maxEvents?: number;
  maxBytes?: number;
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
  const now = options.now ?? Date.now;
  const deadline = now() + (options.budgetMs ?? 30_000);
  const maxRetries = options.maxRetries ?? 3;
  const retryDelay = options.retryDelay ?? ((result, attempt) => retryDelayMs(result, Math.min(attempt, 6)));
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

  try {
    const pending: QueueMessage[][] = [];
    for (const m of batch.messages) {
      if (typeof m.body === 'string') continue;
      await deadLetter(m, 0, 'the queued message is not an event record (a JSON text)');
    }
    pending.push(...chunksOf(batch.messages.filter((m) => typeof m.body === 'string'), options.maxEvents ?? LIMITS.upstreamEvents, options.maxBytes ?? LIMITS.upstreamBytes));

    while (pending.length > 0) {
      if (now() >= deadline) {
        log.warn('consumer out of time; retrying the rest', { left: unsettled.size });
        break;
      }
      const chunk = pending[0]!;
      const sent = await options.upstream.send(`[${chunk.map((m) => m.body as string).join(',')}]`);
      result.upstreamRequests++;
      if (sent.kind === 'ok') {
        for (const m of chunk) ack(m);
        result.delivered += chunk.length;
        pending.shift();
        continue;
      }
      if (sent.kind === 'reject' && !isCredentialProblem(sent.status)) {
        pending.shift();
        if (chunk.length === 1) await deadLetter(chunk[0]!, sent.status, sent.reason);
        else {
          const mid = Math.ceil(chunk.length / 2);
          pending.unshift(chunk.slice(0, mid), chunk.slice(mid));
        }
        continue;
      }
      // An outage (or credentials the upstream refuses): no event is to blame, so all that is
      // left waits the policy's delay, each by its own attempt count.
      const retry: Extract<SendResult, { kind: 'retry' }> = sent.kind === 'retry' ? sent : { kind: 'retry', status: sent.status, reason: sent.reason };
      const left = [...unsettled];
      const delays = left.map((m) => retryDelay(retry, m.attempts) / 1000);
      log.warn('upstream failing', { host: options.upstream.host, status: sent.status, reason: sent.reason, left: left.length, delaySeconds: Math.ceil(Math.max(...delays)) });
      for (const [i, m] of left.entries()) await later(m, delays[i]!);
      break;
    }
  } catch (error) {
    log.error('consumer failed', { reason: errorMessage(error) });
  }
  // Out of time, or an unexpected error: whatever is still unsettled comes back soon.
  for (const m of [...unsettled]) await later(m, 0);
  return result;
}

/** Messages in order, cut so each upstream request stays within its event and byte limits. */
function chunksOf(messages: QueueMessage[], maxEvents: number, maxBytes: number): QueueMessage[][] {
  const out: QueueMessage[][] = [];
  let current: QueueMessage[] = [];
  let bytes = 2;
  const encoder = new TextEncoder();
  for (const m of messages) {
    const size = encoder.encode(m.body as string).length + 1;
    if (current.length > 0 && (current.length >= maxEvents || bytes + size > maxBytes)) {
      out.push(current);
      current = [];
      bytes = 2;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** Wrong key/token or wrong URL: no event is to blame, so never dead-letter for these. */
function isCredentialProblem(status: number): boolean {
  return status === 401 || status === 403 || status === 404;
}

function eventIdOf(record: string): string | undefined {
  return /"event_id":"([^"]{1,100})"/.exec(record)?.[1];
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

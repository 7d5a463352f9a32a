/**
 * The fetch side's storage: accepted events go to the `EVENTS` queue. Cloudflare Queues'
 * `send`/`sendBatch` resolve once the message is written durably (Queues docs, "How Queues
 * works"), which is the promise the relay makes before it answers 2xx.
 *
 * A batch send is refused whole above 100 messages or 256 KB (Queues limits), so records go
 * in chunks below both. A send that fails, or does not settle within `sendTimeoutMs`, becomes
 * a 503 with a reason: never a 2xx (the events may not be stored), never a 500 (the client
 * should retry). Chunks already sent when a later one fails stay queued; the client's retry
 * sends them again under the same `event_id`, which the upstream de-duplicates on.
 *
 * It has no `stats`: what the queue holds is the platform's to report (dashboard,
 * `wrangler queues info`); an isolate only knows what it sent.
 */
import { RelayError } from '../relay/errors.ts';
import type { Logger } from '../delivery/log.ts';
import type { Spool } from '../delivery/spool.ts';
import type { QueueProducer } from './bindings.ts';

/** Queues limits per `sendBatch` call (Cloudflare Queues, "Limits"). */
export const QUEUE_LIMITS = {
  batchMessages: 100,
  batchBytes: 256 * 1024,
  /** Room per message for what the platform adds around a body (metadata, encoding). */
  messageOverheadBytes: 100,
} as const;

export interface QueueSpoolOptions {
  /** Give up on a send that has not settled after this long (default 10 s). */
  sendTimeoutMs?: number;
  logger: Logger;
}

export function createQueueSpool(queue: QueueProducer, options: QueueSpoolOptions): Pick<Spool, 'append'> {
  const timeoutMs = options.sendTimeoutMs ?? 10_000;
  return {
    async append(records) {
      for (const chunk of chunks(records)) {
        try {
          await withTimeout(queue.sendBatch(chunk.map((body) => ({ body, contentType: 'text' as const }))), timeoutMs);
        } catch (error) {
          const timedOut = error instanceof SendTimeout;
          options.logger.error('queue send failed', { reason: timedOut ? `no answer within ${timeoutMs} ms` : errorMessage(error), events: records.length });
          throw new RelayError(
            503,
            'queue_unavailable',
            timedOut
              ? `the event queue did not confirm the events within ${timeoutMs} ms; they may not be stored, retry later`
              : 'the event queue refused the events; they are not stored, retry later',
            { 'retry-after': '5' },
          );
        }
      }
    },
  };
}

/** Split records into `sendBatch` calls within the message-count and byte limits. */
export function chunks(records: readonly string[]): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  const encoder = new TextEncoder();
  for (const record of records) {
    const size = encoder.encode(record).length + QUEUE_LIMITS.messageOverheadBytes;
    if (current.length > 0 && (current.length === QUEUE_LIMITS.batchMessages || bytes + size > QUEUE_LIMITS.batchBytes)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

class SendTimeout extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SendTimeout()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

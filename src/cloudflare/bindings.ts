/**
 * The parts of the Workers runtime API this adapter uses, typed here instead of pulling in
 * `@cloudflare/workers-types` (whose globals clash with the DOM and Node types the rest of the
 * project compiles against). Shapes follow the Queues JavaScript API reference.
 */

/** `env.EVENTS` / `env.DEAD_LETTERS`: a queue producer binding. */
export interface QueueProducer {
  send(body: unknown, options?: { contentType?: QueueContentType; delaySeconds?: number }): Promise<void>;
  sendBatch(messages: Iterable<{ body: unknown; contentType?: QueueContentType; delaySeconds?: number }>, options?: { delaySeconds?: number }): Promise<void>;
}
export type QueueContentType = 'text' | 'bytes' | 'json' | 'v8';

export interface QueueMessage {
  readonly id: string;
  readonly timestamp: Date;
  readonly body: unknown;
  /** 1 on first delivery. */
  readonly attempts: number;
  ack(): void;
  retry(options?: { delaySeconds?: number }): void;
}

export interface MessageBatch {
  readonly queue: string;
  readonly messages: readonly QueueMessage[];
  ackAll(): void;
  retryAll(options?: { delaySeconds?: number }): void;
}

export interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

/** Bindings of the Worker; names are fixed so a wrangler config from the docs works as is. */
export interface Env {
  USERMAVEN_API_KEY?: string;
  USERMAVEN_URL?: string;
  /** Secret (`wrangler secret put`); only the consumer needs it. */
  USERMAVEN_SERVER_TOKEN?: string;
  EVENTS?: QueueProducer;
  DEAD_LETTERS?: QueueProducer;
  [setting: string]: unknown;
}

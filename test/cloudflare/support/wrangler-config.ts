/**
 * The wrangler configurations in examples/cloudflare/, read as Miniflare worker options, so the
 * tests run the Worker with exactly the bindings the documentation tells people to deploy.
 * (The files are JSONC; their comments stand on lines of their own.)
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { WorkerOptions } from 'miniflare';

export interface WranglerConfig {
  name: string;
  main: string;
  compatibility_date: string;
  compatibility_flags?: string[];
  vars?: Record<string, string>;
  queues?: {
    producers?: { binding: string; queue: string }[];
    consumers?: { queue: string; max_batch_size?: number; max_batch_timeout?: number; max_retries?: number; dead_letter_queue?: string }[];
  };
}

export const EXAMPLES = resolve(import.meta.dirname, '../../../examples/cloudflare');

export function readWranglerConfig(file: string): WranglerConfig & { mainPath: string } {
  const path = resolve(EXAMPLES, file);
  const text = readFileSync(path, 'utf8').replace(/^\s*\/\/.*$/gm, '');
  const config = JSON.parse(text) as WranglerConfig;
  return { ...config, mainPath: resolve(dirname(path), config.main) };
}

export interface ConsumerOverrides {
  /** Seconds; the examples wait 5 s to fill a batch, tests do not. */
  maxBatchTimeout?: number;
  maxBatchSize?: number;
  maxRetries?: number;
}

/** The bindings of `config` as Miniflare options (vars, queue producers and consumers). */
export function bindingsOf(config: WranglerConfig, consumer: ConsumerOverrides = {}): Pick<WorkerOptions, 'bindings' | 'queueProducers' | 'queueConsumers'> {
  const producers = Object.fromEntries((config.queues?.producers ?? []).map((p) => [p.binding, { queueName: p.queue }]));
  const consumers = Object.fromEntries(
    (config.queues?.consumers ?? []).map((c) => [
      c.queue,
      {
        maxBatchSize: consumer.maxBatchSize ?? c.max_batch_size,
        maxBatchTimeout: consumer.maxBatchTimeout ?? c.max_batch_timeout,
        maxRetries: consumer.maxRetries ?? c.max_retries,
        ...(c.dead_letter_queue ? { deadLetterQueue: c.dead_letter_queue } : {}),
      },
    ]),
  );
  return { bindings: { ...config.vars }, queueProducers: producers, queueConsumers: consumers };
}

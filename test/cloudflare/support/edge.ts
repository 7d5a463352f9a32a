/**
 * The built Worker (dist/cloudflare/worker.js) under Miniflare, which runs it in the real
 * workerd with in-memory Queues. One helper for every edge test and bench: it wires the queue
 * bindings as the wrangler config in examples/cloudflare/ does, points the Worker at a fake
 * upstream, and keeps what the runtime printed.
 *
 * - `split: true` runs the documented split deployment: an edge Worker (no token, no consumer)
 *   and a consumer Worker (token, consumes umbeacon-events), from the same script.
 * - `queueFault` swaps the EVENTS producer of the fetch side for one whose sends throw or never
 *   settle (a wrapped binding), to see what the relay answers then.
 * - Dead letters are taken off umbeacon-dead-letters by a small sink Worker that prints them:
 *   under Miniflare a queue without a consumer drops what it is sent.
 */
import type { DeadLetter as SharedDeadLetter } from '../../../src/delivery/dead-letter.ts';
import { Log, LogLevel, Miniflare, type WorkerOptions } from 'miniflare';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildIfStale } from '../../support/cli-process.mjs';
import { startFakeUpstream, type FakeUpstream } from '../../support/fake-upstream.ts';
import { bindingsOf, readWranglerConfig, type ConsumerOverrides } from './wrangler-config.ts';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const WORKER = resolve(ROOT, 'dist/cloudflare/worker.js');
export const COMPATIBILITY_DATE = '2025-09-01';

export interface EdgeOptions {
  split?: boolean;
  /** The consumer's secret (default: the fake upstream's token; '' = none). */
  serverToken?: string;
  /** Vars over those of the example config (both Workers of a split deployment). */
  vars?: Record<string, string>;
  /** Consumer settings, as in the wrangler config (seconds for the timeout). */
  consumer?: ConsumerOverrides;
  queueFault?: 'throw' | 'hang';
  /**
   * The first consumer invocation runs the real consumer, then dies before any of its acks
   * count (as an isolate evicted mid-batch does), so the queue delivers the batch again.
   */
  crashOnce?: boolean;
  upstream?: FakeUpstream;
}

/** A message of DEAD_LETTERS (src/delivery/dead-letter.ts); the event as a record of the relay's. */
export type DeadLetter = Omit<SharedDeadLetter, 'event'> & { event: Record<string, unknown> };

export interface Edge {
  /** The relay's origin over real HTTP, e.g. `http://127.0.0.1:41234`. */
  url: string;
  mf: Miniflare;
  /** Worker names: the one serving requests, the one consuming (the same one unless split). */
  names: { edge: string; consumer: string };
  upstream: FakeUpstream;
  serverToken: string;
  /** Everything the runtime printed (stdout and stderr), line by line. */
  output(): string[];
  /** The Worker's JSON log lines. */
  lines(): Record<string, unknown>[];
  /** The consumer's `batch` lines: one per invocation, with what it did. */
  batches(): Record<string, unknown>[];
  deadLetters(): DeadLetter[];
  /** Resolves once `predicate()` holds; on timeout throws with what the runtime printed. */
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const SINK = `export default {
  async queue(batch) {
    for (const m of batch.messages) { console.log('DEAD_LETTER ' + JSON.stringify(m.body)); m.ack(); }
  },
};`;

// A wrapped binding standing in for env.EVENTS; it may not set a compatibility date.
const FAULTY_QUEUE = `export default function (env) {
  const fail = () => env.FAULT === 'hang' ? new Promise(() => {}) : Promise.reject(new Error('queue unavailable (injected)'));
  return { send: fail, sendBatch: fail };
}`;

// The Worker behind a wrapper whose first queue invocation settles nothing and then throws.
const CRASH_ONCE = `import worker from './worker.js';
let crashed = false;
export default {
  fetch: worker.fetch,
  async queue(batch, env, ctx) {
    if (crashed) return worker.queue(batch, env, ctx);
    crashed = true;
    const mute = (m) => ({ id: m.id, timestamp: m.timestamp, body: m.body, attempts: m.attempts, ack() {}, retry() {} });
    await worker.queue({ queue: batch.queue, messages: batch.messages.map(mute), ackAll() {}, retryAll() {} }, env, ctx);
    console.log('CRASH after the upstream answered');
    throw new Error('consumer crashed (injected)');
  },
};`;

export async function startEdge(options: EdgeOptions = {}): Promise<Edge> {
  buildIfStale(['dist/cloudflare/worker.js']);
  const upstream = options.upstream ?? (await startFakeUpstream());
  const lines: string[] = [];
  let partial = '';
  const onData = (chunk: Buffer | string) => {
    const text = partial + chunk.toString('utf8');
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.filter((l) => l.length > 0));
  };
  const consumer = { maxBatchTimeout: 0.2, ...options.consumer };
  const base = { modules: true, scriptPath: WORKER, compatibilityDate: COMPATIBILITY_DATE } as const;
  const consumerScript: Partial<WorkerOptions> = {
    compatibilityDate: COMPATIBILITY_DATE,
    modules: [
      { type: 'ESModule', path: resolve(ROOT, 'dist/cloudflare/crash-once.mjs'), contents: CRASH_ONCE },
      { type: 'ESModule', path: WORKER, contents: readFileSync(WORKER, 'utf8') },
    ],
  };
  // The configurations people deploy (examples/cloudflare/), with the test's upstream, secret
  // and consumer timing put in.
  const configure = (file: string, withToken: boolean) => {
    const config = readWranglerConfig(file);
    if (config.mainPath !== WORKER) throw new Error(`${file}: main is ${config.mainPath}, not the built Worker`);
    if (config.compatibility_date !== COMPATIBILITY_DATE || config.compatibility_flags?.length) throw new Error(`${file}: compatibility_date ${COMPATIBILITY_DATE} and no flags expected`);
    const b = bindingsOf(config, consumer);
    const bindings: Record<string, string> = { ...(b.bindings as Record<string, string>), USERMAVEN_API_KEY: upstream.apiKey, USERMAVEN_URL: upstream.url, ...options.vars };
    if (consumer.maxRetries !== undefined && 'QUEUE_MAX_RETRIES' in bindings) bindings['QUEUE_MAX_RETRIES'] = String(consumer.maxRetries);
    const token = options.serverToken ?? upstream.serverToken;
    if (withToken && token) bindings['USERMAVEN_SERVER_TOKEN'] = token;
    const fault: Partial<WorkerOptions> = options.queueFault
      ? {
          queueProducers: Object.fromEntries(Object.entries(b.queueProducers as Record<string, unknown>).filter(([name]) => name !== 'EVENTS')) as WorkerOptions['queueProducers'],
          wrappedBindings: { EVENTS: { scriptName: 'faulty-queue', bindings: { FAULT: options.queueFault } } },
        }
      : {};
    const script = options.crashOnce && withToken ? consumerScript : base;
    return { name: config.name, ...script, ...b, bindings, ...fault } as WorkerOptions;
  };
  const names = options.split ? { edge: 'umbeacon-edge', consumer: 'umbeacon-consumer' } : { edge: 'umbeacon', consumer: 'umbeacon' };
  const workers: WorkerOptions[] = options.split
    ? [configure('edge.wrangler.jsonc', false), configure('consumer.wrangler.jsonc', true)]
    : [configure('wrangler.jsonc', true)];
  workers.push({ name: 'dead-letter-sink', modules: true, script: SINK, compatibilityDate: COMPATIBILITY_DATE, queueConsumers: { 'umbeacon-dead-letters': { maxBatchTimeout: 0.1 } } });
  if (options.queueFault) workers.push({ name: 'faulty-queue', modules: true, script: FAULTY_QUEUE });

  const mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    cf: false,
    log: new Log(LogLevel.WARN),
    handleRuntimeStdio(stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream) {
      stdout.on('data', onData);
      stderr.on('data', onData);
    },
    workers,
  });
  const url = (await mf.ready).origin;

  const json = () =>
    lines.flatMap((l) => {
      if (!l.startsWith('{')) return [];
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  const edge: Edge = {
    url,
    mf,
    names,
    upstream,
    serverToken: upstream.serverToken,
    output: () => [...lines],
    lines: json,
    batches: () => json().filter((l) => l['msg'] === 'batch'),
    // A string body is a message the platform moved there after its last retry.
    deadLetters: () =>
      lines
        .filter((l) => l.startsWith('DEAD_LETTER '))
        .map((l) => JSON.parse(l.slice('DEAD_LETTER '.length)) as DeadLetter | string)
        .map((d) => (typeof d === 'string' ? { at: 0, status: 0, reason: 'moved by the platform after max_retries', event: JSON.parse(d) as Record<string, unknown> } : d)),
    async waitFor(predicate, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > until) throw new Error(`timed out; the runtime printed:\n${lines.slice(-40).join('\n')}\nupstream:\n${upstream.describe()}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async close() {
      await mf.dispose();
      if (!options.upstream) await upstream.close();
    },
  };
  return edge;
}

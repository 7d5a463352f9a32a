/**
 * The forwarder: drains a spool to the upstream in bulk, oldest first, one round at a time
 * (`forwarder-round.ts`: the delivery engine `deliver.ts` judged by the policy `policy.ts`):
 *
 * - 2xx: the batch is done, the spool's checkpoint advances.
 * - retry (5xx, 408, 429, 3xx, timeout, reset) and wrong credentials or URL (401/403/404):
 *   wait (back-off or `Retry-After`) and send the same records again, forever. Order is kept
 *   and nothing is dropped; the upstream de-duplicates on `event_id`, so a batch that arrived
 *   but whose answer was lost is harmless.
 * - refused (other 4xx): chunks are halved until the refused events stand alone. Whether that
 *   is the events' fault depends on the round:
 *   - the upstream took other events earlier in the same round: the refusal is isolated to
 *     this event, which goes to the dead-letter file with the reason (an event refused before
 *     anything was taken is sent alone once more after, so an upstream coming back mid-round
 *     does not condemn it);
 *   - it took none: that is the upstream refusing everything (a broken deploy, a config change
 *     on its side), not bad events. Nothing is dead-lettered or acknowledged; the forwarder backs
 *     off like an outage and reports `refusing_all`. The events refused on their own are
 *     remembered as suspects (`policy.ts`), so the next round sends the others first and a
 *     run of bad events at the head cannot pass for a blanket refusal for long.
 * - isolation is bounded: at most `isolationBudget` requests per round. Chunks still unsplit
 *   then are appended again at the spool's tail as suspects and the batch is acknowledged. Under
 *   a flood of refused events rounds get smaller and send up to `isolationConcurrency` requests
 *   at once (`policy.ts`), so a client posting refused events cannot hold up the line.
 *
 * Stopping: `drain(ms)` sends without lingering and cuts back-offs at its deadline, where it
 * resolves whatever the upstream is doing; `stop()` then cuts the request in flight and any
 * wait at once. Unsent records stay in the spool. Every wait is on the injected clock
 * (`wakeups.ts`).
 *
 * State, by owner: this file holds the run (the loop and its stop signal, one per `start()`);
 * `wakeups.ts` the sleeps and the drains; `forwarder-round.ts` the policy's state between
 * rounds; `forwarder-status.ts` the status.
 *
 * Nothing here knows about HTTP requests from browsers: the relay and the Node client both
 * drive it.
 */
import { systemClock, type Clock } from './clock.ts';
import { ForwarderRounds } from './forwarder-round.ts';
import { StatusBook } from './forwarder-status.ts';
import { silentLogger, type Logger } from './log.ts';
import { relayRetryDelay } from './retry-timing.ts';
import { spoolReadLimits, UPSTREAM_LIMITS } from './sizing.ts';
import type { Spool } from './spool.ts';
import type { SendResult, Upstream, UpstreamProblem } from './upstream.ts';
import { Alarm, Drains } from './wakeups.ts';

export interface ForwarderOptions {
  spool: Spool;
  upstream: Upstream;
  logger?: Logger;
  clock?: Clock;
  /** Most events per upstream request (default `LIMITS.upstreamEvents`). */
  maxEvents?: number;
  /** Most bytes per upstream request body (default `LIMITS.upstreamBytes`). */
  maxBytes?: number;
  /**
   * After new data arrives while idle, wait this long for more before sending, so a busy
   * relay sends few big requests instead of many small ones (default 200 ms; 0 sends at once).
   * Skipped when a full batch is already waiting, and while draining.
   */
  lingerMs?: number;
  /** Delay before retry number `attempt` (default: `Retry-After`, else 0.5 s doubling to 8–16 s). */
  retryDelay?: (result: Extract<SendResult, { kind: 'retry' }>, attempt: number) => number;
  /** Requests at once under a flood of refused events (default 8; otherwise one at a time). */
  isolationConcurrency?: number;
  /** Most requests spent isolating refused events per batch (default 64). */
  isolationBudget?: number;
}

export interface ForwarderStatus {
  state: 'stopped' | 'idle' | 'sending' | 'waiting';
  /** Status of the last upstream answer (0 = no answer: timeout or network error). */
  lastStatus?: number;
  /** Short reason of the last failure (the upstream's own words, redacted): for logs and the Node client, not for public pages. */
  lastError?: string;
  /** What is wrong while failing, as a category fit for a public page (`/healthz`). */
  problem?: UpstreamProblem;
  lastSuccessAt?: number;
  consecutiveFailures: number;
  /** Totals since start. */
  sentEvents: number;
  sentRequests: number;
  deadLettered: number;
}

export interface Forwarder {
  start(): void;
  /** Stop now: the request in flight is cut and any wait ends; unsent records stay in the spool. */
  stop(): Promise<void>;
  /** There is new data in the spool. Cheap; call after every append. */
  kick(): void;
  /**
   * Send what it can before `deadlineMs` from now (no linger, back-offs cut short at the
   * deadline). Resolves true when the spool is empty, false at the deadline, even with a
   * request in flight (`stop()` cuts it).
   */
  drain(deadlineMs: number): Promise<boolean>;
  status(): ForwarderStatus;
}

/**
 * @example
 *   const forwarder = createForwarder({ spool, upstream: createUpstream({ apiKey, serverToken }) });
 *   forwarder.start();
 *   await spool.append([JSON.stringify(event)]);
 *   forwarder.kick();
 *   // on shutdown:
 *   await forwarder.drain(5000);
 *   await forwarder.stop();
 */
export function createForwarder(options: ForwarderOptions): Forwarder {
  const { spool, upstream } = options;
  const log = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const limits = { maxEvents: options.maxEvents ?? UPSTREAM_LIMITS.maxEvents, maxBytes: options.maxBytes ?? UPSTREAM_LIMITS.maxBytes };
  const readBytes = spoolReadLimits(limits).maxBytes;
  const lingerMs = options.lingerMs ?? 200;
  const book = new StatusBook(upstream.host, log, clock);
  const alarm = new Alarm(clock);
  const drains = new Drains(clock);
  // The current run: its loop, and the signal stop() aborts (cuts the request in flight and every wait).
  let run: { halt: AbortController; loop: Promise<void> } | null = null;

  /** Back-off wait, cut short by stop, and by the drain deadline. */
  const pause = async (ms: number) => {
    if (!run || run.halt.signal.aborted) return;
    book.enter('waiting');
    await alarm.sleep(drains.cap(ms), 'busy');
  };
  const rounds = new ForwarderRounds({
    spool,
    upstream,
    log,
    clock,
    book,
    policy: { maxEvents: limits.maxEvents, concurrency: options.isolationConcurrency ?? 8, budget: options.isolationBudget ?? 64 },
    patience: { retryDelay: options.retryDelay ?? relayRetryDelay },
    pause,
  });

  const loop = async (halt: AbortSignal) => {
    while (!halt.aborted) {
      let batch;
      let plan;
      try {
        // Linger only while less than a round's worth waits (a flood plans small rounds).
        plan = rounds.plan();
        if (!drains.draining && lingerMs > 0 && alarm.kicked && spool.stats().depth < plan.maxRecords) {
          book.enter('waiting');
          await alarm.sleep(lingerMs, 'busy');
        }
        alarm.clear();
        batch = await spool.read(plan.maxRecords, readBytes);
      } catch (error) {
        log.error('spool read failed', { reason: errorMessage(error) });
        await pause(1000);
        continue;
      }
      if (!batch) {
        book.enter('idle');
        drains.settle();
        if (!alarm.kicked && !halt.aborted) await alarm.sleep(2_147_483_647, 'idle');
        continue;
      }
      try {
        if (await rounds.deliver(batch.records, plan, halt)) await spool.ack(batch.cursor);
      } catch (error) {
        log.error('spool write failed', { reason: errorMessage(error) });
        await pause(1000);
        continue;
      }
      drains.settle();
    }
    book.enter('stopped');
    drains.settle();
  };

  return {
    start() {
      if (run) return;
      const halt = new AbortController();
      book.enter('idle');
      alarm.kick();
      run = { halt, loop: loop(halt.signal) };
    },
    async stop() {
      if (!run) return;
      const { halt, loop: running } = run;
      halt.abort();
      alarm.rouse();
      await running;
      run = null;
    },
    kick: () => alarm.kick(),
    async drain(deadlineMs) {
      alarm.kick();
      alarm.rouse();
      await drains.wait(deadlineMs, () => spool.stats().depth === 0 || !run || run.halt.signal.aborted);
      return spool.stats().depth === 0;
    },
    status: () => book.snapshot(),
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The forwarder: drains a spool to the upstream in bulk, one request at a time, oldest first.
 *
 * - 2xx: the batch is done, the spool's checkpoint advances.
 * - retry (5xx, 408, 429, timeout, reset): wait (back-off or `Retry-After`) and send the same
 *   records again. Order is kept and nothing is dropped; the upstream de-duplicates on
 *   `event_id`, so a batch that arrived but whose answer was lost is harmless.
 * - reject (other 4xx): the batch holds something the upstream will never take. Split it in
 *   halves until the bad events are alone, dead-letter those with the reason, send the rest.
 *   401/403/404 are the exception: they mean wrong credentials or URL, which no event is to
 *   blame for, so they are retried like an outage (and logged) instead of emptying the spool
 *   into the dead-letter file.
 *
 * Nothing here knows about HTTP requests from browsers: the relay and the Node client both
 * drive it.
 */
import { LIMITS } from '../shared/event.ts';
import { systemClock, type Clock } from './clock.ts';
import { deliverBatch, type Failure } from './deliver.ts';
import { silentLogger, type Logger } from './log.ts';
import type { Spool } from './spool.ts';
import { problemOf, retryDelayMs, type SendResult, type Upstream, type UpstreamProblem } from './upstream.ts';

export { systemClock, timerClock, type Clock } from './clock.ts';

/**
 * The relay's wait before retry number `attempt`. The shared back-off doubles to 60 s, right
 * for a one-off sender. A relay holding a backlog must notice soon that the upstream is back
 * (catch-up goal: 30 s), so its back-off stops growing at attempt 6: 8–16 s between tries,
 * jittered. `Retry-After` still wins. The edge consumer uses it too, per queued message.
 */
export function relayRetryDelay(result: Extract<SendResult, { kind: 'retry' }>, attempt: number): number {
  return retryDelayMs(result, Math.min(attempt, 6));
}

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
  /** Delay before retry number `attempt` (default: `Retry-After`, else 0.5 s doubling to 60 s). */
  retryDelay?: (result: Extract<SendResult, { kind: 'retry' }>, attempt: number) => number;
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
  /** Stop after the request in flight (if any) settles; unsent records stay in the spool. */
  stop(): Promise<void>;
  /** There is new data in the spool. Cheap; call after every append. */
  kick(): void;
  /**
   * Send what it can before `deadlineMs` from now (no linger, back-offs cut short at the
   * deadline). Resolves true when the spool is empty, false when time ran out first.
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
  const maxEvents = options.maxEvents ?? LIMITS.upstreamEvents;
  const maxBytes = options.maxBytes ?? LIMITS.upstreamBytes;
  const lingerMs = options.lingerMs ?? 200;
  const retryDelay = options.retryDelay ?? relayRetryDelay;

  const status: ForwarderStatus = { state: 'stopped', consecutiveFailures: 0, sentEvents: 0, sentRequests: 0, deadLettered: 0 };
  let running = false;
  // Aborted by stop(): cuts the request in flight and ends the batch being delivered.
  let halt = new AbortController();
  let loop: Promise<void> | null = null;
  let draining = 0;
  let drainDeadline = 0;
  // Wakes the loop from idle (kick) or from a back-off/linger (stop, drain).
  let wake = new AbortController();
  let kicked = false;
  const drainWaiters = new Set<() => void>();

  const rouse = () => {
    wake.abort();
    wake = new AbortController();
  };
  const settleDrains = () => {
    for (const w of drainWaiters) w();
  };

  const recordFailure = (result: Failure) => {
    status.consecutiveFailures++;
    status.lastError = result.reason;
    status.problem = problemOf(result);
    // Log changes, not every retry: the first failure, a new status, and then every 10th.
    if (status.consecutiveFailures === 1 || status.lastStatus !== result.status || status.consecutiveFailures % 10 === 0) {
      log.warn('upstream failing', { host: upstream.host, status: result.status, reason: result.reason, failures: status.consecutiveFailures });
    }
    status.lastStatus = result.status;
  };
  const recordSuccess = (events: number, answered: number) => {
    if (status.consecutiveFailures > 0) log.info('upstream recovered', { host: upstream.host, status: answered, after: status.consecutiveFailures });
    status.consecutiveFailures = 0;
    delete status.problem;
    status.lastStatus = answered;
    status.lastSuccessAt = clock.now();
    status.sentEvents += events;
    status.sentRequests++;
  };

  /** Deliver one spool batch completely (dead-lettering what the upstream refuses); false if stopped. */
  const deliver = async (records: string[]): Promise<boolean> => {
    status.state = 'sending';
    const result = await deliverBatch(records, {
      send: (body, signal) => upstream.send(body, signal),
      sleep: (ms) => pause(ms),
      signal: halt.signal,
      onFailure: (failure) => {
        recordFailure(failure);
        return retryDelay(asRetry(failure), status.consecutiveFailures);
      },
      onAccepted: (from, to, answered) => recordSuccess(to - from, answered),
      onRefused: (_index, refusal) => {
        status.lastStatus = refusal.status;
        status.lastError = refusal.reason;
      },
    });
    if (result.outcome !== 'done') return false;
    for (const index of result.refused) {
      const { status: answered, reason } = result.refusal!;
      await spool.deadLetter(records[index]!, reason);
      status.deadLettered++;
      log.warn('dead letter', { status: answered, reason, event_id: eventIdOf(records[index]!) });
    }
    return true;
  };

  /** Back-off wait, cut short by stop, and by the drain deadline. */
  const pause = async (ms: number) => {
    status.state = 'waiting';
    const wait = draining > 0 ? Math.min(ms, Math.max(0, drainDeadline - clock.now())) : ms;
    await clock.sleep(wait, wake.signal);
  };

  const run = async () => {
    while (running) {
      let batch;
      try {
        if (draining === 0 && lingerMs > 0 && kicked && spool.stats().depth < maxEvents) {
          status.state = 'waiting';
          await clock.sleep(lingerMs, wake.signal);
        }
        kicked = false;
        batch = await spool.read(maxEvents, maxBytes - maxEvents - 2);
      } catch (error) {
        log.error('spool read failed', { reason: errorMessage(error) });
        await pause(1000);
        continue;
      }
      if (!batch) {
        status.state = 'idle';
        settleDrains();
        if (!kicked && running) await clock.sleep(2_147_483_647, wake.signal);
        continue;
      }
      let done: boolean;
      try {
        done = await deliver(batch.records);
        if (done) await spool.ack(batch.cursor);
      } catch (error) {
        log.error('spool write failed', { reason: errorMessage(error) });
        await pause(1000);
        continue;
      }
      settleDrains();
    }
    status.state = 'stopped';
    settleDrains();
  };

  const forwarder: Forwarder = {
    start() {
      if (running) return;
      running = true;
      halt = new AbortController();
      status.state = 'idle';
      kicked = true;
      loop = run();
    },
    async stop() {
      running = false;
      halt.abort();
      rouse();
      await loop;
      loop = null;
    },
    kick() {
      if (kicked) return;
      kicked = true;
      if (status.state === 'idle') rouse();
    },
    async drain(deadlineMs) {
      const deadline = clock.now() + deadlineMs;
      draining++;
      drainDeadline = Math.max(drainDeadline, deadline);
      kicked = true;
      rouse();
      try {
        while (spool.stats().depth > 0 && running && clock.now() < deadline) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(done, Math.max(0, deadline - clock.now()));
            function done() {
              clearTimeout(timer);
              drainWaiters.delete(done);
              resolve();
            }
            drainWaiters.add(done);
          });
        }
        return spool.stats().depth === 0;
      } finally {
        draining--;
      }
    },
    status: () => ({ ...status }),
  };
  return forwarder;
}

/** Every failure waits like a retry: a wrong credential or URL is retried like an outage (and logged). */
export function asRetry(failure: Failure): Extract<SendResult, { kind: 'retry' }> {
  return failure.kind === 'retry' ? failure : { kind: 'retry', status: failure.status, reason: failure.reason };
}

function eventIdOf(record: string): string | undefined {
  const m = /"event_id":"([^"]{1,100})"/.exec(record);
  return m?.[1];
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

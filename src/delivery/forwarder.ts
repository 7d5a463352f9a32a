/**
 * The forwarder: drains a spool to the upstream in bulk, oldest first, through the delivery
 * engine (`deliver.ts`) with the relay's policy:
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
 *     remembered as suspects (`refusals.ts`), so the next round sends the others first and a
 *     run of bad events at the head cannot pass for a blanket refusal for long.
 * - isolation is bounded: at most `isolationBudget` requests per round. Chunks still unsplit
 *   then are appended again at the spool's tail as suspects and the batch is acknowledged. Under
 *   a flood of refused events rounds get smaller and send up to `isolationConcurrency` requests
 *   at once (`refusals.ts`), so a client posting refused events cannot hold up the line.
 *
 * Stopping: `drain(ms)` sends without lingering and cuts back-offs at its deadline, where it
 * resolves whatever the upstream is doing; `stop()` then cuts the request in flight and any
 * wait at once. Unsent records stay in the spool.
 *
 * Nothing here knows about HTTP requests from browsers: the relay and the Node client both
 * drive it.
 */
import { LIMITS } from '../shared/event.ts';
import { systemClock, type Clock } from './clock.ts';
import { deliverBatch, type DeliveryHooks, type Failure, type Range, type Refusal } from './deliver.ts';
import { silentLogger, type Logger } from './log.ts';
import { chunks, eventIdOf, Refusals, type RoundPlan } from './refusals.ts';
import type { Spool } from './spool.ts';
import { asRetry, problemOf, relayRetryDelay, type SendResult, type Upstream, type UpstreamProblem } from './upstream.ts';

export { systemClock, timerClock, type Clock } from './clock.ts';
export { asRetry, relayRetryDelay } from './upstream.ts';

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
  const maxEvents = options.maxEvents ?? LIMITS.upstreamEvents;
  const maxBytes = options.maxBytes ?? LIMITS.upstreamBytes;
  const lingerMs = options.lingerMs ?? 200;
  const retryDelay = options.retryDelay ?? relayRetryDelay;
  const isolationBudget = options.isolationBudget ?? 64;
  const refusals = new Refusals({ maxEvents, concurrency: options.isolationConcurrency ?? 8, budget: isolationBudget, now: () => clock.now() });

  const status: ForwarderStatus = { state: 'stopped', consecutiveFailures: 0, sentEvents: 0, sentRequests: 0, deadLettered: 0 };
  let running = false;
  // Aborted by stop(): cuts the request in flight and every wait.
  let halt = new AbortController();
  // Aborted by stop() and at a drain's deadline: ends the batch being delivered.
  let cut = new AbortController();
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

  const recordFailure = (result: Failure, problem: UpstreamProblem = problemOf(result)) => {
    status.consecutiveFailures++;
    status.lastError = result.reason;
    // Log changes, not every retry: the first failure, a new status or kind, and then every 10th.
    if (status.consecutiveFailures === 1 || status.lastStatus !== result.status || status.problem !== problem || status.consecutiveFailures % 10 === 0) {
      log.warn('upstream failing', { host: upstream.host, status: result.status, problem, reason: result.reason, failures: status.consecutiveFailures });
    }
    status.problem = problem;
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

  /**
   * Deliver one spool batch: true when it may be acknowledged (everything sent, dead-lettered
   * or set aside again), false when it must be read again (stopped, or refused as a whole).
   */
  const deliver = async (batch: string[], plan: RoundPlan): Promise<boolean> => {
    status.state = 'sending';
    // Suspects go last, so they cannot sink the fresh events.
    const fresh: string[] = [];
    const suspected: string[] = [];
    for (const record of batch) (refusals.isSuspect(record) ? suspected : fresh).push(record);
    const records = suspected.length === 0 ? batch : fresh.concat(suspected);
    const parallel = plan.concurrency > 1;
    const ranges = [...chunks(0, fresh.length, plan.chunk), ...chunks(fresh.length, records.length, parallel ? 1 : Infinity)];
    const round = new AbortController();
    cut = round;
    if (halt.signal.aborted) round.abort();
    // A refusal proves the event bad only once the upstream has taken something else in this
    // round: before that, it may be the upstream refusing everything (or just coming back).
    const reasons = new Map<number, Refusal>();
    const hooks: DeliveryHooks = {
      send: (body, signal) => upstream.send(body, signal),
      sleep: (ms) => pause(ms),
      signal: round.signal,
      onFailure: (failure) => {
        recordFailure(failure);
        return retryDelay(asRetry(failure), status.consecutiveFailures);
      },
      onAccepted: (from, to, answered) => recordSuccess(to - from, answered),
      onRefused: (index, refusal) => {
        reasons.set(index, refusal);
        refusals.refused();
      },
      // A flood noticed mid-round turns on parallel requests for the rest of it.
      concurrency: () => refusals.concurrency(),
      isolationBudget,
    };
    const result = await deliverBatch(records, hooks, ranges);
    if (result.outcome !== 'done') return false;
    if (result.refused.length === 0 && result.unresolved.length === 0) {
      for (const record of suspected) refusals.clear(record);
      refusals.observe(0, records.length);
      return true;
    }
    if (result.accepted === 0) {
      // Nothing taken: the upstream refuses everything, not these events. Keep them all. Only
      // the events refused on their own become suspects: the unsplit rest goes first next round,
      // so each round learns something new.
      for (const i of result.refused) refusals.suspect(records[i]!);
      const refusal = result.refusal!;
      recordFailure({ ...refusal, reason: `upstream refused every event of the batch (${records.length}): ${refusal.reason}` }, 'refusing_all');
      await pause(retryDelay(asRetry(refusal), status.consecutiveFailures));
      return false;
    }
    // Refused before anything was taken: once more each, now that the upstream has taken events.
    const bad = result.refused.filter((i) => !result.unproven.includes(i));
    if (result.unproven.length > 0) {
      const again = await deliverBatch(records, hooks, result.unproven.map((i) => [i, i + 1]));
      if (again.outcome !== 'done') return false;
      bad.push(...again.refused);
    }
    bad.sort((x, y) => x - y);
    for (const i of bad) await deadLetter(records[i]!, reasons.get(i)!);
    refusals.observe(bad.length, records.length);
    const unsplit = result.unresolved.flatMap(([from, to]: Range) => records.slice(from, to));
    if (unsplit.length > 0) {
      // Suspects the budget left unsplit: to the tail of the spool, so the line keeps moving.
      await spool.append(unsplit);
      for (const record of unsplit) refusals.suspect(record);
      log.info('refused events set aside', { events: unsplit.length, reason: result.refusal!.reason });
    }
    return true;
  };

  const deadLetter = async (record: string, refusal: Refusal) => {
    await spool.deadLetter(record, refusal.reason);
    refusals.clear(record);
    status.deadLettered++;
    log.warn('dead letter', { status: refusal.status, reason: refusal.reason, event_id: eventIdOf(record) });
  };

  /** Back-off wait, cut short by stop, and by the drain deadline. */
  const pause = async (ms: number) => {
    if (halt.signal.aborted) return;
    status.state = 'waiting';
    const wait = draining > 0 ? Math.min(ms, Math.max(0, drainDeadline - clock.now())) : ms;
    await clock.sleep(wait, wake.signal);
  };

  const run = async () => {
    while (running) {
      let batch;
      let plan: RoundPlan;
      try {
        // Linger only while less than a round's worth waits (a flood plans small rounds).
        plan = refusals.plan();
        if (draining === 0 && lingerMs > 0 && kicked && spool.stats().depth < plan.maxRecords) {
          status.state = 'waiting';
          await clock.sleep(lingerMs, wake.signal);
        }
        kicked = false;
        batch = await spool.read(plan.maxRecords, maxBytes - maxEvents - 2);
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
      try {
        if (await deliver(batch.records, plan)) await spool.ack(batch.cursor);
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
      cut.abort();
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

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

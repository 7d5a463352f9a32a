/**
 * The Node client: backend events with the relay's reliability. Events go into a spool — in
 * memory, or on disk under `dataDir` — and the relay's forwarder sends them from there in bulk,
 * with the relay's retry policy. One implementation of batching, retry and durability, not two.
 */
import { LIMITS, type CompanyTraits, type UserTraits } from '../shared/event.ts';
import { timerClock, type Clock } from '../delivery/clock.ts';
import { createForwarder, type ForwarderStatus } from '../delivery/forwarder.ts';
import type { Logger } from '../delivery/log.ts';
import { createMemorySpool } from '../delivery/memory-spool.ts';
import { SpoolFullError, type Spool } from '../delivery/spool.ts';
import { createUpstream } from '../delivery/upstream.ts';
import { createFileSpool } from '../delivery/file-spool/index.ts';
import { buildEvent, isPlainObject, type EventOptions } from './build-event.ts';
import { countFetch, countSpool } from '../delivery/delivery-counts.ts';

export interface ClientOptions {
  /** Usermaven API key (the workspace key). */
  apiKey: string;
  /** Usermaven server token. A secret: never in a log line or an error message. */
  serverToken: string;
  /** Events API base URL (default `https://events.usermaven.com`). */
  url?: string;
  /**
   * Keep the queue on disk here: `track` resolves once the event is fsynced, and a process that
   * dies before sending loses nothing — the next client on the same directory sends it.
   * Without it the queue is in memory and lost if the process exits before `close()`.
   */
  dataDir?: string;
  /** Send as soon as this many events wait (default 100; at most 500). */
  flushAt?: number;
  /** Otherwise send this long after the first waiting event (default 1000 ms). */
  flushIntervalMs?: number;
  /** Cap on queued bytes: 16 MB in memory, 256 MB on disk by default. Beyond it `track` rejects. */
  maxQueueBytes?: number;
  /** Upstream request timeout (default 15 s). */
  timeoutMs?: number;
  /**
   * Told about what goes wrong in the background: the upstream failing or recovering, an event
   * it refused (kept in `dataDir/dead-letter.ndjson` with a dataDir), the queue full.
   * Default: one line on stderr each.
   */
  onError?: (error: Error) => void;
  /** For tests: the `fetch` used to reach the upstream. */
  fetch?: typeof fetch;
}

export interface ClientStats {
  /** Events waiting to be sent. */
  queued: number;
  /** Events the upstream acknowledged since this client started. */
  sent: number;
  /** Events the upstream refused for good. */
  refused: number;
  /** The upstream's last failure, if it is failing now. */
  lastError?: string;
}

/**
 * The relay's metric families (docs/relay.md#metrics), counted since this client started, for
 * an app to export (e.g. as prom-client counters with a `collect()`; docs/server-side.md).
 * `received = forwarded + deadLettered + queued`.
 */
export interface ClientMetrics {
  /** `umbeacon_events_received_total{route="client"}`: events queued. */
  received: number;
  /** `umbeacon_events_rejected_total{reason}`: events that could not be queued (`queue_full`, `storage_unavailable`). */
  rejected: Record<string, number>;
  /** `umbeacon_events_forwarded_total`: events the upstream took. */
  forwarded: number;
  /** `umbeacon_events_dead_lettered_total`: events the upstream refused for good. */
  deadLettered: number;
  /** `umbeacon_spool_events`: events waiting. */
  queued: number;
  /** `umbeacon_spool_bytes`. */
  queuedBytes: number;
  /** `umbeacon_upstream_requests_total{status}`: the HTTP status, or `timeout` / `error`. */
  upstreamRequests: Record<string, number>;
  /** `umbeacon_upstream_request_duration_seconds_sum`: seconds spent waiting for the upstream. */
  upstreamSeconds: number;
}

export interface Client {
  /**
   * Queues an event. Throws a `TypeError` at once on a wrong call. The promise resolves when the
   * event is queued — on disk, with `dataDir` — and rejects only when it could not be (queue full,
   * client closed); not awaiting it is fine, a rejection then only reaches `onError`.
   */
  track(eventType: string, attributes?: Record<string, unknown>, options?: EventOptions): Promise<void>;
  /** Sends `user_identify` for a signed-in user: `user.id` (or `email`) is required. */
  identify(user: UserTraits, company?: CompanyTraits, options?: Omit<EventOptions, 'user' | 'company'>): Promise<void>;
  /** Sends a `group` event tying the user (in `options.user`) to a company. */
  group(company: CompanyTraits, options?: Omit<EventOptions, 'company'>): Promise<void>;
  /** Sends everything queued so far. Resolves true once the queue is empty, false if `timeoutMs` ran out first. */
  flush(timeoutMs?: number): Promise<boolean>;
  /**
   * Flushes (up to `timeoutMs`, default 10 s), then stops. True when nothing was left behind; with a
   * `dataDir`, whatever was left is sent by the next client on that directory.
   */
  close(timeoutMs?: number): Promise<boolean>;
  stats(): ClientStats;
  /** The relay's metric families, counted for this client (see `ClientMetrics`). */
  metrics(): ClientMetrics;
}

/**
 * Creates a client. Usable at once; with `dataDir` the on-disk queue opens in the background and
 * the first calls wait for it.
 *
 * @example
 *   import { createClient, anonymousIdFrom } from 'umbeacon/client';
 *
 *   const usermaven = createClient({
 *     apiKey: process.env.USERMAVEN_API_KEY!,
 *     serverToken: process.env.USERMAVEN_SERVER_TOKEN!,
 *     dataDir: './data/usermaven-client', // optional: survive crashes
 *   });
 *   await usermaven.track('plan_upgraded', { plan: 'pro' }, { user: { id: '42' }, anonymousId: anonymousIdFrom(req) });
 *   process.on('SIGTERM', () => usermaven.close().then(() => process.exit(0)));
 */
export function createClient(options: ClientOptions): Client {
  if (!isPlainObject(options)) throw new TypeError("createClient({ apiKey, serverToken }) takes an options object, e.g. createClient({ apiKey: process.env.USERMAVEN_API_KEY, serverToken: process.env.USERMAVEN_SERVER_TOKEN })");
  for (const field of ['apiKey', 'serverToken'] as const) {
    if (typeof options[field] !== 'string' || options[field] === '') {
      throw new TypeError(`createClient: ${field} must be a non-empty string — usually process.env.${field === 'apiKey' ? 'USERMAVEN_API_KEY' : 'USERMAVEN_SERVER_TOKEN'}`);
    }
  }
  if (options.url !== undefined) {
    try {
      new URL(options.url);
    } catch {
      throw new TypeError(`createClient: url must be an absolute URL such as https://events.usermaven.com (got ${JSON.stringify(String(options.url).slice(0, 60))})`);
    }
  }
  const { apiKey } = options;
  const flushAt = Math.max(1, Math.min(LIMITS.upstreamEvents, options.flushAt ?? 100));
  const report = options.onError ?? ((error: Error) => process.stderr.write(`umbeacon client: ${error.message}\n`));
  const counts = { received: 0, rejected: {} as Record<string, number>, forwarded: 0, deadLettered: 0, upstreamRequests: {} as Record<string, number>, upstreamSeconds: 0 };
  const upstream = createUpstream({
    apiKey,
    serverToken: options.serverToken,
    ...(options.url ? { url: options.url } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    fetch: countFetch(options.fetch ?? ((input, init) => fetch(input, init)), options.timeoutMs ?? 15_000, (status, seconds) => {
      counts.upstreamRequests[status] = (counts.upstreamRequests[status] ?? 0) + 1;
      counts.upstreamSeconds += seconds;
    }),
  });

  const tell = (msg: string, fields?: Record<string, unknown>) => report(new Error(`${msg}${fields?.['reason'] ? `: ${String(fields['reason'])}` : ''}`));
  const logger: Logger = { info() {}, warn: tell, error: tell };

  // The memory spool would keep refused events forever; the client reports and drops them.
  // The file spool keeps them in dead-letter.ndjson, where an operator can look.
  const opened: Promise<Spool> = options.dataDir
    ? createFileSpool({ dir: options.dataDir, maxBytes: options.maxQueueBytes ?? 256 * 1024 * 1024, logger })
    : Promise.resolve(dropDeadLetters(createMemorySpool({ maxBytes: options.maxQueueBytes ?? 16 * 1024 * 1024 })));
  let spool: Spool | undefined;
  let forwarder: ReturnType<typeof createForwarder> | undefined;
  let closed = false;
  // Timers keep the process alive only while events wait: an idle client does not hold it open.
  const clock: Clock = timerClock(() => (spool?.stats().depth ?? 0) > 0);
  let setAside = () => 0;
  const ready = opened.then((s) => {
    spool = s;
    const counted = countSpool(s, (sent, dead) => {
      counts.forwarded += sent;
      counts.deadLettered += dead;
    });
    setAside = counted.setAside;
    forwarder = createForwarder({
      spool: counted.spool,
      upstream,
      logger,
      clock,
      maxEvents: flushAt,
      maxBytes: LIMITS.upstreamBytes,
      lingerMs: options.flushIntervalMs ?? 1000,
    });
    if (!closed) forwarder.start();
    return s;
  });
  ready.catch((error: unknown) => report(new Error(`cannot open the queue in ${options.dataDir}: ${(error as Error).message}`)));

  const pending = new Set<Promise<void>>();

  const enqueue = (json: string): Promise<void> => {
    if (closed) return handled(Promise.reject(new Error('the client is closed; create a new one')));
    const stored = ready.then(async (s) => {
      try {
        await s.append([json]);
      } catch (error) {
        const reason = error instanceof SpoolFullError ? 'queue_full' : 'storage_unavailable';
        counts.rejected[reason] = (counts.rejected[reason] ?? 0) + 1;
        throw error;
      }
      counts.received++;
      // "Send at 100 events": a full batch is waiting, so cut the 1 s wait short — but never a
      // back-off while the upstream is failing, or every call would be a retry.
      if (s.stats().depth >= flushAt && forwarder && forwarder.status().consecutiveFailures === 0) void forwarder.drain(0);
      else forwarder?.kick();
    });
    const tracked = stored.then(
      () => {},
      (error: unknown) => report(new Error(`event not queued: ${(error as Error).message}`)),
    );
    pending.add(tracked);
    void tracked.finally(() => pending.delete(tracked));
    return handled(stored);
  };

  const flush = async (timeoutMs = 30_000): Promise<boolean> => {
    await Promise.allSettled([...pending]);
    try {
      await ready;
    } catch {
      return false;
    }
    return forwarder!.drain(timeoutMs);
  };

  return {
    track(eventType, attributes, opts) {
      return enqueue(buildEvent('track', apiKey, eventType, attributes, opts, Date.now()).json);
    },
    identify(user, company, opts) {
      if (!isPlainObject(user) || (user.id === undefined && user.email === undefined)) {
        throw new TypeError("identify: pass the signed-in user with an id or email, e.g. identify({ id: '42', email: 'ada@example.com' }, { id: '7', name: 'Acme' })");
      }
      if (company !== undefined && !isPlainObject(company)) {
        throw new TypeError("identify: company must be an object such as { id: '7', name: 'Acme' }, or left out");
      }
      return enqueue(buildEvent('identify', apiKey, 'user_identify', undefined, { ...opts, user, ...(company ? { company } : {}) }, Date.now()).json);
    },
    group(company, opts) {
      if (!isPlainObject(company) || (company.id === undefined && company.name === undefined)) {
        throw new TypeError("group: pass the company with an id, e.g. group({ id: '7', name: 'Acme' }, { user: { id: '42' } })");
      }
      return enqueue(buildEvent('group', apiKey, 'group', undefined, { ...opts, company }, Date.now()).json);
    },
    flush,
    async close(timeoutMs = 10_000) {
      if (closed) return (spool?.stats().depth ?? 0) === 0;
      const delivered = await flush(timeoutMs);
      closed = true;
      let left = 0;
      try {
        const s = await ready;
        await forwarder!.stop();
        left = s.stats().depth;
        await s.close();
      } catch {
        return false;
      }
      if (left > 0 && !options.dataDir) report(new Error(`closed with ${left} event(s) unsent; they are lost (pass dataDir to keep them on disk)`));
      return delivered && left === 0;
    },
    stats() {
      const status: Partial<ForwarderStatus> = forwarder?.status() ?? {};
      const out: ClientStats = { queued: spool?.stats().depth ?? pending.size, sent: status.sentEvents ?? 0, refused: status.deadLettered ?? 0 };
      if (status.consecutiveFailures && status.lastError) out.lastError = status.lastError;
      return out;
    },
    metrics() {
      const stats = spool?.stats() ?? { depth: 0, bytes: 0 };
      return { ...counts, rejected: { ...counts.rejected }, upstreamRequests: { ...counts.upstreamRequests }, queued: Math.max(0, stats.depth - setAside()), queuedBytes: stats.bytes };
    },
  };
}

/** A promise whose rejection is reported elsewhere: un-awaited, it must not crash the process. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

function dropDeadLetters(spool: Spool): Spool {
  return { ...spool, deadLetter: async () => {} };
}

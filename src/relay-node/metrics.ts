/**
 * The relay's Prometheus metrics (prom-client). Nothing here is called by the delivery code
 * itself: the counts come from wrapping what the Node stack already injects, so the forwarder
 * and the relay core know nothing about metrics. The `/metrics` listener is
 * metrics-listener.ts; the Worker logs the same families (src/cloudflare/counts.ts).
 *
 * - received / rejected / rate limited: the relay handler's observer (src/relay/observe.ts);
 * - forwarded / dead-lettered, upstream requests and their duration: the spool the forwarder
 *   drains and the `fetch` its upstream uses, through src/delivery/delivery-counts.ts (which
 *   the Node client's `metrics()` shares);
 * - spool gauges: read from `stats()` at scrape time.
 *
 * The invariant the counters keep: received = forwarded + dead-lettered + what the spool still
 * holds (of what arrived since start). No label ever holds a URL, a token or an address: route
 * names, refusal codes and HTTP statuses only.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { IntakeRoute, RelayObserver } from '../relay/observe.ts';
import type { Spool } from '../delivery/spool.ts';
import { countFetch, countSpool } from '../delivery/delivery-counts.ts';

export interface DeliveryMetricsOptions {
  /** Where the families are registered (default: a new registry of their own). */
  registry?: Registry;
  /** What `umbeacon_spool_*` gauges read, at scrape time. */
  spool: Pick<Spool, 'stats'>;
  /** The spool's cap (DATA_MAX_MB), exported as `umbeacon_spool_max_bytes` for alerts. */
  maxBytes: number;
  /** The upstream's timeout: an aborted request that took this long is a `timeout`. */
  upstreamTimeoutMs: number;
  /** Add the library's process metrics (default true). */
  processMetrics?: boolean;
}

export interface DeliveryMetrics {
  readonly registry: Registry;
  /** For `createRelay({ observe })`: received, rejected and rate-limited counts. */
  readonly observer: RelayObserver;
  /** The spool as the forwarder should see it: counts forwarded and dead-lettered events. */
  watchSpool<S extends Spool>(spool: S): S;
  /** The `fetch` the upstream should use: counts requests by status and times them. */
  watchFetch(inner: typeof fetch): typeof fetch;
  /** One connection closed by the per-IP cap. */
  connectionRefused(): void;
}

export const UPSTREAM_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30];

/** Every family the relay exports, by name, for tests and docs (process metrics not listed). */
export const FAMILIES = {
  umbeacon_events_received_total: 'events acknowledged (stored), by intake route: tracker, official, pixel',
  umbeacon_events_rejected_total: 'events refused at intake, one per event, by reason (the code the answer names)',
  umbeacon_events_forwarded_total: 'events the upstream took',
  umbeacon_events_dead_lettered_total: 'events the upstream refused for good, kept in the dead-letter file',
  umbeacon_spool_events: 'events waiting in the spool',
  umbeacon_spool_bytes: 'bytes of the events waiting in the spool',
  umbeacon_spool_dead_letter_bytes: 'bytes of dead letters kept (they count against the cap too)',
  umbeacon_spool_max_bytes: 'the spool cap (DATA_MAX_MB) in bytes',
  umbeacon_spool_oldest_age_seconds: 'age of the oldest waiting event (0 when the spool is empty)',
  umbeacon_upstream_requests_total: 'requests to the upstream, by status: the HTTP status, or error / timeout',
  umbeacon_upstream_request_duration_seconds: 'time from sending a request to the upstream to its answer',
  umbeacon_rate_limited_total: 'requests answered 429 by the per-IP rate limit',
  umbeacon_connections_refused_total: 'connections closed by the per-IP connection cap',
} as const;

export function createDeliveryMetrics(options: DeliveryMetricsOptions): DeliveryMetrics {
  const registry = options.registry ?? new Registry();
  const registers = [registry];
  const help = (name: keyof typeof FAMILIES) => ({ name, help: FAMILIES[name], registers });
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });

  const received = new Counter({ ...help('umbeacon_events_received_total'), labelNames: ['route'] as const });
  // Bound once: the hot path then does no label lookup.
  const byRoute: Record<IntakeRoute, Counter.Internal> = { tracker: received.labels('tracker'), official: received.labels('official'), pixel: received.labels('pixel') };
  const rejected = new Counter({ ...help('umbeacon_events_rejected_total'), labelNames: ['reason'] as const });
  const forwarded = new Counter(help('umbeacon_events_forwarded_total'));
  const deadLettered = new Counter(help('umbeacon_events_dead_lettered_total'));
  const requests = new Counter({ ...help('umbeacon_upstream_requests_total'), labelNames: ['status'] as const });
  const duration = new Histogram({ ...help('umbeacon_upstream_request_duration_seconds'), buckets: UPSTREAM_BUCKETS });
  const rateLimited = new Counter(help('umbeacon_rate_limited_total'));
  const connectionsRefused = new Counter(help('umbeacon_connections_refused_total'));
  const { spool } = options;
  // Events the forwarder set aside again sit in the depth twice until their batch's ack.
  let setAside = () => 0;
  new Gauge({ ...help('umbeacon_spool_events'), collect() { this.set(Math.max(0, spool.stats().depth - setAside())); } });
  new Gauge({ ...help('umbeacon_spool_bytes'), collect() { this.set(spool.stats().bytes); } });
  new Gauge({ ...help('umbeacon_spool_dead_letter_bytes'), collect() { this.set(spool.stats().deadLetterBytes ?? 0); } });
  new Gauge(help('umbeacon_spool_max_bytes')).set(options.maxBytes);
  new Gauge({
    ...help('umbeacon_spool_oldest_age_seconds'),
    collect() {
      const { depth, oldestAt } = spool.stats();
      this.set(depth > 0 && oldestAt !== undefined ? Math.max(0, (Date.now() - oldestAt) / 1000) : 0);
    },
  });
  // The first value of every series is there from the start, so rate() sees the first increase.
  for (const c of [forwarded, deadLettered, rateLimited, connectionsRefused]) c.inc(0);
  for (const child of Object.values(byRoute)) child.inc(0);

  const observer: RelayObserver = {
    stored(route, events) {
      byRoute[route].inc(events);
    },
    refused(_route, reason, events, request) {
      rejected.labels(reason).inc(events);
      if (request && reason === 'rate_limited') rateLimited.inc();
    },
  };

  return {
    registry,
    observer,
    watchSpool(inner) {
      const counted = countSpool(inner, (sent, dead) => {
        forwarded.inc(sent);
        deadLettered.inc(dead);
      });
      setAside = counted.setAside;
      return counted.spool;
    },
    watchFetch(inner) {
      return countFetch(inner, options.upstreamTimeoutMs, (status, seconds) => {
        requests.labels(status).inc();
        duration.observe(seconds);
      });
    },
    connectionRefused() {
      connectionsRefused.inc();
    },
  };
}

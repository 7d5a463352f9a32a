/**
 * Prometheus metrics (prom-client) for the Node relay and the Node client. Nothing here is
 * called by the delivery code itself: the counts come from wrapping what the Node stack
 * already injects, so the forwarder and the relay core know nothing about metrics.
 *
 * - received / rejected / rate limited: the relay handler's observer (src/relay/observe.ts);
 * - forwarded / dead-lettered: the spool the forwarder drains (`watchSpool`): what `ack`
 *   settles is forwarded, less what went to `deadLetter` (dead-lettered) or was set aside again
 *   with `append` since the batch was read. Both are counted in the tick in which the spool's
 *   depth drops, so no scrape sees an event twice or not at all;
 * - upstream requests and their duration: the `fetch` given to the upstream (`watchFetch`);
 * - spool gauges: read from `stats()` at scrape time.
 *
 * The invariant the counters keep: received = forwarded + dead-lettered + what the spool still
 * holds (of what arrived since start). No label ever holds a URL, a token or an address: route
 * names, refusal codes and HTTP statuses only.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { IntakeRoute, RelayObserver } from '../relay/observe.ts';
import type { Spool } from '../delivery/spool.ts';

export type { Registry };

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
  /** Events a non-relay sender (the Node client) queued. */
  received(route: string, events: number): void;
}

export const UPSTREAM_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30];

/** Every family the relay exports, by name, for tests and docs (process metrics not listed). */
export const FAMILIES = {
  umbeacon_events_received_total: 'events acknowledged (stored), by intake route: tracker, official, pixel (client for the Node client)',
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
  // Events the forwarder set aside again (appended to the tail) while their batch, not yet
  // acknowledged, still holds them too: the depth counts them twice until the ack.
  let setAside = 0;
  new Gauge({ ...help('umbeacon_spool_events'), collect() { this.set(Math.max(0, spool.stats().depth - setAside)); } });
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
      // The batch being delivered: what was read, and what of it left otherwise than forwarded.
      let batch: { cursor: unknown; records: number } | null = null;
      let dead = 0;
      const settle = () => {
        batch = null;
        dead = 0;
        setAside = 0;
      };
      return Object.assign(Object.create(inner) as typeof inner, {
        async read(maxRecords: number, maxBytes: number) {
          const read = await inner.read(maxRecords, maxBytes);
          settle();
          if (read) batch = { cursor: read.cursor, records: read.records.length };
          return read;
        },
        async append(records: readonly string[]) {
          // The forwarder appends only refused events it sets aside: they are still waiting.
          await inner.append(records);
          setAside += records.length;
        },
        async deadLetter(record: string, reason: string) {
          await inner.deadLetter(record, reason);
          dead++;
        },
        ack(cursor: unknown) {
          // Counted before the spool's ack, which lowers its depth before its first await.
          if (batch && batch.cursor === cursor) {
            forwarded.inc(Math.max(0, batch.records - dead - setAside));
            deadLettered.inc(dead);
          }
          settle();
          return inner.ack(cursor);
        },
      });
    },
    watchFetch(inner) {
      return async (input, init) => {
        const start = performance.now();
        try {
          const res = await inner(input, init);
          requests.labels(String(res.status)).inc();
          duration.observe((performance.now() - start) / 1000);
          return res;
        } catch (error) {
          const ms = performance.now() - start;
          // upstream.ts aborts its own request at its timeout; an abort before that is a stop.
          requests.labels(init?.signal?.aborted && ms >= options.upstreamTimeoutMs - 5 ? 'timeout' : 'error').inc();
          duration.observe(ms / 1000);
          throw error;
        }
      };
    },
    connectionRefused() {
      connectionsRefused.inc();
    },
    received(route, events) {
      received.labels(route).inc(events);
    },
  };
}

export interface MetricsListener {
  /** e.g. `http://127.0.0.1:9464/metrics` */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * `GET /metrics` on a listener of its own (METRICS_HOST:METRICS_PORT), never on the site's
 * port: the site is public, the metrics are for the operator's Prometheus.
 */
export async function serveMetrics(registry: Registry, host: string, port: number): Promise<MetricsListener> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('use GET\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : text),
      () => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics failed\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${actual}/metrics`,
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

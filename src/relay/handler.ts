/**
 * The relay core: one Web-standard handler, `(Request) => Promise<Response>`. Storage (the
 * spool), clock, logger and the tracker source are passed in; nothing here touches the file
 * system or the network, so the same handler runs under node:http, Express, Next.js or an
 * edge runtime.
 *
 * This file only wires the parts together: routes.ts (which path goes where, errors into
 * answers), ingest.ts (the pipeline of the routes that take events), origin.ts (origin and
 * CORS checks), reject-log.ts (refusals counted and logged), health.ts and script.ts.
 */
import { trustNothing, type TrustProxy } from './client-ip.ts';
import type { EventFeed } from './feed.ts';
import { healthReply } from './health.ts';
import { createIngest, type ConnInfo } from './ingest.ts';
import type { ForwarderStatus } from '../delivery/forwarder.ts';
import { silentLogger, type Logger } from '../delivery/log.ts';
import { createOriginPolicy } from './origin.ts';
import { monotonic } from './rate-limit.ts';
import { createRejectLog } from './reject-log.ts';
import { toResponse, type Reply } from './reply.ts';
import { createRouter, DEFAULT_PATHS, type RelayPaths } from './routes.ts';
import { createScriptServer, scriptReply, type Precompress } from './script.ts';
import type { Spool } from '../delivery/spool.ts';
import { intakeOf, type RelayObserver } from './observe.ts';

export { DEFAULT_PATHS, type RelayPaths, type ConnInfo, type RelayObserver };

export interface RelayOptions {
  /**
   * Where accepted events go; `append` must be durable before it resolves. `stats` feeds
   * /healthz; a store that cannot count what it holds (a queue at the edge) leaves it out.
   */
  spool: Pick<Spool, 'append'> & Partial<Pick<Spool, 'stats'>>;
  /** The public API key, stamped on every event. Absent = embedded mode (any official token accepted). */
  apiKey?: string | undefined;
  /** Called after events were stored (e.g. `forwarder.kick`). */
  onStored?: () => void;
  /** Upstream state for /healthz. */
  forwarderStatus?: () => ForwarderStatus;
  /** The built tracker source (e.g. read from `public/u.js`); null when not built. */
  script?: () => string | null | Promise<string | null>;
  /**
   * The tracker's opt-in features (`public/u/x.js`), which u.js loads from `x.js` beside the
   * collect path (`/u/x.js`) on pages that turn one on; null when not built.
   */
  extras?: () => string | null | Promise<string | null>;
  /**
   * Compresses each script body once, when it is loaded (src/relay/script.ts): Brotli and
   * zopfli gzip on Node (src/relay-node/precompress.ts), build-time bytes in the Worker.
   * Default: gzip by CompressionStream.
   */
  precompress?: Precompress;
  paths?: Partial<RelayPaths>;
  /**
   * `Domain` of the visitor cookie the relay sets (`example.com`), for requests to that host or
   * below it. Unset: the domain the tracker reports it put its cookie on, else host-only
   * (see `cookieDomain` in src/shared/visitor-id.ts).
   */
  cookieDomain?: string | undefined;
  /** Origins (`https://example.com`) allowed to post; empty = any. Same-origin always passes. */
  allowedOrigins?: readonly string[];
  trustProxy?: TrustProxy;
  /** Events per second per client IP; 0 = off (default 100). */
  rateLimit?: number;
  /** When set, `/_events` shows stored events live. */
  feed?: EventFeed;
  /** Mode name shown on the events page and /healthz (e.g. "embedded" or "upstream"). */
  mode?: string;
  /** Upstream host for /healthz (never the URL: it carries no token, but keep it short). */
  upstreamHost?: string;
  logger?: Logger;
  /** Wall-clock ms (Date.now): when events were received, and ages on /healthz. */
  now?: () => number;
  /**
   * Monotonic ms (default `performance.now()`): every interval — rate limit, de-duplication
   * window, reject-log window. A wall clock stepped back an hour locked every client out of a
   * rate limiter measured with `Date.now` (429, `Retry-After: 3590`).
   */
  clock?: () => number;
  newId?: () => string;
  /** Answer for paths that are not the relay's (the Node adapter serves static files here). */
  fallback?: (request: Request) => Response | Promise<Response>;
  /** Reject-count summaries are logged at most this often (default 10 s). */
  logWindowMs?: number;
  /** Told what the intake decided, event by event (metrics; see observe.ts). */
  observe?: RelayObserver;
}

export interface RelayHandler {
  (request: Request, conn?: ConnInfo): Promise<Response>;
  /**
   * The same answer before it becomes a `Response`: a plain `Reply` on the relay's own routes
   * (a `Response` where one is streamed or comes from `fallback`). For adapters that write the
   * answer to a socket themselves; see reply.ts for why.
   */
  reply(request: Request, conn?: ConnInfo): Promise<Reply | Response>;
  /** `TRUST_PROXY` as configured: the Node adapter decides each request's context with it (request-context.ts). */
  trustProxy: TrustProxy;
  /** True when `pathname` is one of the relay's routes (for framework mounts that fall through). */
  handles(pathname: string): boolean;
  /**
   * The most body bytes `pathname` takes (64 KiB on the collect routes, a little elsewhere):
   * adapters stop reading there and answer 413, rather than buffer a large upload first.
   */
  bodyLimit(pathname: string): number;
  /** The answer to a request an adapter refuses itself (a body over `bodyLimit`), counted with the relay's own refusals. */
  refuse(error: unknown, route: string): Reply;
  /** Rejects by reason since start. */
  rejects(): Record<string, number>;
  /** Log the reject counts of the current window now (on shutdown). */
  flushLogs(): void;
}

/**
 * Create the relay handler.
 *
 * @example
 *   const spool = createMemorySpool();
 *   const relay = createRelay({ spool, apiKey: 'YOUR_KEY' });
 *   const res = await relay(new Request('http://localhost/u/e', {
 *     method: 'POST',
 *     headers: { 'content-type': 'text/plain' },
 *     body: JSON.stringify([{ event_type: 'pageview', user: { anonymous_id: crypto.randomUUID() } }]),
 *   }));
 *   // res.status === 200, and the event is in the spool
 */
export function createRelay(options: RelayOptions): RelayHandler {
  const paths: RelayPaths = { ...DEFAULT_PATHS, ...options.paths };
  const log = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const clock = options.clock ?? monotonic;
  const newId = options.newId ?? (() => crypto.randomUUID());
  const trust = options.trustProxy ?? trustNothing;
  const mode = options.mode ?? 'relay';
  const rejects = createRejectLog({ log, clock, windowMs: options.logWindowMs });
  const origins = createOriginPolicy(options.allowedOrigins ?? []);
  const ingest = createIngest({
    spool: options.spool,
    apiKey: options.apiKey,
    onStored: options.onStored,
    feed: options.feed,
    rateLimit: options.rateLimit ?? 100,
    cookieDomain: options.cookieDomain,
    trust,
    origins,
    log,
    now,
    clock,
    newId,
    onRefused: (code, route, message) => {
      rejects.count(code, route, 400, message);
      const intake = options.observe && intakeOf(paths, route);
      if (intake) options.observe!.refused(intake, code, 1, false);
    },
    observe: options.observe,
    // Counted with the refusals: events lost before they reached the relay, shown in /healthz.
    onDroppedInBrowser: (count, route) => rejects.count('dropped_in_browser', route, 200, 'the tracker dropped events its outbox could not keep (bytes or age)', count),
  });
  const script = options.script
    ? createScriptServer(options.script, paths.collect, {
        onMissingLiteral: () => log.warn('tracker has no "/u/e" literal to rewrite; it will post to /u/e', { collect: paths.collect }),
        ...(options.precompress ? { precompress: options.precompress } : {}),
      })
    : null;
  const extras = options.extras ? createScriptServer(options.extras, '/u/e', options.precompress ? { precompress: options.precompress } : {}) : null;
  const health = { spool: options.spool, forwarderStatus: options.forwarderStatus, mode, upstreamHost: options.upstreamHost, rejects: rejects.totals, now };
  const router = createRouter({
    paths,
    ingest,
    origins,
    trust,
    script: (request) => scriptReply(script, request),
    extras: (request) => scriptReply(extras, request),
    health: () => healthReply(health),
    feed: options.feed,
    mode,
    fallback: options.fallback,
    rejects,
    log,
    observe: options.observe,
  });

  const handler = (async (request: Request, conn?: ConnInfo) => toResponse(await router.answer(request, conn))) as RelayHandler;
  handler.reply = router.answer;
  handler.trustProxy = trust;
  handler.handles = router.handles;
  handler.bodyLimit = router.bodyLimit;
  handler.refuse = router.refuse;
  handler.rejects = () => ({ ...rejects.totals });
  handler.flushLogs = () => rejects.flush();
  return handler;
}

/**
 * The relay core: one Web-standard handler, `(Request) => Promise<Response>`. Storage (the
 * spool), clock, logger and the tracker source are passed in; nothing here touches the file
 * system or the network, so the same handler runs under node:http, Express, Next.js or an
 * edge runtime.
 */
import { LIMITS, ANON_COOKIE, isAnonymousId } from '../shared/event.ts';
import { anonCookie, anonymousIdOf, readCookie } from './cookie.ts';
import { clientAddress, trustNothing, type TrustProxy } from './client-ip.ts';
import { createDedupeWindow } from './dedupe.ts';
import { enrich } from './enrich.ts';
import { RelayError, errorCode, errorReply } from './errors.ts';
import { eventsData, eventsPage, eventsStream } from './events-page.ts';
import type { EventFeed } from './feed.ts';
import type { ForwarderStatus } from '../delivery/forwarder.ts';
import { silentLogger, type Logger } from '../delivery/log.ts';
import { fromOfficial, officialCookieName } from './official.ts';
import { GIF, pixelEvent } from './pixel.ts';
import { createRateLimiter } from './rate-limit.ts';
import { json, Reply, toResponse } from './reply.ts';
import { acceptsGzip, createScriptServer, etagMatches } from './script.ts';
import type { Spool } from '../delivery/spool.ts';
import { checkEvent, parseEvents, readBody, type JsonObject } from './validate.ts';

export interface RelayPaths {
  /** The tracker script (default `/u.js`). */
  script: string;
  /** Events from the tracker (default `/u/e`). */
  collect: string;
  /** The `<noscript>` pixel (default `/u/p.gif`). */
  pixel: string;
  /** What the official Usermaven SDK posts to (default `/api/v1/event`). */
  official: string;
  /** The live events page (default `/_events`; also `/data` and `/stream` below it). */
  events: string;
  /** Health check (default `/healthz`). */
  health: string;
}

export const DEFAULT_PATHS: RelayPaths = {
  script: '/u.js',
  collect: '/u/e',
  pixel: '/u/p.gif',
  official: '/api/v1/event',
  events: '/_events',
  health: '/healthz',
};

export interface RelayOptions {
  /** Where accepted events go; `append` must be durable before it resolves. */
  spool: Spool;
  /** The public API key, stamped on every event. Absent = embedded mode (any official token accepted). */
  apiKey?: string | undefined;
  /** Called after events were stored (e.g. `forwarder.kick`). */
  onStored?: () => void;
  /** Upstream state for /healthz. */
  forwarderStatus?: () => ForwarderStatus;
  /** The built tracker source (e.g. read from `public/u.js`); null when not built. */
  script?: () => string | null | Promise<string | null>;
  paths?: Partial<RelayPaths>;
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
  now?: () => number;
  newId?: () => string;
  /** Answer for paths that are not the relay's (the Node adapter serves static files here). */
  fallback?: (request: Request) => Response | Promise<Response>;
  /** Reject-count summaries are logged at most this often (default 10 s). */
  logWindowMs?: number;
}

/** Per-connection facts a Web `Request` does not carry. */
export interface ConnInfo {
  remoteAddress?: string | undefined;
  /** The request body, when the adapter has already read it into memory (saves a stream). */
  body?: Uint8Array | undefined;
  /** `request.url` already parsed by the adapter (saves parsing it again); must be the same URL. */
  url?: URL | undefined;
}

export interface RelayHandler {
  (request: Request, conn?: ConnInfo): Promise<Response>;
  /**
   * The same answer before it becomes a `Response`: a plain `Reply` on the relay's own routes
   * (a `Response` where one is streamed or comes from `fallback`). For adapters that write the
   * answer to a socket themselves; see reply.ts for why.
   */
  reply(request: Request, conn?: ConnInfo): Promise<Reply | Response>;
  /** True when `pathname` is one of the relay's routes (for framework mounts that fall through). */
  handles(pathname: string): boolean;
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
  const newId = options.newId ?? (() => crypto.randomUUID());
  const trust = options.trustProxy ?? trustNothing;
  const allowed = new Set((options.allowedOrigins ?? []).map((o) => o.replace(/\/$/, '').toLowerCase()));
  const rate = options.rateLimit ?? 100;
  // The burst fits at least one full request, so a tracker flushing its queue is never stuck.
  const limiter = rate > 0 ? createRateLimiter({ rate, burst: Math.max(rate * 10, LIMITS.eventsPerRequest), now }) : null;
  const dedupe = createDedupeWindow({ now });
  const script = options.script
    ? createScriptServer(options.script, paths.collect, () => log.warn('tracker has no "/u/e" literal to rewrite; it will post to /u/e', { collect: paths.collect }))
    : null;
  const eventsRoutes = options.feed ? new Set([paths.events, `${paths.events}/data`, `${paths.events}/stream`]) : new Set<string>();
  const own = new Set([paths.script, paths.collect, paths.pixel, paths.official, paths.health, ...eventsRoutes]);

  const rejectTotals: Record<string, number> = {};
  let windowCounts: Record<string, number> = {};
  /** Rejects counted in the current window (so the per-request check needs no `Object.keys`). */
  let windowCounted = 0;
  let windowStart = now();
  const windowMs = options.logWindowMs ?? 10_000;
  const countReject = (code: string, route: string, status: number, message: string) => {
    rejectTotals[code] = (rejectTotals[code] ?? 0) + 1;
    // The first of each reason is logged at once with its message; after that, counts per
    // window, so a flood produces a line every few seconds rather than one per request.
    if (rejectTotals[code] === 1) log.warn('rejected', { reason: code, status, route, message });
    else {
      windowCounts[code] = (windowCounts[code] ?? 0) + 1;
      windowCounted++;
    }
    flushRejects();
  };
  const flushRejects = (force = false) => {
    const t = now();
    if (!force && t - windowStart < windowMs) return;
    if (windowCounted > 0) log.info('rejected (counted)', { counts: windowCounts, windowMs: t - windowStart });
    windowCounts = {};
    windowCounted = 0;
    windowStart = t;
  };

  const answer = async (request: Request, conn: ConnInfo = {}): Promise<Reply | Response> => {
    const url = conn.url ?? new URL(request.url);
    const route = url.pathname;
    // Any request may close a reject-count window, so counts are logged even after a flood ends.
    if (windowCounted > 0) flushRejects();
    try {
      if (!own.has(route)) {
        if (options.fallback) return await options.fallback(request);
        throw new RelayError(404, 'not_found', `no route ${route}`);
      }
      const method = request.method;
      if (route === paths.collect || route === paths.official) {
        if (method === 'OPTIONS') return preflight(request, url);
        if (method !== 'POST') throw methodNotAllowed('POST');
        return await collect(request, url, conn, route === paths.official);
      }
      if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed('GET');
      if (route === paths.script) return await serveScript(request);
      if (route === paths.pixel) return await pixel(request, url, conn);
      if (route === paths.health) return health();
      if (route === paths.events) return eventsPage(paths.events, options.mode ?? 'relay');
      if (route === `${paths.events}/data`) return eventsData(options.feed!);
      if (route === `${paths.events}/stream`) return eventsStream(options.feed!, request.signal);
      throw new RelayError(404, 'not_found', `no route ${route}`);
    } catch (error) {
      const res = errorReply(error, route);
      const code = errorCode(error);
      if (code === 'internal') log.error('request failed', { route, reason: error instanceof Error ? error.message : String(error) });
      else countReject(code, route, res.status, error instanceof Error ? error.message : '');
      return res;
    }
  };
  const handler = (async (request: Request, conn?: ConnInfo) => toResponse(await answer(request, conn))) as RelayHandler;

  async function collect(request: Request, url: URL, conn: ConnInfo, official: boolean): Promise<Reply> {
    const origin = checkOrigin(request, url);
    const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== '' && type !== 'text/plain' && type !== 'application/json') {
      throw new RelayError(415, 'content_type', `content-type ${type} is not accepted; send text/plain or application/json`);
    }
    let apiKey = options.apiKey;
    if (official) {
      const token = url.searchParams.get('token') ?? '';
      if (apiKey === undefined) apiKey = /^[A-Za-z0-9_.-]{1,100}$/.test(token) ? token : 'local';
      else if (token !== apiKey) throw new RelayError(403, 'wrong_key', 'token does not match the API key this relay is configured for');
    }
    const ip = addressOf(request, conn);
    let events: JsonObject[];
    try {
      events = parseEvents(await readBody(request, LIMITS.bodyBytes, conn.body));
      if (official) events = events.map(fromOfficial);
    } catch (error) {
      // Garbage costs a token too, so a flood of bad bodies ends in 429 like any other flood.
      takeTokens(ip, 1);
      throw error;
    }
    takeTokens(ip, events.length);
    // The official SDK's `ipPolicy: 'strict'` asks that the visitor's address not be kept.
    const keepIp = !(official && url.searchParams.get('ip_policy') === 'strict');
    const stored = await store(events, request, keepIp ? ip : undefined, apiKey ?? 'local');
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
    corsHeaders(headers, origin);
    const id = anonymousIdOf(events);
    const cookieName = official ? officialCookieName(apiKey ?? '') : ANON_COOKIE;
    const cookies = id && cookieName ? [anonCookie(id, { secure: isSecure(request, url), name: cookieName })] : [];
    const body = official ? '{"status":"ok"}' : `{"status":"ok","stored":${stored.stored},"duplicates":${stored.duplicates}}`;
    return new Reply(200, headers, body, cookies);
  }

  /** Enrich, drop recent duplicates, append durably; only then remember the ids. */
  async function store(events: JsonObject[], request: Request, ip: string | undefined, apiKey: string) {
    const t = now();
    const userAgent = request.headers.get('user-agent');
    const records: string[] = [];
    const accepted: JsonObject[] = [];
    const ids: string[] = [];
    // Most requests carry one event: no set of ids seen in this request is needed then.
    const inRequest = events.length > 1 ? new Set<string>() : null;
    const ctx = { apiKey, now: t, sourceIp: ip, userAgent, newId };
    for (const event of events) {
      const out = enrich(event, ctx);
      const id = out.event_id;
      if (dedupe.has(id) || inRequest?.has(id)) continue;
      inRequest?.add(id);
      ids.push(id);
      accepted.push(out);
      records.push(JSON.stringify(out));
    }
    if (records.length > 0) {
      await options.spool.append(records);
      for (const id of ids) dedupe.add(id);
      options.feed?.push(accepted);
      options.onStored?.();
    }
    return { stored: records.length, duplicates: events.length - records.length };
  }

  async function pixel(request: Request, url: URL, conn: ConnInfo): Promise<Reply> {
    checkOrigin(request, url, true);
    const ip = addressOf(request, conn);
    takeTokens(ip, 1);
    const headers = { 'content-type': 'image/gif', 'cache-control': 'no-store, max-age=0' };
    if (request.method === 'HEAD') return new Reply(200, headers);
    const event = pixelEvent(url, request.headers.get('referer'));
    let id = readCookie(request.headers.get('cookie'));
    if (!isAnonymousId(id)) id = newId();
    event['user'] = { anonymous_id: id };
    checkEvent(event, 0);
    await store([event], request, ip, options.apiKey ?? 'local');
    return new Reply(200, headers, GIF, [anonCookie(id, { secure: isSecure(request, url) })]);
  }

  async function serveScript(request: Request): Promise<Reply> {
    const served = script ? await script() : null;
    if (!served) throw new RelayError(404, 'not_built', 'the tracker is not built; run `npm run build`');
    const gzip = served.gzip && acceptsGzip(request.headers.get('accept-encoding')) ? served.gzip : null;
    const etag = gzip ? served.gzipEtag : served.etag;
    const headers: Record<string, string> = {
      'content-type': 'text/javascript; charset=utf-8',
      // A fixed URL cannot be immutable: cache for an hour, revalidate cheaply with the ETag.
      'cache-control': 'public, max-age=3600, stale-while-revalidate=86400',
      etag,
      vary: 'Accept-Encoding',
    };
    if (gzip) headers['content-encoding'] = 'gzip';
    if (etagMatches(request.headers.get('if-none-match'), etag)) return new Reply(304, headers);
    if (request.method === 'HEAD') return new Reply(200, headers);
    return new Reply(200, headers, gzip ?? served.body);
  }

  function health(): Reply {
    const stats = options.spool.stats();
    const fwd = options.forwarderStatus?.();
    const t = now();
    const body = {
      status: fwd && fwd.consecutiveFailures > 0 ? 'degraded' : 'ok',
      mode: options.mode ?? 'relay',
      spool: { depth: stats.depth, bytes: stats.bytes, oldestUnsentAgeMs: stats.oldestAt === undefined ? null : Math.max(0, t - stats.oldestAt) },
      upstream: fwd
        ? {
            host: options.upstreamHost ?? null,
            state: fwd.state,
            lastStatus: fwd.lastStatus ?? null,
            lastError: fwd.lastError ?? null,
            lastSuccessAgeMs: fwd.lastSuccessAt === undefined ? null : t - fwd.lastSuccessAt,
            consecutiveFailures: fwd.consecutiveFailures,
            sentEvents: fwd.sentEvents,
            sentRequests: fwd.sentRequests,
            deadLettered: fwd.deadLettered,
          }
        : null,
      rejects: rejectTotals,
    };
    return json(200, body);
  }

  let warnedProxy = false;
  function addressOf(request: Request, conn: ConnInfo): string | undefined {
    const forwarded = request.headers.get('x-forwarded-for');
    if (forwarded && !trust.enabled && !warnedProxy) {
      // Behind a proxy with TRUST_PROXY off, every visitor looks like the proxy: one rate-limit
      // bucket for the whole site and the proxy's address as source_ip. Say so once.
      warnedProxy = true;
      log.warn('requests carry X-Forwarded-For but TRUST_PROXY is off', {
        hint: 'behind a proxy, set TRUST_PROXY (e.g. loopback, a CIDR or a hop count); otherwise all clients share one address',
        peer: conn.remoteAddress ?? null,
      });
    }
    return clientAddress(conn.remoteAddress, forwarded, trust);
  }

  function takeTokens(ip: string | undefined, cost: number) {
    if (!limiter) return;
    const waitMs = limiter.take(ip ?? 'unknown', cost);
    if (waitMs > 0) {
      throw new RelayError(429, 'rate_limited', `too many events from this address; retry in ${Math.ceil(waitMs / 1000)} s`, {
        'retry-after': String(Math.ceil(waitMs / 1000)),
      });
    }
  }

  /**
   * With ALLOWED_ORIGINS set, a cross-origin sender must be listed. Same-origin is always
   * allowed. Browsers send `Origin` on every POST (Fetch standard, "origin serialization");
   * image requests carry only `Referer`, so the pixel checks that instead.
   * Returns the cross-origin Origin to echo in CORS headers, if any.
   */
  function checkOrigin(request: Request, url: URL, useReferer = false): string | undefined {
    let origin = request.headers.get('origin');
    if (!origin && useReferer) {
      const referer = request.headers.get('referer');
      try {
        origin = referer ? new URL(referer).origin : null;
      } catch {
        origin = null;
      }
    }
    if (!origin || origin === 'null') {
      if (allowed.size > 0) throw new RelayError(403, 'origin', 'ALLOWED_ORIGINS is set and the request names no origin');
      return undefined;
    }
    const normalized = origin.toLowerCase();
    if (normalized === requestOrigin(request, url)) return undefined;
    if (allowed.size > 0 && !allowed.has(normalized)) throw new RelayError(403, 'origin', `origin ${origin} is not in ALLOWED_ORIGINS`);
    return origin;
  }

  function preflight(request: Request, url: URL): Reply {
    const origin = checkOrigin(request, url);
    const headers: Record<string, string> = {
      'access-control-allow-methods': 'POST, OPTIONS',
      'access-control-allow-headers': 'content-type',
      'access-control-max-age': '86400',
    };
    corsHeaders(headers, origin);
    return new Reply(204, headers);
  }

  function requestOrigin(request: Request, url: URL): string {
    if (!trust.enabled) return url.origin.toLowerCase();
    const proto = request.headers.get('x-forwarded-proto')?.split(',')[0]?.trim();
    const host = request.headers.get('x-forwarded-host')?.split(',')[0]?.trim();
    return `${proto ?? url.protocol.slice(0, -1)}://${host ?? url.host}`.toLowerCase();
  }

  /** `Secure` when the browser talks https to us or, behind a trusted proxy, to the proxy. */
  function isSecure(request: Request, url: URL): boolean {
    if (url.protocol === 'https:') return true;
    return trust.enabled && request.headers.get('x-forwarded-proto')?.split(',')[0]?.trim() === 'https';
  }

  handler.reply = answer;
  handler.handles = (pathname) => own.has(pathname);
  handler.rejects = () => ({ ...rejectTotals });
  handler.flushLogs = () => flushRejects(true);
  return handler;
}

/** Only the collect routes (no `vary` of their own) use this, so `vary` is set, not appended. */
function corsHeaders(headers: Record<string, string>, origin: string | undefined) {
  if (!origin) return;
  headers['access-control-allow-origin'] = origin;
  headers['access-control-allow-credentials'] = 'true';
  headers['vary'] = 'Origin';
}

const methodNotAllowed = (allow: string) => new RelayError(405, 'method', `use ${allow}`, { allow: allow === 'GET' ? 'GET, HEAD' : 'POST, OPTIONS' });

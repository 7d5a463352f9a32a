/**
 * The ingest pipeline of the routes that take events (`/u/e`, the official SDK's route, the
 * pixel): origin check → content type → body within its limit → parse and check → rate limit
 * by client address → enrich → drop recent duplicates → durable append → cookie. A 2xx leaves
 * here only after the spool's `append` resolved.
 */
import { LIMITS } from '../shared/event.ts';
import { ANON_COOKIE, anonymousIdOf, cookieDomain, officialCookieDomain, officialCookieName, visitorCookie, visitorIdFrom } from '../shared/visitor-id.ts';
import type { Logger } from '../delivery/log.ts';
import type { Spool } from '../delivery/spool.ts';
import { clientAddress, type TrustProxy } from './client-ip.ts';
import { createDedupeWindow } from './dedupe.ts';
import { enrich } from './enrich.ts';
import { RelayError } from './errors.ts';
import type { EventFeed } from './feed.ts';
import { fromOfficial } from './official.ts';
import { corsHeaders, type OriginPolicy } from './origin.ts';
import { GIF, pixelEvent } from './pixel.ts';
import { createRateLimiter } from './rate-limit.ts';
import { Reply } from './reply.ts';
import { checkEvent, parseEvents, readBody, type JsonObject } from './validate.ts';

/** Per-connection facts a Web `Request` does not carry. */
export interface ConnInfo {
  remoteAddress?: string | undefined;
  /** The request body, when the adapter has already read it into memory (saves a stream). */
  body?: Uint8Array | undefined;
  /** `request.url` already parsed by the adapter (saves parsing it again); must be the same URL. */
  url?: URL | undefined;
}

export interface IngestOptions {
  spool: Pick<Spool, 'append'>;
  apiKey?: string | undefined;
  onStored?: (() => void) | undefined;
  feed?: EventFeed | undefined;
  /** Events per second per client IP; 0 = off. */
  rateLimit: number;
  /** `COOKIE_DOMAIN`: see `cookieDomain` in src/shared/visitor-id.ts. */
  cookieDomain?: string | undefined;
  trust: TrustProxy;
  origins: OriginPolicy;
  log: Logger;
  /** Wall-clock ms: the receive time stamped on events. */
  now: () => number;
  /** Monotonic ms: the rate limit's refill and the de-duplication window. */
  clock: () => number;
  newId: () => string;
}

export interface Ingest {
  /** `POST` on the collect route, or on the official SDK's route when `official`. */
  collect(request: Request, url: URL, conn: ConnInfo, official: boolean): Promise<Reply>;
  /** `GET`/`HEAD` on the pixel. */
  pixel(request: Request, url: URL, conn: ConnInfo): Promise<Reply>;
}

export function createIngest(options: IngestOptions): Ingest {
  const { spool, trust, origins, log, now, clock, newId } = options;
  const rate = options.rateLimit;
  // The burst fits at least one full request, so a tracker flushing its queue is never stuck.
  const limiter = rate > 0 ? createRateLimiter({ rate, burst: Math.max(rate * 10, LIMITS.eventsPerRequest), now: clock }) : null;
  const dedupe = createDedupeWindow({ now: clock });

  async function collect(request: Request, url: URL, conn: ConnInfo, official: boolean): Promise<Reply> {
    const origin = origins.check(request, url);
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
    const cookies = id && cookieName ? [visitorCookie(id, { secure: origins.isSecure(request, url), name: cookieName, domain: visitorDomain(request, url, official) })] : [];
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
      await spool.append(records);
      for (const id of ids) dedupe.add(id);
      options.feed?.push(accepted);
      options.onStored?.();
    }
    return { stored: records.length, duplicates: events.length - records.length };
  }

  async function pixel(request: Request, url: URL, conn: ConnInfo): Promise<Reply> {
    origins.check(request, url, true);
    const ip = addressOf(request, conn);
    takeTokens(ip, 1);
    const headers = { 'content-type': 'image/gif', 'cache-control': 'no-store, max-age=0' };
    if (request.method === 'HEAD') return new Reply(200, headers);
    const event = pixelEvent(url, request.headers.get('referer'));
    const id = visitorIdFrom(request.headers.get('cookie')) ?? newId();
    event['user'] = { anonymous_id: id };
    checkEvent(event, 0);
    await store([event], request, ip, options.apiKey ?? 'local');
    return new Reply(200, headers, GIF, [visitorCookie(id, { secure: origins.isSecure(request, url), domain: visitorDomain(request, url, false) })]);
  }

  /**
   * The `Domain` of the visitor cookie for this request (src/shared/visitor-id.ts has the rule).
   * The tracker reports its cookie's domain as `d` in the query of /u/e (a `<noscript>` pixel
   * may carry one in its src too); on the official SDK's route the relay follows that SDK's
   * own choice.
   */
  function visitorDomain(request: Request, url: URL, official: boolean): string | undefined {
    const host = origins.host(request, url);
    if (official) return officialCookieDomain(host, options.cookieDomain);
    return cookieDomain(host, { configured: options.cookieDomain, reported: url.searchParams.get('d') });
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

  return { collect, pixel };
}

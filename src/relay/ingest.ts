/**
 * The ingest pipeline of the routes that take events (`/u/e`, the official SDK's route, the
 * pixel): origin check → content type → body within its limit → parse → rate limit by client
 * address → per event: expand (u.js's compact form) and check, refused ones named in the
 * answer → the page's privacy policy (IP, cookie) → enrich → drop recent duplicates →
 * durable append → cookie. A 2xx leaves
 * here only after the spool's `append` resolved.
 */
import { LIMITS } from '../shared/event.ts';
import { ANON_COOKIE, anonymousIdOf, cookieDomain, officialCookieDomain, officialCookieName, visitorCookie, visitorIdFrom } from '../shared/visitor-id.ts';
import type { Logger } from '../delivery/log.ts';
import type { Spool } from '../delivery/spool.ts';
import type { TrustProxy } from './client-ip.ts';
import { createDedupeWindow } from './dedupe.ts';
import { enrich } from './enrich.ts';
import { RelayError } from './errors.ts';
import type { EventFeed } from './feed.ts';
import { fromOfficial } from './official.ts';
import { corsHeaders, type OriginPolicy } from './origin.ts';
import type { RequestContext } from './request-context.ts';
import { GIF, pixelEvent } from './pixel.ts';
import { createRateLimiter } from './rate-limit.ts';
import { Reply } from './reply.ts';
import { checkEvent, parseBatch, readBody, type JsonObject } from './validate.ts';
import { droppedBefore, fromTracker } from './tracker-events.ts';
import { refusing, type RelayObserver } from './observe.ts';
import { applyIpPolicy, pagePolicy } from './privacy-policy.ts';

/** Per-connection facts a Web `Request` does not carry. */
export interface ConnInfo {
  remoteAddress?: string | undefined;
  /** The request body, when the adapter has already read it into memory (saves a stream). */
  body?: Uint8Array | undefined;
  /** `request.url` already parsed by the adapter (saves parsing it again); must be the same URL. */
  url?: URL | undefined;
  /**
   * Peer, trust, client IP, host and protocol, decided by the adapter (request-context.ts);
   * when absent, the relay decides it from `remoteAddress` and its `TRUST_PROXY`.
   */
  context?: RequestContext | undefined;
}

export interface IngestOptions {
  spool: Pick<Spool, 'append'>;
  apiKey?: string | undefined;
  onStored?: (() => void) | undefined;
  feed?: EventFeed | undefined;
  /** Events per second per client IP; 0 = off. */
  rateLimit: number;
  /** Called with how many events a tracker's outbox dropped (`o`), once the batch that says so is stored. */
  onDroppedInBrowser?: ((count: number, route: string) => void) | undefined;
  /** Called for each event refused out of a batch whose other events were stored (for the reject log). */
  onRefused?: ((code: string, route: string, message: string) => void) | undefined;
  /** Told how many events each request stored (metrics); refusals reach it through the router. */
  observe?: RelayObserver | undefined;
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
  collect(request: Request, url: URL, context: RequestContext, conn: ConnInfo, official: boolean): Promise<Reply>;
  /** `GET`/`HEAD` on the pixel. */
  pixel(request: Request, url: URL, context: RequestContext): Promise<Reply>;
}

export function createIngest(options: IngestOptions): Ingest {
  const { spool, trust, origins, log, now, clock, newId } = options;
  const rate = options.rateLimit;
  // The burst fits at least one full request, so a tracker flushing its queue is never stuck.
  const limiter = rate > 0 ? createRateLimiter({ rate, burst: Math.max(rate * 10, LIMITS.eventsPerRequest), now: clock }) : null;
  const dedupe = createDedupeWindow({ now: clock });

  async function collect(request: Request, url: URL, context: RequestContext, conn: ConnInfo, official: boolean): Promise<Reply> {
    const origin = origins.check(request, context);
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
    const ip = addressOf(request, context);
    let batch: unknown[];
    try {
      batch = parseBatch(await readBody(request, LIMITS.bodyBytes, conn.body));
    } catch (error) {
      // Garbage costs a token too, so a flood of bad bodies ends in 429 like any other flood.
      takeTokens(ip, 1);
      throw error;
    }
    takeTokens(ip, batch.length);
    const facts = { userAgent: request.headers.get('user-agent'), acceptLanguage: request.headers.get('accept-language'), cookie: request.headers.get('cookie') };
    const policy = pagePolicy(url);
    // One bad event does not sink its batch: the valid ones are stored, each refused one is
    // named in the answer, and only a batch with no valid event is refused as a whole.
    const events: JsonObject[] = [];
    /** Each stored candidate's index in the batch, for the answer. */
    const indexes: number[] = [];
    const refused: { index: number; error: string; message: string }[] = [];
    let firstError: unknown;
    let dropped = 0;
    batch.forEach((raw, i) => {
      try {
        if (!official) dropped += droppedBefore(raw);
        const event = official ? raw : fromTracker(raw, facts);
        checkEvent(event, i);
        const out = official ? fromOfficial(event) : event;
        if (policy.cookie !== 'keep') out['cookie_policy'] = policy.cookie;
        if (policy.ip !== 'keep') out['ip_policy'] = policy.ip;
        events.push(out);
        indexes.push(i);
      } catch (error) {
        if (!(error instanceof RelayError)) throw error;
        firstError ??= error;
        refused.push({ index: i, error: error.code, message: error.message });
      }
    });
    if (events.length === 0) throw refusing(firstError, refused.length);
    const stored = await store(events, request, applyIpPolicy(ip, policy.ip), apiKey ?? 'local', (k, bytes) => {
      const error = eventTooLarge(indexes[k]!, bytes);
      firstError ??= error;
      refused.push({ index: indexes[k]!, error: error.code, message: error.message });
    });
    if (stored.stored + stored.duplicates === 0) throw refusing(firstError, refused.length);
    refused.sort((a, b) => a.index - b.index);
    for (const r of refused) options.onRefused?.(r.error, url.pathname, r.message);
    options.observe?.stored(official ? 'official' : 'tracker', stored.stored);
    if (dropped > 0) options.onDroppedInBrowser?.(dropped, url.pathname);
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
    corsHeaders(headers, origin);
    // Cookieless (`cookie_policy` strict, or comply, which the relay cannot tell apart): no cookie.
    const id = policy.cookie === 'keep' ? anonymousIdOf(events) : undefined;
    const cookieName = official ? officialCookieName(apiKey ?? '') : ANON_COOKIE;
    const cookies = id && cookieName ? [visitorCookie(id, { secure: context.protocol === 'https', name: cookieName, domain: visitorDomain(context, url, official) })] : [];
    const more = refused.length ? `,"refused":${JSON.stringify(refused)}` : '';
    const body = official ? `{"status":"ok"${more}}` : `{"status":"ok","stored":${stored.stored},"duplicates":${stored.duplicates}${more}}`;
    return new Reply(200, headers, body, cookies);
  }

  /**
   * Enrich, drop recent duplicates, refuse what is too big to store (`onTooBig`, with the
   * event's position in `events`), append durably; only then remember the ids.
   */
  async function store(events: JsonObject[], request: Request, ip: string | undefined, apiKey: string, onTooBig: (k: number, bytes: number) => void) {
    const t = now();
    const userAgent = request.headers.get('user-agent');
    const records: string[] = [];
    const accepted: JsonObject[] = [];
    const ids: string[] = [];
    // Most requests carry one event: no set of ids seen in this request is needed then.
    const inRequest = events.length > 1 ? new Set<string>() : null;
    const ctx = { apiKey, now: t, sourceIp: ip, userAgent, newId };
    let tooBig = 0;
    events.forEach((event, k) => {
      const out = enrich(event, ctx);
      const id = out.event_id;
      if (dedupe.has(id) || inRequest?.has(id)) return;
      const record = JSON.stringify(out);
      const bytes = oversize(record);
      if (bytes) {
        tooBig++;
        return onTooBig(k, bytes);
      }
      inRequest?.add(id);
      ids.push(id);
      accepted.push(out);
      records.push(record);
    });
    if (records.length > 0) {
      try {
        await spool.append(records);
      } catch (error) {
        throw refusing(error, records.length);
      }
      for (const id of ids) dedupe.add(id);
      options.feed?.push(accepted);
      options.onStored?.();
    }
    return { stored: records.length, duplicates: events.length - records.length - tooBig };
  }

  async function pixel(request: Request, url: URL, context: RequestContext): Promise<Reply> {
    origins.check(request, context, true);
    const ip = addressOf(request, context);
    takeTokens(ip, 1);
    const headers = { 'content-type': 'image/gif', 'cache-control': 'no-store, max-age=0' };
    if (request.method === 'HEAD') return new Reply(200, headers);
    const event = pixelEvent(url, request.headers.get('referer'));
    const id = visitorIdFrom(request.headers.get('cookie')) ?? newId();
    event['user'] = { anonymous_id: id };
    checkEvent(event, 0);
    const stored = await store([event], request, ip, options.apiKey ?? 'local', (_, bytes) => {
      throw eventTooLarge(0, bytes);
    });
    options.observe?.stored('pixel', stored.stored);
    return new Reply(200, headers, GIF, [visitorCookie(id, { secure: context.protocol === 'https', domain: visitorDomain(context, url, false) })]);
  }

  /**
   * The `Domain` of the visitor cookie for this request (src/shared/visitor-id.ts has the rule).
   * The tracker reports its cookie's domain as `d` in the query of /u/e (a `<noscript>` pixel
   * may carry one in its src too); on the official SDK's route the relay follows that SDK's
   * own choice.
   */
  function visitorDomain(context: RequestContext, url: URL, official: boolean): string | undefined {
    const { host } = context;
    if (official) return officialCookieDomain(host, options.cookieDomain);
    return cookieDomain(host, { configured: options.cookieDomain, reported: url.searchParams.get('d') });
  }

  let warnedProxy = false;
  function addressOf(request: Request, context: RequestContext): string | undefined {
    if (!trust.enabled && !warnedProxy && request.headers.has('x-forwarded-for')) {
      // Behind a proxy with TRUST_PROXY off, every visitor looks like the proxy: one rate-limit
      // bucket for the whole site and the proxy's address as source_ip. Say so once.
      warnedProxy = true;
      log.warn('requests carry X-Forwarded-For but TRUST_PROXY is off', {
        hint: 'behind a proxy, set TRUST_PROXY (e.g. loopback, a CIDR or a hop count); otherwise all clients share one address',
        peer: context.peer ?? null,
      });
    }
    return context.clientIp;
  }

  function takeTokens(ip: string | undefined, cost: number) {
    if (!limiter) return;
    const waitMs = limiter.take(ip ?? 'unknown', cost);
    if (waitMs > 0) {
      throw refusing(new RelayError(429, 'rate_limited', `too many events from this address; retry in ${Math.ceil(waitMs / 1000)} s`, {
        'retry-after': String(Math.ceil(waitMs / 1000)),
      }), cost);
    }
  }

  return { collect, pixel };
}

/**
 * The one rule of "too big to store" (`LIMITS.storedEventBytes`, one queue message at the
 * edge), applied to the enriched record by every runtime. A UTF-8 string is at most three
 * bytes per UTF-16 unit, so most records are cleared without being encoded.
 */
function oversize(record: string): number | undefined {
  if (record.length * 3 <= LIMITS.storedEventBytes) return undefined;
  const bytes = utf8.encode(record).length;
  return bytes > LIMITS.storedEventBytes ? bytes : undefined;
}

const eventTooLarge = (index: number, bytes: number) =>
  new RelayError(413, 'event_too_large', `event ${index}: ${bytes} bytes once enriched (its url is also stored as doc_search, utm and more); at most ${LIMITS.storedEventBytes} bytes per event`);

const utf8 = new TextEncoder();

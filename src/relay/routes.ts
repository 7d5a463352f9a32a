/**
 * Routing: which path and method go to which answer, and the one place a failure becomes an
 * answer (errors.ts) and a count in the reject log. Paths that are not the relay's go to
 * `fallback` (the Node adapter serves static files there) or get 404.
 */
import type { Logger } from '../delivery/log.ts';
import { LIMITS } from '../shared/event.ts';
import { RelayError, errorCode, errorReply } from './errors.ts';
import { eventsData, eventsPage, eventsStream, STREAM_HEADERS } from './events-page.ts';
import type { EventFeed } from './feed.ts';
import type { ConnInfo, Ingest } from './ingest.ts';
import type { OriginPolicy } from './origin.ts';
import type { TrustProxy } from './client-ip.ts';
import { requestContext } from './request-context.ts';
import type { RejectLog } from './reject-log.ts';
import { Reply } from './reply.ts';
import { eventsRefused, intakeOf, type RelayObserver } from './observe.ts';

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

export interface Router {
  answer(request: Request, conn?: ConnInfo): Promise<Reply | Response>;
  handles(pathname: string): boolean;
  bodyLimit(pathname: string): number;
  refuse(error: unknown, route: string): Reply;
}

/** Bytes a body may have on a route that takes none (enough for a 405 or 404 to be answered politely). */
export const NO_BODY_BYTES = 8 * 1024;

export interface RouterOptions {
  paths: RelayPaths;
  ingest: Ingest;
  origins: OriginPolicy;
  /** `TRUST_PROXY`, for requests whose adapter decided no context (request-context.ts). */
  trust: TrustProxy;
  script: (request: Request) => Promise<Reply>;
  /** The tracker's opt-in chunk, `x.js` beside the collect path (`/u/x.js`). */
  extras: (request: Request) => Promise<Reply>;
  health: () => Reply;
  /** When set, the `/_events` routes exist. */
  feed?: EventFeed | undefined;
  mode: string;
  fallback?: ((request: Request) => Response | Promise<Response>) | undefined;
  rejects: RejectLog;
  log: Logger;
  observe?: RelayObserver | undefined;
}

export function createRouter(options: RouterOptions): Router {
  const { paths, ingest, origins, feed, rejects, log } = options;
  const eventsRoutes = feed ? [paths.events, `${paths.events}/data`, `${paths.events}/stream`] : [];
  const extrasPath = paths.collect.replace(/[^/]*$/, 'x.js');
  const own = new Set([paths.script, extrasPath, paths.collect, paths.pixel, paths.official, paths.health, ...eventsRoutes]);

  const answer = async (request: Request, conn: ConnInfo = {}): Promise<Reply | Response> => {
    const url = conn.url ?? new URL(request.url);
    const route = url.pathname;
    // Any request may close a reject-count window, so counts are logged even after a flood ends.
    rejects.tick();
    try {
      if (!own.has(route)) {
        if (options.fallback) return await options.fallback(request);
        throw new RelayError(404, 'not_found', `no route ${route}`);
      }
      const method = request.method;
      if (route === paths.collect || route === paths.official) {
        if (method === 'OPTIONS') return origins.preflight(request, contextOf(request, url, conn));
        if (method !== 'POST') throw methodNotAllowed('POST');
        return await ingest.collect(request, url, contextOf(request, url, conn), conn, route === paths.official);
      }
      if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed('GET');
      if (route === paths.script) return await options.script(request);
      if (route === extrasPath) return await options.extras(request);
      if (route === paths.pixel) return await ingest.pixel(request, url, contextOf(request, url, conn));
      if (route === paths.health) return options.health();
      if (route === paths.events) return eventsPage(paths.events, options.mode);
      if (route === `${paths.events}/data`) return eventsData(feed!);
      // HEAD gets the headers only: a stream opened for it would subscribe and never be read.
      if (route === `${paths.events}/stream`) return method === 'HEAD' ? new Reply(200, { ...STREAM_HEADERS }) : eventsStream(feed!, request.signal);
      throw new RelayError(404, 'not_found', `no route ${route}`);
    } catch (error) {
      return refuse(error, route);
    }
  };

  /** Who is asking: as the adapter decided it, or from the socket peer and `TRUST_PROXY`. */
  const contextOf = (request: Request, url: URL, conn: ConnInfo) => conn.context ?? requestContext(request, url, conn.remoteAddress, options.trust);

  /** The one place a failure becomes an answer and a count (adapters call it for what they refuse themselves). */
  const refuse = (error: unknown, route: string): Reply => {
    const res = errorReply(error, route);
    const code = errorCode(error);
    if (code === 'internal') log.error('request failed', { route, reason: error instanceof Error ? error.message : String(error) });
    else rejects.count(code, route, res.status, error instanceof Error ? error.message : '');
    const intake = options.observe && intakeOf(paths, route);
    if (intake) options.observe!.refused(intake, code, eventsRefused(error), true);
    return res;
  };

  return {
    answer,
    refuse,
    handles: (pathname) => own.has(pathname),
    bodyLimit: (pathname) => (pathname === paths.collect || pathname === paths.official ? LIMITS.bodyBytes : NO_BODY_BYTES),
  };
}

const methodNotAllowed = (allow: string) => new RelayError(405, 'method', `use ${allow}`, { allow: allow === 'GET' ? 'GET, HEAD' : 'POST, OPTIONS' });

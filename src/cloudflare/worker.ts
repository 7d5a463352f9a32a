/**
 * umbeacon at the edge: the relay as a Cloudflare Worker, with Cloudflare Queues as the spool.
 *
 *   fetch  the relay's routes (the same Web-standard handler as the Node relay); accepted
 *          events go to the `EVENTS` queue, and only once the queue has taken them is the
 *          answer 2xx (queue-spool.ts).
 *   queue  batches from `EVENTS` go to Usermaven in bulk with the shared upstream policy;
 *          each message is acked, retried with a delay, or dead-lettered (consumer.ts).
 *
 * One script for both halves, or for a split deployment: an edge Worker bound to `EVENTS`
 * without the token, and a consumer Worker with the token (README, "Deploy to Cloudflare").
 * build.mjs bundles this file to dist/cloudflare/worker.js with the tracker inlined.
 */
import { createRelay, type RelayHandler } from '../relay/handler.ts';
import { errorResponse, RelayError } from '../relay/errors.ts';
import { trustNothing } from '../relay/client-ip.ts';
import { Reply, toResponse } from '../relay/reply.ts';
import { requestContext } from '../relay/request-context.ts';
import { CODINGS, gzipByStream, type Coding, type Encodings } from '../relay/script.ts';
import { ConfigError } from '../relay/settings.ts';
import { createJsonLogger, type Logger } from '../delivery/log.ts';
import { createUpstream, s2sEndpoint, type Upstream } from '../delivery/upstream.ts';
import type { Env, MessageBatch } from './bindings.ts';
import { consumeBatch } from './consumer.ts';
import { createEdgeCounts, type EdgeCounts } from './counts.ts';
import { createQueueSpool } from './queue-spool.ts';
import { readSettings, required, type EdgeSettings } from './settings.ts';

/** The built tracker (public/u.js), inlined by build.mjs. */
declare const UMBEACON_TRACKER: string | undefined;
const tracker = typeof UMBEACON_TRACKER === 'string' ? UMBEACON_TRACKER : null;
/** The tracker's opt-in features (public/u/x.js, served at /u/x.js), inlined by build.mjs. */
declare const UMBEACON_EXTRAS: string | null | undefined;
const extras = typeof UMBEACON_EXTRAS === 'string' ? UMBEACON_EXTRAS : null;
/** Both scripts in Brotli and zopfli gzip (base64), made by build.mjs: a Worker has neither encoder. */
declare const UMBEACON_TRACKER_ENCODED: Partial<Record<Coding, string>> | null | undefined;
declare const UMBEACON_EXTRAS_ENCODED: Partial<Record<Coding, string>> | null | undefined;
const builtBytes = new Map<string | null, Partial<Record<Coding, string>> | null | undefined>([
  [tracker, typeof UMBEACON_TRACKER_ENCODED === 'object' ? UMBEACON_TRACKER_ENCODED : null],
  [extras, typeof UMBEACON_EXTRAS_ENCODED === 'object' ? UMBEACON_EXTRAS_ENCODED : null],
]);

/**
 * The build's bytes for a body it made them for; a body the relay rewrote (a `COLLECT_PATH`
 * other than /u/e) is gzipped here once instead, by CompressionStream.
 */
function precompress(body: string): Encodings | Promise<Encodings> {
  const built = builtBytes.get(body);
  if (!built) return gzipByStream(body);
  const out: Encodings = {};
  for (const coding of CODINGS) {
    const base64 = built[coding];
    if (base64) out[coding] = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  }
  return out;
}

interface Isolate {
  settings: EdgeSettings | null;
  /** Why the settings are unusable (names the setting, never the token). */
  problem: ConfigError | null;
  /** Why the fetch side cannot run (logged once). */
  fetchProblem: ConfigError | null;
  logger: Logger;
  relay: RelayHandler | null;
  /** What the relay's intake counted since the last `metrics` line. */
  counts: EdgeCounts;
}

// Bindings are fixed for the life of an isolate, so settings are read and checked once, and
// the relay's per-isolate state (rate limiter, de-duplication window, script ETag) lives here.
const isolates = new WeakMap<Env, Isolate>();

function isolateFor(env: Env): Isolate {
  let isolate = isolates.get(env);
  if (isolate) return isolate;
  const token = typeof env.USERMAVEN_SERVER_TOKEN === 'string' ? env.USERMAVEN_SERVER_TOKEN.trim() : '';
  const key = typeof env.USERMAVEN_API_KEY === 'string' ? env.USERMAVEN_API_KEY.trim() : '';
  // Worker logs (`wrangler tail`, Workers Logs) get the same redacting JSON lines as the Node relay's stdout.
  const logger = createJsonLogger((line) => console.log(line.trimEnd()), token ? [token, `${key}.${token}`] : []);
  isolate = { settings: null, problem: null, fetchProblem: null, logger, relay: null, counts: createEdgeCounts() };
  try {
    isolate.settings = readSettings(env);
    // The Node relay's `listening` line, once per isolate: where its consumer posts (never the token).
    logger.info('listening', { mode: 'edge', upstream: s2sEndpoint(isolate.settings.upstreamUrl) });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    isolate.problem = error;
    logger.error('misconfigured', { reason: error.message });
  }
  isolates.set(env, isolate);
  return isolate;
}

function relayFor(env: Env, isolate: Isolate): RelayHandler {
  if (isolate.relay) return isolate.relay;
  const settings = isolate.settings!;
  const apiKey = required(settings.apiKey, 'USERMAVEN_API_KEY', 'set it in the wrangler config [vars]');
  const events = required(env.EVENTS, 'EVENTS', 'bind the queue umbeacon-events as a producer named EVENTS');
  isolate.relay = createRelay({
    spool: createQueueSpool(events, { sendTimeoutMs: settings.queueSendTimeoutMs, logger: isolate.logger }),
    apiKey,
    script: () => tracker,
    extras: () => extras,
    precompress,
    paths: settings.paths,
    allowedOrigins: settings.allowedOrigins,
    cookieDomain: settings.cookieDomain,
    rateLimit: settings.rateLimit,
    mode: 'edge',
    logger: isolate.logger,
    observe: isolate.counts.observer,
  });
  return isolate.relay;
}

async function fetchHandler(request: Request, env: Env): Promise<Response> {
  const isolate = isolateFor(env);
  let relay: RelayHandler;
  try {
    if (isolate.problem) throw isolate.problem;
    relay = relayFor(env, isolate);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // What the fetch side lacks (the key, the EVENTS binding) is its own problem: a consumer
    // Worker without them still consumes.
    if (error !== isolate.problem && !isolate.fetchProblem) {
      isolate.fetchProblem = error;
      isolate.logger.error('misconfigured', { reason: error.message });
    }
    return errorResponse(new RelayError(503, 'misconfigured', error.message), new URL(request.url).pathname);
  }
  // Cloudflare sets CF-Connecting-IP to the visitor's address and overwrites any the client
  // sent: that is the peer. No proxy stands between it and the Worker, so no X-Forwarded-*
  // header is believed (they are the client's to write) and host and protocol are the URL's
  // (src/relay/request-context.ts). X-Forwarded-For is dropped so the relay never sees it.
  const remoteAddress = request.headers.get('cf-connecting-ip') ?? undefined;
  const url = new URL(request.url);
  const context = requestContext(request, url, remoteAddress, trustNothing);
  const answer = await relay.reply(withClientAcceptEncoding(withoutForwardedFor(request)), { remoteAddress, url, context });
  // The Node relay's metric families, as one line per invocation that counted something (counts.ts).
  const counted = isolate.counts.take();
  if (counted) isolate.logger.info('metrics', counted);
  return toWorkerResponse(answer);
}

async function queueHandler(batch: MessageBatch, env: Env): Promise<void> {
  const isolate = isolateFor(env);
  const settings = isolate.settings;
  let upstream: Upstream;
  const counts = createEdgeCounts();
  try {
    if (!settings) throw isolate.problem ?? new ConfigError('settings', 'unreadable');
    upstream = createUpstream({
      url: settings.upstreamUrl,
      apiKey: required(settings.apiKey, 'USERMAVEN_API_KEY', 'the consumer stamps no key of its own; set it in [vars]'),
      serverToken: required(settings.serverToken, 'USERMAVEN_SERVER_TOKEN', 'the consumer needs it: wrangler secret put USERMAVEN_SERVER_TOKEN'),
      timeoutMs: settings.upstreamTimeoutMs,
      fetch: counts.watchFetch((input, init) => fetch(input, init)),
    });
  } catch (error) {
    // Misconfigured: hold the events back (retried with the usual delays) rather than lose them.
    const reason = error instanceof Error ? error.message : 'misconfigured';
    isolate.logger.error('misconfigured', { reason });
    upstream = { host: 'misconfigured', send: async () => ({ kind: 'retry', status: 0, reason }) };
  }
  const result = await consumeBatch(batch, {
    upstream,
    deadLetters: env.DEAD_LETTERS,
    events: env.EVENTS,
    logger: isolate.logger,
    ...(settings ? { budgetMs: settings.consumerBudgetMs, maxRetries: settings.queueMaxRetries } : {}),
  });
  isolate.logger.info('batch', { queue: batch.queue, messages: batch.messages.length, ...result });
  isolate.logger.info('metrics', {
    umbeacon_events_forwarded_total: result.delivered,
    umbeacon_events_dead_lettered_total: result.deadLettered,
    ...counts.take(),
  });
}

/**
 * The relay's answer as a Workers `Response`. Workers compress a body themselves unless told
 * it already is (`encodeBody: "manual"`, Workers runtime API "Response"); without that, the
 * tracker's pre-gzipped bytes would be gzipped a second time.
 */
function toWorkerResponse(answer: Reply | Response): Response {
  if (!(answer instanceof Reply) || !answer.headers['content-encoding']) return toResponse(answer);
  const headers = new Headers(answer.headers);
  for (const cookie of answer.cookies) headers.append('set-cookie', cookie);
  return new Response(answer.body as BodyInit | null, { status: answer.status, headers, encodeBody: 'manual' } as ResponseInit);
}

/**
 * Cloudflare hands a Worker `Accept-Encoding: br, gzip` whatever the browser sent, keeps the
 * browser's own in `request.cf.clientAcceptEncoding`, and re-encodes a response the browser
 * cannot take (Workers runtime API "Request", `cf` properties). The tracker's bytes are
 * chosen for the browser's header, so the front line passes them on as they are: Brotli where
 * the browser takes it, the build's zopfli gzip where it takes only gzip.
 */
function withClientAcceptEncoding(request: Request): Request {
  const original = (request as Request & { cf?: { clientAcceptEncoding?: unknown } }).cf?.clientAcceptEncoding;
  if ((request.method !== 'GET' && request.method !== 'HEAD') || typeof original !== 'string') return request;
  if (original === request.headers.get('accept-encoding')) return request;
  const headers = new Headers(request.headers);
  headers.set('accept-encoding', original);
  return new Request(request, { headers });
}

function withoutForwardedFor(request: Request): Request {
  if (!request.headers.has('x-forwarded-for')) return request;
  const headers = new Headers(request.headers);
  headers.delete('x-forwarded-for');
  return new Request(request, { headers });
}

export default { fetch: fetchHandler, queue: queueHandler };

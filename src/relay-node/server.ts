/**
 * The relay as a Node server: file spool + forwarder (to Usermaven, or to the local store in
 * embedded mode) + the core handler + static files, behind node:http. `umbeacon serve` and the
 * tests start it through `startRelayServer`.
 */
import { createServer, type Server } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTrustProxy } from '../relay/client-ip.ts';
import { createEventFeed, type EventFeed } from '../relay/feed.ts';
import { createForwarder, type Forwarder, type ForwarderOptions } from '../delivery/forwarder.ts';
import { createRelay, DEFAULT_PATHS, type RelayHandler, type RelayPaths } from '../relay/handler.ts';
import { createJsonLogger, type Logger } from '../delivery/log.ts';
import { createUpstream, DEFAULT_UPSTREAM_URL, s2sEndpoint } from '../delivery/upstream.ts';
import { refuseOverlap, type RelayConfig } from './config.ts';
import { createFileSpool, type FileSpool, type FileSpoolOptions } from '../delivery/file-spool/index.ts';
import { createLocalStore, readRecent } from './local-store.ts';
import { DEFAULT_MAX_CONNECTIONS_PER_IP, limitConnectionsPerIp } from './connection-limit.ts';
import { toNodeListener } from './node-adapter.ts';
import { createDeliveryMetrics, type DeliveryMetrics } from './metrics.ts';
import { serveMetrics, type MetricsListener } from './metrics-listener.ts';

/** The most a client may take to send its headers (REQUEST_TIMEOUT_MS still bounds the whole request). */
const HEADERS_TIMEOUT_MS = 10_000;
import { serveStatic } from './static-files.ts';
import { precompress } from './precompress.ts';

export interface StartOptions extends Partial<Omit<RelayConfig, 'paths'>> {
  /** Route paths; unset ones keep their defaults. */
  paths?: Partial<RelayPaths>;
  /** Where log lines go (default: stdout). */
  log?: (line: string) => void;
  /** Injected upstream fetch (tests). */
  fetch?: typeof fetch;
  /** The built tracker (default: the package's `public/u.js`). */
  scriptFile?: string;
  /** File spool tuning (tests inject a failing disk). */
  spool?: Pick<FileSpoolOptions, 'io' | 'retryMs' | 'segmentBytes'>;
  /** Forwarder tuning (tests use short back-offs). */
  forwarder?: Pick<ForwarderOptions, 'lingerMs' | 'retryDelay'>;
  /** Collect metrics even without a `/metrics` listener (tests, an app that serves its own registry). */
  metrics?: boolean;
  /** Non-relay paths: default static files from `siteDir`; `null` = 404 (for mounts). */
  fallback?: ((request: Request) => Response | Promise<Response>) | null;
}

export interface RelayServer {
  /** e.g. `http://127.0.0.1:8080` */
  url: string;
  port: number;
  mode: 'upstream' | 'embedded';
  server: Server;
  spool: FileSpool;
  forwarder: Forwarder;
  relay: RelayHandler;
  logger: Logger;
  /** The live feed behind the events page, when it is on. */
  feed: EventFeed | undefined;
  /** The Prometheus registry and counters, when METRICS_PORT (or `metrics`) is set. */
  metrics: DeliveryMetrics | undefined;
  /** The `/metrics` listener, when METRICS_PORT is set. */
  metricsListener: MetricsListener | undefined;
  /**
   * Stop gracefully: stop accepting, answer requests in flight, send what it can within
   * `drainMs`, keep the rest on disk for the next start.
   */
  close(options?: { drainMs?: number }): Promise<void>;
}

export interface RelayStack {
  mode: 'upstream' | 'embedded';
  config: RelayConfig;
  spool: FileSpool;
  forwarder: Forwarder;
  relay: RelayHandler;
  logger: Logger;
  /** The live feed behind the events page, when it is on. */
  feed: EventFeed | undefined;
  /** The Prometheus registry and counters, when METRICS_PORT (or `metrics`) is set. */
  metrics: DeliveryMetrics | undefined;
  /** The `/metrics` listener, when METRICS_PORT is set. */
  metricsListener: MetricsListener | undefined;
  /** Send what it can within `drainMs`, stop forwarding, close the spool. */
  close(drainMs?: number): Promise<{ drained: boolean; left: number }>;
}

/**
 * Everything but the HTTP server: file spool, forwarder and the relay handler, started. Use it
 * to mount the relay in an existing app (see `toConnectMiddleware`, examples/).
 *
 * @example
 *   const stack = await createRelayStack({ apiKey, serverToken, dataDir: './data' });
 *   app.use(toConnectMiddleware(stack.relay));
 *   process.on('SIGTERM', () => stack.close(5000).then(() => process.exit(0)));
 */
export async function createRelayStack(options: StartOptions = {}): Promise<RelayStack> {
  const config: RelayConfig = {
    port: 8080,
    host: '127.0.0.1',
    upstreamUrl: DEFAULT_UPSTREAM_URL,
    dataDir: resolve('data'),
    siteDir: resolve('public'),
    trustProxy: 'false',
    allowedOrigins: [],
    rateLimit: 100,
    dataMaxMb: 1024,
    eventsPage: !options.apiKey,
    drainMs: 5000,
    upstreamTimeoutMs: 15_000,
    requestTimeoutMs: 30_000,
    maxConnectionsPerIp: DEFAULT_MAX_CONNECTIONS_PER_IP,
    ...options,
    paths: { ...DEFAULT_PATHS, ...options.paths },
  };
  const credentials = config.apiKey && config.serverToken ? { apiKey: config.apiKey, serverToken: config.serverToken } : null;
  const mode = credentials ? 'upstream' : 'embedded';
  const write = options.log ?? ((line: string) => void process.stdout.write(line));
  const secrets = credentials ? [credentials.serverToken, `${credentials.apiKey}.${credentials.serverToken}`] : [];
  const logger = createJsonLogger(write, secrets);

  if (config.siteDir && options.fallback === undefined) refuseOverlap(config.dataDir, config.siteDir);
  // The spool makes DATA_DIR (and says so in one line when it cannot be written).
  const spool = await createFileSpool({ dir: join(config.dataDir, 'spool'), maxBytes: config.dataMaxMb * 1024 * 1024, logger, ...options.spool });
  const storeFile = join(config.dataDir, 'events.ndjson');
  const metrics = config.metricsPort !== undefined || options.metrics
    ? createDeliveryMetrics({ spool, maxBytes: config.dataMaxMb * 1024 * 1024, upstreamTimeoutMs: config.upstreamTimeoutMs })
    : undefined;
  const upstreamFetch = metrics ? metrics.watchFetch(options.fetch ?? fetch) : options.fetch;
  const upstream = credentials
    ? createUpstream({ url: config.upstreamUrl, ...credentials, timeoutMs: config.upstreamTimeoutMs, ...(upstreamFetch ? { fetch: upstreamFetch } : {}) })
    : createLocalStore(storeFile, config.dataMaxMb * 1024 * 1024);
  const forwarder = createForwarder({ spool: metrics ? metrics.watchSpool(spool) : spool, upstream, logger, ...options.forwarder });

  const feed = config.eventsPage ? createEventFeed() : undefined;
  if (feed && !credentials) feed.push(await readRecent(storeFile, 200));

  const relay = createRelay({
    spool,
    apiKey: credentials?.apiKey,
    onStored: forwarder.kick,
    forwarderStatus: forwarder.status,
    script: scriptLoader(options.scriptFile ?? findTrackerFile(), logger),
    extras: scriptLoader(join(dirname(options.scriptFile ?? findTrackerFile()), 'u/x.js'), logger),
    precompress,
    paths: config.paths,
    allowedOrigins: config.allowedOrigins,
    cookieDomain: config.cookieDomain,
    trustProxy: parseTrustProxy(config.trustProxy),
    rateLimit: config.rateLimit,
    ...(feed ? { feed } : {}),
    mode,
    upstreamHost: upstream.host,
    logger,
    ...(metrics ? { observe: metrics.observer } : {}),
    ...(options.fallback === null || (options.fallback === undefined && !config.siteDir)
      ? {}
      : { fallback: options.fallback ?? serveStatic(config.siteDir!) }),
  });
  forwarder.start();
  let metricsListener: MetricsListener | undefined;
  if (metrics && config.metricsPort !== undefined) {
    const host = config.metricsHost ?? '127.0.0.1';
    metricsListener = await serveMetrics(metrics.registry, host, config.metricsPort).catch(async (error: unknown) => {
      await forwarder.stop();
      await spool.close();
      const e = error as NodeJS.ErrnoException;
      // No `code` on purpose: the serve command would read EADDRINUSE as the site's PORT.
      throw new Error(`METRICS_PORT: cannot listen on ${host}:${config.metricsPort} (${e.code ?? e.message})`);
    });
  }
  return {
    mode,
    config,
    spool,
    forwarder,
    relay,
    logger,
    feed,
    metrics,
    metricsListener,
    async close(drainMs = config.drainMs) {
      relay.flushLogs();
      await metricsListener?.close();
      const drained = drainMs > 0 ? await forwarder.drain(drainMs) : spool.stats().depth === 0;
      await forwarder.stop();
      const left = spool.stats().depth;
      await spool.close();
      return { drained, left };
    },
  };
}

/**
 * Start the relay on `host:port` (port 0 = any free port).
 *
 * @example
 *   const relay = await startRelayServer({ port: 0, apiKey: 'KEY', serverToken: process.env.TOKEN });
 *   console.log(relay.url); // http://127.0.0.1:53211
 *   await relay.close();
 */
export async function startRelayServer(options: StartOptions = {}): Promise<RelayServer> {
  const stack = await createRelayStack(options);
  const { config, mode, spool, forwarder, relay, logger, feed, metrics, metricsListener } = stack;
  const feedOn = config.eventsPage;
  let inFlight = 0;
  let idle: (() => void) | null = null;
  const listener = toNodeListener(relay, { fallbackHost: `${config.host}:${config.port}` });
  // One function for every response, not a closure per request.
  const settled = () => {
    if (--inFlight === 0) idle?.();
  };
  // Node's defaults let a client that never finishes its request hold the socket for 5 min
  // (requestTimeout 300 s, checked every 30 s); a beacon of at most 64 KiB needs far less, and
  // its headers arrive in one packet: a client still sending them after 10 s is dripping them.
  const headersTimeout = Math.min(config.requestTimeoutMs, HEADERS_TIMEOUT_MS);
  const server = createServer({
    requestTimeout: config.requestTimeoutMs,
    headersTimeout,
    connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(headersTimeout / 4))),
  }, (req, res) => {
    inFlight++;
    res.on('close', settled);
    listener(req, res);
  });
  limitConnectionsPerIp(server, { max: config.maxConnectionsPerIp, trust: parseTrustProxy(config.trustProxy), logger, ...(metrics ? { onRefused: metrics.connectionRefused } : {}) });
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolvePromise();
    });
  }).catch(async (error: unknown) => {
    // Not listening (port taken): let go of the spool and its lock, so a retry can have them.
    await stack.close(0);
    throw error;
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${shownHost}:${port}`;
  logger.info('listening', {
    url,
    mode,
    upstream: mode === 'upstream' ? s2sEndpoint(config.upstreamUrl) : 'local',
    dataDir: config.dataDir,
    siteDir: config.siteDir,
    spoolDepth: spool.stats().depth,
    ...(metricsListener ? { metrics: metricsListener.url } : {}),
    ...(feedOn ? { eventsPage: `${url}${config.paths.events}` } : {}),
    ...(mode === 'embedded'
      ? { hint: `no USERMAVEN_API_KEY/USERMAVEN_SERVER_TOKEN: events are kept in ${join(config.dataDir, 'events.ndjson')}${feedOn ? ` and shown on ${url}${config.paths.events}` : ''}` }
      : {}),
  });

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    mode,
    server,
    spool,
    forwarder,
    relay,
    logger,
    feed,
    metrics,
    metricsListener,
    close(closeOptions = {}) {
      closing ??= (async () => {
        const drainMs = closeOptions.drainMs ?? config.drainMs;
        // One deadline for answering the requests in flight and draining the spool together.
        const deadline = Date.now() + drainMs;
        logger.info('stopping', { inFlight, spoolDepth: spool.stats().depth });
        const closed = new Promise<void>((r) => server.close(() => r()));
        server.closeIdleConnections();
        // Requests in flight get their answer; long-lived streams (the events page) do not
        // count, so wait for the rest with a cap, then cut what is left.
        if (inFlight > 0) await Promise.race([new Promise<void>((r) => (idle = r)), new Promise((r) => setTimeout(r, Math.max(drainMs, 1000)))]);
        server.closeAllConnections();
        await closed;
        const { drained, left } = await stack.close(Math.max(0, deadline - Date.now()));
        logger.info('stopped', { drained, keptForNextStart: left });
      })();
      return closing;
    },
  };
}

/** The built tracker shipped with this package: `public/u.js` next to `dist/` or `src/`. */
function findTrackerFile(): string {
  const here = fileURLToPath(import.meta.url);
  for (const rel of ['../public/u.js', '../../public/u.js']) {
    const file = resolve(here, '..', rel);
    if (existsSync(file)) return file;
  }
  return resolve('public/u.js');
}

/** Read the tracker, re-reading when it changes (a rebuild while the relay runs). */
function scriptLoader(file: string, logger: Logger): () => Promise<string | null> {
  let cached: { mtimeMs: number; source: string } | null = null;
  let checkedAt = -Infinity;
  let warned = false;
  return async () => {
    const t = performance.now();
    if (cached && t - checkedAt < 1000) return cached.source;
    checkedAt = t;
    try {
      const info = await stat(file);
      if (!cached || cached.mtimeMs !== info.mtimeMs) cached = { mtimeMs: info.mtimeMs, source: await readFile(file, 'utf8') };
      return cached.source;
    } catch {
      if (!warned) logger.warn('tracker not built', { file, hint: 'run npm run build' });
      warned = true;
      return null;
    }
  };
}

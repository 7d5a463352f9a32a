/**
 * Relay settings from the environment, overridden by command-line flags. Every value is
 * checked here, at start-up, so a wrong setting stops the relay with one line naming the
 * setting and the reason — instead of a relay that starts and then misbehaves.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, isAbsolute } from 'node:path';
import { parseTrustProxy } from '../relay/client-ip.ts';
import { DEFAULT_PATHS, type RelayPaths } from '../relay/handler.ts';
import { ConfigError, checkCredentials, parseAllowedOrigins, parseCookieDomain, parsePaths, parseUpstreamUrl, parseWholeNumber } from '../relay/settings.ts';
import { DEFAULT_UPSTREAM_URL } from '../delivery/upstream.ts';
import { DEFAULT_MAX_CONNECTIONS_PER_IP } from './connection-limit.ts';

export { ConfigError };

export interface RelayConfig {
  port: number;
  host: string;
  /** Both set = forward upstream; both unset = embedded mode. */
  apiKey?: string | undefined;
  serverToken?: string | undefined;
  upstreamUrl: string;
  dataDir: string;
  /** Static files; null = none (SITE_DIR unset and no ./public here). */
  siteDir: string | null;
  /** Raw TRUST_PROXY value (see src/relay/client-ip.ts for the grammar). */
  trustProxy: string;
  allowedOrigins: string[];
  /** `Domain` of the visitor cookie (`example.com`); undefined = the tracker's, else host-only. */
  cookieDomain?: string | undefined;
  /** Events per second per client IP; 0 = off. */
  rateLimit: number;
  /** Cap on unsent events on disk, in MB. */
  dataMaxMb: number;
  paths: RelayPaths;
  /** Show /_events; default: on in embedded mode, off with credentials. */
  eventsPage: boolean;
  /** On SIGTERM, keep sending for this long before exiting. */
  drainMs: number;
  upstreamTimeoutMs: number;
  /** Drop a client whose request (headers and body) has not fully arrived within this long. */
  requestTimeoutMs: number;
  /** Connections one client address may hold at once (a trusted proxy's are not capped); 0 = no cap. */
  maxConnectionsPerIp: number;
  /** Port of the Prometheus `/metrics` listener; undefined = no listener (the default). */
  metricsPort?: number | undefined;
  /** Address of the `/metrics` listener (default 127.0.0.1: metrics are for the operator, not the internet). */
  metricsHost?: string | undefined;
}

/** One setting: its env name, its flag, what it means (for --help and the README table). */
export const SETTINGS = [
  { env: 'PORT', flag: '--port <n>', help: 'port to listen on (0 = any free port)', def: '8080' },
  { env: 'HOST', flag: '--host <addr>', help: 'address to listen on', def: '127.0.0.1' },
  { env: 'USERMAVEN_API_KEY', flag: '--api-key <key>', help: 'Usermaven workspace API key (public)', def: '' },
  { env: 'USERMAVEN_SERVER_TOKEN', flag: '--server-token <token>', help: 'Usermaven server token (secret); prefer the env var', def: '' },
  { env: 'USERMAVEN_URL', flag: '--upstream-url <url>', help: 'Usermaven events host', def: DEFAULT_UPSTREAM_URL },
  { env: 'DATA_DIR', flag: '--data-dir <dir>', help: 'where the spool and the embedded store live', def: './data' },
  { env: 'SITE_DIR', flag: '--site-dir <dir>', help: 'static files served next to the relay', def: './public' },
  { env: 'TRUST_PROXY', flag: '--trust-proxy <list>', help: 'proxies to believe: hop count, IPs/CIDRs, loopback, private', def: 'false' },
  { env: 'ALLOWED_ORIGINS', flag: '--allowed-origins <list>', help: 'comma-separated origins allowed to post (empty = any)', def: '' },
  { env: 'COOKIE_DOMAIN', flag: '--cookie-domain <domain>', help: 'Domain of the visitor cookie, e.g. example.com (default: the one the tracker found, else host-only)', def: '' },
  { env: 'RATE_LIMIT', flag: '--rate-limit <n>', help: 'events per second per client IP (0 = off)', def: '100' },
  { env: 'DATA_MAX_MB', flag: '--data-max-mb <n>', help: 'cap on unsent events on disk; over it, 503', def: '1024' },
  { env: 'EVENTS_PAGE', flag: '--events-page <on|off>', help: 'live /_events page (default: on without credentials)', def: '' },
  { env: 'SCRIPT_PATH', flag: '--script-path <path>', help: 'path of the tracker script', def: DEFAULT_PATHS.script },
  { env: 'COLLECT_PATH', flag: '--collect-path <path>', help: 'path the tracker posts to', def: DEFAULT_PATHS.collect },
  { env: 'PIXEL_PATH', flag: '--pixel-path <path>', help: 'path of the <noscript> pixel', def: DEFAULT_PATHS.pixel },
  { env: 'OFFICIAL_PATH', flag: '--official-path <path>', help: 'path the official Usermaven SDK posts to', def: DEFAULT_PATHS.official },
  { env: 'EVENTS_PATH', flag: '--events-path <path>', help: 'path of the live events page', def: DEFAULT_PATHS.events },
  { env: 'HEALTH_PATH', flag: '--health-path <path>', help: 'path of the health check', def: DEFAULT_PATHS.health },
  { env: 'DRAIN_MS', flag: '--drain-ms <n>', help: 'on SIGTERM, keep sending this long before exit', def: '5000' },
  { env: 'UPSTREAM_TIMEOUT_MS', flag: '--upstream-timeout-ms <n>', help: 'abort an upstream request after this long', def: '15000' },
  { env: 'REQUEST_TIMEOUT_MS', flag: '--request-timeout-ms <n>', help: 'drop a client whose request has not fully arrived after this long (slow-loris guard; headers get at most 10 s)', def: '30000' },
  { env: 'METRICS_PORT', flag: '--metrics-port <n>', help: 'serve Prometheus metrics on GET /metrics on this port, a listener of its own (unset = off; 0 = any free port)', def: '' },
  { env: 'METRICS_HOST', flag: '--metrics-host <addr>', help: 'address of the metrics listener', def: '127.0.0.1' },
  { env: 'MAX_CONNECTIONS_PER_IP', flag: '--max-connections-per-ip <n>', help: 'connections one client address may hold at once; a trusted proxy is not capped (0 = no cap)', def: String(DEFAULT_MAX_CONNECTIONS_PER_IP) },
] as const;

export type SettingName = (typeof SETTINGS)[number]['env'];

/**
 * Read settings: `overrides` (flags, keyed by env name) win over `env`.
 *
 * @example
 *   const config = loadConfig(process.env, { PORT: '0' });
 */
export function loadConfig(env: Record<string, string | undefined>, overrides: Partial<Record<SettingName, string | undefined>> = {}): RelayConfig {
  const get = (name: SettingName): string => {
    const value = overrides[name] ?? env[name];
    if (value !== undefined && value.trim() !== '') return value.trim();
    return SETTINGS.find((s) => s.env === name)!.def;
  };
  const int = (name: SettingName, min: number, max: number): number => parseWholeNumber(name, get(name), min, max);

  const apiKey = get('USERMAVEN_API_KEY') || undefined;
  const serverToken = get('USERMAVEN_SERVER_TOKEN') || undefined;
  if (apiKey && !serverToken) throw new ConfigError('USERMAVEN_SERVER_TOKEN', 'is missing; it is needed with USERMAVEN_API_KEY (or unset both for the embedded mode)');
  if (serverToken && !apiKey) throw new ConfigError('USERMAVEN_API_KEY', 'is missing; it is needed with USERMAVEN_SERVER_TOKEN (or unset both for the embedded mode)');
  checkCredentials(apiKey, serverToken);
  const upstreamUrl = parseUpstreamUrl(get('USERMAVEN_URL'), serverToken);

  // An explicit SITE_DIR must exist; the default ./public is optional, so `npx umbeacon serve`
  // in a project without one runs the relay alone instead of refusing to start.
  const siteExplicit = Boolean((overrides.SITE_DIR ?? env['SITE_DIR'] ?? '').trim());
  let siteDir: string | null = resolve(get('SITE_DIR'));
  if (!existsSync(siteDir) || !statSync(siteDir).isDirectory()) {
    if (siteExplicit) throw new ConfigError('SITE_DIR', `${siteDir} is not a directory`);
    siteDir = null;
  }
  const dataDir = resolve(get('DATA_DIR'));
  if (existsSync(dataDir) && !statSync(dataDir).isDirectory()) throw new ConfigError('DATA_DIR', `${dataDir} exists and is not a directory`);
  if (siteDir) refuseOverlap(dataDir, siteDir);

  const trustProxy = get('TRUST_PROXY');
  try {
    parseTrustProxy(trustProxy);
  } catch (error) {
    throw new ConfigError('TRUST_PROXY', (error as Error).message.replace(/^TRUST_PROXY:\s*/, ''));
  }

  const allowedOrigins = parseAllowedOrigins(get('ALLOWED_ORIGINS'));
  const cookieDomain = parseCookieDomain(get('COOKIE_DOMAIN'));
  const paths = parsePaths(get);

  const eventsRaw = get('EVENTS_PAGE').toLowerCase();
  let eventsPage: boolean;
  if (eventsRaw === '') eventsPage = !apiKey;
  else if (['on', 'true', '1', 'yes'].includes(eventsRaw)) eventsPage = true;
  else if (['off', 'false', '0', 'no'].includes(eventsRaw)) eventsPage = false;
  else throw new ConfigError('EVENTS_PAGE', `"${eventsRaw}" is not on or off`);

  const host = get('HOST');
  if (!/^[A-Za-z0-9.:-]+$/.test(host)) throw new ConfigError('HOST', `"${host}" is not a host name or address`);
  const port = int('PORT', 0, 65535);
  const metricsPort = get('METRICS_PORT') === '' ? undefined : int('METRICS_PORT', 0, 65535);
  const metricsHost = get('METRICS_HOST');
  if (!/^[A-Za-z0-9.:-]+$/.test(metricsHost)) throw new ConfigError('METRICS_HOST', `"${metricsHost}" is not a host name or address`);
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === port) {
    throw new ConfigError('METRICS_PORT', `is the same as PORT (${port}); metrics get a listener of their own, never the site's port: pick another port`);
  }

  return {
    port,
    host,
    apiKey,
    serverToken,
    upstreamUrl,
    dataDir,
    siteDir,
    trustProxy,
    allowedOrigins,
    cookieDomain,
    rateLimit: int('RATE_LIMIT', 0, 1_000_000),
    dataMaxMb: int('DATA_MAX_MB', 1, 10_000_000),
    paths,
    eventsPage,
    drainMs: int('DRAIN_MS', 0, 600_000),
    upstreamTimeoutMs: int('UPSTREAM_TIMEOUT_MS', 100, 600_000),
    requestTimeoutMs: int('REQUEST_TIMEOUT_MS', 100, 600_000),
    maxConnectionsPerIp: int('MAX_CONNECTIONS_PER_IP', 0, 1_000_000),
    metricsPort,
    metricsHost,
  };
}

/**
 * Throws when DATA_DIR and SITE_DIR overlap, either way round. The spool holds visitors' IPs
 * and emails: inside SITE_DIR it would be served as static files; around it, the site's files
 * would sit among the spool's. Compared by real path, so a symlink or `..` does not hide it.
 */
export function refuseOverlap(dataDir: string, siteDir: string): void {
  if (nested(realish(resolve(dataDir)), realish(resolve(siteDir)))) {
    throw new ConfigError('DATA_DIR', `${dataDir} overlaps SITE_DIR ${siteDir}: the spool would be published as static files; put DATA_DIR outside SITE_DIR (and SITE_DIR outside DATA_DIR)`);
  }
}

/**
 * The real path of `path`, symlinks resolved, also when it does not exist yet (DATA_DIR is
 * made at start): the real path of its nearest existing parent, with the rest appended.
 */
function realish(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    const parent = dirname(path);
    return parent === path ? path : join(realish(parent), basename(path));
  }
}

/** Whether one of two absolute paths is the other or lies inside it. */
function nested(a: string, b: string): boolean {
  const inside = (child: string, parent: string) => {
    const r = relative(parent, child);
    return r === '' || (!r.startsWith('..') && !isAbsolute(r));
  };
  return inside(a, b) || inside(b, a);
}

/**
 * The relay's settings that mean the same in every runtime, checked in one place: the Node
 * relay reads them from its environment and flags (src/relay-node/config.ts), the Worker from
 * its bindings (src/cloudflare/settings.ts). A wrong value is a `ConfigError` naming the
 * setting and the reason, and never echoing the server token.
 */
import { DEFAULT_PATHS, type RelayPaths } from './handler.ts';
import { redact } from '../delivery/redact.ts';
import { S2S_PATH } from '../delivery/upstream.ts';
import { normalizeDomain } from '../shared/visitor-id.ts';

export class ConfigError extends Error {
  constructor(readonly setting: string, reason: string) {
    super(`${setting}: ${reason}`);
    this.name = 'ConfigError';
  }
}

/** Format of the key and token, each when set (which of them a runtime needs is its own rule). */
export function checkCredentials(apiKey: string | undefined, serverToken: string | undefined): void {
  if (apiKey && !/^[A-Za-z0-9_-]{1,100}$/.test(apiKey)) throw new ConfigError('USERMAVEN_API_KEY', 'holds characters other than letters, digits, "_" and "-"');
  if (serverToken && /[\s?&#]/.test(serverToken)) throw new ConfigError('USERMAVEN_SERVER_TOKEN', 'holds whitespace or URL delimiters; copy it again from Usermaven');
}

/**
 * `USERMAVEN_URL` as a plain base URL, `https://host[:port][/prefix]`: a path is kept as a
 * prefix of the s2s path (an egress proxy), which `s2sEndpoint` appends.
 */
export function parseUpstreamUrl(raw: string, serverToken: string | undefined): string {
  let upstream: URL;
  try {
    upstream = new URL(raw);
  } catch {
    // Echo it only without the token: a URL pasted from Usermaven's docs often carries it.
    const shown = serverToken ? redact(raw, [serverToken, encodeURIComponent(serverToken)]) : raw;
    throw new ConfigError('USERMAVEN_URL', `"${shown}" is not a URL`);
  }
  if (upstream.protocol !== 'https:' && upstream.protocol !== 'http:') throw new ConfigError('USERMAVEN_URL', 'must be an http(s) URL');
  if (upstream.search || upstream.hash || upstream.username || upstream.password) throw new ConfigError('USERMAVEN_URL', 'must be a plain base URL (no query, fragment or credentials); the token is added by the relay');
  const prefix = upstream.pathname.replace(/\/+$/, '');
  // The whole endpoint pasted from Usermaven's docs would be posted to .../api/v1/s2s/event/api/v1/s2s/event.
  if (prefix.endsWith(S2S_PATH)) throw new ConfigError('USERMAVEN_URL', `names the endpoint itself; give its base (without ${S2S_PATH}), which the relay appends`);
  // Fixed by configuration; the s2s path is appended in src/delivery/upstream.ts, so no client can redirect it.
  return `${upstream.protocol}//${upstream.host}${prefix}`;
}

/** `ALLOWED_ORIGINS`: comma-separated origins like `https://example.com`. */
export function parseAllowedOrigins(raw: string): string[] {
  const origins = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const origin of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.origin !== origin.replace(/\/$/, '')) throw new ConfigError('ALLOWED_ORIGINS', `"${origin}" is not an origin like https://example.com`);
  }
  return origins;
}

/** `COOKIE_DOMAIN`: a domain name (`example.com`, a leading dot allowed); '' = unset. */
export function parseCookieDomain(raw: string): string | undefined {
  const domain = normalizeDomain(raw);
  if (raw && !domain) throw new ConfigError('COOKIE_DOMAIN', `"${raw}" is not a domain name like example.com (two labels or more, no scheme or port)`);
  return domain;
}

/** The setting that names each route's path. */
export const PATH_SETTINGS = {
  script: 'SCRIPT_PATH',
  collect: 'COLLECT_PATH',
  pixel: 'PIXEL_PATH',
  official: 'OFFICIAL_PATH',
  events: 'EVENTS_PATH',
  health: 'HEALTH_PATH',
} as const satisfies Record<keyof RelayPaths, string>;

/** Route paths from their settings (`get` returns '' for unset): absolute, distinct. */
export function parsePaths(get: (setting: (typeof PATH_SETTINGS)[keyof RelayPaths]) => string): RelayPaths {
  const paths = { ...DEFAULT_PATHS };
  for (const [key, name] of Object.entries(PATH_SETTINGS) as [keyof RelayPaths, (typeof PATH_SETTINGS)[keyof RelayPaths]][]) {
    const p = get(name) || DEFAULT_PATHS[key];
    if (!/^\/[A-Za-z0-9._~!$&'()*+,;=:@/-]*$/.test(p) || p.includes('//') || p.includes('/../')) throw new ConfigError(name, `"${p}" is not an absolute URL path like /u/e`);
    paths[key] = p;
  }
  const taken = new Map<string, keyof RelayPaths>();
  for (const [key, p] of Object.entries(paths) as [keyof RelayPaths, string][]) {
    const other = taken.get(p);
    if (other) throw new ConfigError(PATH_SETTINGS[key], `"${p}" is also used by ${PATH_SETTINGS[other]}`);
    taken.set(p, key);
  }
  return paths;
}

/** A whole number setting within bounds. */
export function parseWholeNumber(name: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new ConfigError(name, `"${raw}" is not a whole number from ${min} to ${max}`);
  return Number(raw);
}

/**
 * The Worker's settings, read from its bindings with the Node relay's rules
 * (src/relay/settings.ts) and the same names. Vars arrive as strings (or as JSON values when
 * a wrangler config writes a number), so each is read through `String`.
 *
 * Edge-only settings:
 *   QUEUE_SEND_TIMEOUT_MS   a queue send not settled after this long answers 503 (10000)
 *   QUEUE_MAX_RETRIES       the consumer's `max_retries` in the wrangler config (3, the
 *                           platform's default); a message on its last try is sent to the
 *                           queue again instead of being retried to its end
 *   CONSUMER_BUDGET_MS      start no upstream request after this long in one invocation (30000)
 */
import type { RelayPaths } from '../relay/handler.ts';
import { ConfigError, checkCredentials, parseAllowedOrigins, parseCookieDomain, parsePaths, parseUpstreamUrl, parseWholeNumber } from '../relay/settings.ts';
import { DEFAULT_UPSTREAM_URL } from '../delivery/upstream.ts';
import type { Env } from './bindings.ts';

export interface EdgeSettings {
  apiKey: string | undefined;
  serverToken: string | undefined;
  upstreamUrl: string;
  allowedOrigins: string[];
  cookieDomain: string | undefined;
  rateLimit: number;
  paths: RelayPaths;
  upstreamTimeoutMs: number;
  queueSendTimeoutMs: number;
  queueMaxRetries: number;
  consumerBudgetMs: number;
}

export function readSettings(env: Env): EdgeSettings {
  const get = (name: string): string => {
    const value = env[name];
    return value === undefined || value === null || typeof value === 'object' ? '' : String(value).trim();
  };
  const int = (name: string, def: number, min: number, max: number) => parseWholeNumber(name, get(name) || String(def), min, max);
  const apiKey = get('USERMAVEN_API_KEY') || undefined;
  const serverToken = get('USERMAVEN_SERVER_TOKEN') || undefined;
  checkCredentials(apiKey, serverToken);
  return {
    apiKey,
    serverToken,
    upstreamUrl: parseUpstreamUrl(get('USERMAVEN_URL') || DEFAULT_UPSTREAM_URL, serverToken),
    allowedOrigins: parseAllowedOrigins(get('ALLOWED_ORIGINS')),
    cookieDomain: parseCookieDomain(get('COOKIE_DOMAIN')),
    rateLimit: int('RATE_LIMIT', 100, 0, 1_000_000),
    paths: parsePaths(get),
    upstreamTimeoutMs: int('UPSTREAM_TIMEOUT_MS', 15_000, 100, 600_000),
    queueSendTimeoutMs: int('QUEUE_SEND_TIMEOUT_MS', 10_000, 100, 600_000),
    queueMaxRetries: int('QUEUE_MAX_RETRIES', 3, 0, 100),
    consumerBudgetMs: int('CONSUMER_BUDGET_MS', 30_000, 0, 600_000),
  };
}

/** A binding the Worker cannot run without, named in the error like a setting. */
export function required<T>(value: T | undefined, name: string, what: string): T {
  if (value === undefined || value === null || value === '') throw new ConfigError(name, `is missing; ${what}`);
  return value;
}

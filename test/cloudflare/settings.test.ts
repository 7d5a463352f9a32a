import { describe, expect, it } from 'vitest';
import { readSettings } from '../../src/cloudflare/settings.ts';
import { ConfigError } from '../../src/relay/settings.ts';

describe('Worker settings', () => {
  it('has the Node relay defaults and the edge ones', () => {
    expect(readSettings({ USERMAVEN_API_KEY: 'key' })).toMatchObject({
      apiKey: 'key',
      serverToken: undefined,
      upstreamUrl: 'https://events.usermaven.com',
      allowedOrigins: [],
      rateLimit: 100,
      paths: { script: '/u.js', collect: '/u/e', pixel: '/u/p.gif', official: '/api/v1/event', health: '/healthz' },
      queueSendTimeoutMs: 10_000,
      queueMaxRetries: 3,
      consumerBudgetMs: 30_000,
    });
  });

  it('reads vars written as numbers in a wrangler config, and the same names as the Node relay', () => {
    const s = readSettings({ USERMAVEN_API_KEY: 'key', RATE_LIMIT: 5, QUEUE_MAX_RETRIES: 10, COLLECT_PATH: '/in', ALLOWED_ORIGINS: 'https://a.test, https://b.test', COOKIE_DOMAIN: 'a.test' });
    expect(s).toMatchObject({ rateLimit: 5, queueMaxRetries: 10, allowedOrigins: ['https://a.test', 'https://b.test'], cookieDomain: 'a.test' });
    expect(s.paths.collect).toBe('/in');
  });

  it('keeps the path of USERMAVEN_URL as a prefix (an egress proxy)', () => {
    expect(readSettings({ USERMAVEN_API_KEY: 'key', USERMAVEN_URL: 'https://proxy.example/usermaven/' }).upstreamUrl).toBe('https://proxy.example/usermaven');
  });

  it.each([
    ['USERMAVEN_URL', { USERMAVEN_URL: 'ftp://x' }],
    ['USERMAVEN_URL', { USERMAVEN_URL: 'https://events.usermaven.com/api/v1/s2s/event' }],
    ['USERMAVEN_URL', { USERMAVEN_URL: 'https://x.test/?token=k.SECRET-TOKEN', USERMAVEN_SERVER_TOKEN: 'SECRET-TOKEN' }],
    ['USERMAVEN_API_KEY', { USERMAVEN_API_KEY: 'has space' }],
    ['USERMAVEN_SERVER_TOKEN', { USERMAVEN_SERVER_TOKEN: 'a b' }],
    ['ALLOWED_ORIGINS', { ALLOWED_ORIGINS: 'example.com' }],
    ['RATE_LIMIT', { RATE_LIMIT: '-1' }],
    ['QUEUE_MAX_RETRIES', { QUEUE_MAX_RETRIES: '101' }],
    ['COLLECT_PATH', { COLLECT_PATH: 'u/e' }],
    ['HEALTH_PATH', { HEALTH_PATH: '/u/e' }],
  ])('names %s when its value is wrong, without the token', (setting, env) => {
    let error: unknown;
    try {
      readSettings({ USERMAVEN_API_KEY: 'key', ...env });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).setting).toBe(setting);
    expect((error as Error).message).not.toContain('SECRET-TOKEN');
  });
});

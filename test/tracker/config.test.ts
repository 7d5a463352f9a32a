import { afterEach, describe, expect, it, vi } from 'vitest';

// config.ts reads the script tag when imported: each case imports a fresh copy.
const configWith = async (dataset: Record<string, string> | null, src = 'https://relay.example/u.js') => {
  vi.resetModules();
  vi.stubGlobal('document', { currentScript: dataset && { dataset, src } });
  vi.stubGlobal('location', { href: 'https://site.example/shop/page?x=1' });
  return import('../../src/tracker/config.ts');
};

afterEach(() => vi.unstubAllGlobals());

describe('config', () => {
  it.each([
    ['no attribute: /u/e next to the script', {}, 'https://relay.example/u/e'],
    ['a relative path', { endpoint: '/in/e' }, 'https://relay.example/in/e'],
    ['a path relative to the script', { endpoint: 'x/e' }, 'https://relay.example/x/e'],
    ['an absolute URL', { endpoint: 'https://other.example/c' }, 'https://other.example/c'],
  ])('resolves the endpoint: %s', async (_, dataset, endpoint) => {
    expect((await configWith(dataset)).ENDPOINT.href).toBe(endpoint);
  });

  it('resolves against the page for an inline script (no src)', async () => {
    expect((await configWith({}, '')).ENDPOINT.href).toBe('https://site.example/u/e');
  });

  it('uses defaults without a script tag', async () => {
    const c = await configWith(null);
    expect(c).toMatchObject({
      ENDPOINT: new URL('https://site.example/u/e'),
      DEBUG: false,
      AUTO_PAGEVIEW: true,
      ALLOW_AUTOMATION: false,
      REQUIRE_CONSENT: false,
      RESPECT_DNT: false,
      COOKIE_DOMAIN: undefined,
    });
  });

  it.each([
    [undefined, false],
    ['', true], // <script data-debug>
    ['true', true],
    ['1', true],
    ['false', false],
  ])('reads boolean attribute %j as %s', async (value, on) => {
    const dataset: Record<string, string> = {};
    if (value !== undefined) Object.assign(dataset, { debug: value, allowAutomation: value, requireConsent: value, respectDnt: value });
    const c = await configWith(dataset);
    expect([c.DEBUG, c.ALLOW_AUTOMATION, c.REQUIRE_CONSENT, c.RESPECT_DNT]).toEqual([on, on, on, on]);
  });

  it.each([
    [undefined, true],
    ['true', true],
    ['false', false],
  ])('reads data-auto-pageview=%j as %s', async (value, on) => {
    expect((await configWith(value === undefined ? {} : { autoPageview: value })).AUTO_PAGEVIEW).toBe(on);
  });

  it('takes the cookie domain', async () => {
    expect((await configWith({ cookieDomain: '.example.com' })).COOKIE_DOMAIN).toBe('.example.com');
  });
});

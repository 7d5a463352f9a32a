import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UUID_RE } from '../../src/shared/visitor-id.ts';

// The page is stubbed: a cookie jar, storage, screen and window size.
let cookie: string;
const ls = new Map<string, string>();
const page = { href: 'https://shop.example/now?x=1', title: 'Now' };
const setup = async () => {
  vi.resetModules();
  vi.stubGlobal('document', {
    currentScript: null,
    referrer: 'https://ref.example/',
    characterSet: 'UTF-8',
    get title() { return page.title; },
    get cookie() { return cookie; },
    set cookie(_: string) {},
  });
  vi.stubGlobal('location', { href: page.href, protocol: 'https:' });
  vi.stubGlobal('localStorage', { getItem: (k: string) => ls.get(k) ?? null, setItem: (k: string, v: string) => void ls.set(k, v) });
  vi.stubGlobal('screen', { width: 1920, height: 1080 });
  vi.stubGlobal('navigator', { userAgent: 'UA', language: 'de-DE' });
  vi.stubGlobal('innerWidth', 800);
  vi.stubGlobal('innerHeight', 600);
  return import('../../src/tracker/context.ts');
};

beforeEach(() => {
  cookie = '__eventn_id=visitor-1; _ga=GA1.1; _fbp=; other=x';
  ls.clear();
});
afterEach(() => vi.unstubAllGlobals());

describe('event', () => {
  it('carries who, what and the page context of now', async () => {
    const { event } = await setup();
    ls.set('um_u', JSON.stringify({ id: 'u-1' }));
    const before = Date.now();
    const e = event('signup', { plan: 'pro' }, {});
    expect(e).toEqual({
      event_id: expect.stringMatching(UUID_RE),
      event_type: 'signup',
      _timestamp: expect.any(Number),
      user: { id: 'u-1', anonymous_id: 'visitor-1' },
      company: undefined,
      event_attributes: { plan: 'pro' },
      ids: { _ga: 'GA1.1' }, // _fbp is empty: left out
      src: 'umbeacon',
      url: 'https://shop.example/now?x=1',
      page_title: 'Now',
      referer: 'https://ref.example/',
      vp_size: '800x600',
      screen_resolution: '1920x1080',
      user_agent: 'UA',
      user_language: 'de-DE',
      doc_encoding: 'UTF-8',
      local_tz_offset: new Date().getTimezoneOffset(),
    });
    expect(e._timestamp).toBeGreaterThanOrEqual(before);
    // What JSON sends: no undefined company or ad id.
    expect(JSON.parse(JSON.stringify(e)).ids).toEqual({ _ga: 'GA1.1' });
    expect(JSON.parse(JSON.stringify(e))).not.toHaveProperty('company');
  });

  it('takes the moment and page a queued call recorded', async () => {
    const { event } = await setup();
    ls.set('um_c', JSON.stringify({ id: 'c-7' }));
    const e = event('pageview', {}, { t: 1234, u: 'https://shop.example/then', d: 'Then' });
    expect(e).toMatchObject({ _timestamp: 1234, url: 'https://shop.example/then', page_title: 'Then', company: { id: 'c-7' } });
  });

  it('leaves to the relay what the url holds (test/relay/enrich.test.ts)', async () => {
    const { event } = await setup();
    const e = event('pageview', {}, { u: 'https://example.com/p?utm_source=a&gclid=1' });
    for (const f of ['doc_path', 'doc_host', 'doc_search', 'utm', 'click_id']) expect(e).not.toHaveProperty(f);
  });
});

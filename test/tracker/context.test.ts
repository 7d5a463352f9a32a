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
  vi.stubGlobal('location', { href: page.href, hostname: 'shop.example', search: '', protocol: 'https:' });
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
  it('carries who, what and the page context of now, in the compact form', async () => {
    const { event } = await setup();
    ls.set('um_u', JSON.stringify({ id: 'u-1' }));
    ls.set('um_p', JSON.stringify({ '': { plan: 'pro' }, signup: { coupon: 'X' }, other: { no: 1 } }));
    const before = Date.now();
    const e = event('signup', { plan: 'pro' }, {});
    expect(e).toEqual({
      i: expect.stringMatching(UUID_RE),
      e: 'signup',
      t: expect.any(Number),
      n: 'visitor-1',
      u: { id: 'u-1' },
      c: null,
      p: { plan: 'pro', coupon: 'X' },
      a: { plan: 'pro' },
      l: 'https://shop.example/now?x=1',
      d: 'Now',
      r: 'https://ref.example/',
      v: '800x600',
      w: '1920x1080',
      x: 'UTF-8',
      z: new Date().getTimezoneOffset(),
      g: 'UA',
      m: undefined,
    });
    expect(e.t).toBeGreaterThanOrEqual(before);
  });

  it('expands to Usermaven names at the relay (src/shared/compact.ts)', async () => {
    const { event } = await setup();
    const { expandCompact } = await import('../../src/shared/compact.ts');
    const e = expandCompact(JSON.parse(JSON.stringify(event('signup', { plan: 'pro' }, {}))), { userAgent: 'header UA', acceptLanguage: 'de-DE', cookie });
    expect(e).toMatchObject({
      event_type: 'signup',
      user: { anonymous_id: 'visitor-1' },
      company: {},
      event_attributes: { plan: 'pro' },
      ids: { _ga: 'GA1.1' },
      src: 'umbeacon',
      url: 'https://shop.example/now?x=1',
      page_title: 'Now',
      referer: 'https://ref.example/',
      vp_size: '800x600',
      screen_resolution: '1920x1080',
      user_agent: 'UA',
      user_language: 'de-DE',
      doc_encoding: 'UTF-8',
      namespace: 'default',
    });
  });

  it('takes the moment and page a queued call recorded', async () => {
    const { event } = await setup();
    ls.set('um_c', JSON.stringify({ id: 'c-7' }));
    const e = event('pageview', undefined, { t: 1234, u: 'https://shop.example/then', d: 'Then' });
    expect(e).toMatchObject({ t: 1234, l: 'https://shop.example/then', d: 'Then', c: { id: 'c-7' } });
  });

  it('leaves to the relay what the url and the request hold', async () => {
    const { event } = await setup();
    const e = event('pageview', undefined, { u: 'https://example.com/p?utm_source=a&gclid=1' });
    for (const f of ['doc_path', 'doc_host', 'doc_search', 'utm', 'click_id', 'user_language', 'ids']) expect(e).not.toHaveProperty(f);
  });
});

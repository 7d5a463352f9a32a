import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { adIds, context } from './context.ts';

// The page is stubbed; href and title are those passed in (a queued call keeps its own).
beforeEach(() => {
  vi.stubGlobal('document', { referrer: 'https://ref.example/', characterSet: 'UTF-8' });
  vi.stubGlobal('screen', { width: 1920, height: 1080 });
  vi.stubGlobal('navigator', { userAgent: 'UA', language: 'de-DE' });
  vi.stubGlobal('innerWidth', 800);
  vi.stubGlobal('innerHeight', 600);
});
afterEach(() => vi.unstubAllGlobals());

describe('context', () => {
  it('takes url and title of the call and the rest from the page', () => {
    expect(context('https://shop.example.com:8443/a/b?x=1#h', 'Then')).toEqual({
      url: 'https://shop.example.com:8443/a/b?x=1#h',
      page_title: 'Then',
      referer: 'https://ref.example/',
      vp_size: '800x600',
      screen_resolution: '1920x1080',
      user_agent: 'UA',
      user_language: 'de-DE',
      doc_encoding: 'UTF-8',
      local_tz_offset: new Date().getTimezoneOffset(),
    });
  });

  it('leaves to the relay what the url holds (test/relay-derive.test.ts)', () => {
    const c = context('https://example.com/p?utm_source=a&gclid=1', 'T');
    for (const f of ['doc_path', 'doc_host', 'doc_search', 'utm', 'click_id']) expect(c).not.toHaveProperty(f);
  });
});

describe('adIds', () => {
  it('keeps only the ad cookies with a value', () => {
    expect(adIds({ _ga: 'GA1.1', _fbp: '', other: 'x' })).toEqual({ _ga: 'GA1.1' });
    expect(JSON.stringify(adIds({ _fbc: 'fb.1' }))).toBe('{"_fbc":"fb.1"}');
  });
});

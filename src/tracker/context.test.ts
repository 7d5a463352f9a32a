import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { context, pick } from './context.ts';

// The URL-derived fields come from the href passed in; the rest from the page, stubbed here.
beforeEach(() => {
  vi.stubGlobal('document', { referrer: '', characterSet: 'UTF-8' });
  vi.stubGlobal('screen', { width: 1, height: 2 });
  vi.stubGlobal('navigator', { userAgent: 'UA', language: 'en' });
  vi.stubGlobal('innerWidth', 3);
  vi.stubGlobal('innerHeight', 4);
});
afterEach(() => vi.unstubAllGlobals());
const fromUrl = (href: string) => context(href, 'T');

describe('context', () => {
  it('takes path, host and search from the URL', () => {
    expect(fromUrl('https://shop.example.com:8443/a/b?x=1#h')).toMatchObject({
      url: 'https://shop.example.com:8443/a/b?x=1#h',
      doc_path: '/a/b',
      doc_host: 'shop.example.com',
      doc_search: '?x=1',
    });
  });

  it.each([
    ['no query', '', {}, {}],
    [
      'every utm parameter',
      '?utm_source=news&utm_medium=email&utm_campaign=spring&utm_term=shoes&utm_content=hero',
      { source: 'news', medium: 'email', campaign: 'spring', term: 'shoes', content: 'hero' },
      {},
    ],
    ['encoded values', '?utm_source=a%20b%26c&gclid=x%2By', { source: 'a b&c' }, { gclid: 'x+y' }],
    ['empty values are left out', '?utm_source=&gclid=', {}, {}],
    ['unknown parameters are left out', '?utm_foo=1&clid=2&ref=3', {}, {}],
    [
      'every click id',
      '?gclid=1&gbraid=2&wbraid=3&dclid=4&fbclid=5&msclkid=6&ttclid=7&twclid=8&li_fat_id=9',
      {},
      { gclid: '1', gbraid: '2', wbraid: '3', dclid: '4', fbclid: '5', msclkid: '6', ttclid: '7', twclid: '8', li_fat_id: '9' },
    ],
    ['the first of repeated parameters', '?utm_source=a&utm_source=b', { source: 'a' }, {}],
  ])('reads utm and click_id: %s', (_, search, utm, click_id) => {
    const c = fromUrl('https://example.com/p' + search);
    expect(c.utm).toEqual(utm);
    expect(c.click_id).toEqual(click_id);
  });
});

describe('pick', () => {
  it('keeps only keys with a value', () => {
    const cookies: Record<string, string> = { _ga: 'GA1.1', _fbp: '', other: 'x' };
    expect(pick((k) => cookies[k], '_ga _fbp _fbc')).toEqual({ _ga: 'GA1.1' });
  });
});

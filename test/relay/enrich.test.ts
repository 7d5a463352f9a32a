import { describe, expect, it } from 'vitest';
import { enrich } from '../../src/relay/enrich.ts';

// The tracker sends `url` and leaves doc_path, doc_host, doc_search, utm and click_id to the
// relay (every byte of u.js counts); upstream must still get the page's values.
const ctx = { apiKey: 'key1', now: 1_700_000_000_000, newId: () => 'minted' };
const fromTracker = (url: unknown, extra: Record<string, unknown> = {}) =>
  enrich({ event_type: 'pageview', event_id: 'e1', src: 'umbeacon', url, ...extra }, ctx);

describe('page fields derived from the url', () => {
  it('fills path, host and search from the url', () => {
    expect(fromTracker('https://shop.example.com:8443/a/b?x=1#h')).toMatchObject({
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
    const e = fromTracker('https://example.com/p' + search);
    expect(e['utm']).toEqual(utm);
    expect(e['click_id']).toEqual(click_id);
    expect(e['doc_search']).toBe(search);
  });

  it('keeps fields the event already has', () => {
    const sent = { doc_path: '/sent', doc_host: 'sent.example', doc_search: '', utm: { source: 'sent' }, click_id: {} };
    expect(fromTracker('https://example.com/p?utm_source=url&gclid=1', sent)).toMatchObject(sent);
  });

  it.each([
    ['another sender', { src: 'usermaven' }],
    ['an event without src', { src: undefined }],
  ])('leaves the events of %s as they are', (_, extra) => {
    const e = enrich({ event_type: 'x', url: 'https://example.com/p?utm_source=a', ...extra }, ctx);
    for (const f of ['doc_path', 'doc_host', 'doc_search', 'utm', 'click_id']) expect(e).not.toHaveProperty(f);
  });

  it.each([['no url', undefined], ['a url that is not absolute', '/relative'], ['a url that is not a string', 42]])(
    'derives nothing from %s',
    (_, url) => {
      const e = fromTracker(url);
      for (const f of ['doc_path', 'doc_host', 'doc_search', 'utm', 'click_id']) expect(e).not.toHaveProperty(f);
    },
  );
});

import { describe, expect, it } from 'vitest';
import {
  ANON_COOKIE,
  anonymousIdOf,
  cookieDomain,
  domainMatches,
  isAnonymousId,
  normalizeDomain,
  officialCookieDomain,
  officialCookieName,
  visitorCookie,
  visitorIdFrom,
} from '../../src/shared/visitor-id.ts';

const V = '3f2a1c4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b';
const W = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

describe('isAnonymousId', () => {
  it.each<[unknown, boolean]>([
    [V, true],
    [V.toUpperCase(), true],
    ['ab12cd34ef', true],
    ['ab12cd34e', false],
    ['ab12cd34ef0', false],
    [`${V} `, false],
    [`"${V}"`, false],
    ['abc;Path=/evil', false],
    ['', false],
    [42, false],
    [undefined, false],
  ])('%j → %s', (value, ok) => {
    expect(isAnonymousId(value)).toBe(ok);
  });
});

describe('visitorIdFrom', () => {
  it.each<[string | null | undefined, string | undefined]>([
    [`__eventn_id=${V}`, V],
    [`theme=dark; __eventn_id=${V}; other=1`, V],
    [`theme=dark;__eventn_id=${V}`, V],
    [`__eventn_id="${V}"`, V],
    [`__eventn_id=${encodeURIComponent(V)}`, V],
    ['__eventn_id=ab12cd34ef', 'ab12cd34ef'],
    // Two cookies of one name (host-only beside a domain one): the first valid one wins.
    [`__eventn_id=not-an-id; __eventn_id=${V}`, V],
    [`__eventn_id=${W}; __eventn_id=${V}`, W],
    [`x__eventn_id=${V}`, undefined],
    [`__eventn_id_key1=${V}`, undefined],
    ['__eventn_id=not-an-id', undefined],
    ['__eventn_id="', undefined],
    ['__eventn_id=%E0%A4%A', undefined],
    ['__eventn_id', undefined],
    ['theme=dark', undefined],
    ['', undefined],
    [null, undefined],
    [undefined, undefined],
  ])('reads %j as %j', (header, expected) => {
    expect(visitorIdFrom(header)).toBe(expected);
  });

  it('reads the official SDK cookie by its name', () => {
    expect(visitorIdFrom(`__eventn_id=${V}; __eventn_id_key1=ab12cd34ef`, officialCookieName('key1'))).toBe('ab12cd34ef');
  });
});

describe('officialCookieName', () => {
  it.each<[string, string | undefined]>([
    ['key1', '__eventn_id_key1'],
    ['A-b_9', '__eventn_id_A-b_9'],
    ['', undefined],
    ['k;Domain=evil', undefined],
    ['k.e.y', undefined],
    ['x'.repeat(101), undefined],
  ])('%j → %j', (key, name) => {
    expect(officialCookieName(key)).toBe(name);
  });
});

describe('anonymousIdOf', () => {
  it.each<[Record<string, unknown>[], string | undefined]>([
    [[{ user: { anonymous_id: V } }], V],
    [[{ user: { anonymous_id: 'forged;Path=/' } }, { user: { anonymous_id: W } }], W],
    [[{ user: {} }, { event_type: 'a' }], undefined],
    [[], undefined],
  ])('%j → %j', (events, id) => {
    expect(anonymousIdOf(events)).toBe(id);
  });
});

describe('normalizeDomain', () => {
  it.each<[string | undefined, string | undefined]>([
    ['example.com', 'example.com'],
    ['.Example.COM', 'example.com'],
    ['example.com.', 'example.com'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['com', undefined],
    ['localhost', undefined],
    ['127.0.0.1', undefined],
    ['https://example.com', undefined],
    ['example.com:8080', undefined],
    ['example..com', undefined],
    ['-bad.example', undefined],
    ['a b.example', undefined],
    ['example.com; Domain=evil.test', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%j → %j', (value, domain) => {
    expect(normalizeDomain(value)).toBe(domain);
  });
});

describe('domainMatches (RFC 6265 §5.1.3)', () => {
  it.each<[string, string, boolean]>([
    ['example.com', 'example.com', true],
    ['www.example.com', 'example.com', true],
    ['a.b.example.com', 'example.com', true],
    ['WWW.Example.com', 'example.com', true],
    ['badexample.com', 'example.com', false],
    ['example.com', 'www.example.com', false],
    ['example.org', 'example.com', false],
    ['127.0.0.1', '0.0.1', false],
    ['[::1]', 'example.com', false],
  ])('%s under %s: %s', (host, domain, ok) => {
    expect(domainMatches(host, domain)).toBe(ok);
  });
});

describe('cookieDomain', () => {
  it.each<[string, { configured?: string; reported?: string | null }, string | undefined]>([
    ['www.example.com', {}, undefined],
    ['www.example.com', { configured: 'example.com' }, 'example.com'],
    ['www.example.com', { configured: '.example.com' }, 'example.com'],
    ['example.com', { configured: 'example.com' }, 'example.com'],
    // The configured domain wins over the reported one when both fit.
    ['app.shop.example.com', { configured: 'example.com', reported: 'shop.example.com' }, 'example.com'],
    // A configured domain for another site does not hide what the tracker reports here.
    ['www.other.org', { configured: 'example.com', reported: 'other.org' }, 'other.org'],
    ['www.example.co.uk', { reported: 'example.co.uk' }, 'example.co.uk'],
    ['www.example.co.uk', { reported: '.example.co.uk' }, 'example.co.uk'],
    ['example.com', { reported: 'example.com' }, 'example.com'],
    // Not a parent of the host: the browser would drop the cookie, so host-only.
    ['www.example.com', { reported: 'evil.test' }, undefined],
    ['www.example.com', { reported: 'www.example.com.evil.test' }, undefined],
    ['www.example.com', { reported: 'com' }, undefined],
    ['www.example.com', { reported: 'example.com; Secure' }, undefined],
    ['www.example.com', { reported: '' }, undefined],
    ['www.example.com', { reported: null }, undefined],
    ['127.0.0.1', { reported: '0.0.1' }, undefined],
    ['localhost', { configured: 'localhost' }, undefined],
  ])('%s with %j → %j', (host, options, domain) => {
    expect(cookieDomain(host, options)).toBe(domain);
  });
});

describe('officialCookieDomain (the official SDK\'s own choice)', () => {
  it.each<[string, string | undefined, string | undefined]>([
    ['www.example.com', undefined, 'example.com'],
    ['app.shop.example.com', undefined, 'example.com'],
    ['example.com', undefined, 'example.com'],
    ['www.example.co.uk', undefined, 'example.co.uk'],
    ['www.example.com.au', undefined, 'example.com.au'],
    ['www.umbeacon.test', undefined, 'umbeacon.test'],
    ['localhost', undefined, undefined],
    ['127.0.0.1', undefined, undefined],
    ['www.example.com', 'www.example.com', 'www.example.com'],
  ])('%s (COOKIE_DOMAIN %j) → %j', (host, configured, domain) => {
    expect(officialCookieDomain(host, configured)).toBe(domain);
  });
});

describe('visitorCookie', () => {
  it.each<[Parameters<typeof visitorCookie>[1], string]>([
    [{ secure: false }, `${ANON_COOKIE}=${V}; Max-Age=34560000; Path=/; SameSite=Lax`],
    [{ secure: true }, `${ANON_COOKIE}=${V}; Max-Age=34560000; Path=/; SameSite=Lax; Secure`],
    [{ secure: true, domain: 'example.com' }, `${ANON_COOKIE}=${V}; Max-Age=34560000; Domain=example.com; Path=/; SameSite=Lax; Secure`],
    [{ secure: false, name: '__eventn_id_key1', domain: undefined }, `__eventn_id_key1=${V}; Max-Age=34560000; Path=/; SameSite=Lax`],
  ])('%j', (options, header) => {
    expect(visitorCookie(V, options)).toBe(header);
  });
});

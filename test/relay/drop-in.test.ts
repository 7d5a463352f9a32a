/**
 * The relay's side of u.js being a drop-in for the official SDK: u.js's compact events
 * arrive upstream in Usermaven's names, the page's cookie and IP policy are honoured on both
 * routes, and the visitor cookie it re-issues lands on the page's own cookie (same Domain).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMemorySpool } from '../../src/delivery/memory-spool.ts';
import { createRelay } from '../../src/relay/handler.ts';

const NOW = 1_800_000_000_000;
const ANON = '3f2a1c4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b';
let spool = createMemorySpool();
afterEach(() => void (spool = createMemorySpool()));

const relay = (apiKey = 'key1') => createRelay({ spool, apiKey, rateLimit: 0, now: () => NOW });
const storedEvents = async () => (await spool.read(10_000, 1e9))?.records.map((r) => JSON.parse(r) as Record<string, unknown>) ?? [];

/** One u.js event, as src/tracker/context.ts builds it. */
const compact = (extra: Record<string, unknown> = {}) => ({
  i: crypto.randomUUID(),
  e: 'pageview',
  t: NOW - 5000,
  s: NOW - 1000,
  n: ANON,
  u: null,
  c: null,
  p: {},
  l: 'https://www.shop.test/list?utm_source=news',
  d: 'List',
  r: 'https://ref.test/',
  v: '800x600',
  w: '1920x1080',
  x: 'UTF-8',
  z: -60,
  ...extra,
});

const send = (r: ReturnType<typeof createRelay>, url: string, body: unknown, headers: Record<string, string> = {}) =>
  r(new Request(url, { method: 'POST', headers: { 'content-type': 'text/plain', ...headers }, body: typeof body == 'string' ? body : JSON.stringify(body) }), { remoteAddress: '203.0.113.77' });

describe('compact events from u.js', () => {
  it('arrive in Usermaven names, with what the request carries', async () => {
    const res = await send(relay(), 'https://www.shop.test/u/e', [compact()], {
      'user-agent': 'UA/1',
      'accept-language': 'de-DE,de;q=0.9',
      cookie: '_ga=GA1.1; _fbp=fb.1; other=x; __eventn_id=' + ANON,
    });
    expect(res.status).toBe(200);
    const [e] = await storedEvents();
    expect(e).toEqual({
      event_id: expect.any(String),
      event_type: 'pageview',
      _timestamp: NOW - 4000,
      api_key: 'key1',
      user: { anonymous_id: ANON },
      company: {},
      event_attributes: { url: 'https://www.shop.test/list?utm_source=news', referrer: 'https://ref.test/', title: 'List' },
      ids: { _ga: 'GA1.1', _fbp: 'fb.1' },
      src: 'umbeacon',
      url: 'https://www.shop.test/list?utm_source=news',
      page_title: 'List',
      referer: 'https://ref.test/',
      vp_size: '800x600',
      screen_resolution: '1920x1080',
      doc_encoding: 'UTF-8',
      local_tz_offset: -60,
      user_agent: 'UA/1',
      user_language: 'de-DE',
      namespace: 'default',
      source_ip: '203.0.113.77',
      doc_path: '/list',
      doc_host: 'www.shop.test',
      doc_search: '?utm_source=news',
      utm: { source: 'news' },
      click_id: {},
    });
  });

  it.each([
    ['a custom event keeps its attributes', { e: 'signup', a: { plan: 'pro' } }, { event_attributes: { plan: 'pro' } }, []],
    ['$autocapture puts them in autocapture_attributes', { e: '$autocapture', a: { tag_name: 'a' } }, { autocapture_attributes: { tag_name: 'a' } }, ['event_attributes']],
    ['user_identify has none', { e: 'user_identify', u: { id: 'u1' } }, { user: { id: 'u1', anonymous_id: ANON } }, ['event_attributes']],
    ['group has none', { e: 'group', c: { id: 'c1' } }, { company: { id: 'c1' } }, ['event_attributes']],
    ['the company comes from user.company without one of its own', { e: 'x', u: { id: 'u1', company: { id: 'c2' } } }, { company: { id: 'c2' } }, []],
    ['super properties go to the top level', { e: 'x', p: { plan: 'pro', event_type: 'forged', url: 'x' } }, { plan: 'pro', event_type: 'x', url: 'https://www.shop.test/list?utm_source=news' }, []],
    ['the namespace is data-namespace', { m: 'shop' }, { namespace: 'shop' }, []],
  ])('%s', async (_, extra, expected, absent) => {
    await send(relay(), 'https://www.shop.test/u/e', [compact(extra)]);
    const [e] = await storedEvents();
    expect(e).toMatchObject(expected);
    for (const k of absent) expect(e).not.toHaveProperty(k);
  });

  it('drops a super property named __proto__ and pollutes nothing', async () => {
    const res = await send(relay(), 'https://www.shop.test/u/e', '[' + JSON.stringify(compact()).replace('"p":{}', '"p":{"__proto__":{"admin":true}}') + ']');
    expect(res.status).toBe(200);
    const [e] = await storedEvents();
    expect(Object.keys(e!)).not.toContain('__proto__');
    expect(({} as Record<string, unknown>)['admin']).toBeUndefined();
    expect(Object.getPrototypeOf(e)).toBe(Object.prototype);
  });

  it('refuses a __proto__ key in the stored user like any event', async () => {
    const res = await send(relay(), 'https://www.shop.test/u/e', '[' + JSON.stringify(compact()).replace('"u":null', '"u":{"__proto__":{"admin":true}}') + ']');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('forbidden_key');
  });

  it('stores the valid events of a batch and names the refused one', async () => {
    const res = await send(relay(), 'https://www.shop.test/u/e', [compact({ e: 'ok' }), compact({ e: '' }), compact({ e: 'ok2' })]);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { refused: { index: number }[] }).refused.map((r) => r.index)).toEqual([1]);
    expect((await storedEvents()).map((e) => e['event_type'])).toEqual(['ok', 'ok2']);
  });
});

describe('the visitor cookie the relay re-issues', () => {
  it.each([
    ['u.js: on the domain u.js found', 'https://www.shop.test/u/e?d=shop.test', `__eventn_id=${ANON}; Max-Age=34560000; Domain=shop.test; Path=/; SameSite=Lax; Secure`],
    ['u.js: host-only without one', 'https://www.shop.test/u/e', `__eventn_id=${ANON}; Max-Age=34560000; Path=/; SameSite=Lax; Secure`],
    ['u.js: host-only on an IP address', 'http://127.0.0.1/u/e?d=127.0.0.1', `__eventn_id=${ANON}; Max-Age=34560000; Path=/; SameSite=Lax`],
  ])('%s', async (_, url, cookie) => {
    const res = await send(relay(), url, [compact()]);
    expect(res.headers.getSetCookie()).toEqual([cookie]);
  });

  it("the official SDK's cookie on the domain that SDK picks (src/shared/visitor-id.ts)", async () => {
    const official = [{ event_type: 'pageview', event_id: 'k3j4h5g6f7', user: { anonymous_id: 'a1b2c3d4e5' }, utc_time: new Date(NOW).toISOString() }];
    const res = await relay()(
      new Request('https://t.shop.test/api/v1/event?token=key1', { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://app.shop.test' }, body: JSON.stringify(official) }),
    );
    expect(res.headers.getSetCookie()).toEqual(['__eventn_id_key1=a1b2c3d4e5; Max-Age=34560000; Domain=shop.test; Path=/; SameSite=Lax; Secure']);
  });

  it('is the newest id of the batch (the visitor after a reset(true))', async () => {
    const res = await send(relay(), 'https://www.shop.test/u/e', [compact({ n: ANON }), compact({ n: 'b1c2d3e4f5' })]);
    expect(res.headers.getSetCookie()[0]).toMatch(/^__eventn_id=b1c2d3e4f5;/);
  });
});

describe('cookie and IP policy (data-privacy-policy, data-cookie-policy, data-ip-policy)', () => {
  const officialEvent = { event_type: 'pageview', event_id: 'k3j4h5g6f7', user: { anonymous_id: '' }, utc_time: new Date(NOW).toISOString() };
  it.each([
    ['u.js', '/u/e', [compact({ n: '' })]],
    ['the official SDK', '/api/v1/event?token=key1', [officialEvent]],
  ])('%s, strict: no Set-Cookie, no IP, the policy passed on', async (_, path, body) => {
    const url = `https://www.shop.test${path}${path.includes('?') ? '&' : '?'}cookie_policy=strict&ip_policy=strict`;
    const res = await send(relay(), url, body, { cookie: `__eventn_id=${ANON}` });
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie()).toEqual([]);
    const [e] = await storedEvents();
    expect(e).not.toHaveProperty('source_ip');
    expect(e).toMatchObject({ cookie_policy: 'strict', ip_policy: 'strict', user: { anonymous_id: '' } });
  });

  it.each([
    ['/u/e?ip_policy=comply', [compact()]],
    ['/api/v1/event?token=key1&ip_policy=comply', [officialEvent]],
  ])('%s truncates the IP and keeps the cookie', async (path, body) => {
    const res = await send(relay(), `https://www.shop.test${path}`, body);
    const [e] = await storedEvents();
    expect(e).toMatchObject({ source_ip: '203.0.113.0', ip_policy: 'comply' });
    expect(e).not.toHaveProperty('cookie_policy');
    expect(res.headers.getSetCookie().length).toBe(path.startsWith('/u/e') ? 1 : 0); // the official event carries no id here
  });

  it.each([
    ['u.js', '/u/e?cookie_policy=comply', [compact()]],
    ['the official SDK', '/api/v1/event?token=key1&cookie_policy=comply', [{ ...officialEvent, user: { anonymous_id: 'a1b2c3d4e5' } }]],
    ['u.js, strict with an id', '/u/e?cookie_policy=strict', [compact()]],
  ])('%s: a cookie policy other than keep gets no Set-Cookie even for a valid id', async (_, path, body) => {
    const res = await send(relay(), `https://www.shop.test${path}`, body);
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie()).toEqual([]);
    expect((await storedEvents())[0]).toMatchObject({ cookie_policy: path.includes('strict') ? 'strict' : 'comply' });
  });

  it('keep is the default: the full IP, no policy fields', async () => {
    await send(relay(), 'https://www.shop.test/u/e', [compact()]);
    const [e] = await storedEvents();
    expect(e).toMatchObject({ source_ip: '203.0.113.77' });
    expect(e).not.toHaveProperty('ip_policy');
  });
});

describe('GET /u/x.js', () => {
  it('serves the opt-in chunk beside the collect path', async () => {
    const r = createRelay({ spool, rateLimit: 0, script: () => 'core"/u/e"', extras: () => 'extras', paths: { collect: '/in/e' } });
    const res = await r(new Request('https://www.shop.test/in/x.js'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect(await res.text()).toBe('extras');
  });
});

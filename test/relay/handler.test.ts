import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createEventFeed } from '../../src/relay/feed.ts';
import { createMemorySpool } from '../../src/delivery/memory-spool.ts';
import { parseTrustProxy } from '../../src/relay/client-ip.ts';
import type { RelayOptions } from '../../src/relay/handler.ts';
import { makeRelay, type Harness, type Mode } from '../support/relay-harness.ts';

const NOW = 1_800_000_000_000;
const ANON = '3f2a1c4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b';
const TRACKER = 'console.log("tracker");var e="/u/e";';

let h: Harness;
afterEach(() => h?.close());

const stored = () => h.spool.stats().depth;
const storedEvents = async () => (await h.spool.read(10_000, 1e9))?.records.map((r) => JSON.parse(r) as Record<string, unknown>) ?? [];
const ev = (extra: Record<string, unknown> = {}) => ({ event_type: 'pageview', event_id: crypto.randomUUID(), user: { anonymous_id: ANON }, ...extra });
const post = (body: unknown, headers: Record<string, string> = {}, path = '/u/e') =>
  h.call(path, { method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

function deep(levels: number): Record<string, unknown> {
  let v: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < levels; i++) v = { v };
  return v;
}

describe.each(['direct', 'http'] as Mode[])('relay handler (%s)', (mode) => {
  const start = async (options: Partial<RelayOptions> = {}) => {
    h = await makeRelay(mode, { apiKey: 'key1', now: () => NOW, script: () => TRACKER, ...options });
    return h;
  };

  describe('POST /u/e', () => {
    it('stores a batch durably and answers 200 with a refreshed cookie', async () => {
      await start();
      const res = await post([ev(), ev({ event_type: 'signup' })]);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok', stored: 2, duplicates: 0 });
      expect(stored()).toBe(2);
      expect(res.headers.getSetCookie()).toEqual([`__eventn_id=${ANON}; Max-Age=34560000; Path=/; SameSite=Lax`]);
    });

    it.each([
      ['one event object', JSON.stringify({ event_type: 'a' }), 'text/plain'],
      ['a JSON array as application/json', JSON.stringify([{ event_type: 'a' }]), 'application/json'],
      ['a body with no content-type', JSON.stringify([{ event_type: 'a' }]), ''],
    ])('accepts %s', async (_name, body, type) => {
      await start();
      const res = await h.call('/u/e', { method: 'POST', headers: type ? { 'content-type': type } : {}, body });
      expect(res.status).toBe(200);
      expect(stored()).toBe(1);
    });

    it('accepts the official 10-character id for the cookie', async () => {
      await start();
      const res = await post([ev({ user: { anonymous_id: 'abc123xyz0' } })]);
      expect(res.headers.getSetCookie()[0]).toMatch(/^__eventn_id=abc123xyz0;/);
    });

    it.each([['not-an-id'], ['a b c'], ['x'.repeat(36)], ['abc;Path=/evil']])('sets no cookie for the malformed id %j', async (id) => {
      await start();
      const res = await post([ev({ user: { anonymous_id: id } })]);
      expect(res.status).toBe(200);
      expect(res.headers.getSetCookie()).toEqual([]);
    });

    it('marks the cookie Secure behind a trusted https proxy', async () => {
      await start({ trustProxy: parseTrustProxy('loopback') });
      const res = await post([ev()], { 'x-forwarded-proto': 'https' });
      expect(res.headers.getSetCookie()[0]).toMatch(/; Secure$/);
    });

    // TRUST_PROXY off, and on but naming another peer: the client's X-Forwarded-Proto is its own word.
    it.each(['false', '192.0.2.1'])('ignores x-forwarded-proto from an untrusted client (TRUST_PROXY=%s)', async (trust) => {
      await start({ trustProxy: parseTrustProxy(trust) });
      const res = await post([ev()], { 'x-forwarded-proto': 'https' });
      expect(res.headers.getSetCookie()[0]).not.toMatch(/Secure/);
    });

    const big = 'x'.repeat(70 * 1024);
    it.each([
      ['a body that is not JSON', '[{"event_type":', 400, 'bad_json'],
      ['an empty body', '', 400, 'bad_json'],
      ['an empty array', '[]', 400, 'empty'],
      ['a body over 64 KiB', JSON.stringify([{ event_type: 'a', big }]), 413, 'too_large'],
      ['more than 500 events', JSON.stringify(Array.from({ length: 501 }, () => ({ event_type: 'a' }))), 400, 'too_many_events'],
      ['a missing event_type', JSON.stringify([{ url: 'https://x' }]), 400, 'event_type'],
      ['a numeric event_type', JSON.stringify([{ event_type: 5 }]), 400, 'event_type'],
      ['an empty event_type', JSON.stringify([{ event_type: ' ' }]), 400, 'event_type'],
      ['a non-object event', JSON.stringify(['b']), 400, 'not_object'],
      ['user as a string', JSON.stringify([{ event_type: 'a', user: 'bob' }]), 400, 'wrong_type'],
      ['company as an array', JSON.stringify([{ event_type: 'a', company: [1] }]), 400, 'wrong_type'],
      ['event_attributes as a number', JSON.stringify([{ event_type: 'a', event_attributes: 3 }]), 400, 'wrong_type'],
      ['_timestamp as a string', JSON.stringify([{ event_type: 'a', _timestamp: 'yesterday' }]), 400, 'wrong_type'],
      ['user.email as a number', JSON.stringify([{ event_type: 'a', user: { email: 5 } }]), 400, 'wrong_type'],
      ['nesting deeper than 8', JSON.stringify([{ event_type: 'a', event_attributes: deep(9) }]), 400, 'too_deep'],
      ['a __proto__ key', '[{"event_type":"a","event_attributes":{"__proto__":{"admin":true}}}]', 400, 'forbidden_key'],
      ['a nested constructor key', JSON.stringify([{ event_type: 'a', user: { custom: { constructor: { prototype: 1 } } } }]), 400, 'forbidden_key'],
    ])('refuses %s and stores nothing', async (_name, body, status, code) => {
      await start();
      const res = await h.call('/u/e', { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
      expect(res.status).toBe(status);
      const answer = (await res.json()) as { error: string; message: string };
      expect(answer.error).toBe(code);
      expect(answer.message.length).toBeGreaterThan(5);
      expect(stored()).toBe(0);
      expect(res.headers.getSetCookie()).toEqual([]);
      expect(h.relay.rejects()[code]).toBe(1);
    });

    it('refuses a body that is not UTF-8 instead of storing U+FFFD', async () => {
      await start();
      const bytes = new Uint8Array([...new TextEncoder().encode('[{"event_type":"caf'), 0xe9, ...new TextEncoder().encode('"}]')]);
      const res = await h.call('/u/e', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: bytes });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('bad_encoding');
      expect(stored()).toBe(0);
    });

    it('stores the valid events of a batch and names each refused one', async () => {
      await start();
      const res = await post([ev({ event_type: 'ok1' }), ev({ user: 'nope' }), 'b', ev({ event_type: 'ok2' })]);
      expect(res.status).toBe(200);
      const answer = (await res.json()) as { stored: number; refused: { index: number; error: string; message: string }[] };
      expect(answer.stored).toBe(2);
      expect(answer.refused).toEqual([
        { index: 1, error: 'wrong_type', message: expect.stringMatching(/event 1: user must be an object/) },
        { index: 2, error: 'not_object', message: expect.stringMatching(/event 2: not an object/) },
      ]);
      expect(stored()).toBe(2);
      expect(h.relay.rejects()).toMatchObject({ wrong_type: 1, not_object: 1 });
    });

    it("counts the events a tracker's outbox dropped (o on its oldest event) once the batch is stored", async () => {
      await start();
      const compact = { i: crypto.randomUUID(), e: 'pageview', t: Date.now(), n: '', l: 'https://s.test/', d: '', r: '', v: '1x1', w: '1x1', x: 'UTF-8', z: 0 };
      expect((await post([{ ...compact, o: 7 }])).status).toBe(200);
      expect((await post([{ ...compact, i: crypto.randomUUID(), o: 0 }])).status).toBe(200);
      expect(h.relay.rejects()).toMatchObject({ dropped_in_browser: 7 });
    });

    it('refuses a batch with no valid event as a whole, naming the first problem', async () => {
      await start();
      const res = await post([ev({ user: 'nope' }), ev({ event_type: 5 })]);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toMatch(/event 0: user must be an object/);
      expect(stored()).toBe(0);
      expect(res.headers.getSetCookie()).toEqual([]);
    });

    it.each([['multipart/form-data; boundary=x'], ['application/x-www-form-urlencoded']])('refuses content-type %s with 415', async (type) => {
      await start();
      const res = await h.call('/u/e', { method: 'POST', headers: { 'content-type': type }, body: '[{"event_type":"a"}]' });
      expect(res.status).toBe(415);
      expect(stored()).toBe(0);
    });

    it('answers 405 to GET', async () => {
      await start();
      const res = await h.call('/u/e');
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('POST, OPTIONS');
    });

    it('decides api_key, source_ip and user_agent itself', async () => {
      await start();
      await post([ev({ api_key: 'forged', token: 'forged.secret', source_ip: '6.6.6.6' }), ev({ user_agent: 'Kept/1.0' })], {
        'user-agent': 'HeaderUA/2.0',
        'x-forwarded-for': '9.9.9.9',
      });
      const [a, b] = await storedEvents();
      expect(a).toMatchObject({ api_key: 'key1', source_ip: '127.0.0.1', user_agent: 'HeaderUA/2.0' });
      expect(a).not.toHaveProperty('token');
      expect(b?.['user_agent']).toBe('Kept/1.0');
    });

    it.each([
      ['loopback', '9.9.9.9', '9.9.9.9'],
      ['loopback', '9.9.9.9, 8.8.8.8', '8.8.8.8'],
      ['loopback,10.0.0.0/8', '9.9.9.9, 10.1.2.3', '9.9.9.9'],
      ['1', '9.9.9.9, 8.8.8.8', '8.8.8.8'],
      ['2', '9.9.9.9, 8.8.8.8', '9.9.9.9'],
      ['10.0.0.0/8', '9.9.9.9', '127.0.0.1'],
    ])('with TRUST_PROXY=%s and X-Forwarded-For %j the client is %s', async (trust, xff, ip) => {
      await start({ trustProxy: parseTrustProxy(trust) });
      await post([ev()], { 'x-forwarded-for': xff });
      expect((await storedEvents())[0]?.['source_ip']).toBe(ip);
    });

    it.each([
      ['corrects a client clock 1 h behind', { _timestamp: NOW - 3_600_000 - 5000, sent_at: NOW - 3_600_000 }, NOW - 5000],
      ['corrects a client clock 1 h ahead', { _timestamp: NOW + 3_600_000 - 5000, sent_at: NOW + 3_600_000 }, NOW - 5000],
      ['uses sent_at when _timestamp is missing', { sent_at: NOW - 99_999 }, NOW],
      ['stamps arrival time when neither is given', {}, NOW],
      ['keeps a _timestamp without sent_at (server events)', { _timestamp: NOW - 86_400_000 }, NOW - 86_400_000],
      ['never stores a future time', { _timestamp: NOW + 60_000 }, NOW],
    ])('%s', async (_name, fields, expected) => {
      await start();
      await post([ev(fields)]);
      const [event] = await storedEvents();
      expect(event?.['_timestamp']).toBe(expected);
      expect(event).not.toHaveProperty('sent_at');
    });

    it('mints an event_id when the client sent none', async () => {
      await start();
      await post([{ event_type: 'a' }]);
      expect((await storedEvents())[0]?.['event_id']).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('stores a duplicate event_id once, within a request and across requests', async () => {
      await start();
      const a = ev();
      const res1 = await post([a, a, ev()]);
      expect(await res1.json()).toMatchObject({ stored: 2, duplicates: 1 });
      const res2 = await post([a]);
      expect(await res2.json()).toMatchObject({ stored: 0, duplicates: 1 });
      expect(stored()).toBe(2);
    });

    it('answers 503 with a reason when the spool is full, and stores nothing', async () => {
      await start({ spool: createMemorySpool({ maxBytes: 300 }) });
      const res = await post([ev({ page_title: 'x'.repeat(400) })]);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('30');
      expect(((await res.json()) as { message: string }).message).toMatch(/spool is full/);
      expect(stored()).toBe(0);
      // Not remembered as seen: the tracker's retry must be stored once there is room.
    });

    it('stores a retried event after a 503 (it was not remembered as seen)', async () => {
      const spool = createMemorySpool({ maxBytes: 1000 });
      await start({ spool });
      const filler = ev({ page_title: 'x'.repeat(600) });
      expect((await post([filler])).status).toBe(200);
      const retried = ev({ page_title: 'y'.repeat(600) });
      expect((await post([retried])).status).toBe(503);
      const b = await spool.read(10, 1e9);
      await spool.ack(b!.cursor);
      expect((await post([retried])).status).toBe(200);
      expect(stored()).toBe(1);
    });

    it('calls onStored after storing', async () => {
      let kicks = 0;
      await start({ onStored: () => kicks++ });
      await post([ev()]);
      await post('nope');
      expect(kicks).toBe(1);
    });
  });

  describe('origins', () => {
    const allowedOrigins = ['https://shop.example'];

    it('refuses a foreign origin with forged X-Forwarded-Host and -Proto from a peer TRUST_PROXY does not name', async () => {
      // 200 with a Secure cookie before: X-Forwarded-Host/-Proto were believed from any peer once TRUST_PROXY was set.
      await start({ allowedOrigins: ['https://good.example'], trustProxy: parseTrustProxy('192.0.2.1') });
      const res = await post([ev()], { origin: 'https://evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' });
      expect(res.status).toBe(403);
      expect(res.headers.getSetCookie()).toEqual([]);
      expect(stored()).toBe(0);
    });

    it('refuses an unknown origin with 403 when ALLOWED_ORIGINS is set', async () => {
      await start({ allowedOrigins });
      const res = await post([ev()], { origin: 'https://evil.example' });
      expect(res.status).toBe(403);
      expect(stored()).toBe(0);
    });

    it('refuses a request naming no origin when ALLOWED_ORIGINS is set', async () => {
      await start({ allowedOrigins });
      expect((await post([ev()])).status).toBe(403);
    });

    it('accepts a listed origin and answers with CORS headers', async () => {
      await start({ allowedOrigins });
      const res = await post([ev()], { origin: 'https://shop.example' });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe('https://shop.example');
      expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    });

    it('always accepts its own origin', async () => {
      await start({ allowedOrigins });
      expect((await post([ev()], { origin: h.base })).status).toBe(200);
    });

    it('answers a preflight for a listed origin', async () => {
      await start({ allowedOrigins });
      const res = await h.call('/u/e', { method: 'OPTIONS', headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' } });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    });

    it('accepts any origin when ALLOWED_ORIGINS is empty', async () => {
      await start();
      expect((await post([ev()], { origin: 'https://anywhere.example' })).status).toBe(200);
    });
  });

  describe('rate limit', () => {
    it('answers 429 with Retry-After to a flood from one address and stores none of it', async () => {
      let t = NOW;
      await start({ rateLimit: 10, clock: () => t });
      // burst: max(10 × 10, 500) events
      expect((await post(Array.from({ length: 500 }, () => ({ event_type: 'a' })))).status).toBe(200);
      const res = await post([ev()]);
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(stored()).toBe(500);
      t += 1000;
      expect((await post(Array.from({ length: 10 }, () => ev()))).status).toBe(200);
    });

    it('limits each address on its own', async () => {
      await start({ rateLimit: 1, trustProxy: parseTrustProxy('loopback') });
      expect((await post(Array.from({ length: 500 }, () => ({ event_type: 'a' })), { 'x-forwarded-for': '1.1.1.1' })).status).toBe(200);
      expect((await post([ev()], { 'x-forwarded-for': '1.1.1.1' })).status).toBe(429);
      expect((await post([ev()], { 'x-forwarded-for': '2.2.2.2' })).status).toBe(200);
    });

    it('counts bad bodies too, so a garbage flood ends in 429', async () => {
      // A stopped clock: no refill however slowly a loaded machine sends the 502 requests.
      await start({ rateLimit: 1, clock: () => 0 });
      const codes = new Set<number>();
      for (let i = 0; i < 502; i++) codes.add((await post('garbage')).status);
      expect([...codes].sort()).toEqual([400, 429]);
    });

    it('is off with RATE_LIMIT=0', async () => {
      await start({ rateLimit: 0 });
      for (let i = 0; i < 3; i++) expect((await post(Array.from({ length: 500 }, () => ({ event_type: 'a' })))).status).toBe(200);
    });
  });

  describe('GET /u.js', () => {
    it('serves the tracker with cache headers and an ETag, and 304 on a match', async () => {
      await start();
      const res = await h.call('/u.js');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/javascript/);
      expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
      const etag = res.headers.get('etag')!;
      expect(etag).toMatch(/^"[0-9a-f]+"$/);
      expect(await res.text()).toBe(TRACKER);
      const again = await h.call('/u.js', { headers: { 'if-none-match': etag } });
      expect(again.status).toBe(304);
      expect(await again.text()).toBe('');
    });

    it.each([
      ['gzip, deflate, br', true],
      ['br;q=1, gzip;q=0.5', true],
      ['gzip;q=0', false],
      ['identity', false],
    ])('serves it gzipped for Accept-Encoding %j: %s', async (accept, gz) => {
      await start();
      const res = await h.call('/u.js', { headers: { 'accept-encoding': accept } });
      expect(res.headers.get('vary')).toBe('Accept-Encoding');
      expect(res.headers.get('content-encoding')).toBe(gz ? 'gzip' : null);
      const bytes = new Uint8Array(await res.arrayBuffer());
      const text = gz ? new TextDecoder().decode(gunzipSync(bytes)) : new TextDecoder().decode(bytes);
      expect(text).toBe(TRACKER);
      const etag = res.headers.get('etag')!;
      expect((await h.call('/u.js', { headers: { 'accept-encoding': accept, 'if-none-match': etag } })).status).toBe(304);
    });

    it('bakes a configured collect path into the script', async () => {
      await start({ paths: { collect: '/x/in' } });
      const body = await (await h.call('/u.js')).text();
      expect(body).toBe('console.log("tracker");var e="/x/in";');
      expect((await post([ev()], {}, '/x/in')).status).toBe(200);
      expect((await post([ev()], {}, '/u/e')).status).toBe(404);
    });

    it('changes the ETag when the script changes', async () => {
      let source = TRACKER;
      await start({ script: () => source });
      const first = (await h.call('/u.js')).headers.get('etag');
      source = TRACKER + '//v2';
      const second = (await h.call('/u.js')).headers.get('etag');
      expect(second).not.toBe(first);
    });

    it('answers 404 with a hint when the tracker is not built', async () => {
      await start({ script: () => null });
      const res = await h.call('/u.js');
      expect(res.status).toBe(404);
      expect(await res.text()).toMatch(/npm run build/);
    });
  });

  describe('GET /u/p.gif', () => {
    it('records a pageview from the query and answers a GIF with a cookie', async () => {
      await start();
      const res = await h.call('/u/p.gif?url=https%3A%2F%2Fshop.example%2Fabout%3Fa%3D1&title=About');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/gif');
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect(new TextDecoder().decode(bytes.subarray(0, 6))).toBe('GIF89a');
      const [event] = await storedEvents();
      expect(event).toMatchObject({ event_type: 'pageview', src: 'noscript', url: 'https://shop.example/about?a=1', doc_path: '/about', doc_search: '?a=1', page_title: 'About', api_key: 'key1' });
      const id = (event?.['user'] as { anonymous_id: string }).anonymous_id;
      expect(res.headers.getSetCookie()[0]).toContain(`__eventn_id=${id};`);
    });

    it('takes the page from Referer and the visitor from the cookie', async () => {
      await start();
      await h.call('/u/p.gif', { headers: { referer: 'https://shop.example/pricing', cookie: `other=1; __eventn_id=${ANON}` } });
      expect((await storedEvents())[0]).toMatchObject({ doc_path: '/pricing', user: { anonymous_id: ANON } });
    });

    // An image request carries no Origin, so with ALLOWED_ORIGINS set the pixel checks Referer.
    it.each([
      ['a listed Referer', { referer: 'https://shop.example/pricing' }, 200, 1],
      ['a Referer from another site', { referer: 'https://evil.example/page' }, 403, 0],
      ['no Referer', {}, 403, 0],
    ])('with ALLOWED_ORIGINS set, answers %s with %i', async (_, headers: Record<string, string>, status, count) => {
      await start({ allowedOrigins: ['https://shop.example'] });
      const res = await h.call('/u/p.gif', { headers });
      expect(res.status).toBe(status);
      expect(stored()).toBe(count);
    });
  });

  describe('POST /api/v1/event (official SDK)', () => {
    // The shape @usermaven/sdk-js 1.5 builds in createEventPayload (see src/relay/official.ts).
    const official = (extra: Record<string, unknown> = {}) => ({
      event_id: 'k3j4h5g6f7',
      user: { anonymous_id: 'a1b2c3d4e5', id: undefined },
      ids: {},
      utc_time: new Date(NOW - 2000).toISOString(),
      local_tz_offset: -60,
      api_key: 'key1',
      src: 'usermaven',
      event_type: 'pageview',
      namespace: 'default',
      event_attributes: { url: 'https://shop.example/', referrer: '', title: 'Shop' },
      url: 'https://shop.example/',
      doc_path: '/',
      ...extra,
    });

    it('maps utc_time to _timestamp and refreshes the SDK cookie', async () => {
      await start();
      const res = await h.call('/api/v1/event?token=key1', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([official()]) });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok' });
      const [event] = await storedEvents();
      expect(event).toMatchObject({ event_type: 'pageview', _timestamp: NOW - 2000, api_key: 'key1', event_id: 'k3j4h5g6f7', src: 'usermaven' });
      expect(event).not.toHaveProperty('utc_time');
      expect(res.headers.getSetCookie()[0]).toMatch(/^__eventn_id_key1=a1b2c3d4e5; Max-Age=34560000/);
    });

    it('keeps no source_ip when the SDK asks for ip_policy=strict', async () => {
      await start();
      await h.call('/api/v1/event?token=key1&ip_policy=strict', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([official()]) });
      expect((await storedEvents())[0]).not.toHaveProperty('source_ip');
    });

    it('refuses a token that is not the configured API key', async () => {
      await start();
      const res = await h.call('/api/v1/event?token=other', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([official()]) });
      expect(res.status).toBe(403);
      expect(stored()).toBe(0);
    });

    it('accepts any token in embedded mode', async () => {
      await start({ apiKey: undefined });
      const res = await h.call('/api/v1/event?token=whatever', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([official()]) });
      expect(res.status).toBe(200);
      expect((await storedEvents())[0]?.['api_key']).toBe('whatever');
    });

    it('applies the same validation', async () => {
      await start();
      const res = await h.call('/api/v1/event?token=key1', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[{"event_type":"a","__proto__":{}}]' });
      expect(res.status).toBe(400);
    });
  });

  describe('GET /healthz', () => {
    it('reports spool depth, oldest unsent age and upstream state', async () => {
      let t = NOW;
      await start({
        now: () => t,
        spool: createMemorySpool({ now: () => t }),
        upstreamHost: 'events.usermaven.com',
        forwarderStatus: () => ({ state: 'waiting', lastStatus: 503, lastError: 'upstream answered 503', consecutiveFailures: 3, sentEvents: 10, sentRequests: 2, deadLettered: 0 }),
      });
      await post([ev(), ev()]);
      t += 4000;
      const res = await h.call('/healthz');
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        status: 'degraded',
        spool: { depth: 2, oldestUnsentAgeMs: 4000 },
        upstream: { host: 'events.usermaven.com', lastStatus: 503, consecutiveFailures: 3 },
      });
    });
  });

  describe('events page', () => {
    it('is absent without a feed', async () => {
      await start();
      expect((await h.call('/_events')).status).toBe(404);
    });

    it('shows stored events newest first, with counts per type', async () => {
      await start({ feed: createEventFeed() });
      await post([ev({ event_type: 'pageview', doc_path: '/a' }), ev({ event_type: 'signup', user: { email: 'a@b.c', anonymous_id: ANON } })]);
      await post([ev({ event_type: 'pageview', doc_path: '/b' })]);
      const page = await h.call('/_events');
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      expect(await page.text()).toContain('EventSource');
      const data = (await (await h.call('/_events/data')).json()) as { total: number; counts: Record<string, number>; recent: { type: string; user: string; page: string }[] };
      expect(data.total).toBe(3);
      expect(data.counts).toEqual({ pageview: 2, signup: 1 });
      expect(data.recent.map((e) => e.page || e.user)).toEqual(['/b', 'a@b.c', '/a']);
    });

    it('streams a snapshot, then new events as they arrive', async () => {
      await start({ feed: createEventFeed() });
      await post([ev({ event_type: 'before_stream' })]);
      const controller = new AbortController();
      const res = mode === 'direct'
        ? await h.relay(new Request(`${h.base}/_events/stream`, { signal: controller.signal }))
        : await fetch(`${h.base}/_events/stream`, { signal: controller.signal });
      expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = decoder.decode((await reader.read()).value);
      while (!text.includes('\n\n')) text += decoder.decode((await reader.read()).value);
      // The snapshot is taken as the stream subscribes: an event stored just before is in it.
      expect(text).toMatch(/^event: snapshot\ndata: \{"total":1,.*"type":"before_stream"/);
      await post([ev({ event_type: 'live_one' })]);
      while (!text.includes('live_one')) text += decoder.decode((await reader.read()).value);
      expect(text).toMatch(/data: \[\{.*"type":"live_one"/);
      controller.abort();
      await reader.cancel().catch(() => {});
    });
  });

  describe('routing', () => {
    it('answers 404 for unknown paths, or hands them to the fallback', async () => {
      await start();
      expect((await h.call('/nope')).status).toBe(404);
      await h.close();
      await start({ fallback: () => new Response('static', { status: 200 }) });
      expect(await (await h.call('/index.html')).text()).toBe('static');
      expect(h.relay.handles('/u/e')).toBe(true);
      expect(h.relay.handles('/index.html')).toBe(false);
    });
  });
});

describe('proxy hint', () => {
  it('warns once when forwarding headers arrive and TRUST_PROXY is off', async () => {
    const lines: string[] = [];
    const logger = { info: () => {}, warn: (msg: string) => lines.push(msg), error: () => {} };
    h = await makeRelay('direct', { apiKey: 'k', logger });
    await post([ev()], { 'x-forwarded-for': '9.9.9.9' });
    await post([ev()], { 'x-forwarded-for': '9.9.9.9' });
    expect(lines.filter((l) => l.includes('TRUST_PROXY is off'))).toHaveLength(1);
  });
});

describe('reject logging', () => {
  it('logs the first reject of each reason, then counts per window', async () => {
    let t = NOW;
    const lines: { msg: string; fields?: Record<string, unknown> }[] = [];
    const logger = {
      info: (msg: string, fields?: Record<string, unknown>) => lines.push({ msg, ...(fields ? { fields } : {}) }),
      warn: (msg: string, fields?: Record<string, unknown>) => lines.push({ msg, ...(fields ? { fields } : {}) }),
      error: (msg: string, fields?: Record<string, unknown>) => lines.push({ msg, ...(fields ? { fields } : {}) }),
    };
    h = await makeRelay('direct', { apiKey: 'k', clock: () => t, logger, logWindowMs: 10_000 });
    for (let i = 0; i < 5; i++) await post('not json');
    await post('[{"x":1}]');
    expect(lines.filter((l) => l.msg === 'rejected').map((l) => l.fields?.['reason'])).toEqual(['bad_json', 'event_type']);
    expect(lines.some((l) => l.msg === 'rejected (counted)')).toBe(false);
    t += 10_000;
    await h.call('/healthz');
    expect(lines.find((l) => l.msg === 'rejected (counted)')?.fields?.['counts']).toEqual({ bad_json: 4 });
    await post('still not json');
    h.relay.flushLogs();
    expect(lines.filter((l) => l.msg === 'rejected (counted)').at(-1)?.fields?.['counts']).toEqual({ bad_json: 1 });
  });
});

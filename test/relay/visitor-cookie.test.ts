/**
 * The visitor cookie the relay sets: the same name, Path and Domain as the tracker's, so the
 * browser holds one `__eventn_id` (src/shared/visitor-id.ts has the rules).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseTrustProxy } from '../../src/relay/client-ip.ts';
import type { RelayOptions } from '../../src/relay/handler.ts';
import { makeRelay, type Harness, type Mode } from '../support/relay-harness.ts';

const V = '3f2a1c4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b';
const AGE = 'Max-Age=34560000';

let h: Harness;
afterEach(() => h?.close());

const event = (id = V) => JSON.stringify([{ event_type: 'pageview', event_id: crypto.randomUUID(), user: { anonymous_id: id } }]);
const storedIds = async () =>
  ((await h.spool.read(10_000, 1e9))?.records ?? []).map((r) => (JSON.parse(r) as { user: { anonymous_id: string } }).user.anonymous_id);

describe.each(['direct', 'http'] as Mode[])('visitor cookie (%s)', (mode) => {
  const start = async (options: Partial<RelayOptions> = {}) => (h = await makeRelay(mode, { apiKey: 'key1', ...options }));

  describe('POST /u/e', () => {
    it.each<[string, string, Partial<RelayOptions>, Record<string, string>, string]>([
      ['host-only without a setting or a report', 'www.shop.example', {}, {}, `__eventn_id=${V}; ${AGE}; Path=/; SameSite=Lax`],
      ['on COOKIE_DOMAIN', 'www.shop.example', { cookieDomain: 'shop.example' }, {}, `__eventn_id=${V}; ${AGE}; Domain=shop.example; Path=/; SameSite=Lax`],
      ['on the domain the tracker reports', 'app.shop.example', {}, { d: 'shop.example' }, `__eventn_id=${V}; ${AGE}; Domain=shop.example; Path=/; SameSite=Lax`],
      ['on a reported registrable domain under a two-label suffix', 'www.shop.co.uk', {}, { d: 'shop.co.uk' }, `__eventn_id=${V}; ${AGE}; Domain=shop.co.uk; Path=/; SameSite=Lax`],
      ['on COOKIE_DOMAIN over a reported one', 'a.b.shop.example', { cookieDomain: 'shop.example' }, { d: 'b.shop.example' }, `__eventn_id=${V}; ${AGE}; Domain=shop.example; Path=/; SameSite=Lax`],
      ['host-only when the report is not a parent of the host', 'www.shop.example', {}, { d: 'evil.example' }, `__eventn_id=${V}; ${AGE}; Path=/; SameSite=Lax`],
      ['host-only when the report is not a domain name', 'www.shop.example', {}, { d: 'shop.example; Domain=evil' }, `__eventn_id=${V}; ${AGE}; Path=/; SameSite=Lax`],
      ['host-only when COOKIE_DOMAIN is another site', 'www.other.example', { cookieDomain: 'shop.example' }, {}, `__eventn_id=${V}; ${AGE}; Path=/; SameSite=Lax`],
    ])('sets it %s', async (_name, host, options, query, cookie) => {
      await start(options);
      const qs = new URLSearchParams(query).toString();
      const res = await h.call(`/u/e${qs ? `?${qs}` : ''}`, { method: 'POST', headers: { host, 'content-type': 'text/plain' }, body: event() });
      expect(res.status).toBe(200);
      expect(res.headers.getSetCookie()).toEqual([cookie]);
    });

    it('takes the host from X-Forwarded-Host behind a trusted proxy', async () => {
      await start({ trustProxy: parseTrustProxy('loopback') });
      const res = await h.call('/u/e?d=shop.example', {
        method: 'POST',
        headers: { host: 'relay.internal', 'x-forwarded-host': 'www.shop.example', 'x-forwarded-proto': 'https', 'content-type': 'text/plain' },
        body: event(),
      });
      expect(res.headers.getSetCookie()).toEqual([`__eventn_id=${V}; ${AGE}; Domain=shop.example; Path=/; SameSite=Lax; Secure`]);
    });

    // TRUST_PROXY off, and on but naming another peer than this client (127.0.0.1).
    it.each(['false', '192.0.2.1'])('ignores X-Forwarded-Host from an untrusted client (TRUST_PROXY=%s)', async (trust) => {
      await start({ trustProxy: parseTrustProxy(trust) });
      const res = await h.call('/u/e?d=shop.example', { method: 'POST', headers: { host: 'relay.internal', 'x-forwarded-host': 'www.shop.example', 'content-type': 'text/plain' }, body: event() });
      expect(res.headers.getSetCookie()).toEqual([`__eventn_id=${V}; ${AGE}; Path=/; SameSite=Lax`]);
    });
  });

  describe('GET /u/p.gif', () => {
    it.each<[string, string]>([
      ['a plain cookie', `__eventn_id=${V}`],
      ['a quoted cookie', `__eventn_id="${V}"`],
      ['a %-encoded cookie', `__eventn_id=${encodeURIComponent(V)}`],
      ['an invalid copy before a valid one', `__eventn_id=nope; __eventn_id=${V}`],
    ])('keeps the visitor of %s', async (_name, cookie) => {
      await start();
      const res = await h.call('/u/p.gif?url=https%3A%2F%2Fwww.shop.example%2F', { headers: { host: 'www.shop.example', cookie } });
      expect(res.status).toBe(200);
      expect(await storedIds()).toEqual([V]);
      expect(res.headers.getSetCookie()).toEqual([`__eventn_id=${V}; ${AGE}; Path=/; SameSite=Lax`]);
    });

    it('sets it on COOKIE_DOMAIN, or on the d its src carries', async () => {
      await start({ cookieDomain: 'shop.example' });
      const res = await h.call('/u/p.gif', { headers: { host: 'www.shop.example', cookie: `__eventn_id=${V}` } });
      expect(res.headers.getSetCookie()).toEqual([`__eventn_id=${V}; ${AGE}; Domain=shop.example; Path=/; SameSite=Lax`]);
      await h.close();
      await start();
      const again = await h.call('/u/p.gif?d=shop.example', { headers: { host: 'www.shop.example', cookie: `__eventn_id=${V}` } });
      expect(again.headers.getSetCookie()).toEqual([`__eventn_id=${V}; ${AGE}; Domain=shop.example; Path=/; SameSite=Lax`]);
    });
  });

  describe('POST /api/v1/event (official SDK)', () => {
    const official = JSON.stringify([{ event_type: 'pageview', event_id: 'k3j4h5g6f7', user: { anonymous_id: 'a1b2c3d4e5' }, utc_time: new Date().toISOString() }]);
    it.each<[string, Partial<RelayOptions>, string]>([
      ['www.shop.example', {}, '__eventn_id_key1=a1b2c3d4e5; Max-Age=34560000; Domain=shop.example; Path=/; SameSite=Lax'],
      ['www.shop.co.uk', {}, '__eventn_id_key1=a1b2c3d4e5; Max-Age=34560000; Domain=shop.co.uk; Path=/; SameSite=Lax'],
      ['www.shop.example', { cookieDomain: 'www.shop.example' }, '__eventn_id_key1=a1b2c3d4e5; Max-Age=34560000; Domain=www.shop.example; Path=/; SameSite=Lax'],
      ['localhost', {}, '__eventn_id_key1=a1b2c3d4e5; Max-Age=34560000; Path=/; SameSite=Lax'],
    ])('sets the SDK cookie for %s where the SDK puts its own (%j)', async (host, options, cookie) => {
      await start(options);
      const res = await h.call('/api/v1/event?token=key1', { method: 'POST', headers: { host, 'content-type': 'application/json' }, body: official });
      expect(res.status).toBe(200);
      expect(res.headers.getSetCookie()).toEqual([cookie]);
    });
  });
});

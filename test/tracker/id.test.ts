import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ANON_COOKIE, UUID_RE } from '../../src/shared/visitor-id.ts';

/**
 * A document.cookie that keeps name=value pairs and records each write. Like a browser, it
 * refuses a cookie whose Domain is a public suffix (here `test`, `co.uk`) or not a parent of
 * the host, and deletes one written with max-age=0.
 */
const fakeDocument = (initial: Record<string, string> = {}, blocked = false, host = 'www.site.example') => {
  const jar = new Map(Object.entries(initial));
  const writes: string[] = [];
  const doc = {
    // The tag's data-key names the official tracker's cookie, `__eventn_id_<key>`.
    currentScript: { dataset: { key: 'key1' }, src: `https://${host}/u.js` },
    get cookie() {
      if (blocked) throw new DOMException('blocked', 'SecurityError');
      return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    },
    set cookie(s: string) {
      if (blocked) throw new DOMException('blocked', 'SecurityError');
      writes.push(s);
      const [pair, ...attrs] = s.split(/; ?/);
      const [k, v] = pair!.split('=');
      const domain = attrs.find((a) => /^domain=/i.test(a))?.slice(7);
      if (domain && (['test', 'co.uk', 'example'].includes(domain) || !(host === domain || host.endsWith('.' + domain)))) return;
      if (attrs.some((a) => /^max-age=0$/i.test(a))) jar.delete(k!);
      else jar.set(k!, v!);
    },
  };
  return { doc, cookieJar: jar, writes };
};

const ls = new Map<string, string>();
const setup = async (cookies: Record<string, string> = {}, opts: { blocked?: boolean; protocol?: string; host?: string } = {}) => {
  vi.resetModules();
  const host = opts.host ?? 'www.site.example';
  const fake = fakeDocument(cookies, opts.blocked, host);
  vi.stubGlobal('document', fake.doc);
  vi.stubGlobal('location', { href: `https://${host}/`, hostname: host, search: '', protocol: opts.protocol ?? 'https:' });
  vi.stubGlobal('localStorage', { getItem: (k: string) => ls.get(k) ?? null, setItem: (k: string, v: string) => void ls.set(k, v) });
  const id = await import('../../src/tracker/id.ts');
  return { ...fake, ...id, current: () => id.anonymousId(id.jar()) };
};

/** The writes of the visitor cookie itself, not the domain probe's or a host-only deletion. */
const idWrites = (writes: string[]) => writes.filter((w) => /^__eventn_id=[^;]/.test(w));

beforeEach(() => ls.clear());
afterEach(() => vi.unstubAllGlobals());

describe('uuid', () => {
  it('uses crypto.randomUUID', async () => {
    const { uuid } = await setup();
    expect(uuid()).toMatch(UUID_RE);
  });

  it('makes a v4 UUID without crypto.randomUUID (plain http)', async () => {
    const { uuid } = await setup();
    vi.stubGlobal('crypto', {});
    const ids = new Set(Array.from({ length: 200 }, uuid));
    expect(ids.size).toBe(200);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('anonymousId', () => {
  it('keeps the name shared with the relay', async () => {
    expect((await setup()).ANON).toBe(ANON_COOKIE);
  });

  it('creates a UUID cookie on the registrable domain, Lax, Secure on https, for 400 days, and a localStorage copy', async () => {
    const { current, writes } = await setup();
    const id = current();
    expect(id).toMatch(UUID_RE);
    expect(idWrites(writes)).toHaveLength(1);
    expect(idWrites(writes)[0]).toBe(`__eventn_id=${id}; path=/; max-age=${400 * 86400}; sameSite=Lax; secure; domain=site.example`);
    expect(JSON.parse(ls.get('__eventn_id')!)).toBe(id);
    expect(JSON.parse(ls.get('um_d')!)).toBe('site.example');
  });

  it('is not Secure on http', async () => {
    const { current, writes } = await setup({}, { protocol: 'http:' });
    current();
    expect(idWrites(writes)[0]).not.toContain('secure');
  });

  it('keeps an existing cookie and does not rewrite it once its domain is known', async () => {
    ls.set('um_d', JSON.stringify('site.example'));
    const { current, writes } = await setup({ __eventn_id: 'server-set-id' });
    expect(current()).toBe('server-set-id');
    expect(writes).toEqual([]);
  });

  it('on the first probe, rewrites an existing cookie on the domain and removes its host-only copy', async () => {
    const { current, writes, cookieJar } = await setup({ __eventn_id: 'old-host-only' });
    expect(current()).toBe('old-host-only');
    expect(writes).toContain('__eventn_id=;path=/;max-age=0');
    expect(idWrites(writes)).toEqual([expect.stringMatching(/^__eventn_id=old-host-only;.*domain=site.example$/)]);
    expect(cookieJar.get('__eventn_id')).toBe('old-host-only');
  });

  it.each([
    ['our cookie over everything', { __eventn_id: 'ours', __eventn_id_key1: 'official1' }, 'stored', 'ours'],
    ["the official tracker's cookie over the stored copy", { __eventn_id_key1: 'official1' }, 'stored', 'official1'],
    ['the stored copy when there is no cookie', {}, 'stored', 'stored'],
    ["the stored copy over another workspace's official cookie", { __eventn_id_key2: 'official2' }, 'stored', 'stored'],
  ])('prefers %s', async (_, cookies, stored, expected) => {
    ls.set('__eventn_id', JSON.stringify(stored));
    ls.set('um_d', JSON.stringify('site.example'));
    const { current, cookieJar } = await setup(cookies);
    expect(current()).toBe(expected);
    expect(cookieJar.get('__eventn_id')).toBe(expected);
  });

  it('starts a new visitor when fresh, even with an official cookie present', async () => {
    const { anonymousId, cookieJar, current } = await setup({ __eventn_id: 'old', __eventn_id_key1: 'official1' });
    const fresh = anonymousId({ __eventn_id: 'old', __eventn_id_key1: 'official1' }, true);
    expect(fresh).toMatch(UUID_RE);
    expect(cookieJar.get('__eventn_id')).toBe(fresh);
    expect(current()).toBe(fresh);
  });

  it.each([
    ['www.shop.co.uk', 'shop.co.uk'],
    ['a.b.site.example', 'site.example'],
    ['site.example', 'site.example'],
    ['127.0.0.1', ''],
    ['localhost', ''],
  ])('probes %s: the shortest parent the browser accepts is %j', async (host, expected) => {
    const { probe, cookieJar } = await setup({}, { host });
    expect(probe()).toBe(expected);
    expect(cookieJar.has('um_t')).toBe(false);
  });

  it('takes the cross-domain link parameter _um when there is no cookie', async () => {
    const { anonymousId } = await setup();
    vi.stubGlobal('location', { href: 'https://www.site.example/?_um=k3j5h6g7f8', hostname: 'www.site.example', search: '?_um=k3j5h6g7f8', protocol: 'https:' });
    expect(anonymousId({})).toBe('k3j5h6g7f8');
    expect(anonymousId({ __eventn_id: 'mine' })).toBe('mine');
  });

  it('is empty and stores nothing in cookieless mode', async () => {
    vi.resetModules();
    const fake = fakeDocument();
    vi.stubGlobal('document', { ...fake.doc, currentScript: { dataset: { privacyPolicy: 'strict' }, src: 'https://www.site.example/u.js' } });
    Object.defineProperty(document, 'cookie', { get: () => fake.doc.cookie, set: (v: string) => (fake.doc.cookie = v) });
    vi.stubGlobal('location', { href: 'https://www.site.example/', hostname: 'www.site.example', search: '', protocol: 'https:' });
    vi.stubGlobal('localStorage', { getItem: (k: string) => ls.get(k) ?? null, setItem: (k: string, v: string) => void ls.set(k, v) });
    const id = await import('../../src/tracker/id.ts');
    expect(id.anonymousId(id.jar())).toBe('');
    expect(fake.writes).toEqual([]);
    expect(ls.size).toBe(0);
  });

  it('keeps the visitor in localStorage when cookies throw', async () => {
    const first = await setup({}, { blocked: true });
    expect(first.jar()).toEqual({});
    const id = first.current();
    const again = await setup({}, { blocked: true });
    expect(again.current()).toBe(id);
  });
});

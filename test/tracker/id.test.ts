import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ANON_COOKIE, UUID_RE } from '../../src/shared/visitor-id.ts';

/** A document.cookie that keeps name=value pairs and records each write. */
const fakeDocument = (initial: Record<string, string> = {}, blocked = false) => {
  const jar = new Map(Object.entries(initial));
  const writes: string[] = [];
  const doc = {
    currentScript: null,
    get cookie() {
      if (blocked) throw new DOMException('blocked', 'SecurityError');
      return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    },
    set cookie(s: string) {
      if (blocked) throw new DOMException('blocked', 'SecurityError');
      writes.push(s);
      const [pair] = s.split(';');
      const [k, v] = pair!.split('=');
      jar.set(k!, v!);
    },
  };
  return { doc, cookieJar: jar, writes };
};

const ls = new Map<string, string>();
const setup = async (cookies: Record<string, string> = {}, opts: { blocked?: boolean; protocol?: string } = {}) => {
  vi.resetModules();
  const fake = fakeDocument(cookies, opts.blocked);
  vi.stubGlobal('document', fake.doc);
  vi.stubGlobal('location', { href: 'https://site.example/', protocol: opts.protocol ?? 'https:' });
  vi.stubGlobal('localStorage', { getItem: (k: string) => ls.get(k) ?? null, setItem: (k: string, v: string) => void ls.set(k, v) });
  const id = await import('../../src/tracker/id.ts');
  return { ...fake, ...id, current: () => id.anonymousId(id.jar()) };
};

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

  it('creates a UUID cookie, Lax, Secure on https, for 400 days, and a localStorage copy', async () => {
    const { current, writes } = await setup();
    const id = current();
    expect(id).toMatch(UUID_RE);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatch(new RegExp(`^__eventn_id=${id}; path=/; expires=[^;]+; sameSite=Lax; secure$`));
    const days = (Date.parse(writes[0]!.match(/expires=([^;]+)/)![1]!) - Date.now()) / 864e5;
    expect(Math.round(days)).toBe(400);
    expect(JSON.parse(ls.get('__eventn_id')!)).toBe(id);
  });

  it('is not Secure on http', async () => {
    const { current, writes } = await setup({}, { protocol: 'http:' });
    current();
    expect(writes[0]).not.toContain('secure');
  });

  it('keeps an existing cookie and does not rewrite it', async () => {
    const { current, writes } = await setup({ __eventn_id: 'server-set-id' });
    expect(current()).toBe('server-set-id');
    expect(writes).toEqual([]);
  });

  it.each([
    ['our cookie over everything', { __eventn_id: 'ours', __eventn_id_key1: 'official1' }, 'stored', 'ours'],
    ["the official tracker's cookie over the stored copy", { __eventn_id_key1: 'official1' }, 'stored', 'official1'],
    ['the stored copy when there is no cookie', {}, 'stored', 'stored'],
  ])('prefers %s', async (_, cookies, stored, expected) => {
    ls.set('__eventn_id', JSON.stringify(stored));
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

  it('keeps the visitor in localStorage when cookies throw', async () => {
    const first = await setup({}, { blocked: true });
    expect(first.jar()).toEqual({});
    const id = first.current();
    const again = await setup({}, { blocked: true });
    expect(again.current()).toBe(id);
  });
});

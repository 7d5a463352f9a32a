import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UUID_RE } from '../../src/shared/visitor-id.ts';
import { anonymousIdFrom, createClient, type Client, type ClientOptions } from '../../src/client/index.ts';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';

const VISITOR = '3f1c2a9e-5b7d-4c1e-9a2b-8d6f0e4c7a15';
let upstream: FakeUpstream;
let clients: Client[] = [];
let errors: Error[] = [];

beforeEach(async () => {
  upstream = await startFakeUpstream({ apiKey: 'cl-key', serverToken: 'cl-secret' });
  errors = [];
});
afterEach(async () => {
  upstream.heal();
  await Promise.all(clients.map((c) => c.close(2000)));
  clients = [];
  await upstream.close();
});

function client(options: Partial<ClientOptions> = {}): Client {
  const c = createClient({ apiKey: upstream.apiKey, serverToken: upstream.serverToken, url: upstream.url, onError: (e) => errors.push(e), ...options });
  clients.push(c);
  return c;
}

describe('anonymousIdFrom', () => {
  it.each<[string, string | undefined]>([
    [`__eventn_id=${VISITOR}`, VISITOR],
    [`theme=dark; __eventn_id=${VISITOR}; other=1`, VISITOR],
    [`__eventn_id="${VISITOR}"`, VISITOR],
    ['__eventn_id=ab12cd34ef', 'ab12cd34ef'],
    [`x__eventn_id=${VISITOR}`, undefined],
    ['__eventn_id=not-an-id', undefined],
    ['__eventn_id=%E0%A4%A', undefined],
    ['theme=dark', undefined],
    ['', undefined],
  ])('reads %j as %j', (cookie, expected) => {
    expect(anonymousIdFrom(new Request('http://site.test/', { headers: cookie ? { cookie } : {} }))).toBe(expected);
    expect(anonymousIdFrom({ headers: cookie ? { cookie } : {} })).toBe(expected);
    expect(anonymousIdFrom(cookie)).toBe(expected);
  });

  it('reads nothing from a missing request', () => {
    expect(anonymousIdFrom(undefined)).toBeUndefined();
    expect(anonymousIdFrom(null)).toBeUndefined();
  });
});

describe('createClient', () => {
  it('joins the visitor from a Web Request', async () => {
    const c = client();
    const request = new Request('http://site.test/billing', { method: 'POST', headers: { cookie: `__eventn_id=${VISITOR}` } });
    await c.track('plan_upgraded', { plan: 'pro' }, { user: { id: 'u-42' }, anonymousId: anonymousIdFrom(request)! });
    expect(await c.flush()).toBe(true);
    expect(upstream.events).toEqual([
      expect.objectContaining({ event_type: 'plan_upgraded', event_attributes: { plan: 'pro' }, user: { id: 'u-42', anonymous_id: VISITOR } }),
    ]);
  });

  it('joins the visitor from a Node IncomingMessage, over real HTTP', async () => {
    const c = client();
    const server = createServer((req: IncomingMessage, res) => {
      const anonymousId = anonymousIdFrom(req);
      c.track('checkout', { total: 12 }, anonymousId ? { anonymousId } : {}).then(() => res.end('ok'), () => res.end('no'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { cookie: `a=b; __eventn_id=${VISITOR}` } });
    } finally {
      server.close();
    }
    await c.flush();
    expect(upstream.events).toEqual([expect.objectContaining({ event_type: 'checkout', user: { anonymous_id: VISITOR } })]);
  });

  it('gives every event an api_key, an event_id and a _timestamp, and keeps a given time', async () => {
    const c = client();
    const before = Date.now();
    await c.track('a');
    await c.identify({ id: 'u1', email: 'ada@example.com' }, { id: 'c1', name: 'Acme' });
    await c.group({ id: 'c1' }, { user: { id: 'u1' } });
    await c.track('b', {}, { timestamp: '2024-05-01T10:00:00Z', eventId: 'my-key-1' });
    await c.flush();
    const [a, identify, group, b] = upstream.events;
    for (const e of upstream.events) expect(e).toMatchObject({ api_key: 'cl-key', src: 'umbeacon-node' });
    expect(a!['event_id']).toMatch(UUID_RE);
    expect(a!['_timestamp']).toBeGreaterThanOrEqual(before);
    expect(identify).toMatchObject({ event_type: 'user_identify', user: { id: 'u1', email: 'ada@example.com' }, company: { id: 'c1', name: 'Acme' } });
    expect(group).toMatchObject({ event_type: 'group', user: { id: 'u1' }, company: { id: 'c1' } });
    expect(b).toMatchObject({ event_id: 'my-key-1', _timestamp: Date.UTC(2024, 4, 1, 10) });
    expect(new Set(upstream.events.map((e) => e['event_id'])).size).toBe(4);
  });

  it('sends batches of at most 100 events', async () => {
    const c = client();
    await Promise.all(Array.from({ length: 250 }, (_, i) => c.track('bulk', { i })));
    expect(await c.flush()).toBe(true);
    expect(upstream.eventIds().size).toBe(250);
    expect(Math.max(...upstream.requests.map((r) => r.events.length))).toBe(100);
    expect(upstream.requests.length).toBeGreaterThanOrEqual(3);
  });

  it('sends a lone event without a flush, after its short wait', async () => {
    const c = client({ flushIntervalMs: 50 });
    await c.track('lonely');
    await upstream.waitFor((u) => u.events.length === 1 && c.stats().sent === 1);
    expect(c.stats()).toMatchObject({ queued: 0, sent: 1, refused: 0 });
  });

  it('retries while the upstream fails, and delivers everything once', async () => {
    upstream.fail(503, { count: 2, retryAfter: 0 });
    const c = client();
    await Promise.all(Array.from({ length: 20 }, (_, i) => c.track('retry', { i })));
    expect(await c.flush()).toBe(true);
    expect(upstream.eventIds().size).toBe(20);
    expect(upstream.requests.filter((r) => r.status === 503)).toHaveLength(2);
  });

  it('keeps backing off while the upstream is down, however many events come in', async () => {
    upstream.fail(503);
    const c = client();
    for (let i = 0; i < 100; i++) await c.track('during_outage', { i });
    await upstream.waitFor((u) => u.requests.length === 1 && c.stats().lastError !== undefined);
    // More calls, each on its own turn of the event loop, while the client backs off.
    for (let i = 100; i < 300; i++) {
      await c.track('during_outage', { i });
      await new Promise((r) => setImmediate(r));
    }
    // A full batch may cut the 1 s wait short, but never a back-off: not one retry per call.
    expect(upstream.requests.length).toBeLessThan(10);
    upstream.heal();
    expect(await c.flush()).toBe(true);
    expect(upstream.eventIds().size).toBe(300);
  });

  it('reports an event the upstream refuses and delivers the rest', async () => {
    upstream.reject((e) => (e['event_attributes'] as { i?: number }).i === 3);
    const c = client();
    await Promise.all(Array.from({ length: 6 }, (_, i) => c.track('mixed', { i })));
    expect(await c.flush()).toBe(true);
    expect(upstream.eventIds().size).toBe(5);
    expect(c.stats().refused).toBe(1);
    expect(errors.map((e) => e.message)).toContainEqual(expect.stringMatching(/^dead letter: upstream answered 400/));
  });

  it('bounds the queue: beyond maxQueueBytes track rejects and onError hears of it', async () => {
    upstream.hang();
    const c = client({ maxQueueBytes: 2000 });
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => c.track('flood', { i })));
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(rejected.length).toBeGreaterThan(0);
    expect(String((rejected[0] as PromiseRejectedResult).reason)).toMatch(/spool is full/);
    expect(errors.some((e) => /event not queued: spool is full/.test(e.message))).toBe(true);
    expect(c.stats().queued).toBeLessThan(20);
  });

  it('flushes on close, and refuses events after it', async () => {
    const c = client({ flushIntervalMs: 60_000 });
    for (let i = 0; i < 5; i++) void c.track('closing', { i });
    expect(await c.close()).toBe(true);
    expect(upstream.eventIds().size).toBe(5);
    await expect(c.track('late')).rejects.toThrow(/closed/);
  });

  it('says how long close waited in vain, and the token stays out of every message', async () => {
    upstream.hang();
    const c = client({ timeoutMs: 200 });
    await c.track('stuck');
    expect(await c.close(300)).toBe(false);
    expect(errors.map((e) => e.message)).toContainEqual(expect.stringMatching(/closed with 1 event\(s\) unsent; they are lost \(pass dataDir/));
    for (const e of errors) expect(e.message).not.toContain('cl-secret');
  });

  it('refuses a second client on the same dataDir, naming the first, and the first keeps working', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'umbeacon-client-lock-'));
    try {
      const first = client({ dataDir });
      await first.track('first');
      const second = client({ dataDir });
      await expect(second.track('second')).rejects.toThrow(/is already open in this process/);
      expect(errors.map((e) => e.message)).toContainEqual(expect.stringMatching(new RegExp(`^cannot open the queue in ${dataDir}: ${dataDir} is already open in this process`)));
      await first.track('first again');
      expect(await first.close()).toBe(true);
      expect([...upstream.events].map((e) => e['event_type'])).toEqual(['first', 'first again']);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  const huge = { blob: 'x'.repeat(33_000) };
  const circular: Record<string, unknown> = {};
  circular['self'] = circular;
  it.each<[string, (c: Client) => unknown, RegExp]>([
    ['no event type', (c) => (c.track as (t?: unknown) => unknown)(), /event type must be a non-empty string, e\.g\. track\('plan_upgraded'/],
    ['an empty event type', (c) => c.track(' '), /event type must be a non-empty string/],
    ['array attributes', (c) => c.track('x', [1] as unknown as Record<string, unknown>), /attributes must be a plain object such as \{ plan: 'pro' \}.*got an array/],
    ['string attributes', (c) => c.track('x', 'pro' as unknown as Record<string, unknown>), /attributes must be a plain object.*got "pro"/],
    ['an event over 32 KB', (c) => c.track('x', huge), /over the 32768-byte limit/],
    ['circular attributes', (c) => c.track('x', circular), /must be JSON-serializable/],
    ['a timestamp in seconds', (c) => c.track('x', {}, { timestamp: 1700000000 }), /timestamp must be ms since 1970/],
    ['a non-object user', (c) => c.track('x', {}, { user: 'u1' as unknown as { id: string } }), /options\.user must be an object/],
    // What the relay would refuse (src/shared/event-rules.ts), the client refuses at the call.
    ['attributes nested past the relay\'s depth', (c) => c.track('x', { a: { b: { c: { d: { e: { f: { g: { h: 1 } } } } } } } }), /track: nested deeper than 8 levels; the relay refuses such an event/],
    ['a "constructor" key in the attributes', (c) => c.track('x', { constructor: { prototype: 1 } }), /track: contains a "constructor" key/],
    ['a "__proto__" key in the user', (c) => c.track('x', {}, { user: JSON.parse('{"id":"u1","__proto__":{"admin":true}}') as { id: string } }), /track: contains a "__proto__" key/],
    ['a numeric user id', (c) => c.identify({ id: 42 as unknown as string }), /identify: user\.id must be a string/],
    ['an event type over 200 characters', (c) => c.track('t'.repeat(201)), /track: event_type is longer than 200 characters/],
    ['an eventId over 100 characters', (c) => c.track('x', {}, { eventId: 'i'.repeat(101) }), /options\.eventId must be a non-empty string of at most 100 characters/],
    ['identify without id or email', (c) => c.identify({ first_name: 'Ada' }), /identify: pass the signed-in user with an id or email/],
    ['group without a company', (c) => (c.group as (x: unknown) => unknown)('acme'), /group: pass the company with an id/],
  ])('throws a TypeError for %s', (_name, call, message) => {
    const c = client();
    expect(() => call(c)).toThrow(TypeError);
    expect(() => call(c)).toThrow(message);
  });

  it.each<[string, Partial<ClientOptions>, RegExp]>([
    ['no apiKey', { apiKey: '' }, /apiKey must be a non-empty string — usually process\.env\.USERMAVEN_API_KEY/],
    ['no serverToken', { serverToken: undefined as unknown as string }, /serverToken must be a non-empty string/],
    ['a relative url', { url: '/events' }, /url must be an absolute URL/],
  ])('refuses to start with %s', (_name, options, message) => {
    expect(() => createClient({ apiKey: 'k', serverToken: 's', ...options })).toThrow(message);
  });
});

describe('metrics()', () => {
  it('counts what the relay\'s families count, and the counters add up after an outage', async () => {
    const c = client({ flushIntervalMs: 10 });
    upstream.fail(503, { count: 2 });
    await Promise.all([c.track('a'), c.track('b'), c.track('c')]);
    upstream.reject((e) => e['event_type'] === 'bad', 400);
    await c.track('bad');
    await c.track('d');
    expect(await c.flush(10_000)).toBe(true);
    const m = c.metrics();
    expect(m).toMatchObject({ received: 5, forwarded: 4, deadLettered: 1, queued: 0, rejected: {} });
    expect(m.received).toBe(m.forwarded + m.deadLettered + m.queued);
    expect(m.upstreamRequests['503']).toBe(2);
    expect(m.upstreamRequests['200']).toBeGreaterThanOrEqual(1);
    expect(m.upstreamSeconds).toBeGreaterThan(0);
    expect(JSON.stringify(m)).not.toContain(upstream.serverToken);
  });

  it('counts events the full queue refused', async () => {
    const c = client({ maxQueueBytes: 600 });
    upstream.fail(503);
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => c.track(`e${i}`, { pad: 'x'.repeat(100) })));
    const refused = results.filter((r) => r.status === 'rejected').length;
    expect(refused).toBeGreaterThan(0);
    expect(c.metrics().rejected).toEqual({ queue_full: refused });
    expect(c.metrics().received).toBe(10 - refused);
  });
});

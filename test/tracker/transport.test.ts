import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LIMITS } from '../../src/shared/event.ts';

// The outbox and its delivery state machine (src/tracker/transport.ts), against a stubbed
// browser: localStorage, navigator (onLine, sendBeacon), document.hidden, fetch and timers.
// transport.ts keeps per-page state (the tick's events, the request in flight, the back-off):
// every test imports a fresh copy, as a new page would run it.

type Ev = Record<string, any>;
let n = 0;
const event = (text = '', t = Date.now()): Ev => ({ i: 'id-' + n++, e: 'e', t, a: { text } });
const bytes = (batch: object[]) => Buffer.byteLength(JSON.stringify(batch));

let ls: Map<string, string>;
let writes: number;
let beacons: string[];
let fetches: { url: string; body: string; init: RequestInit }[];
let online: boolean;
let hidden: boolean;
let answer: () => Promise<{ status: number; headers?: Headers }>;
const stored = () => JSON.parse(ls.get('um_o') ?? 'null') as Ev[] | null;
const ids = (events: Ev[] | null) => (events ?? []).map((e) => e.i);
const sentIds = (body: string) => ids(JSON.parse(body) as Ev[]);
/** Lets the fetch promise chain settle (fake timers leave microtasks alone). */
const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

const page = async () => {
  vi.resetModules();
  return import('../../src/tracker/transport.ts');
};

beforeEach(() => {
  vi.useFakeTimers();
  ls = new Map();
  writes = 0;
  beacons = [];
  fetches = [];
  online = true;
  hidden = false;
  answer = async () => ({ status: 200 });
  vi.stubGlobal('location', { href: 'https://site.example/page' });
  vi.stubGlobal('localStorage', {
    getItem: (k: string) => ls.get(k) ?? null,
    setItem: (k: string, v: string) => void (k == 'um_o' && writes++, ls.set(k, v)),
  });
  vi.stubGlobal('navigator', {
    get onLine() { return online; },
    sendBeacon: (_: URL, body: string) => (beacons.push(body), true),
  });
  vi.stubGlobal('document', { currentScript: null, get hidden() { return hidden; } });
  vi.stubGlobal('fetch', (url: URL, init: RequestInit) => {
    fetches.push({ url: String(url), body: String(init.body), init });
    return answer();
  });
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('split', () => {
  it('keeps the relay limits', async () => {
    const { MAX_BODY, MAX_EVENTS } = await page();
    expect(MAX_BODY).toBe(LIMITS.bodyBytes);
    expect(MAX_EVENTS).toBe(LIMITS.eventsPerRequest);
  });

  it('needs no count of events: MAX_EVENTS of the smallest event u.js makes are over MAX_BODY', async () => {
    const { MAX_BODY, MAX_EVENTS } = await page();
    // Every field u.js always sends, each as short as it can be: the UUID and the ms time have
    // fixed lengths, a URL is at least "a:", the encoding "UTF-8", the sizes "0x0".
    const smallest = { i: crypto.randomUUID(), e: '', t: Date.now(), n: '', u: null, c: null, p: {}, l: 'a:', d: '', r: '', v: '0x0', w: '0x0', x: 'UTF-8', z: 0, g: '' };
    expect(bytes(Array(MAX_EVENTS).fill(smallest))).toBeGreaterThan(MAX_BODY);
  });

  it('sends nothing for no events', async () => {
    expect((await page()).split([])).toEqual([]);
  });

  it.each([
    ['ASCII', 'a'],
    ['two-byte UTF-8', 'é'],
    ['four-byte UTF-8', '😀'],
  ])('fills each request up to the byte limit exactly (%s)', async (_, ch) => {
    const { split } = await page();
    const events = Array.from({ length: 40 }, (_, i) => event(ch.repeat(300 + i * 7)));
    const max = 4096;
    const batches = split(events, max);
    expect(batches.flat()).toEqual(events);
    for (const b of batches) expect(bytes(b)).toBeLessThanOrEqual(max);
    for (let i = 1; i < batches.length; i++) expect(bytes([...batches[i - 1]!, batches[i]![0]!])).toBeGreaterThan(max);
  });

  it('fits an event whose array is exactly the limit, and leaves out one over it', async () => {
    const { split, MAX_BODY } = await page();
    const e = event('x'.repeat(100));
    expect(split([e], bytes([e]))).toEqual([[e]]);
    expect(split([e], bytes([e]) - 1)).toEqual([]);
    const small = event();
    const huge = event('x'.repeat(MAX_BODY));
    expect(split([small, huge, small])).toEqual([[small, small]]);
  });
});

describe('the outbox', () => {
  it('costs one write for a burst of calls in one tick, and keeps all of them', async () => {
    const { keep } = await page();
    const burst = Array.from({ length: 1000 }, () => event());
    for (const e of burst) keep(e);
    expect(writes).toBe(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(writes).toBe(1);
    expect(ids(stored())).toEqual(ids(burst));
  });

  it('keeps at most MAX_OUTBOX requests worth, dropping the oldest, and counts them on the oldest kept (o)', async () => {
    const { keep, flush, MAX_OUTBOX, MAX_BODY } = await page();
    online = false;
    // Two events fill one request.
    const events = Array.from({ length: 2 * MAX_OUTBOX + 4 }, () => event('x'.repeat(MAX_BODY / 2 - 200)));
    for (const e of events) keep(e);
    flush();
    const kept = stored()!;
    expect(ids(kept)).toEqual(ids(events.slice(-2 * MAX_OUTBOX)));
    expect(kept[0]!.o).toBe(4);
    expect(kept.slice(1).every((e) => !e.o)).toBe(true);
    // Dropped again later: the count moves on, added up.
    keep(event('x'.repeat(MAX_BODY / 2 - 200)));
    keep(event('x'.repeat(MAX_BODY / 2 - 200)));
    flush();
    expect(stored()![0]!.o).toBe(6);
  });

  it('drops events older than MAX_AGE, counted', async () => {
    const { keep, flush, MAX_AGE } = await page();
    online = false;
    const old = event('', Date.now() - MAX_AGE - 1);
    const fresh = event();
    keep(old);
    keep(fresh);
    flush();
    expect(stored()).toEqual([{ ...fresh, o: 1 }]);
  });

  it('waits while offline', async () => {
    const { keep, flush } = await page();
    online = false;
    keep(event());
    flush();
    expect(fetches).toEqual([]);
    expect(beacons).toEqual([]);
    expect(stored()).toHaveLength(1);
  });

  it('sends nothing, not even what earlier pages kept, where tracking is not allowed (a stored opt-out here; DNT or pending consent alike)', async () => {
    const { flush } = await page();
    const kept = [event()];
    ls.set('um_o', JSON.stringify(kept));
    ls.set('um_x', '0');
    flush();
    flush(1);
    expect(fetches).toEqual([]);
    expect(beacons).toEqual([]);
    expect(stored()).toEqual(kept);
  });

  it('starts afresh from an outbox another script overwrote with a string', async () => {
    const { keep, flush } = await page();
    ls.set('um_o', JSON.stringify('garbage'));
    const e = event();
    keep(e);
    flush();
    expect(ids(stored())).toEqual([e.i]);
  });

  it('forgets everything on discard (opt-out), also what this tick added', async () => {
    const { keep, flush, discard } = await page();
    keep(event());
    discard();
    flush();
    expect(fetches).toEqual([]);
    expect(stored() ?? []).toEqual([]);
  });
});

describe('delivery while the page lives', () => {
  it('sends by fetch (keepalive, with cookies) stamped with s, and lets go of the batch once answered 2xx', async () => {
    const { keep, flush } = await page();
    const before = Date.now();
    const e = event();
    keep(e);
    flush();
    expect(fetches).toHaveLength(1);
    expect(fetches[0]!.init).toMatchObject({ method: 'POST', keepalive: true, credentials: 'include' });
    const sent = JSON.parse(fetches[0]!.body) as Ev[];
    expect(ids(sent)).toEqual([e.i]);
    expect(sent[0]!.s).toBeGreaterThanOrEqual(before);
    expect(ids(stored())).toEqual([e.i]); // kept until the answer
    await settle();
    expect(stored()).toEqual([]);
  });

  it('sends one request at a time, the next once the first is answered', async () => {
    const { keep, flush, MAX_BODY } = await page();
    let release!: () => void;
    answer = () => new Promise((ok) => (release = () => ok({ status: 200 })));
    const events = Array.from({ length: 4 }, () => event('x'.repeat(MAX_BODY / 2 - 200)));
    for (const e of events) keep(e);
    flush();
    flush();
    expect(fetches).toHaveLength(1);
    release();
    await settle();
    expect(fetches).toHaveLength(2);
    expect(sentIds(fetches[1]!.body)).toEqual(ids(events.slice(2)));
    release();
    await settle();
    expect(stored()).toEqual([]);
  });

  it.each([
    [400, 'a batch the relay refused as a whole'],
    [413, 'too large'],
    [403, 'an origin not allowed'],
  ])('lets go of a batch answered %s (%s): refused for good', async (status) => {
    const { keep, flush } = await page();
    answer = async () => ({ status });
    keep(event());
    flush();
    await settle();
    expect(stored()).toEqual([]);
  });

  it.each([
    ['503', async () => ({ status: 503, headers: new Headers() })],
    ['500', async () => ({ status: 500, headers: new Headers() })],
    ['429', async () => ({ status: 429, headers: new Headers() })],
    ['a network error', async () => Promise.reject(new TypeError('Failed to fetch'))],
  ])('keeps the batch after %s and tries again after the back-off (2 s, 4 s, …)', async (_, failure) => {
    const { keep, flush } = await page();
    answer = failure;
    const e = event();
    keep(e);
    flush();
    await settle();
    expect(ids(stored())).toEqual([e.i]);
    await vi.advanceTimersByTimeAsync(1999);
    expect(fetches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fetches).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(3999);
    expect(fetches).toHaveLength(2);
    answer = async () => ({ status: 200 });
    await vi.advanceTimersByTimeAsync(1);
    expect(fetches).toHaveLength(3);
    expect(sentIds(fetches[2]!.body)).toEqual([e.i]); // the same event_id
    expect(stored()).toEqual([]);
  });

  it('keeps the batch when the page made fetch throw, without an error in the page', async () => {
    const { keep, flush } = await page();
    vi.stubGlobal('fetch', () => {
      throw new TypeError('fetch blocked');
    });
    const e = event();
    keep(e);
    expect(() => flush()).not.toThrow();
    expect(ids(stored())).toEqual([e.i]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(ids(stored())).toEqual([e.i]);
  });

  it('waits as long as Retry-After says', async () => {
    const { keep, flush, schedule } = await page();
    answer = async () => ({ status: 503, headers: new Headers({ 'retry-after': '30' }) });
    keep(event());
    flush();
    await settle();
    // New events do not cut the wait short.
    keep(event());
    schedule();
    await vi.advanceTimersByTimeAsync(29_999);
    expect(fetches).toHaveLength(1);
    answer = async () => ({ status: 200 });
    await vi.advanceTimersByTimeAsync(1);
    expect(fetches).toHaveLength(2);
    expect(JSON.parse(fetches[1]!.body)).toHaveLength(2);
  });

  it('keeps a failed batch for the next page, which sends it at once', async () => {
    let t = await page();
    answer = async () => ({ status: 503, headers: new Headers({ 'retry-after': '30' }) });
    const e = event();
    t.keep(e);
    t.flush();
    await settle();
    t = await page(); // the visitor's next page
    answer = async () => ({ status: 200 });
    t.flush();
    expect(sentIds(fetches[1]!.body)).toEqual([e.i]);
    await settle();
    expect(stored()).toEqual([]);
  });
});

describe("the page's last moments", () => {
  it('sends everything by beacon when the page is left, and keeps it until an answer proves it arrived', async () => {
    const { keep, flush } = await page();
    const events = [event(), event()];
    for (const e of events) keep(e);
    flush(1);
    expect(fetches).toEqual([]);
    expect(beacons.map(sentIds)).toEqual([ids(events)]);
    expect(ids(stored())).toEqual(ids(events));
    // The next page (or this one, visible again) sends them again under the same ids.
    hidden = false;
    flush();
    expect(sentIds(fetches[0]!.body)).toEqual(ids(events));
    await settle();
    expect(stored()).toEqual([]);
  });

  it('uses beacons on a hidden page', async () => {
    const { keep, flush } = await page();
    hidden = true;
    keep(event());
    flush();
    expect(beacons).toHaveLength(1);
    expect(fetches).toHaveLength(0);
  });

  it.each([
    ['returns false', () => false],
    ['throws', () => { throw new TypeError('blocked'); }],
    ['sends nothing but says it did', () => true],
  ])('loses nothing when sendBeacon %s', async (_, beacon) => {
    const { keep, flush } = await page();
    vi.stubGlobal('navigator', { onLine: true, sendBeacon: beacon });
    const e = event();
    keep(e);
    flush(1);
    expect(ids(stored())).toEqual([e.i]);
  });
});

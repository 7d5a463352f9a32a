import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LIMITS, type InboundEvent } from '../../src/shared/event.ts';

// transport.ts reads its config (document.currentScript) when imported.
vi.stubGlobal('document', { currentScript: null });
vi.stubGlobal('location', { href: 'https://site.example/page' });
const { MAX_BODY, MAX_OUTBOX, split, keep, flush } = await import('../../src/tracker/transport.ts');

const event = (i: number, text = ''): InboundEvent => ({ event_type: 'e' + i, event_attributes: { text } });
const bytes = (batch: object[]) => Buffer.byteLength(JSON.stringify(batch));

describe('split', () => {
  it('keeps the relay limits', () => {
    expect(MAX_BODY).toBe(LIMITS.bodyBytes);
    // The outbox bounds a request's event count.
    expect(MAX_OUTBOX).toBeLessThanOrEqual(LIMITS.eventsPerRequest);
  });

  it('sends nothing for no events', () => {
    expect(split([])).toEqual([]);
  });

  it('keeps small events together, in order', () => {
    const events = [0, 1, 2].map((i) => event(i));
    expect(split(events)).toEqual([events]);
  });

  it.each([
    ['ASCII', 'a'],
    ['two-byte UTF-8', 'é'],
    ['four-byte UTF-8', '😀'],
  ])('fills each request up to the byte limit exactly (%s)', (_, ch) => {
    const events = Array.from({ length: 40 }, (_, i) => event(i, ch.repeat(300 + i * 7)));
    const max = 4096;
    const batches = split(events, max);
    expect(batches.flat()).toEqual(events);
    for (const b of batches) expect(bytes(b)).toBeLessThanOrEqual(max);
    // Greedy: the next event would not have fitted into the batch before it.
    for (let i = 1; i < batches.length; i++) expect(bytes([...batches[i - 1]!, batches[i]![0]!])).toBeGreaterThan(max);
  });

  it('fits an event whose array is exactly the limit', () => {
    const e = event(0, 'x'.repeat(100));
    const exact = bytes([e]);
    expect(split([e], exact)).toEqual([[e]]);
    expect(split([e], exact - 1)).toEqual([]);
  });

  it('drops an event that alone is over the limit and keeps the others', () => {
    const small = event(1);
    const huge = event(2, 'x'.repeat(MAX_BODY));
    expect(split([small, huge, small])).toEqual([[small, small]]);
  });
});

describe('outbox and sending', () => {
  let ls: Map<string, string>;
  let beacons: string[];
  let fetches: { body: string; init: RequestInit }[];
  let online: boolean;
  let beacon: ((url: string, body: string) => boolean) | undefined;
  let answer: (init: RequestInit) => Promise<{ status: number }>;
  let hidden: boolean;
  const stored = () => JSON.parse(ls.get('um_o') ?? 'null') as InboundEvent[] | null;
  const settle = () => new Promise((ok) => setTimeout(ok, 0));

  beforeEach(() => {
    ls = new Map();
    beacons = [];
    fetches = [];
    online = true;
    hidden = false;
    beacon = (_, body) => (beacons.push(body), true);
    answer = async () => ({ status: 204 });
    vi.stubGlobal('localStorage', { getItem: (k: string) => ls.get(k) ?? null, setItem: (k: string, v: string) => void ls.set(k, v) });
    vi.stubGlobal('navigator', {
      get onLine() { return online; },
      get sendBeacon() { return beacon; },
    });
    vi.stubGlobal('document', { currentScript: null, get hidden() { return hidden; } });
    vi.stubGlobal('fetch', (url: string, init: RequestInit) => {
      fetches.push({ body: String(init.body), init });
      return answer(init);
    });
  });
  afterEach(() => {
    vi.stubGlobal('document', { currentScript: null });
  });

  it('keeps the newest MAX_OUTBOX events, dropping the oldest first', () => {
    keep(Array.from({ length: MAX_OUTBOX + 50 }, (_, i) => event(i)));
    expect(stored()!.map((e) => e.event_type)).toEqual(Array.from({ length: MAX_OUTBOX }, (_, i) => 'e' + (i + 50)));
  });

  it('waits while offline', () => {
    online = false;
    keep([event(1)]);
    flush();
    expect(beacons).toEqual([]);
    expect(stored()).toHaveLength(1);
  });

  it('sends the outbox as one beacon, stamped with s (sent_at), and empties it', () => {
    keep([event(1), event(2)]);
    const before = Date.now();
    flush();
    expect(beacons).toHaveLength(1);
    const sent = JSON.parse(beacons[0]!) as InboundEvent[];
    expect(sent.map((e) => e.event_type)).toEqual(['e1', 'e2']);
    for (const e of sent) expect(e['s']).toBeGreaterThanOrEqual(before);
    expect(stored()).toBeNull();
    flush();
    expect(beacons).toHaveLength(1);
  });

  it.each([
    ['returns false', () => false],
    ['throws', () => { throw new TypeError('blocked'); }],
    ['is missing', undefined],
  ])('falls back to fetch with keepalive when sendBeacon %s', async (_, b) => {
    beacon = b;
    keep([event(1)]);
    flush();
    await settle();
    expect(fetches).toHaveLength(1);
    expect(fetches[0]!.init).toMatchObject({ method: 'POST', mode: 'no-cors', keepalive: true });
    expect(JSON.parse(fetches[0]!.body)).toMatchObject([{ event_type: 'e1' }]);
    expect(stored()).toBeNull();
  });

  it('retries with a plain fetch when keepalive is refused on a visible page', async () => {
    beacon = () => false;
    answer = async (init) => {
      if (init.keepalive) throw new TypeError('keepalive quota');
      return { status: 204 };
    };
    keep([event(1)]);
    flush();
    await settle();
    expect(fetches.map((f) => !!f.init.keepalive)).toEqual([true, false]);
    expect(stored()).toBeNull();
  });

  it('keeps the batch instead of a second request from a hidden page', async () => {
    beacon = () => false;
    hidden = true;
    answer = async () => { throw new TypeError('page unloading'); };
    keep([event(1)]);
    flush();
    await settle();
    expect(fetches).toHaveLength(1);
    expect(stored()!.map((e) => e.event_type)).toEqual(['e1']);
  });

  it.each([
    [503, ['e1']],
    [500, ['e1']],
    [400, null],
    [413, null],
    [0, null], // opaque answer of a no-cors request to another host: delivered
  ])('after a %s answer the outbox holds %j', async (status, left) => {
    beacon = undefined;
    answer = async () => ({ status });
    keep([event(1)]);
    flush();
    await settle();
    expect(stored()?.map((e) => e.event_type) ?? null).toEqual(left);
  });
});

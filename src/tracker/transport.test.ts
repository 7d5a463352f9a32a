import { describe, expect, it, vi } from 'vitest';
import { LIMITS, type InboundEvent } from '../event.ts';

// transport.ts reads its config (document.currentScript) when imported.
vi.stubGlobal('document', { currentScript: null });
vi.stubGlobal('location', { href: 'https://site.example/page' });
const { MAX_BODY, MAX_EVENTS, split } = await import('./transport.ts');

const event = (i: number, text = ''): InboundEvent => ({ event_type: 'e' + i, event_attributes: { text } });
const bytes = (batch: InboundEvent[]) => Buffer.byteLength(JSON.stringify(batch));

describe('split', () => {
  it('keeps the relay limits', () => {
    expect(MAX_BODY).toBe(LIMITS.bodyBytes);
    expect(MAX_EVENTS).toBe(LIMITS.eventsPerRequest);
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

  it('puts at most MAX_EVENTS events in one request', () => {
    const events = Array.from({ length: 1201 }, (_, i) => event(i));
    expect(split(events).map((b) => b.length)).toEqual([500, 500, 201]);
  });
});

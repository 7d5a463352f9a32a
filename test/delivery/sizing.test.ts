import { describe, expect, it } from 'vitest';
import { EMPTY_REQUEST_BYTES, fitsRequest, requestRanges, spoolReadLimits, UPSTREAM_LIMITS, withEvent } from '../../src/delivery/sizing.ts';

describe('request sizing', () => {
  it("uses Usermaven's bulk limits by default", () => {
    expect(UPSTREAM_LIMITS).toEqual({ maxEvents: 500, maxBytes: 500_000 });
  });

  it('counts a body as brackets plus each event and a separator', () => {
    expect(withEvent(withEvent(EMPTY_REQUEST_BYTES, 10), 20)).toBe(2 + 11 + 21);
    expect(`[${['a'.repeat(10), 'b'.repeat(20)].join(',')}]`.length).toBeLessThanOrEqual(34);
  });

  it('keeps every request within the event and byte limits, and an oversized event alone', () => {
    const records = ['x'.repeat(40), 'x'.repeat(40), 'é'.repeat(20), 'x'.repeat(200), 'x', 'x', 'x'];
    const limits = { maxEvents: 3, maxBytes: 100 };
    const ranges = requestRanges(records, limits);
    expect(ranges).toEqual([
      [0, 2],
      [2, 3],
      [3, 4],
      [4, 7],
    ]);
    for (const [from, to] of ranges) {
      const body = `[${records.slice(from, to).join(',')}]`;
      expect(to - from === 1 || Buffer.byteLength(body) <= limits.maxBytes).toBe(true);
    }
    expect(fitsRequest(0, EMPTY_REQUEST_BYTES, 1000, limits)).toBe(true);
    expect(fitsRequest(3, 10, 1, limits)).toBe(false);
  });

  it('reads from a spool no more than the body can hold once bracketed and separated', () => {
    const limits = { maxEvents: 500, maxBytes: 500_000 };
    const read = spoolReadLimits(limits);
    const body = 2 + read.maxBytes + (read.maxRecords - 1);
    expect(body).toBeLessThanOrEqual(limits.maxBytes);
  });
});

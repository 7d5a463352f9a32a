import { describe, expect, it } from 'vitest';
import { asRetry, backoffMs, parseRetryAfter, relayRetryDelay, retryDelayMs } from '../../src/delivery/retry-timing.ts';

describe('retry timing', () => {
  it('backs off from 0.5 s doubling to 60 s', () => {
    const max = (n: number) => backoffMs(n, () => 1);
    const min = (n: number) => backoffMs(n, () => 0);
    expect([1, 2, 3, 4].map(max)).toEqual([500, 1000, 2000, 4000]);
    expect(max(20)).toBe(60_000);
    expect(min(1)).toBe(250);
    expect(min(20)).toBe(30_000);
  });

  it.each([
    ['120', 120_000],
    ['0', 0],
    [new Date(1_000_000 + 5_000).toUTCString(), 5_000],
    ['soon', undefined],
    [null, undefined],
    ['999999', 3_600_000],
  ])('reads Retry-After %s', (value, expected) => {
    // HTTP-dates have second precision, so the clock sits on a whole second.
    expect(parseRetryAfter(value, 1_000_000)).toBe(expected);
  });

  it('waits what Retry-After asks before any back-off', () => {
    expect(retryDelayMs({ kind: 'retry', status: 429, reason: 'slow down', retryAfterMs: 7000 }, 30)).toBe(7000);
    expect(relayRetryDelay({ kind: 'retry', status: 429, reason: 'slow down', retryAfterMs: 7000 }, 30)).toBe(7000);
  });

  it("caps the relay's back-off at 8–16 s from the 6th attempt on", () => {
    const retry = { kind: 'retry', status: 503, reason: 'down' } as const;
    expect([1, 2, 5, 6, 7, 40].map((n) => relayRetryDelay(retry, n, () => 1))).toEqual([500, 1000, 8000, 16_000, 16_000, 16_000]);
    expect(relayRetryDelay(retry, 40, () => 0)).toBe(8000);
  });

  it('waits out a refusal like a retry, keeping its status and reason', () => {
    expect(asRetry({ kind: 'reject', status: 422, reason: 'nope' })).toEqual({ kind: 'retry', status: 422, reason: 'nope' });
  });
});

import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../../src/relay/rate-limit.ts';

/** A limiter on a hand-moved clock. */
function limiter(options: { rate: number; burst?: number; maxKeys?: number }) {
  let t = 1_000;
  const l = createRateLimiter({ ...options, now: () => t });
  return { take: l.take, advance: (ms: number) => void (t += ms) };
}

describe('createRateLimiter', () => {
  // Steps: [ms to advance, key, cost, expected wait in ms (0 = allowed)].
  it.each<[string, { rate: number; burst?: number }, [number, string, number, number][]]>([
    ['a full bucket takes a burst at once', { rate: 10, burst: 100 }, [[0, 'a', 100, 0]]],
    ['the default burst is ten seconds worth', { rate: 10 }, [[0, 'a', 100, 0], [0, 'a', 1, 100]]],
    ['a request that does not fit waits for its missing tokens', { rate: 10, burst: 20 }, [[0, 'a', 15, 0], [0, 'a', 10, 500]]],
    ['a refused request takes nothing', { rate: 10, burst: 20 }, [[0, 'a', 15, 0], [0, 'a', 10, 500], [0, 'a', 5, 0]]],
    ['tokens refill with elapsed time', { rate: 10, burst: 20 }, [[0, 'a', 20, 0], [0, 'a', 5, 500], [500, 'a', 5, 0], [0, 'a', 1, 100]]],
    ['refill stops at the burst', { rate: 10, burst: 20 }, [[0, 'a', 20, 0], [60_000, 'a', 20, 0], [0, 'a', 1, 100]]],
    ['each key has its own bucket', { rate: 1, burst: 5 }, [[0, 'a', 5, 0], [0, 'b', 5, 0], [0, 'a', 1, 1000]]],
    ['a burst below one is one', { rate: 0.1, burst: 0 }, [[0, 'a', 1, 0], [0, 'a', 1, 10_000]]],
    ['the wait rounds up to whole ms', { rate: 3, burst: 1 }, [[0, 'a', 1, 0], [0, 'a', 1, 334]]],
  ])('%s', (_name, options, steps) => {
    const l = limiter(options);
    for (const [ms, key, cost, wait] of steps) {
      l.advance(ms);
      expect(l.take(key, cost), `${key} takes ${cost} after ${ms} ms`).toBe(wait);
    }
  });

  it('forgets refilled buckets when it holds maxKeys, keeping the ones still owed', () => {
    const l = limiter({ rate: 1, burst: 2, maxKeys: 3 });
    expect(l.take('spent', 2)).toBe(0);
    expect(l.take('x', 1)).toBe(0);
    l.advance(1_000); // x refills to 2, spent holds 1
    expect(l.take('y', 1)).toBe(0);
    expect(l.take('z', 1)).toBe(0); // full: x (refilled) is dropped
    expect(l.take('spent', 2)).toBe(1000); // still owed: kept, not reset to a full bucket
  });

  it('drops the oldest half when no bucket has refilled', () => {
    const l = limiter({ rate: 1, burst: 1, maxKeys: 4 });
    for (const key of ['a', 'b', 'c', 'd']) expect(l.take(key, 1)).toBe(0);
    expect(l.take('e', 1)).toBe(0); // prunes a and b
    expect(l.take('a', 1)).toBe(0); // a fresh bucket again
    expect(l.take('d', 1)).toBe(1000); // kept, still empty
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createForwarder, type Forwarder } from '../../src/delivery/forwarder.ts';
import { createMemorySpool, type MemorySpool } from '../../src/delivery/memory-spool.ts';
import { createUpstream } from '../../src/delivery/upstream.ts';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';

let up: FakeUpstream;
let spool: MemorySpool;
let fwd: Forwarder;
const delays: number[] = [];

const ev = (i: number, extra: Record<string, unknown> = {}) => JSON.stringify({ event_type: 'e', event_id: `id-${i}`, n: i, ...extra });

function forwarder(opts: { timeoutMs?: number; maxEvents?: number; maxBytes?: number; lingerMs?: number } = {}) {
  fwd = createForwarder({
    spool,
    upstream: createUpstream({ url: up.url, apiKey: up.apiKey, serverToken: up.serverToken, timeoutMs: opts.timeoutMs ?? 2000 }),
    lingerMs: opts.lingerMs ?? 0,
    ...(opts.maxEvents ? { maxEvents: opts.maxEvents } : {}),
    ...(opts.maxBytes ? { maxBytes: opts.maxBytes } : {}),
    // Record what the policy asked for, wait only a moment: the policy itself is unit-tested.
    retryDelay: (result, attempt) => {
      delays.push(result.retryAfterMs ?? -attempt);
      return 5;
    },
  });
  fwd.start();
  return fwd;
}

async function add(n: number, from = 0) {
  await spool.append(Array.from({ length: n }, (_, i) => ev(from + i)));
  fwd.kick();
}

beforeEach(async () => {
  up = await startFakeUpstream();
  spool = createMemorySpool();
  delays.length = 0;
});
afterEach(async () => {
  await fwd.stop();
  await up.close();
});

describe('forwarder', () => {
  it('sends spooled events in bulk and acks them', async () => {
    forwarder();
    await add(1200);
    await up.waitFor((u) => u.eventIds().size === 1200);
    await expect.poll(() => spool.stats().depth).toBe(0);
    expect(up.accepted().map((r) => r.events.length)).toEqual([500, 500, 200]);
    expect(up.events.map((e) => e['n'])).toEqual(Array.from({ length: 1200 }, (_, i) => i));
    expect(fwd.status()).toMatchObject({ lastStatus: 200, consecutiveFailures: 0, sentEvents: 1200, sentRequests: 3 });
  });

  it('keeps each request under the byte limit', async () => {
    forwarder({ maxBytes: 2000 });
    const big = 'x'.repeat(300);
    await spool.append(Array.from({ length: 20 }, (_, i) => ev(i, { big })));
    fwd.kick();
    await up.waitFor((u) => u.eventIds().size === 20);
    for (const r of up.accepted()) expect(Buffer.byteLength(r.body)).toBeLessThanOrEqual(2000);
    expect(up.accepted().length).toBeGreaterThan(3);
  });

  it('lingers for more events before sending a small batch', async () => {
    forwarder({ lingerMs: 100 });
    for (let i = 0; i < 10; i++) await add(1, i);
    await up.waitFor((u) => u.eventIds().size === 10);
    expect(up.accepted()).toHaveLength(1);
  });

  it.each([
    ['500', 500, undefined],
    ['503', 503, undefined],
    ['408', 408, undefined],
    ['429 with Retry-After', 429, 3],
  ])('retries after %s and keeps order', async (_name, status, retryAfter) => {
    up.fail(status, { count: 3, ...(retryAfter ? { retryAfter } : {}) });
    forwarder({ maxEvents: 5 });
    await add(12);
    await up.waitFor((u) => u.eventIds().size === 12);
    expect(up.events.map((e) => e['n'])).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(up.requests.filter((r) => r.status === status)).toHaveLength(3);
    expect(delays).toEqual(retryAfter ? [3000, 3000, 3000] : [-1, -2, -3]);
    expect(fwd.status().consecutiveFailures).toBe(0);
  });

  it('retries through a hanging upstream (timeout) and a reset', async () => {
    up.hang();
    forwarder({ timeoutMs: 200 });
    await add(3);
    await up.waitFor((u) => u.requests.length >= 1);
    await expect.poll(() => fwd.status().lastError ?? '').toMatch(/timed out/);
    up.heal();
    up.reset();
    await up.waitFor((u) => u.requests.length >= 3);
    await expect.poll(() => fwd.status().lastError ?? '').toMatch(/unreachable/);
    up.heal();
    await up.waitFor((u) => u.eventIds().size === 3);
    await expect.poll(() => spool.stats().depth).toBe(0);
  });

  it('isolates refused events, dead-letters them with the reason and sends the rest', async () => {
    up.reject((e) => e['n'] === 3 || e['n'] === 17);
    forwarder();
    await add(20);
    await expect.poll(() => spool.stats().depth, { timeout: 10_000 }).toBe(0);
    expect([...up.eventIds()].sort()).toEqual(Array.from({ length: 20 }, (_, i) => `id-${i}`).filter((id) => id !== 'id-3' && id !== 'id-17').sort());
    expect(spool.deadLetters.map((d) => JSON.parse(d.record).n)).toEqual([3, 17]);
    expect(spool.deadLetters[0]?.reason).toMatch(/400/);
    expect(fwd.status().deadLettered).toBe(2);
  });

  it('dead-letters an event refused before anything else was taken only after it is refused again alone', async () => {
    up.reject((e) => e['n'] === 0);
    forwarder();
    await add(4);
    await expect.poll(() => spool.stats().depth, { timeout: 10_000 }).toBe(0);
    expect(spool.deadLetters.map((d) => JSON.parse(d.record).n)).toEqual([0]);
    // [0..3] refused, [0,1] refused, [0] refused, [1] taken, [2,3] taken, then [0] once more.
    expect(up.requests.map((r) => JSON.parse(r.body).map((e: { n: number }) => e.n))).toEqual([[0, 1, 2, 3], [0, 1], [0], [1], [2, 3], [0]]);
  });

  it('keeps everything when the upstream refuses every event, and says refusing_all', async () => {
    up.fail(400);
    forwarder();
    await add(6);
    await up.waitFor((u) => u.requests.length >= 30);
    expect(spool.deadLetters).toEqual([]);
    expect(spool.stats().depth).toBe(6);
    expect(fwd.status()).toMatchObject({ problem: 'refusing_all', lastStatus: 400 });
    expect(fwd.status().consecutiveFailures).toBeGreaterThan(0);
    up.heal();
    await up.waitFor((u) => u.eventIds().size === 6);
    await expect.poll(() => spool.stats().depth).toBe(0);
    expect(spool.deadLetters).toEqual([]);
  });

  it.each([401, 403, 404])('never dead-letters on %i (credentials or URL are wrong)', async (status) => {
    up.fail(status, { count: 2 });
    forwarder();
    await add(4);
    await up.waitFor((u) => u.eventIds().size === 4);
    expect(spool.deadLetters).toEqual([]);
  });

  it('drain sends what is left and reports an empty spool', async () => {
    forwarder({ lingerMs: 60_000 });
    await add(30);
    expect(await fwd.drain(5000)).toBe(true);
    expect(up.eventIds().size).toBe(30);
  });

  it('drain gives up at the deadline and keeps the rest', async () => {
    up.fail(503);
    forwarder();
    await add(5);
    expect(await fwd.drain(100)).toBe(false);
    expect(spool.stats().depth).toBe(5);
  });

  it('drain resolves at its deadline with a request hanging, and stop cuts that request at once', async () => {
    up.hang();
    forwarder({ timeoutMs: 60_000 });
    await add(3);
    await up.waitFor((u) => u.requests.length >= 1);
    expect(await fwd.drain(100)).toBe(false);
    await fwd.stop();
    expect(fwd.status().state).toBe('stopped');
    expect(spool.stats().depth).toBe(3);
  });

  it('stop leaves unsent events in the spool', async () => {
    up.fail(503);
    forwarder();
    await add(5);
    await up.waitFor((u) => u.requests.length >= 1);
    await fwd.stop();
    expect(spool.stats().depth).toBe(5);
    expect(fwd.status().state).toBe('stopped');
  });
});

describe('forwarder on an injected clock', () => {
  it('drain keeps to the deadline of the clock it was given, not the wall clock', async () => {
    // Every wait passes at once and moves the clock on by what it asked for: a 10-minute drain
    // against an upstream that is down ends as soon as this clock says 10 minutes passed.
    let t = 0;
    const clock = {
      now: () => t,
      sleep: (ms: number, signal: AbortSignal) => {
        if (ms > 1e9) return new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        t += ms;
        return new Promise<void>((resolve) => setImmediate(resolve));
      },
    };
    const memory = createMemorySpool();
    await memory.append([ev(1), ev(2)]);
    fwd = createForwarder({ spool: memory, upstream: { host: 'down', send: async () => ({ kind: 'retry', status: 503, reason: 'down' }) }, clock, lingerMs: 0 });
    fwd.start();
    expect(await fwd.drain(600_000)).toBe(false);
    expect(t).toBeGreaterThanOrEqual(600_000);
    expect(memory.stats().depth).toBe(2);
  });
});

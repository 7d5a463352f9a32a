/**
 * Upstream faults during a steady load through the real relay over HTTP. Whatever the upstream
 * does, afterwards every acknowledged event_id has arrived, in order per visitor; an event the
 * upstream refuses for good sits in the dead-letter file with the reason.
 * Short versions; test/system/faults.soak.test.ts runs the long ones.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/delivery/clock.ts';
import { createForwarder } from '../../src/delivery/forwarder.ts';
import { createMemorySpool } from '../../src/delivery/memory-spool.ts';
import type { SendResult, Upstream } from '../../src/delivery/upstream.ts';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { startTestRelay, tempDir, type InProcessRelay } from '../support/fault-relay.ts';
import { missingUpstream, outOfOrder, startLoad } from '../support/load-driver.ts';

let upstream: FakeUpstream;
let relay: InProcessRelay;
let data: ReturnType<typeof tempDir>;

beforeEach(async () => {
  upstream = await startFakeUpstream();
  data = tempDir('faults');
});
afterEach(async () => {
  await relay?.close({ drainMs: 0 });
  await upstream.close();
  data.remove();
});

interface Fault {
  name: string;
  apply: (u: FakeUpstream) => void;
  /** Upstream answers (0 = none) that show the fault has bitten, and how many of them. */
  answer: number;
  times: number;
  /** The upstream got some batches twice (it took them, the relay never saw the answer). */
  duplicates?: boolean;
}

const faults: Fault[] = [
  { name: 'answers 500 for a while', apply: (u) => u.fail(500), answer: 500, times: 5 },
  { name: 'answers 503 for a while', apply: (u) => u.fail(503), answer: 503, times: 5 },
  { name: 'answers 429 with Retry-After', apply: (u) => u.fail(429, { retryAfter: 2 }), answer: 429, times: 3 },
  { name: 'hangs past the timeout', apply: (u) => u.hang(), answer: 0, times: 3 },
  { name: 'resets the connection', apply: (u) => u.reset(), answer: 0, times: 5 },
  // Slower than the 300 ms timeout: the upstream takes batches whose answer the relay never
  // sees, so they are sent again (duplicates, which the upstream de-duplicates on event_id).
  { name: 'answers slower than the timeout', apply: (u) => u.slow(450), answer: 200, times: 3, duplicates: true },
  { name: 'answers slowly', apply: (u) => u.slow(120), answer: 200, times: 5 },
];

describe('upstream faults under load', () => {
  it.each(faults)('delivers every acknowledged event when the upstream $name', async (fault) => {
    relay = await startTestRelay(upstream, data.dir);
    const load = startLoad({ target: () => relay.url, visitors: 6 });
    await load.waitAcked(100);
    const from = upstream.requests.length;
    fault.apply(upstream);
    const ackedBefore = load.ackedIds().length;
    await upstream.waitFor((u) => u.requests.slice(from).filter((r) => r.status === fault.answer).length >= fault.times, 15_000);
    // The relay keeps acknowledging while the upstream is broken: events wait on disk.
    await load.waitAcked(ackedBefore + 100);
    upstream.heal();
    await load.waitAcked(load.ackedIds().length + 50);
    await load.stop();

    await upstream.waitFor((u) => missingUpstream(load, u.eventIds()).length === 0, 20_000);
    expect(outOfOrder(load, upstream.events)).toEqual([]);
    if (fault.duplicates) expect(upstream.events.length).toBeGreaterThan(upstream.eventIds().size);
    await expect.poll(() => relay.spool.stats().depth, { timeout: 5000 }).toBe(0);
    expect(readDeadLetters(relay)).toEqual([]);
    expect(Object.keys(relay.relay.rejects())).toEqual([]);
  });

  it('waits as long as Retry-After asks', async () => {
    relay = await startTestRelay(upstream, data.dir);
    const load = startLoad({ target: () => relay.url, visitors: 2, maxEvents: 50 });
    upstream.fail(429, { retryAfter: 7, count: 2 });
    await load.waitAcked(50);
    await load.stop();
    await upstream.waitFor((u) => missingUpstream(load, u.eventIds()).length === 0);
    // (Filtered: on a busy machine a spurious timeout may add a back-off of its own.)
    expect(relay.askedDelays.filter((d) => d === 7000)).toHaveLength(2);
  });

  it('dead-letters one poisoned event in a batch with its reason and delivers the rest', async () => {
    relay = await startTestRelay(upstream, data.dir);
    let poisonId = '';
    const load = startLoad({
      target: () => relay.url,
      visitors: 4,
      decorate: (event, n) => {
        if (n === 150) {
          poisonId = event['event_id'] as string;
          event['event_attributes'] = { n, poisoned: true };
        }
      },
    });
    upstream.reject((e) => (e['event_attributes'] as { poisoned?: boolean } | undefined)?.poisoned === true, 400);
    await load.waitAcked(400);
    await load.stop();
    expect(poisonId).not.toBe('');
    const poisoned = new Set([poisonId]);
    await upstream.waitFor((u) => missingUpstream(load, u.eventIds(), poisoned).length === 0);
    await expect.poll(() => readDeadLetters(relay).length, { timeout: 5000 }).toBe(1);
    expect(upstream.eventIds().has(poisonId)).toBe(false);
    expect(outOfOrder(load, upstream.events)).toEqual([]);
    const [letter] = readDeadLetters(relay);
    expect(letter!.event['event_id']).toBe(poisonId);
    expect(letter!.reason).toMatch(/upstream answered 400.*poisoned event/);
    expect(JSON.stringify(letter)).not.toContain(upstream.serverToken);
  });
});

describe('refusals', () => {
  it('keeps every event when the upstream refuses all of them, backs off, says so on /healthz, and delivers them once it takes events again', async () => {
    relay = await startTestRelay(upstream, data.dir);
    upstream.fail(400);
    const load = startLoad({ target: () => relay.url, visitors: 3, maxEvents: 200 });
    await load.waitAcked(200);
    await load.stop();
    // A round ends with the verdict; then rounds go on, backing off, refusing and keeping.
    await expect.poll(() => relay.forwarder.status().problem).toBe('refusing_all');
    const afterVerdict = upstream.requests.length;
    await upstream.waitFor((u) => u.requests.length >= afterVerdict + 20);
    const health = (await (await fetch(relay.url + '/healthz')).json()) as { status: string; upstream: { problem: string | null; lastStatus: number } };
    expect(health.status).toBe('degraded');
    expect(health.upstream).toMatchObject({ problem: 'refusing_all', lastStatus: 400 });
    expect(readDeadLetters(relay)).toEqual([]);
    expect(relay.spool.stats().depth).toBe(load.ackedIds().length);
    // It backs off between rounds (the test relay shortens the waits it asks for to 20 ms).
    expect(relay.askedDelays.length).toBeGreaterThan(0);
    upstream.heal();
    await upstream.waitFor((u) => missingUpstream(load, u.eventIds()).length === 0);
    await expect.poll(() => relay.spool.stats().depth).toBe(0);
    expect(readDeadLetters(relay)).toEqual([]);
    expect(relay.forwarder.status().problem).toBeUndefined();
  });

  it('keeps good events flowing while a client posts ~34 events a second that the upstream refuses', { timeout: 60_000 }, async () => {
    // The default linger (200 ms) and a 30 ms upstream, as in production; only back-offs are shortened.
    relay = await startTestRelay(upstream, data.dir, { lingerMs: 200 });
    upstream.slow(30);
    upstream.reject((e) => (e['event_attributes'] as { refuse?: boolean } | undefined)?.refuse === true);
    const load = startLoad({ target: () => relay.url, visitors: 2, pauseMs: 100 });
    await load.waitAcked(20);
    // Ages of acknowledged good events not yet upstream, sampled: printed, not asserted.
    const pendingSince = new Map<string, number>();
    let oldest = 0;
    const sampler = setInterval(() => {
      const now = Date.now();
      const ids = upstream.eventIds();
      for (const id of load.ackedIds()) if (!ids.has(id) && !pendingSince.has(id)) pendingSince.set(id, now);
      for (const [id, since] of pendingSince) {
        if (ids.has(id)) pendingSince.delete(id);
        else oldest = Math.max(oldest, now - since);
      }
    }, 250);
    let ackedAtHalf: string[] = [];
    let refusedPosted = 0;
    try {
      for (; refusedPosted < 400; refusedPosted++) {
        if (refusedPosted === 200) ackedAtHalf = load.ackedIds();
        const answer = await fetch(relay.url + '/u/e', { method: 'POST', body: JSON.stringify([{ event_type: 'spam', event_id: crypto.randomUUID(), event_attributes: { refuse: true } }]) });
        expect(answer.status).toBe(200);
        await new Promise((r) => setTimeout(r, 29));
      }
      // Every good event acknowledged ~6 s ago (before the 200th refused one) has arrived by now.
      const ids = upstream.eventIds();
      expect(ackedAtHalf.filter((id) => !ids.has(id))).toEqual([]);
      console.log(`refused-events client: ${refusedPosted} refused events posted, ${load.ackedIds().length} good acknowledged; oldest unsent good event ${(oldest / 1000).toFixed(1)} s; spool depth at the end ${relay.spool.stats().depth}; dead letters ${relay.forwarder.status().deadLettered}`);
      // Good events keep coming, so the last refused ones are proven bad too (alone, with nothing
      // else taken, a refusal proves nothing: they would wait, and /healthz would say so).
      await expect.poll(() => relay.forwarder.status().deadLettered, { timeout: 30_000 }).toBe(refusedPosted);
    } finally {
      clearInterval(sampler);
      await load.stop();
    }
    await upstream.waitFor((u) => missingUpstream(load, u.eventIds()).length === 0, 30_000);
  });
});

describe('upstream redirects', () => {
  it.each([301, 302, 307, 308])('never follows a %i: retries it, logs its status and target host without the token, and delivers once the upstream answers again', async (status) => {
    relay = await startTestRelay(upstream, data.dir);
    upstream.redirect(status, { count: 4 });
    const load = startLoad({ target: () => relay.url, visitors: 2, maxEvents: 30 });
    await load.waitAcked(30);
    await load.stop();
    await upstream.waitFor((u) => missingUpstream(load, u.eventIds()).length === 0);
    // Following it would re-send the events (as a GET after 301/302) to /moved, which answers 200 and keeps nothing.
    expect(upstream.requests.filter((r) => r.path !== '/api/v1/s2s/event')).toEqual([]);
    expect(upstream.requests.filter((r) => r.status === status)).toHaveLength(4);
    const failing = relay.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['msg'] === 'upstream failing');
    expect(failing).toMatchObject({ status, reason: expect.stringContaining(`redirect to ${new URL(upstream.url).host}`) });
    expect(relay.lines.join('\n')).not.toContain(upstream.serverToken);
    await expect.poll(() => relay.forwarder.status().sentEvents).toBe(upstream.events.length);
  });
});

describe('a long outage', () => {
  it('keeps trying at least every 16 s, so the relay notices soon that the upstream is back', async () => {
    // 40 failures without Retry-After, then the upstream is back. A fake clock records each
    // wait the forwarder asks for (and returns at once), so nothing here depends on time.
    const waits: number[] = [];
    let t = 0;
    const clock: Clock = {
      now: () => t,
      sleep: (ms, signal) => {
        // The idle wait ("until kicked") really waits; back-offs pass at once.
        if (ms > 1e9) return new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        waits.push(ms);
        t += ms;
        return Promise.resolve();
      },
    };
    let failures = 40;
    const sent: string[] = [];
    const down: Upstream = {
      host: 'fake',
      send: async (body): Promise<SendResult> => {
        if (failures-- > 0) return { kind: 'retry', status: 503, reason: 'upstream answered 503' };
        sent.push(body);
        return { kind: 'ok', status: 200 };
      },
    };
    const spool = createMemorySpool();
    await spool.append([JSON.stringify({ event_type: 'e', event_id: 'a' })]);
    const forwarder = createForwarder({ spool, upstream: down, clock, lingerMs: 0 });
    forwarder.start();
    await expect.poll(() => sent.length).toBe(1);
    await forwarder.stop();
    const backoffs = waits.slice(0, 40);
    expect(backoffs).toHaveLength(40);
    expect(Math.max(...backoffs)).toBeLessThanOrEqual(16_000);
    // Still a back-off: it grows first, and jitter keeps relays from retrying in step.
    expect(backoffs[0]!).toBeLessThan(backoffs[6]!);
    expect(new Set(backoffs.slice(10)).size).toBeGreaterThan(1);
  });
});

function readDeadLetters(relay: InProcessRelay): { at: number; reason: string; event: Record<string, unknown> }[] {
  let text = '';
  try {
    text = readFileSync(relay.spool.deadLetterPath, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { at: number; reason: string; event: Record<string, unknown> });
}

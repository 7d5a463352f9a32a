/**
 * The queue consumer's settling rules, with stand-in messages and upstream (no runtime): what
 * it acks, retries, re-queues and dead-letters, and with which delay.
 */
import { describe, expect, it } from 'vitest';
import type { QueueMessage, QueueProducer } from '../../src/cloudflare/bindings.ts';
import { consumeBatch } from '../../src/cloudflare/consumer.ts';
import type { SendResult, Upstream } from '../../src/delivery/upstream.ts';

interface Fake extends QueueMessage {
  settled: string[];
}
const message = (id: string, attempts = 1, body: unknown = `{"event_type":"e","event_id":"${id}"}`): Fake => {
  const settled: string[] = [];
  return { id, timestamp: new Date(0), body, attempts, settled, ack: () => settled.push('ack'), retry: (o) => settled.push(`retry ${o?.delaySeconds ?? '-'}`) };
};
const batchOf = (messages: QueueMessage[]) => ({ queue: 'umbeacon-events', messages, ackAll: () => { throw new Error('ackAll'); }, retryAll: () => { throw new Error('retryAll'); } });
const upstreamAnswering = (answer: (body: string) => SendResult): Upstream & { bodies: string[] } => {
  const bodies: string[] = [];
  return { host: 'fake', bodies, send: async (body) => (bodies.push(body), answer(body)) };
};
const producer = (fail = false): QueueProducer & { sent: { body: unknown; options: unknown }[] } => {
  const sent: { body: unknown; options: unknown }[] = [];
  return {
    sent,
    send: async (body, options) => {
      if (fail) throw new Error('queue down');
      sent.push({ body, options });
    },
    sendBatch: async () => {},
  };
};
const ok: SendResult = { kind: 'ok', status: 200 };

describe('consumeBatch', () => {
  it('handles an empty batch without calling the upstream', async () => {
    const upstream = upstreamAnswering(() => ok);
    expect(await consumeBatch(batchOf([]), { upstream })).toMatchObject({ delivered: 0, upstreamRequests: 0 });
    expect(upstream.bodies).toEqual([]);
  });

  it('acks each message only after the upstream took it, in one bulk request', async () => {
    const msgs = [message('a'), message('b'), message('c')];
    const upstream = upstreamAnswering(() => {
      expect(msgs.every((m) => m.settled.length === 0)).toBe(true);
      return ok;
    });
    const result = await consumeBatch(batchOf(msgs), { upstream });
    expect(result).toMatchObject({ delivered: 3, upstreamRequests: 1 });
    expect(JSON.parse(upstream.bodies[0]!).map((e: { event_id: string }) => e.event_id)).toEqual(['a', 'b', 'c']);
    expect(msgs.map((m) => m.settled)).toEqual([['ack'], ['ack'], ['ack']]);
  });

  it.each([
    ['Retry-After', { kind: 'retry', status: 503, reason: 'down', retryAfterMs: 120_000 } as SendResult, 1, 'retry 120'],
    ['back-off, first failure', { kind: 'retry', status: 503, reason: 'down' } as SendResult, 1, 'retry 1'],
    ['back-off, capped like the forwarder at attempt 6', { kind: 'retry', status: 0, reason: 'timeout' } as SendResult, 9, /^retry (8|9|1[0-6])$/],
    ['bad credentials (never dead-lettered)', { kind: 'reject', status: 401, reason: 'invalid token' } as SendResult, 1, 'retry 1'],
  ])('retries each message with the policy delay: %s', async (_, answer, attempts, expected) => {
    const msgs = [message('a', attempts), message('b', attempts)];
    const deadLetters = producer();
    await consumeBatch(batchOf(msgs), { upstream: upstreamAnswering(() => answer), deadLetters, maxRetries: 100 });
    for (const m of msgs) expect(m.settled).toEqual([expect.stringMatching(expected)]);
    expect(deadLetters.sent).toEqual([]);
  });

  it('isolates refused events by halving, dead-letters them with the reason, acks their neighbours', async () => {
    const msgs = ['a', 'b', 'bad', 'c', 'd'].map((id) => message(id));
    const upstream = upstreamAnswering((body) => (body.includes('"bad"') ? { kind: 'reject', status: 400, reason: 'upstream answered 400: bad event' } : ok));
    const deadLetters = producer();
    const result = await consumeBatch(batchOf(msgs), { upstream, deadLetters });
    expect(result).toMatchObject({ delivered: 4, deadLettered: 1 });
    expect(deadLetters.sent).toEqual([{ body: { at: expect.any(Number), status: 400, reason: 'upstream answered 400: bad event', event: JSON.parse(msgs[2]!.body as string) }, options: { contentType: 'json' } }]);
    expect(msgs.map((m) => m.settled)).toEqual([['ack'], ['ack'], ['ack'], ['ack'], ['ack']]);
  });

  it('retries a refused event when the dead-letter queue is unavailable, instead of dropping it', async () => {
    const m = message('bad');
    const upstream = upstreamAnswering((body) => (body.includes('"bad"') ? { kind: 'reject', status: 400, reason: 'no' } : ok));
    await consumeBatch(batchOf([message('fine'), m]), { upstream, deadLetters: producer(true) });
    expect(m.settled).toEqual(['retry 60']);
  });

  it.each([400, 422])('dead-letters nothing when the upstream answers %i to everything, and delivers it all once it heals', async (status) => {
    const msgs = Array.from({ length: 20 }, (_, i) => message(`all-${i}`));
    const deadLetters = producer();
    let refusing = true;
    const upstream = upstreamAnswering(() => (refusing ? { kind: 'reject', status, reason: `upstream answered ${status}: bad request` } : ok));
    const refused = await consumeBatch(batchOf(msgs), { upstream, deadLetters, maxRetries: 100 });
    expect(refused).toMatchObject({ delivered: 0, deadLettered: 0, retried: 20 });
    expect(deadLetters.sent).toEqual([]);
    // Handed back with the back-off of a first failure (0.25–0.5 s, rounded up), like an outage.
    for (const m of msgs) expect(m.settled).toEqual(['retry 1']);

    refusing = false;
    const again = msgs.map((m) => message(m.id, 2));
    expect(await consumeBatch(batchOf(again), { upstream, deadLetters, maxRetries: 100 })).toMatchObject({ delivered: 20, deadLettered: 0 });
    expect(again.map((m) => m.settled)).toEqual(again.map(() => ['ack']));
  });

  it('dead-letters an event refused before anything was taken only once it is refused again alone', async () => {
    const msgs = ['bad', 'a', 'b', 'c'].map((id) => message(id));
    const upstream = upstreamAnswering((body) => (body.includes('"bad"') ? { kind: 'reject', status: 400, reason: 'bad event' } : ok));
    const deadLetters = producer();
    expect(await consumeBatch(batchOf(msgs), { upstream, deadLetters })).toMatchObject({ delivered: 3, deadLettered: 1 });
    // [bad..c] refused, [bad,a] refused, [bad] refused (nothing taken yet: unproven), [a], [b,c], then [bad] once more.
    expect(upstream.bodies.map((b) => JSON.parse(b).map((e: { event_id: string }) => e.event_id))).toEqual([['bad', 'a', 'b', 'c'], ['bad', 'a'], ['bad'], ['a'], ['b', 'c'], ['bad']]);
  });

  it('sends a message that came back before after the fresh ones', async () => {
    const msgs = [message('old', 3), message('new-1'), message('new-2')];
    const upstream = upstreamAnswering(() => ok);
    await consumeBatch(batchOf(msgs), { upstream });
    expect(upstream.bodies.map((b) => JSON.parse(b).map((e: { event_id: string }) => e.event_id))).toEqual([['new-1', 'new-2'], ['old']]);
    expect(msgs.map((m) => m.settled)).toEqual([['ack'], ['ack'], ['ack']]);
  });

  it('sends a message on its last delivery to the queue again instead of retrying it to its end', async () => {
    const last = message('last', 4);
    const early = message('early', 2);
    const events = producer();
    const result = await consumeBatch(batchOf([last, early]), {
      upstream: upstreamAnswering(() => ({ kind: 'retry', status: 503, reason: 'down', retryAfterMs: 5000 })),
      events,
      maxRetries: 3,
    });
    expect(result).toMatchObject({ requeued: 1, retried: 1 });
    expect(events.sent).toEqual([{ body: last.body, options: { contentType: 'text', delaySeconds: 5 } }]);
    expect(last.settled).toEqual(['ack']);
    expect(early.settled).toEqual(['retry 5']);
  });

  it('falls back to retry when the re-queue send fails', async () => {
    const last = message('last', 4);
    await consumeBatch(batchOf([last]), { upstream: upstreamAnswering(() => ({ kind: 'retry', status: 503, reason: 'down' })), events: producer(true), maxRetries: 3 });
    expect(last.settled).toEqual([expect.stringMatching(/^retry \d+$/)]);
  });

  it('starts no request once its time is up, and hands what is left back at once', async () => {
    const stop = new AbortController();
    const msgs = Array.from({ length: 4 }, (_, i) => message(`m${i}`, 1, `{"event_id":"m${i}","pad":"${'x'.repeat(100)}"}`));
    // Two events per request; time runs out while the first is answered.
    const upstream = upstreamAnswering(() => (stop.abort(), ok));
    const result = await consumeBatch(batchOf(msgs), { upstream, signal: stop.signal, maxBytes: 300 });
    expect(result).toMatchObject({ delivered: 2, retried: 2, upstreamRequests: 1 });
    expect(msgs.map((m) => m.settled[0])).toEqual(['ack', 'ack', 'retry 0', 'retry 0']);
  });

  it('hands suspects back when isolating refused events would spend too many requests', async () => {
    const msgs = Array.from({ length: 16 }, (_, i) => message(i % 2 ? `bad${i}` : `ok${i}`));
    const upstream = upstreamAnswering((body) => (body.includes('"bad') ? { kind: 'reject', status: 400, reason: 'bad' } : ok));
    const result = await consumeBatch(batchOf(msgs), { upstream, deadLetters: producer(), isolationBudget: 6 });
    expect(result.upstreamRequests).toBe(7);
    expect(result.delivered + result.deadLettered + result.retried).toBe(16);
    expect(result.retried).toBeGreaterThan(0);
    expect(msgs.every((m) => m.settled.length === 1)).toBe(true);
  });

  it('holds back a message that is not an event record (a dead letter, say) instead of dead-lettering it again', async () => {
    const odd = message('odd', 1, { record: '{}', status: 400, reason: 'refused' });
    const deadLetters = producer();
    const result = await consumeBatch(batchOf([odd, message('a')]), { upstream: upstreamAnswering(() => ok), deadLetters });
    expect(odd.settled).toEqual(['retry 43200']);
    expect(deadLetters.sent).toEqual([]);
    expect(result.delivered).toBe(1);
  });

  it('settles every message even when the upstream throws', async () => {
    const msgs = [message('a'), message('b')];
    const upstream: Upstream = { host: 'x', send: async () => { throw new Error('boom'); } };
    await consumeBatch(batchOf(msgs), { upstream });
    expect(msgs.map((m) => m.settled)).toEqual([['retry 0'], ['retry 0']]);
  });
});

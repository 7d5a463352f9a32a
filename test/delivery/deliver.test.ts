import { describe, expect, it } from 'vitest';
import { deliverBatch, type DeliveryHooks } from '../../src/delivery/deliver.ts';
import type { SendResult } from '../../src/delivery/upstream.ts';

const records = (n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ event_type: 'e', n: i }));

/** An upstream that refuses any body holding one of `bad`, after `failures` failed answers. */
function fake(bad: number[], script: SendResult[] = []) {
  const bodies: number[][] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const send = async (body: string): Promise<SendResult> => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, 1));
    inFlight--;
    const ns = (JSON.parse(body) as { n: number }[]).map((e) => e.n);
    bodies.push(ns);
    const scripted = script.shift();
    if (scripted) return scripted;
    return ns.some((n) => bad.includes(n)) ? { kind: 'reject', status: 400, reason: 'upstream answered 400' } : { kind: 'ok', status: 200 };
  };
  return { send, bodies, maxInFlight: () => maxInFlight };
}

function hooks(send: DeliveryHooks['send'], extra: Partial<DeliveryHooks> = {}): DeliveryHooks {
  return { send, sleep: async () => {}, signal: new AbortController().signal, onFailure: () => 0, ...extra };
}

describe('deliverBatch', () => {
  it('sends the batch in one request when the upstream takes it', async () => {
    const up = fake([]);
    const result = await deliverBatch(records(10), hooks(up.send));
    expect(result).toMatchObject({ outcome: 'done', accepted: 10, refused: [], unresolved: [] });
    expect(up.bodies).toEqual([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]);
  });

  it.each([
    [[3], 8],
    [[0, 7], 8],
    [[2, 3, 4], 5],
    [[0], 1],
  ])('halves refused chunks until the refused events %j of %i stand alone', async (bad, n) => {
    const up = fake(bad);
    const refused: number[] = [];
    const result = await deliverBatch(records(n), hooks(up.send, { onRefused: (i) => refused.push(i) }));
    expect(result.refused).toEqual(bad);
    expect(refused).toEqual(bad);
    expect(result.accepted).toBe(n - bad.length);
    expect(result.refusal?.status).toBe(400);
  });

  it('marks refusals before anything was taken as unproven', async () => {
    const up = fake([0, 5]);
    const result = await deliverBatch(records(8), hooks(up.send));
    expect(result.refused).toEqual([0, 5]);
    expect(result.unproven).toEqual([0]);
  });

  it.each([401, 403, 404])('treats %i as a failure of the configuration, never a refusal', async (status) => {
    const up = fake([], [{ kind: 'reject', status, reason: `upstream answered ${status}` }]);
    const failures: number[] = [];
    const result = await deliverBatch(records(4), hooks(up.send, { onFailure: (f) => (failures.push(f.status), 5) }));
    expect(failures).toEqual([status]);
    expect(result).toMatchObject({ outcome: 'done', accepted: 4, refused: [] });
  });

  it('waits as long as onFailure asks and sends the same chunk again', async () => {
    const up = fake([], [{ kind: 'retry', status: 503, reason: 'x' }, { kind: 'retry', status: 0, reason: 'y' }]);
    const waits: number[] = [];
    const result = await deliverBatch(records(3), hooks(up.send, { onFailure: (f) => f.status + 1, sleep: async (ms) => void waits.push(ms) }));
    expect(waits).toEqual([504, 1]);
    expect(up.bodies).toEqual([[0, 1, 2], [0, 1, 2], [0, 1, 2]]);
    expect(result.outcome).toBe('done');
  });

  it('gives up when onFailure says so', async () => {
    const up = fake([], [{ kind: 'retry', status: 503, reason: 'x' }]);
    const result = await deliverBatch(records(3), hooks(up.send, { onFailure: () => null }));
    expect(result).toMatchObject({ outcome: 'gave-up', accepted: 0, failure: { status: 503 } });
  });

  it('stops between requests when the signal aborts, keeping what was accepted', async () => {
    const stop = new AbortController();
    const up = fake([1]);
    const result = await deliverBatch(records(4), hooks(up.send, { signal: stop.signal, onAccepted: () => stop.abort() }));
    expect(result.outcome).toBe('stopped');
    expect(result.accepted).toBe(1);
    expect(up.bodies).toEqual([[0, 1, 2, 3], [0, 1], [0]]);
  });

  it('spends at most isolationBudget requests isolating and hands back the rest unresolved', async () => {
    const up = fake([0, 5, 9, 13]);
    const result = await deliverBatch(records(16), hooks(up.send, { isolationBudget: 4 }));
    expect(up.bodies).toHaveLength(5);
    expect(result.outcome).toBe('done');
    const covered = result.refused.length + result.accepted + result.unresolved.reduce((n, [a, b]) => n + b - a, 0);
    expect(covered).toBe(16);
    expect(result.unresolved.length).toBeGreaterThan(0);
  });

  it('does not spend the isolation budget on failures: an outage that starts mid-isolation is waited out', async () => {
    const unavailable: SendResult = { kind: 'retry', status: 503, reason: 'upstream answered 503' };
    // The first request is refused (it holds record 5), then the upstream fails 10 times.
    const up = fake([5], [{ kind: 'reject', status: 400, reason: 'upstream answered 400' }, ...Array.from({ length: 10 }, () => unavailable)]);
    const result = await deliverBatch(records(16), hooks(up.send, { isolationBudget: 8 })); // what isolating record 5 takes
    expect(result).toMatchObject({ outcome: 'done', refused: [5], accepted: 15, unresolved: [] });
  });

  it('sends up to `concurrency` chunks at once while isolating', async () => {
    const up = fake([1, 6, 10, 14]);
    const result = await deliverBatch(records(16), hooks(up.send, { concurrency: 4 }));
    expect(result.refused).toEqual([1, 6, 10, 14]);
    expect(result.accepted).toBe(12);
    expect(up.maxInFlight()).toBe(4);
  });

  it('starts from the given ranges', async () => {
    const up = fake([]);
    await deliverBatch(records(6), hooks(up.send), [[0, 2], [4, 6]]);
    expect(up.bodies).toEqual([[0, 1], [4, 5]]);
  });
});

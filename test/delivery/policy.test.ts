/**
 * The delivery policy's decisions, as a table of outcomes: no upstream, no clock but a number.
 * The drivers (forwarder, edge consumer, importer) are tested for applying them.
 */
import { describe, expect, it } from 'vitest';
import type { Delivery, Refusal } from '../../src/delivery/deliver.ts';
import {
  afterFailure,
  afterRound,
  arrangeRound,
  concurrencyAt,
  INITIAL_STATE,
  isSuspect,
  judgeRound,
  markSuspects,
  noteRefusal,
  planRound,
  type PolicyState,
} from '../../src/delivery/policy.ts';

const refusal: Refusal = { kind: 'reject', status: 400, reason: 'upstream answered 400: bad' };
const delivery = (d: Partial<Delivery>): Delivery => ({ outcome: 'done', accepted: 0, refused: [], unproven: [], unresolved: [], ...d });
const ev = (i: number) => JSON.stringify({ event_type: 'e', event_id: `id-${i}` });
const batch = (n: number) => Array.from({ length: n }, (_, i) => ev(i));
const options = { maxEvents: 500, concurrency: 8, budget: 64 };

describe('judgeRound', () => {
  it('acknowledges a batch the upstream took whole', () => {
    expect(judgeRound(delivery({ accepted: 5 }))).toEqual({ kind: 'delivered' });
  });

  it.each([
    ['each event refused on its own', delivery({ refused: [0, 1, 2], unproven: [0, 1, 2], refusal })],
    ['the budget spent before a single event stood alone', delivery({ unresolved: [[0, 6]], refusal })],
    ['some refused alone, the rest unsplit', delivery({ refused: [0], unproven: [0], unresolved: [[1, 6]], refusal })],
  ])('calls a round in which nothing was taken a blanket refusal (%s): nothing condemned, nothing acknowledged', (_, outcome) => {
    const verdict = judgeRound(outcome);
    expect(verdict).toMatchObject({ kind: 'refused-all', refusal });
    expect(verdict).not.toHaveProperty('bad');
  });

  it('condemns events refused on their own after others were taken', () => {
    expect(judgeRound(delivery({ accepted: 8, refused: [3, 7], refusal }))).toEqual({ kind: 'settled', bad: [3, 7], unsplit: [], refusal });
  });

  it('asks for a second look at events refused before anything was taken, and condemns only those refused again', () => {
    const first = delivery({ accepted: 3, refused: [0, 1, 4], unproven: [0, 1], refusal });
    expect(judgeRound(first)).toEqual({ kind: 'recheck', indexes: [0, 1] });
    const again = delivery({ accepted: 1, refused: [1] });
    expect(judgeRound(first, { indexes: [0, 1], delivery: again })).toEqual({ kind: 'settled', bad: [1, 4], unsplit: [], refusal });
  });

  it('sets aside what the budget left unsplit, and unproven events a driver could not look at again', () => {
    const first = delivery({ accepted: 2, refused: [0, 1], unproven: [0, 1], unresolved: [[4, 6]], refusal });
    const again = delivery({ accepted: 1 });
    expect(judgeRound(first, { indexes: [0], delivery: again })).toEqual({ kind: 'settled', bad: [], unsplit: [1, 4, 5], refusal });
  });

  it('keeps everything but proven refusals when a round is cut short', () => {
    const failure = { kind: 'retry', status: 503, reason: 'down' } as const;
    expect(judgeRound(delivery({ outcome: 'gave-up', accepted: 2, refused: [0, 3], unproven: [0], failure }))).toEqual({ kind: 'interrupted', bad: [3], failure });
    expect(judgeRound(delivery({ outcome: 'stopped', refused: [0], unproven: [0] }))).toEqual({ kind: 'interrupted', bad: [] });
  });
});

describe('afterFailure', () => {
  const down = { kind: 'retry', status: 503, reason: 'upstream answered 503' } as const;

  it("waits the relay's capped back-off, or Retry-After, forever by default", () => {
    const next = afterFailure(down, 40);
    expect('wait' in next && next.wait).toBeGreaterThanOrEqual(8000);
    expect('wait' in next && next.wait).toBeLessThanOrEqual(16_000);
    expect(afterFailure({ ...down, retryAfterMs: 120_000 }, 1)).toEqual({ wait: 120_000 });
  });

  it('waits out a blanket refusal like an outage', () => {
    expect(afterFailure(refusal, 1, { retryDelay: (_, attempt) => attempt * 10 })).toEqual({ wait: 10 });
  });

  it('gives up past maxRetries, and at once on wrong credentials when told to', () => {
    expect(afterFailure(down, 3, { maxRetries: 2 })).toEqual({ giveUp: 'upstream answered 503 (gave up after 2 retries)' });
    expect(afterFailure({ kind: 'reject', status: 401, reason: 'upstream answered 401' }, 1, { credentialsFatal: true })).toEqual({
      giveUp: 'upstream answered 401 — check USERMAVEN_API_KEY, USERMAVEN_SERVER_TOKEN and USERMAVEN_URL',
    });
    expect(afterFailure({ kind: 'reject', status: 401, reason: 'x' }, 1)).toHaveProperty('wait');
  });
});

describe('suspects and rounds', () => {
  it('sends suspects after the fresh events, in a request of their own', () => {
    const state = markSuspects(INITIAL_STATE, [ev(1)]);
    const round = arrangeRound(state, batch(4), planRound(state, 0, options));
    expect(round.order).toEqual([0, 2, 3, 1]);
    expect(round.records).toEqual([ev(0), ev(2), ev(3), ev(1)]);
    expect(round.ranges).toEqual([
      [0, 3],
      [3, 4],
    ]);
  });

  it('cuts requests to the size limits when asked', () => {
    const round = arrangeRound(INITIAL_STATE, batch(5), planRound(INITIAL_STATE, 0, options), { maxEvents: 2, maxBytes: 10_000 });
    expect(round.ranges).toEqual([
      [0, 2],
      [2, 4],
      [4, 5],
    ]);
  });

  it('makes the events refused alone in a blanket round suspects, and forgets a suspect once delivered or condemned', () => {
    const records = batch(4);
    let state: PolicyState = afterRound(INITIAL_STATE, records, { kind: 'refused-all', suspects: [0], refusal });
    expect(records.map((r) => isSuspect(state, r))).toEqual([true, false, false, false]);
    state = afterRound(state, records, { kind: 'settled', bad: [0], unsplit: [3] });
    expect(records.map((r) => isSuspect(state, r))).toEqual([false, false, false, true]);
    state = afterRound(state, records, { kind: 'delivered' });
    expect(records.map((r) => isSuspect(state, r))).toEqual([false, false, false, false]);
  });

  it('leaves the state as it was after a clean round', () => {
    expect(afterRound(INITIAL_STATE, batch(3), { kind: 'delivered' })).toBe(INITIAL_STATE);
  });

  it('goes parallel with smaller rounds under a flood of refused events, and back once it is over', () => {
    let state = INITIAL_STATE;
    for (let i = 0; i < 8; i++) state = noteRefusal(state, 1000 + i);
    expect(concurrencyAt(state, 2000, options)).toBe(8);
    state = afterRound(state, batch(10), { kind: 'settled', bad: [0, 1, 2, 3, 4], unsplit: [] });
    const plan = planRound(state, 2000, options);
    expect(plan).toEqual({ maxRecords: 64, chunk: 2, concurrency: 8 });
    expect(arrangeRound(markSuspects(state, [ev(9)]), batch(10), plan).ranges).toEqual([
      [0, 2],
      [2, 4],
      [4, 6],
      [6, 8],
      [8, 9],
      [9, 10],
    ]);
    expect(concurrencyAt(state, 20_000, options)).toBe(1);
    expect(planRound(state, 20_000, options)).toEqual({ maxRecords: 500, chunk: Infinity, concurrency: 1 });
  });
});

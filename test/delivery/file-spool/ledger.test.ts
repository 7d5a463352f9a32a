import { describe, expect, it } from 'vitest';
import { createLedger, firstUnsent, statsOf, type LedgerState } from '../../../src/delivery/file-spool/ledger.ts';

const fresh = (extra: Partial<LedgerState> = {}) =>
  createLedger({ head: { segment: 1, offset: 0 }, sizes: new Map(), current: 1, depth: 0, bytes: 0, oldestAt: undefined, deadLetterBytes: 0, ...extra });

describe('ledger transitions', () => {
  it('counts synced appends on the current segment, the first one setting oldestAt', () => {
    const ledger = fresh();
    ledger.segmentStarted();
    ledger.appended(2, 100, 1000);
    ledger.appended(1, 40, 2000);
    expect({ size: ledger.size(1), depth: ledger.depth, bytes: ledger.bytes, oldestAt: ledger.oldestAt }).toEqual({ size: 140, depth: 3, bytes: 140, oldestAt: 1000 });
  });

  it('rotates to a live, empty next segment', () => {
    const ledger = fresh();
    ledger.segmentStarted();
    ledger.appended(1, 50, 1000);
    ledger.rotated();
    expect({ current: ledger.current, segments: ledger.segments(), size: ledger.size(2) }).toEqual({ current: 2, segments: [1, 2], size: 0 });
  });

  it('moves the head on acknowledgement, never below zero, and forgets oldestAt when empty', () => {
    const ledger = fresh();
    ledger.segmentStarted();
    ledger.appended(3, 150, 1000);
    ledger.acknowledged({ segment: 1, offset: 50 }, 1, 50, 1500);
    expect({ head: ledger.head, depth: ledger.depth, bytes: ledger.bytes, oldestAt: ledger.oldestAt }).toEqual({ head: { segment: 1, offset: 50 }, depth: 2, bytes: 100, oldestAt: 1500 });
    ledger.acknowledged({ segment: 1, offset: 150 }, 5, 500, undefined);
    expect({ depth: ledger.depth, bytes: ledger.bytes, oldestAt: ledger.oldestAt }).toEqual({ depth: 0, bytes: 0, oldestAt: undefined });
    expect(statsOf(ledger)).toEqual({ depth: 0, bytes: 0 });
  });

  it('releases only segments the head has moved past (nothing unsent is deleted)', () => {
    const ledger = fresh({ sizes: new Map([[1, 100], [2, 100], [3, 10]]), current: 3, depth: 3, bytes: 210, oldestAt: 1 });
    ledger.acknowledged({ segment: 2, offset: 40 }, 1, 140, 5);
    expect(ledger.spent()).toEqual([1]);
    ledger.released(2); // the head's own segment: refused
    ledger.released(1);
    expect(ledger.segments()).toEqual([2, 3]);
  });

  it('steps the first unsent position over segments read to their end', () => {
    const ledger = fresh({ sizes: new Map([[1, 100], [2, 0], [3, 10]]), current: 3, head: { segment: 1, offset: 100 }, depth: 1, bytes: 10 });
    expect(firstUnsent(ledger)).toEqual({ segment: 3, offset: 0 });
  });

  it('is the only writer of its state: the state it was built from is copied, and what it shows are copies', () => {
    const sizes = new Map([[1, 10]]);
    const ledger = fresh({ sizes, depth: 1, bytes: 10, oldestAt: 1 });
    sizes.set(1, 999);
    const head = ledger.head as { offset: number };
    head.offset = 5;
    expect({ size: ledger.size(1), head: ledger.head }).toEqual({ size: 10, head: { segment: 1, offset: 0 } });
  });

  it('keeps the dead-letter file size', () => {
    const ledger = fresh();
    ledger.deadLettersAre(100);
    ledger.deadLettered(20);
    expect(statsOf(ledger)).toEqual({ depth: 0, bytes: 0, deadLetterBytes: 120 });
  });
});

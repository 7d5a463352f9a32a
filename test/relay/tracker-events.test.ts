import { describe, expect, it } from 'vitest';
import { SCROLL_ATTRIBUTES, droppedBefore, fromTracker } from '../../src/relay/tracker-events.ts';

const compact = (over: Record<string, unknown>) => ({ i: 'id-1', e: 'pageview', t: 1, n: 'v', l: 'https://s.test/', d: '', r: '', v: '1x1', w: '1x1', x: 'UTF-8', z: 0, ...over });

describe('fromTracker', () => {
  it("expands $scroll's array of attributes to the official SDK's names", () => {
    const e = fromTracker(compact({ e: '$scroll', a: [50, 720, 3000, 1100] }), {}) as Record<string, unknown>;
    expect(e['event_attributes']).toEqual({ percent: 50, window_height: 720, document_height: 3000, scroll_distance: 1100 });
    expect(SCROLL_ATTRIBUTES).toEqual(['percent', 'window_height', 'document_height', 'scroll_distance']);
  });

  it("keeps a $scroll sent with an object (an older u.js's outbox)", () => {
    const a = { percent: 25, window_height: 1, document_height: 2, scroll_distance: 3 };
    expect((fromTracker(compact({ e: '$scroll', a }), {}) as Record<string, unknown>)['event_attributes']).toEqual(a);
  });

  it('drops the outbox count o from the event', () => {
    expect(fromTracker(compact({ o: 3 }), {})).not.toHaveProperty('o');
  });
});

describe('droppedBefore', () => {
  it.each([
    [{ o: 3 }, 3],
    [{ o: 0 }, 0],
    [{}, 0],
    [{ o: -1 }, 0],
    [{ o: 1.5 }, 0],
    [{ o: '3' }, 0],
    [{ o: 2 ** 60 }, 0],
    ['not an event', 0],
  ])('reads %j as %s', (raw, n) => {
    expect(droppedBefore(raw)).toBe(n);
  });
});

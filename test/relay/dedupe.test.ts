import { describe, expect, it } from 'vitest';
import { createDedupeWindow } from '../../src/relay/dedupe.ts';

describe('createDedupeWindow', () => {
  it('remembers ids until they are older than the ttl', () => {
    let t = 0;
    const window = createDedupeWindow({ ttlMs: 100, now: () => t });
    window.add('a');
    t = 99;
    expect(window.has('a')).toBe(true);
    t = 100;
    expect(window.has('a')).toBe(false);
    expect(window.has('never')).toBe(false);
  });

  it('keeps only the newest maxIds ids', () => {
    const window = createDedupeWindow({ maxIds: 3, now: () => 0 });
    for (const id of ['a', 'b', 'c', 'd', 'e']) window.add(id);
    expect(['a', 'b', 'c', 'd', 'e'].map((id) => window.has(id))).toEqual([false, false, true, true, true]);
  });

  it('counts a re-added id from its newest arrival', () => {
    let t = 0;
    const window = createDedupeWindow({ ttlMs: 100, maxIds: 2, now: () => t });
    window.add('a');
    window.add('b');
    t = 150;
    window.add('a'); // expired, stored again: its old place in the window is stale
    expect(window.has('a')).toBe(true);
    expect(window.has('b')).toBe(false);
    window.add('c');
    expect([window.has('a'), window.has('c')]).toEqual([true, true]);
  });

  it('stays bounded and correct through many times its size', () => {
    const window = createDedupeWindow({ maxIds: 1000, now: () => 0 });
    for (let i = 0; i < 50_000; i++) window.add(`id${i}`);
    expect(window.has('id49999')).toBe(true);
    expect(window.has('id49000')).toBe(true);
    expect(window.has('id48999')).toBe(false);
    expect(window.has('id0')).toBe(false);
  });
});

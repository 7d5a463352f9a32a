import { afterEach, describe, expect, it, vi } from 'vitest';
import { load, save } from '../../src/tracker/store.ts';

/** A working localStorage, as a Map. */
const working = () => {
  const m = new Map<string, string>();
  return {
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => void m.set(k, String(v)),
    map: m,
  };
};
const deny = () => {
  throw new DOMException('The operation is insecure.', 'SecurityError');
};

afterEach(() => vi.unstubAllGlobals());

describe('store', () => {
  it('keeps JSON values in localStorage', () => {
    const ls = working();
    vi.stubGlobal('localStorage', ls);
    save('k', { a: [1, 'x'] });
    expect(ls.map.get('k')).toBe('{"a":[1,"x"]}');
    expect(load('k')).toEqual({ a: [1, 'x'] });
  });

  it('reads an absent key as null', () => {
    vi.stubGlobal('localStorage', working());
    expect(load('absent')).toBeNull();
  });

  it('clears a key with null', () => {
    vi.stubGlobal('localStorage', working());
    save('k', 1);
    save('k', null);
    expect(load('k')).toBeNull();
  });

  it('reads a corrupted entry as nothing', () => {
    const ls = working();
    ls.map.set('k', '{not json');
    vi.stubGlobal('localStorage', ls);
    expect(load('k')).toBeUndefined();
  });

  it.each([
    ['localStorage throws on access', { getItem: deny, setItem: deny }],
    ['localStorage is missing', undefined],
  ])('falls back to memory when %s', (_, ls) => {
    vi.stubGlobal('localStorage', ls);
    expect(load('mem') ?? null).toBeNull(); // nothing: undefined (unreadable) or null
    save('mem', { id: 'u-1' });
    expect(load('mem')).toEqual({ id: 'u-1' });
    save('mem', null);
    expect(load('mem')).toBeNull();
  });

  it('sees what another tab stored (no caching)', () => {
    const ls = working();
    vi.stubGlobal('localStorage', ls);
    save('shared', 1);
    ls.map.set('shared', '2');
    expect(load('shared')).toBe(2);
  });

  it('reads its own copy while localStorage refuses writes (full), and localStorage again after', () => {
    const ls = working();
    let full = false;
    vi.stubGlobal('localStorage', {
      getItem: ls.getItem,
      setItem: (k: string, v: string) => {
        if (full) throw new DOMException('full', 'QuotaExceededError');
        ls.setItem(k, v);
      },
    });
    save('o', [1]);
    full = true;
    save('o', [1, 2]);
    expect(ls.map.get('o')).toBe('[1]');
    expect(load('o')).toEqual([1, 2]);
    full = false;
    save('o', [1, 2, 3]);
    ls.map.set('o', '[9]'); // another tab writes
    expect(load('o')).toEqual([9]);
  });
});

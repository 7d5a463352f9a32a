/**
 * Remembers recently stored `event_id`s so a tracker retry (same ids, sent again because the
 * answer was lost) is stored once. Bounded in time and size; the upstream de-duplicates too,
 * this only saves spool space and upstream traffic.
 */
export interface DedupeWindow {
  has(id: string): boolean;
  add(id: string): void;
}

export function createDedupeWindow(options: { ttlMs?: number; maxIds?: number; /** Monotonic ms (a wall-clock step would stretch or cut the window). */ now?: () => number } = {}): DedupeWindow {
  const ttlMs = options.ttlMs ?? 10 * 60_000;
  const maxIds = options.maxIds ?? 100_000;
  const now = options.now ?? (() => performance.now());
  // Arrival order lives in two arrays used as a queue (oldest at `head`); the map points each id
  // at its slot. Evicting from the front of a Map and iterating it again from the start, as this
  // did, walks every deleted entry V8 keeps in the table until it rehashes: once the window was
  // full that cost up to ~100 µs per request, and a relay under sustained load slowed to a
  // third of its rate within seconds.
  const slotOf = new Map<string, number>();
  let ids: string[] = [];
  let times: number[] = [];
  let head = 0;
  /** Slot number of `ids[0]`: slots only grow, so a re-added id's old slot is recognisably stale. */
  let base = 0;
  const expire = (t: number) => {
    while (head < ids.length && (t - times[head]! >= ttlMs || slotOf.size > maxIds)) {
      const id = ids[head]!;
      if (slotOf.get(id) === base + head) slotOf.delete(id);
      ids[head] = ''; // let the string go now, not at the next compaction
      head++;
    }
    if (head >= 4096 && head * 2 >= ids.length) {
      ids = ids.slice(head);
      times = times.slice(head);
      base += head;
      head = 0;
    }
  };
  return {
    has(id) {
      const slot = slotOf.get(id);
      return slot !== undefined && now() - times[slot - base]! < ttlMs;
    },
    add(id) {
      const t = now();
      slotOf.set(id, base + ids.length);
      ids.push(id);
      times.push(t);
      expire(t);
    },
  };
}

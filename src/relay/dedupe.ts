/**
 * Remembers recently stored `event_id`s so a tracker retry (same ids, sent again because the
 * answer was lost) is stored once. Bounded in time and size; the upstream de-duplicates too,
 * this only saves spool space and upstream traffic.
 */
export interface DedupeWindow {
  has(id: string): boolean;
  add(id: string): void;
}

export function createDedupeWindow(options: { ttlMs?: number; maxIds?: number; now?: () => number } = {}): DedupeWindow {
  const ttlMs = options.ttlMs ?? 10 * 60_000;
  const maxIds = options.maxIds ?? 100_000;
  const now = options.now ?? Date.now;
  // Map keeps insertion order, so the oldest entries are first and expire first.
  const seen = new Map<string, number>();
  const expire = (t: number) => {
    for (const [id, at] of seen) {
      if (t - at < ttlMs && seen.size <= maxIds) break;
      seen.delete(id);
    }
  };
  return {
    has(id) {
      const at = seen.get(id);
      return at !== undefined && now() - at < ttlMs;
    },
    add(id) {
      const t = now();
      seen.delete(id);
      seen.set(id, t);
      expire(t);
    },
  };
}

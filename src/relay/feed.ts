/**
 * The live feed behind `/_events`: the most recent stored events (a summary of each), counts
 * per type, and subscribers for the page's server-sent-events stream. Memory is bounded: only
 * the last `size` summaries are kept; counts are per type since start (or since `seed`); at
 * most `maxSubscribers` listen at once (each stream bounds its own buffer, see events-page.ts).
 */
export interface EventSummary {
  at: number;
  type: string;
  user: string;
  page: string;
  event_id: string;
}

export interface EventFeed {
  push(events: readonly Record<string, unknown>[]): void;
  /** Newest first. */
  recent(): EventSummary[];
  counts(): Record<string, number>;
  total(): number;
  /** Null when `maxSubscribers` already listen; otherwise the function that unsubscribes. */
  subscribe(listener: (batch: EventSummary[]) => void): (() => void) | null;
  /** How many listen now. */
  subscribers(): number;
}

/** Live streams open at once; the page is a developer's view, a handful is plenty. */
export const MAX_SUBSCRIBERS = 64;

export function createEventFeed(options: { size?: number; maxSubscribers?: number } = {}): EventFeed {
  const size = options.size ?? 200;
  const maxSubscribers = options.maxSubscribers ?? MAX_SUBSCRIBERS;
  const ring: EventSummary[] = [];
  const counts = new Map<string, number>();
  const listeners = new Set<(batch: EventSummary[]) => void>();
  let total = 0;
  return {
    push(events) {
      const batch = events.map(summarize);
      for (const s of batch) {
        ring.push(s);
        counts.set(s.type, (counts.get(s.type) ?? 0) + 1);
        total++;
      }
      if (ring.length > size) ring.splice(0, ring.length - size);
      for (const l of listeners) {
        try {
          l(batch);
        } catch {
          // A broken subscriber (closed stream) must not stop the others or the request.
        }
      }
    },
    recent: () => ring.slice().reverse(),
    counts: () => Object.fromEntries([...counts].sort((a, b) => b[1] - a[1])),
    total: () => total,
    subscribe(listener) {
      if (listeners.size >= maxSubscribers) return null;
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    subscribers: () => listeners.size,
  };
}

export function summarize(event: Record<string, unknown>): EventSummary {
  const user = (event['user'] ?? {}) as Record<string, unknown>;
  const who = [user['email'], user['id'], user['anonymous_id']].find((v) => typeof v === 'string' && v) as string | undefined;
  const page = [event['doc_path'], event['url']].find((v) => typeof v === 'string' && v) as string | undefined;
  return {
    at: typeof event['_timestamp'] === 'number' ? event['_timestamp'] : Date.now(),
    type: String(event['event_type']),
    user: who ?? '',
    page: page ?? '',
    event_id: typeof event['event_id'] === 'string' ? event['event_id'] : '',
  };
}

/**
 * What the forwarder remembers about refused events between rounds, so refusals cost the line
 * as little as possible:
 *
 * - suspects: events refused in a round that proved nothing (nothing else taken), or left
 *   unsplit by the isolation budget. The next round sends them after the fresh events, one by
 *   one, so they cannot sink their neighbours again.
 * - pressure: how many events were refused lately, and what share of the events sent. Under a
 *   flood of refused events (a client posting events the upstream refuses), halving one request
 *   at a time cannot keep up: each refused event costs at least one request of its own. Then
 *   rounds get smaller, start from chunks sized for the refusal rate (about 1/√rate, the
 *   classic group-testing size) and send several requests at once. That gives up the upstream's
 *   arrival order within a round, so it is reserved for floods; otherwise one request at a time.
 */
export interface RoundPlan {
  /** Most events to read for this round. */
  maxRecords: number;
  /** Events per chunk in the first requests (Infinity: the whole batch in one). */
  chunk: number;
  /** Requests at once. */
  concurrency: number;
}

export interface RefusalsOptions {
  maxEvents: number;
  concurrency: number;
  budget: number;
  now: () => number;
}

/** Refused events within this window count towards a flood. */
const WINDOW_MS = 10_000;
/** This many refused events within the window is a flood. */
const FLOOD = 8;

export class Refusals {
  private readonly suspects = new Set<string>();
  private readonly refusedAt: number[] = [];
  private rate = 0;

  constructor(private readonly options: RefusalsOptions) {}

  isSuspect(record: string): boolean {
    return this.suspects.size > 0 && this.suspects.has(keyOf(record));
  }

  suspect(record: string): void {
    const key = keyOf(record);
    this.suspects.delete(key);
    this.suspects.add(key);
    // Bounded; forgetting one only costs it its place at the back.
    if (this.suspects.size > 10_000) this.suspects.delete(this.suspects.values().next().value!);
  }

  clear(record: string): void {
    if (this.suspects.size > 0) this.suspects.delete(keyOf(record));
  }

  /** An event was refused on its own (counts towards a flood at once, mid-round too). */
  refused(): void {
    const now = this.options.now();
    this.refusedAt.push(now);
    while (this.refusedAt.length > 4 * FLOOD || this.refusedAt[0]! < now - WINDOW_MS) this.refusedAt.shift();
  }

  /** A round ended with `refused` of `sent` events proven bad (the upstream took others). */
  observe(refused: number, sent: number): void {
    if (sent > 0) this.rate = this.rate / 2 + refused / sent / 2;
  }

  /** Requests at once right now: several only during a flood. */
  concurrency(): number {
    return this.flooded() ? this.options.concurrency : 1;
  }

  flooded(): boolean {
    const since = this.options.now() - WINDOW_MS;
    return this.refusedAt.filter((t) => t >= since).length >= FLOOD;
  }

  plan(): RoundPlan {
    const { maxEvents, concurrency, budget } = this.options;
    if (!this.flooded()) return { maxRecords: maxEvents, chunk: Infinity, concurrency: 1 };
    const chunk = Math.max(1, Math.min(64, Math.floor(1 / Math.sqrt(Math.max(this.rate, 1e-4)))));
    return { maxRecords: Math.min(maxEvents, Math.max(concurrency, (budget * chunk) / 2)), chunk, concurrency };
  }
}

/** Ranges of `size` records from `from` to `to` (one range when `size` is Infinity). */
export function chunks(from: number, to: number, size: number): [number, number][] {
  if (to <= from) return [];
  if (size === Infinity || to - from <= size) return [[from, to]];
  const out: [number, number][] = [];
  for (let i = from; i < to; i += size) out.push([i, Math.min(to, i + size)]);
  return out;
}

function keyOf(record: string): string {
  return eventIdOf(record) ?? (record.length <= 200 ? record : `${record.length}:${record.slice(0, 100)}:${record.slice(-100)}`);
}

export function eventIdOf(record: string): string | undefined {
  return /"event_id":"([^"]{1,100})"/.exec(record)?.[1];
}

/**
 * Request sizing: how many serialized events go in one upstream request body (`[a,b,c]`), the
 * one rule behind the forwarder's spool reads, the edge consumer's requests and the importer's
 * batches. A request holds at most `maxEvents` events and `maxBytes` bytes of body; an event
 * bigger than that on its own still goes, alone (the upstream says what it thinks of it).
 *
 * Bytes are counted as the body will be: two brackets, and each event with one separator (one
 * byte more than the body really has, so rounding never tips a request over).
 */
import { LIMITS } from '../shared/event.ts';

export interface RequestLimits {
  /** Most events per request. */
  maxEvents: number;
  /** Most bytes per request body. */
  maxBytes: number;
}

/** Usermaven's bulk limits (`LIMITS.upstreamEvents`, `LIMITS.upstreamBytes`). */
export const UPSTREAM_LIMITS: RequestLimits = { maxEvents: LIMITS.upstreamEvents, maxBytes: LIMITS.upstreamBytes };

/** Body bytes of a request holding no event yet: `[]`. */
export const EMPTY_REQUEST_BYTES = 2;

/** Body bytes once an event of `recordBytes` is added to a request of `bytes`. */
export function withEvent(bytes: number, recordBytes: number): number {
  return bytes + recordBytes + 1;
}

/** May an event of `recordBytes` join a request that holds `events` events in `bytes` bytes? */
export function fitsRequest(events: number, bytes: number, recordBytes: number, limits: RequestLimits): boolean {
  return events === 0 || (events < limits.maxEvents && withEvent(bytes, recordBytes) <= limits.maxBytes);
}

/**
 * What to read from a spool for one request: the spool counts the records' own bytes, so the
 * brackets and a separator per event come off the byte limit first.
 */
export function spoolReadLimits(limits: RequestLimits): { maxRecords: number; maxBytes: number } {
  return { maxRecords: limits.maxEvents, maxBytes: limits.maxBytes - limits.maxEvents - EMPTY_REQUEST_BYTES };
}

/**
 * Index ranges `[from, to)` of `records` between `from` and `to`, cut so that each request
 * stays within `limits`.
 */
export function requestRanges(records: readonly string[], limits: RequestLimits, from = 0, to = records.length): [number, number][] {
  const out: [number, number][] = [];
  const encoder = new TextEncoder();
  let start = from;
  let bytes = EMPTY_REQUEST_BYTES;
  for (let i = from; i < to; i++) {
    const size = encoder.encode(records[i]!).length;
    if (!fitsRequest(i - start, bytes, size, limits)) {
      out.push([start, i]);
      start = i;
      bytes = EMPTY_REQUEST_BYTES;
    }
    bytes = withEvent(bytes, size);
  }
  if (to > start) out.push([start, to]);
  return out;
}

/**
 * Checks an inbound body before anything is stored: read within the byte limit, parse, and
 * put every event through the shared event rules (src/shared/event-rules.ts — the importer
 * and the Node client apply the same ones). Everything here throws a `RelayError` (400/413)
 * naming the first problem found. `parseEvents` refuses a whole body for one bad event; the
 * collect route uses `parseBatch` and `checkEvent` instead, storing the valid events of a
 * batch and naming each refused one.
 */
import { LIMITS } from '../shared/event.ts';
import { eventViolation } from '../shared/event-rules.ts';
import { decodeUtf8, instantOf } from '../shared/intake.ts';
import { RelayError, badRequest } from './errors.ts';

export type JsonObject = Record<string, unknown>;

export interface ParseLimits {
  bodyBytes?: number;
  eventsPerRequest?: number;
  depth?: number;
}

/** Parse a body that holds one event object or an array of them; validate every event. */
export function parseEvents(text: string, limits: ParseLimits = {}): JsonObject[] {
  const list = parseBatch(text, limits);
  list.forEach((event, i) => checkEvent(event, i, limits.depth ?? LIMITS.depth));
  return list as JsonObject[];
}

/**
 * Parse a body that holds one event object or an array of them, checking the body as a
 * whole (JSON, not empty, not too many) but not each event: the collect route checks each
 * one on its own with `checkEvent`, so one bad event does not sink its neighbours.
 */
export function parseBatch(text: string, limits: ParseLimits = {}): unknown[] {
  const maxEvents = limits.eventsPerRequest ?? LIMITS.eventsPerRequest;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest('bad_json', 'body is not valid JSON; send one event object or an array of them');
  }
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw badRequest('empty', 'body holds no events');
  if (list.length > maxEvents) throw badRequest('too_many_events', `body holds ${list.length} events; at most ${maxEvents} per request`);
  return list;
}

export function checkEvent(event: unknown, index: number, maxDepth: number = LIMITS.depth): asserts event is JsonObject {
  readTime(event);
  const violation = eventViolation(event, { depth: maxDepth });
  if (violation) throw badRequest(violation.code, `event ${index}: ${violation.message}`);
}

/**
 * A `_timestamp` written as a string (digits or ISO 8601, as the importer and the client take it)
 * becomes the ms it names (src/shared/intake.ts), so the same value is the same instant at every
 * entry point. A string that names no time stays, and the rules refuse it (400).
 */
function readTime(event: unknown): void {
  if (typeof event !== 'object' || event === null) return;
  const record = event as JsonObject;
  if (typeof record['_timestamp'] !== 'string') return;
  const instant = instantOf(record['_timestamp']);
  if (instant.ok) record['_timestamp'] = instant.ms;
}

/**
 * Read a request body as text, refusing more than `limit` bytes without buffering them
 * (413). Content-Length is checked first so an honest oversized body is refused unread.
 */
export async function readBody(request: Request, limit: number, preread?: Uint8Array): Promise<string> {
  const declared = Number(request.headers.get('content-length'));
  if (declared > limit) throw tooLarge(limit);
  if (preread) {
    if (preread.byteLength > limit) throw tooLarge(limit);
    return decodeBody(preread);
  }
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  let all: Uint8Array;
  if (chunks.length === 1) all = chunks[0]!;
  else {
    all = new Uint8Array(size);
    let offset = 0;
    for (const c of chunks) {
      all.set(c, offset);
      offset += c.byteLength;
    }
  }
  return decodeBody(all);
}

function decodeBody(bytes: Uint8Array): string {
  const decoded = decodeUtf8(bytes);
  if (!decoded.ok) throw badRequest('bad_encoding', `body ${decoded.reason}`);
  return decoded.text;
}

const tooLarge = (limit: number) => new RelayError(413, 'too_large', `body is larger than ${limit} bytes; send fewer events per request`);

/**
 * Checks an inbound body before anything is stored. Everything here throws a `RelayError`
 * (400/413) naming the first problem found, so one bad event rejects the whole request and
 * nothing of it is stored: the sender learns exactly what to fix.
 */
import { LIMITS } from '../shared/event.ts';
import { RelayError, badRequest } from './errors.ts';

/** Keys that could poison an object's prototype when a consumer merges the event. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const OBJECT_FIELDS = ['user', 'company', 'event_attributes', 'ids', 'utm', 'click_id'] as const;
const STRING_FIELDS = [
  'event_id', 'url', 'page_title', 'referer', 'doc_path', 'doc_host', 'doc_search', 'vp_size',
  'screen_resolution', 'user_agent', 'user_language', 'doc_encoding', 'src',
] as const;
const NUMBER_FIELDS = ['_timestamp', 'sent_at', 'local_tz_offset'] as const;

export type JsonObject = Record<string, unknown>;

export interface ParseLimits {
  bodyBytes?: number;
  eventsPerRequest?: number;
  depth?: number;
}

/** Parse a body that holds one event object or an array of them; validate every event. */
export function parseEvents(text: string, limits: ParseLimits = {}): JsonObject[] {
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
  list.forEach((event, i) => checkEvent(event, i, limits.depth ?? LIMITS.depth));
  return list as JsonObject[];
}

export function checkEvent(event: unknown, index: number, maxDepth: number = LIMITS.depth): asserts event is JsonObject {
  const at = `event ${index}`;
  if (!isPlainObject(event)) throw badRequest('not_object', `${at} is not an object`);
  checkTree(event, at, 1, maxDepth);
  const type = event['event_type'];
  if (typeof type !== 'string' || type.trim() === '') throw badRequest('event_type', `${at}: event_type is required and must be a non-empty string`);
  if (type.length > 200) throw badRequest('event_type', `${at}: event_type is longer than 200 characters`);
  for (const field of OBJECT_FIELDS) {
    const v = event[field];
    if (v !== undefined && v !== null && !isPlainObject(v)) throw badRequest('wrong_type', `${at}: ${field} must be an object`);
  }
  for (const field of STRING_FIELDS) {
    const v = event[field];
    if (v !== undefined && v !== null && typeof v !== 'string') throw badRequest('wrong_type', `${at}: ${field} must be a string`);
  }
  for (const field of NUMBER_FIELDS) {
    const v = event[field];
    if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isFinite(v))) throw badRequest('wrong_type', `${at}: ${field} must be a number (UTC ms)`);
  }
  const user = event['user'];
  if (isPlainObject(user)) {
    for (const field of ['anonymous_id', 'id', 'email'] as const) {
      const v = user[field];
      if (v !== undefined && v !== null && typeof v !== 'string') throw badRequest('wrong_type', `${at}: user.${field} must be a string`);
    }
  }
  const eventId = event['event_id'];
  if (typeof eventId === 'string' && (eventId.length === 0 || eventId.length > 100)) throw badRequest('wrong_type', `${at}: event_id must be 1–100 characters`);
}

/** Depth and forbidden keys, in one walk. Iterative so a hostile body cannot blow the stack. */
function checkTree(root: JsonObject, at: string, rootDepth: number, maxDepth: number): void {
  // Two parallel stacks rather than a [node, depth] pair per node: this runs for every event
  // of every request, and the pairs were garbage.
  const nodes: unknown[] = [root];
  const depths: number[] = [rootDepth];
  while (nodes.length > 0) {
    const node = nodes.pop();
    const depth = depths.pop()!;
    if (depth > maxDepth) throw badRequest('too_deep', `${at} is nested deeper than ${maxDepth} levels`);
    if (Array.isArray(node)) {
      for (const item of node) {
        if (typeof item === 'object' && item !== null) {
          nodes.push(item);
          depths.push(depth + 1);
        }
      }
      continue;
    }
    // JSON.parse defines "__proto__" as an own data property (it does not call the setter),
    // so Object.keys sees it. ECMA-262 §25.5.1.1 (InternalizeJSONProperty / CreateDataProperty).
    for (const key of Object.keys(node as JsonObject)) {
      if (FORBIDDEN_KEYS.has(key)) throw badRequest('forbidden_key', `${at} contains the key "${key}", which is not allowed anywhere in an event`);
      const child = (node as JsonObject)[key];
      if (typeof child === 'object' && child !== null) {
        nodes.push(child);
        depths.push(depth + 1);
      }
    }
  }
}

export function isPlainObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
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
    return decodeUtf8(preread);
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
  return decodeUtf8(all);
}

function decodeUtf8(bytes: Uint8Array): string {
  // Fatal: a lenient decoder would store U+FFFD in place of the bad bytes, silently changing
  // the event; JSON text must be UTF-8 (RFC 8259 §8.1), so refuse it instead.
  try {
    return utf8.decode(bytes);
  } catch {
    throw badRequest('bad_encoding', 'body is not valid UTF-8');
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

const tooLarge = (limit: number) => new RelayError(413, 'too_large', `body is larger than ${limit} bytes; send fewer events per request`);

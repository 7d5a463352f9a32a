/**
 * What an event must be to be accepted: its shape, the types of the fields Usermaven reads,
 * how deep it nests, the keys it may not hold, and how long its identifiers are. One home
 * for the relay (src/relay/validate.ts), the importer (src/importer/event.ts) and the Node
 * client (src/client/build-event.ts), so nothing the relay refuses reaches Usermaven another
 * way. Sizes are in `LIMITS` (event.ts): the relay counts a request body, the client and the
 * importer a single event.
 *
 * The walk is iterative and stops at the depth limit: a hostile or broken record nested
 * 20,000 levels deep costs a few loop turns and a clear refusal, never a stack overflow.
 */
import { LIMITS } from './event.ts';

/** Why an event is refused; the relay answers it as the error code of its 400. */
export type RuleCode = 'not_object' | 'too_deep' | 'forbidden_key' | 'event_type' | 'wrong_type' | 'out_of_range';

export interface Violation {
  code: RuleCode;
  /** The problem, reading on its own: "user must be an object", "nested deeper than 8 levels". */
  message: string;
  /** The field at fault, when it is one field. */
  field?: string;
}

/** Keys that could poison an object's prototype when a consumer merges the event. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
export const OBJECT_FIELDS = ['user', 'company', 'event_attributes', 'ids', 'utm', 'click_id'] as const;
export const STRING_FIELDS = [
  'event_id', 'url', 'page_title', 'referer', 'doc_path', 'doc_host', 'doc_search', 'vp_size',
  'screen_resolution', 'user_agent', 'user_language', 'doc_encoding', 'src',
] as const;
/** UTC ms (`_timestamp`, `sent_at`) and minutes (`local_tz_offset`). */
export const NUMBER_FIELDS = ['_timestamp', 'sent_at', 'local_tz_offset'] as const;
export const USER_STRING_FIELDS = ['anonymous_id', 'id', 'email'] as const;
/** Longest `event_type`. */
export const MAX_EVENT_TYPE = 200;
/** Longest `event_id` (a UUID is 36). */
export const MAX_EVENT_ID = 100;

export interface RuleOptions {
  /** Deepest nesting, the event itself being level 1 (default `LIMITS.depth`). */
  depth?: number;
  /**
   * What `null` in an object field (`user`, `event_attributes`, …) means. The relay takes it
   * as absent (the official SDK sends `null`s); the importer refuses it, as a file that writes
   * `null` for a whole object is a broken export more often than not. Default 'absent'.
   */
  nullObjects?: 'absent' | 'refuse';
}

/**
 * True for `{}` and `Object.create(null)`-style objects: not arrays, Dates, Maps or class
 * instances. Everything `JSON.parse` makes as an object passes.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * The first rule `event` breaks, or undefined when it keeps them all.
 *
 * @example
 *   eventViolation(JSON.parse(line))
 *   // → { code: 'too_deep', message: 'is nested deeper than 8 levels' }
 */
export function eventViolation(event: unknown, options: RuleOptions = {}): Violation | undefined {
  if (!isPlainObject(event)) return { code: 'not_object', message: 'not an object' };
  const tree = treeViolation(event, options.depth ?? LIMITS.depth);
  if (tree && tree !== OUT_OF_RANGE) return tree;
  const type = event['event_type'];
  if (type === undefined || type === null) return { code: 'event_type', field: 'event_type', message: 'missing event_type' };
  if (typeof type !== 'string' || type.trim() === '') return { code: 'event_type', field: 'event_type', message: 'event_type must be a non-empty string' };
  if (type.length > MAX_EVENT_TYPE) return { code: 'event_type', field: 'event_type', message: `event_type is longer than ${MAX_EVENT_TYPE} characters` };
  const eventId = event['event_id'];
  if (eventId !== undefined && eventId !== null && (typeof eventId !== 'string' || eventId.length === 0 || eventId.length > MAX_EVENT_ID)) {
    return wrongType('event_id', `must be a non-empty string of at most ${MAX_EVENT_ID} characters (or leave it out)`);
  }
  const nullIsAbsent = options.nullObjects !== 'refuse';
  for (const field of OBJECT_FIELDS) {
    const v = event[field];
    if (v === undefined || (v === null && nullIsAbsent)) continue;
    if (!isPlainObject(v)) return wrongType(field, 'must be an object');
  }
  for (const field of STRING_FIELDS) {
    const v = event[field];
    if (v !== undefined && v !== null && typeof v !== 'string') return wrongType(field, 'must be a string');
  }
  for (const field of NUMBER_FIELDS) {
    const v = event[field];
    if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isFinite(v))) {
      return wrongType(field, field === 'local_tz_offset' ? 'must be a number (minutes)' : 'must be a number (UTC ms)');
    }
  }
  const user = event['user'];
  if (isPlainObject(user)) {
    for (const field of USER_STRING_FIELDS) {
      const v = user[field];
      if (v !== undefined && v !== null && typeof v !== 'string') return wrongType(`user.${field}`, 'must be a string');
    }
  }
  return tree;
}

function wrongType(field: string, problem: string): Violation {
  return { code: 'wrong_type', field, message: `${field} ${problem}` };
}

/**
 * Depth, forbidden keys and numbers out of range, in one walk that never recurses. Any
 * object's own enumerable keys are walked (a class instance is serialized by them); the root
 * counts as level 1.
 */
function treeViolation(root: Record<string, unknown>, maxDepth: number): Violation | undefined {
  // Two parallel stacks rather than a [node, depth] pair per node: the relay runs this for
  // every event of every request, and the pairs were garbage.
  const nodes: unknown[] = [root];
  const depths: number[] = [1];
  // Said last: a field's own type check names the problem better (`sent_at must be a number`).
  let range: Violation | undefined;
  while (nodes.length > 0) {
    const node = nodes.pop();
    const depth = depths.pop()!;
    if (depth > maxDepth) return { code: 'too_deep', message: `nested deeper than ${maxDepth} levels` };
    if (Array.isArray(node)) {
      for (const item of node) {
        if (typeof item === 'object' && item !== null) {
          nodes.push(item);
          depths.push(depth + 1);
        } else if (typeof item === 'number' && !Number.isFinite(item)) range = OUT_OF_RANGE;
      }
      continue;
    }
    // JSON.parse defines "__proto__" as an own data property (it does not call the setter),
    // so Object.keys sees it. ECMA-262 §25.5.1.1 (InternalizeJSONProperty / CreateDataProperty).
    for (const key of Object.keys(node as Record<string, unknown>)) {
      if (FORBIDDEN_KEYS.has(key)) return { code: 'forbidden_key', message: `contains a "${key}" key` };
      const child = (node as Record<string, unknown>)[key];
      if (typeof child === 'object' && child !== null) {
        nodes.push(child);
        depths.push(depth + 1);
      } else if (typeof child === 'number' && !Number.isFinite(child)) range = OUT_OF_RANGE;
    }
  }
  return range;
}

/**
 * JSON numbers are IEEE-754 doubles wherever they are read (JSON.parse, and Usermaven's side):
 * a literal beyond ±1.8e308 (`1e400`) parses as Infinity, which JSON.stringify would forward as
 * `null`, so it is refused rather than changed. Integers beyond 2^53 parse to the nearest
 * double (`12345678901234567891` → `12345678901234567000`), as in every JavaScript SDK, the
 * official one included: send such ids as strings (docs/relay.md, "Numbers").
 */
const OUT_OF_RANGE: Violation = { code: 'out_of_range', message: 'holds a number beyond what JSON carries (±1.8e308): send it as a string' };

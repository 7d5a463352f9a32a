/**
 * Event intake: what a time, an id and the text of an event mean, decided once for the relay
 * (src/relay/enrich.ts, validate.ts), the Node client (src/client/build-event.ts) and the
 * importer (src/importer/event.ts, reader.ts). Every function here returns a result and never
 * throws; each caller decides what an invalid value means for it:
 *
 *   relay     the receive time (a browser's clock cannot be argued with), or 400 for a string
 *   importer  the line is reported as a bad record, and the import goes on
 *   client    the call throws a `TypeError` naming the option
 *
 * So the same `_timestamp` is the same instant everywhere, on every machine, whatever its zone.
 */
import { MAX_EVENT_ID } from './event-rules.ts';

export type Instant = { ok: true; ms: number } | { ok: false; reason: string };

/**
 * Before 1973-03-03 in ms is 1e11: a number below it is almost certainly seconds (1.7e9 today),
 * and no event the kit carries happened then.
 */
export const SMALLEST_MS = 1e11;
/** The last time a `Date` holds (ECMA-262 §21.4.1.1, "Time Values and Time Range"). */
export const LARGEST_MS = 8.64e15;

/**
 * ISO 8601 / RFC 3339 date or date-time: `T` or a space between date and time (RFC 3339 §5.6
 * allows the space; exports from SQL databases write it), seconds and fraction optional, offset
 * `Z`, `±hh:mm`, `±hhmm` or `±hh`. Parsed here rather than by `Date.parse`, which takes an
 * offsetless date-time as *local* time (ECMA-262 §21.4.3.2) and accepts other formats as its
 * engine likes: the same string then named different instants on different machines.
 */
const ISO_RE = /^(\d{4})-(\d\d)-(\d\d)(?:[Tt ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d\d)(?::?(\d\d))?)?)?$/;

/**
 * When an event happened, as UTC ms: a number of ms (a fraction is rounded), the same as a
 * string of digits, an ISO 8601 date or date-time (without an offset it is UTC, not the
 * machine's zone), or a `Date`. Anything before 1973-03-03 (seconds, most likely) or past what
 * a `Date` holds is refused with the reason.
 *
 * @example
 *   instantOf('2024-01-01 10:00:00')   // → { ok: true, ms: 1704103200000 } in every zone
 *   instantOf(1704103200)              // → { ok: false, reason: '… looks like seconds …' }
 */
export function instantOf(value: unknown): Instant {
  if (typeof value === 'number') return inRange(value, value, true);
  if (value instanceof Date) return inRange(value.getTime(), value, false);
  if (typeof value !== 'string') return invalid(`must be ms since 1970 or an ISO 8601 date, not ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  if (/^\d{1,20}$/.test(value)) return inRange(Number(value), value, true);
  const ms = parseIso(value);
  if (ms === undefined) return invalid(`${shown(value)} is neither ms since 1970 nor an ISO 8601 date`);
  return inRange(ms, value, false);
}

/** The value as a reason names it; made only for a reason (this runs per event of an import). */
function shown(value: number | string | Date): string {
  if (typeof value === 'number') return String(value);
  if (value instanceof Date) return 'the Date';
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

function inRange(ms: number, value: number | string | Date, counted: boolean): Instant {
  if (!Number.isFinite(ms) || ms < 0) return invalid(`${shown(value)} is not a valid time`);
  if (ms > LARGEST_MS) return invalid(`${shown(value)} is past the last time a date can hold (${new Date(LARGEST_MS).toISOString()})`);
  if (ms < SMALLEST_MS) {
    return invalid(counted ? `${shown(value)} looks like seconds; write milliseconds (${Math.round(ms * 1000)})` : `${shown(value)} is before 1973-03-03`);
  }
  return { ok: true, ms: Math.round(ms) };
}

function parseIso(text: string): number | undefined {
  const m = ISO_RE.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', , sign, oh = '0', om = '0'] = m;
  const year = Number(y), month = Number(mo), day = Number(d);
  const hour = Number(h), minute = Number(mi), second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59 || Number(oh) > 23 || Number(om) > 59) return undefined;
  // Fractions past the millisecond are cut, as Date.parse cuts them.
  const millis = Number(frac.padEnd(3, '0').slice(0, 3));
  const offset = sign ? (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000 : 0;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  return date.getTime() - offset;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

export type EventId = { ok: true; id: string | undefined } | { ok: false; reason: string };

/**
 * The `event_id` the sender chose: a non-empty string of at most `MAX_EVENT_ID` characters, or
 * none (`undefined`, or `null` as JSON writes "none") — then the caller mints one: the relay a
 * random UUID, the importer one from the line's text (the same line, the same id), the client
 * a random UUID.
 */
export function eventIdOf(value: unknown): EventId {
  if (value === undefined || value === null) return { ok: true, id: undefined };
  if (typeof value === 'string' && value.length > 0 && value.length <= MAX_EVENT_ID) return { ok: true, id: value };
  return invalid(`must be a non-empty string of at most ${MAX_EVENT_ID} characters (or be left out)`);
}

/**
 * Fields only the one who forwards sets (the relay and the importer from their configuration,
 * the Node adapter from the socket): whatever an event says about them is dropped. "No open
 * relay" (SPEC, Public interface).
 */
export const DROPPED_FIELDS: readonly string[] = ['api_key', 'token', 'source_ip'];

/** True when `event` has one of `DROPPED_FIELDS` of its own. */
export function hasDroppedField(event: Record<string, unknown>): boolean {
  for (const key of DROPPED_FIELDS) if (Object.prototype.hasOwnProperty.call(event, key)) return true;
  return false;
}

export type Text = { ok: true; text: string } | { ok: false; reason: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Bytes as text, refusing what is not UTF-8: a lenient decoder would put U+FFFD in place of the
 * bad bytes and so send an event changed without a word. JSON text must be UTF-8 (RFC 8259 §8.1).
 */
export function decodeUtf8(bytes: Uint8Array): Text {
  try {
    return { ok: true, text: utf8.decode(bytes) };
  } catch {
    return invalid('is not valid UTF-8');
  }
}

/**
 * One record of an import file, trimmed, from its bytes and `lenient`, the fast decode of them
 * that puts U+FFFD in place of bad bytes (Node's `Buffer#toString`). Where that met one — or a
 * U+FFFD of the file's own — the strict decode decides: bytes that are not UTF-8 make a bad
 * record, reported, as the relay refuses the same bytes; never an event sent altered.
 */
export function recordText(bytes: Uint8Array, lenient: string): { text: string; problem?: string } {
  if (!lenient.includes('\uFFFD')) return { text: lenient.trim() };
  const strict = decodeUtf8(bytes);
  return strict.ok ? { text: strict.text.trim() } : { text: '', problem: `record ${strict.reason}; re-encode the file as UTF-8` };
}

function invalid(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

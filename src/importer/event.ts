/**
 * One imported record → one upstream event: parse, check, fill in `api_key`, `event_id` and
 * `_timestamp`. Pure and synchronous; the importer calls it once per record. The checks are
 * the relay's (src/shared/event-rules.ts), so an import sends nothing the relay would refuse;
 * on top, `_timestamp` is required (ms or ISO 8601) and a `null` object field is refused.
 */
import * as crypto from 'node:crypto';
import { LIMITS } from '../shared/event.ts';
import { eventViolation } from '../shared/event-rules.ts';
import { DROPPED_FIELDS, eventIdOf, hasDroppedField, instantOf } from '../shared/intake.ts';

export type Converted =
  | { ok: true; json: string; bytes: number; eventId: string; timestamp: number }
  | { ok: false; reason: string };

export interface ConvertOptions {
  /** Set on every event; whatever the file says is dropped ("no open relay"). */
  apiKey: string;
  /** Clock for the "in the future" check. */
  now: number;
}

/** Allow a day of clock skew before calling a timestamp "in the future". */
const FUTURE_SLACK_MS = 86_400_000;

/**
 * Converts the text of one record. Events without an `event_id` get one derived from the
 * record's text, so importing the same file twice sends the same ids and the upstream
 * de-duplicates them.
 */
export function convertRecord(text: string, options: ConvertOptions): Converted {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return fail(`not valid JSON (${(error as Error).message.slice(0, 120)})`);
  }
  const source = value as Record<string, unknown>;
  // The relay's rules see `_timestamp` as ms; an ISO date in the file is converted first.
  const written = isObject(value) ? value._timestamp : undefined;
  const timestamp = toMillis(written, options.now);
  if (isObject(value)) value._timestamp = typeof timestamp === 'number' ? timestamp : undefined;
  const violation = eventViolation(value, { nullObjects: 'refuse' });
  if (violation?.code === 'not_object') {
    return fail(`not a JSON object (got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value})`);
  }
  if (violation) return fail(violation.message);
  if (typeof timestamp === 'string') return fail(timestamp);

  // A null event_id means none, as at the relay: one is derived below.
  const id = eventIdOf(source.event_id);
  const given = id.ok ? id.id : undefined;
  const eventId = given ?? idFromText(text);
  let json: string;
  if (written === timestamp && source.event_id !== null && !hasDroppedField(source)) {
    // Nothing to change, only fields to add: append them to the text instead of serializing the
    // whole event again (a tenth of an import's CPU). The text is a valid, trimmed JSON object
    // with at least event_type in it, so it ends with `}` and takes a `,` before new fields.
    const extra = given === undefined ? `,"api_key":${JSON.stringify(options.apiKey)},"event_id":"${eventId}"}` : `,"api_key":${JSON.stringify(options.apiKey)}}`;
    json = text.slice(0, -1) + extra;
  } else {
    // Fill in the parsed object itself (no copy: this runs a million times per import).
    for (const key of DROPPED_FIELDS) if (key in source) delete source[key];
    source.api_key = options.apiKey;
    source.event_id = eventId;
    source._timestamp = timestamp;
    json = JSON.stringify(source);
  }
  const bytes = Buffer.byteLength(json);
  if (bytes > LIMITS.clientEventBytes) return fail(`event is ${bytes} bytes; the limit is ${LIMITS.clientEventBytes}`);
  return { ok: true, json, bytes, eventId, timestamp };
}

/**
 * `_timestamp` as UTC ms, or the reason it is unusable: what it means is the shared intake rule
 * (src/shared/intake.ts: ms or ISO 8601, an offsetless date-time is UTC), so an import gives the
 * same instant on every machine and as the relay and the client. On top, an import requires it
 * and refuses one more than a day ahead of `now`.
 */
export function toMillis(value: unknown, now: number): number | string {
  if (value === undefined || value === null || value === '') return 'missing _timestamp';
  const instant = instantOf(value);
  if (!instant.ok) return `_timestamp ${instant.reason}`;
  if (instant.ms > now + FUTURE_SLACK_MS) return `_timestamp ${String(value)} is in the future (${new Date(instant.ms).toISOString()})`;
  return instant.ms;
}

/**
 * A UUID-shaped id from the SHA-256 of the record text (version nibble 8, "custom", RFC 9562
 * §5.8), so the same line always gets the same id.
 */
export function idFromText(text: string): string {
  const hex = sha256Hex(text);
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** One-shot `crypto.hash` (Node ≥ 20.12) skips a Hash object per event; older Node 20 falls back. */
const sha256Hex: (text: string) => string =
  typeof crypto.hash === 'function'
    ? (text) => crypto.hash('sha256', text, 'hex')
    : (text) => crypto.createHash('sha256').update(text).digest('hex');

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(reason: string): Converted {
  return { ok: false, reason };
}

/**
 * Builds the upstream event for a client call, and throws a `TypeError` that says what to
 * write instead when the call is wrong. Misuse is a programming error: it fails loudly at the
 * call, not later in a log line about a refused batch. The event then passes the relay's own
 * rules (src/shared/event-rules.ts): what the relay would refuse, the client refuses too.
 */
import { randomUUID } from 'node:crypto';
import { LIMITS, type CompanyTraits, type UpstreamEvent, type UserTraits } from '../shared/event.ts';
import { eventViolation, isPlainObject, MAX_EVENT_ID } from '../shared/event-rules.ts';
import { eventIdOf, instantOf } from '../shared/intake.ts';

export { isPlainObject };

/** Per-call options of `track`, `identify` and `group`. */
export interface EventOptions {
  /** The person; `{ id, email, … }`. Ignored by `identify`, which takes the user as its argument. */
  user?: UserTraits;
  company?: CompanyTraits;
  /** The browser's `__eventn_id`, e.g. from `anonymousIdFrom(req)`; joins this event to the visitor. */
  anonymousId?: string;
  /** When it happened: ms since 1970, a `Date`, or an ISO 8601 string. Default: now. */
  timestamp?: number | Date | string;
  /** Your own idempotency key; the upstream de-duplicates on it. Default: a random UUID. */
  eventId?: string;
}

const SRC = 'umbeacon-node';

export function buildEvent(
  call: string,
  apiKey: string,
  eventType: unknown,
  attributes: unknown,
  options: EventOptions | undefined,
  now: number,
): { event: UpstreamEvent; json: string } {
  if (typeof eventType !== 'string' || eventType.trim() === '') {
    throw new TypeError(`${call}: the event type must be a non-empty string, e.g. track('plan_upgraded', { plan: 'pro' }) (got ${describe(eventType)})`);
  }
  if (attributes !== undefined && !isPlainObject(attributes)) {
    throw new TypeError(`${call}: attributes must be a plain object such as { plan: 'pro' }, or left out (got ${describe(attributes)})`);
  }
  if (options !== undefined && !isPlainObject(options)) {
    throw new TypeError(`${call}: options must be an object such as { user: { id: '42' }, anonymousId } (got ${describe(options)})`);
  }
  const opts: EventOptions = options ?? {};
  for (const field of ['user', 'company'] as const) {
    if (opts[field] !== undefined && !isPlainObject(opts[field])) {
      throw new TypeError(`${call}: options.${field} must be an object such as { id: '42' } (got ${describe(opts[field])})`);
    }
  }
  if (opts.anonymousId !== undefined && (typeof opts.anonymousId !== 'string' || opts.anonymousId === '')) {
    throw new TypeError(`${call}: options.anonymousId must be the __eventn_id cookie value — use anonymousIdFrom(req) — or be left out (got ${describe(opts.anonymousId)})`);
  }
  const eventId = opts.eventId === undefined ? undefined : eventIdOf(opts.eventId);
  if (eventId && (!eventId.ok || eventId.id === undefined)) {
    throw new TypeError(`${call}: options.eventId must be a non-empty string of at most ${MAX_EVENT_ID} characters (got ${describe(opts.eventId)})`);
  }

  const event: UpstreamEvent = {
    api_key: apiKey,
    event_id: opts.eventId ?? randomUUID(),
    event_type: eventType,
    _timestamp: timestampOf(call, opts.timestamp, now),
    src: SRC,
    event_attributes: (attributes as Record<string, unknown> | undefined) ?? {},
  };
  const user: UserTraits = { ...opts.user };
  if (opts.anonymousId !== undefined) user.anonymous_id = opts.anonymousId;
  if (Object.keys(user).length) event.user = user;
  if (opts.company) event.company = { ...opts.company };

  let json: string;
  try {
    json = JSON.stringify(event);
  } catch (error) {
    throw new TypeError(`${call}: the event must be JSON-serializable — plain objects, arrays, strings, numbers, booleans, null (${(error as Error).message})`);
  }
  // After JSON.stringify, which names a cycle better than a depth limit would.
  const violation = eventViolation(event);
  if (violation) throw new TypeError(`${call}: ${violation.message}; the relay refuses such an event, and so does this client`);
  const bytes = Buffer.byteLength(json);
  if (bytes > LIMITS.clientEventBytes) {
    throw new TypeError(`${call}: the event is ${bytes} bytes, over the ${LIMITS.clientEventBytes}-byte limit; send fewer or shorter attributes (ids, not whole records)`);
  }
  return { event, json };
}

/** What a time means is the shared intake rule (src/shared/intake.ts): the importer's and the relay's. */
function timestampOf(call: string, value: EventOptions['timestamp'], now: number): number {
  if (value === undefined) return now;
  const instant = instantOf(value);
  if (!instant.ok) {
    throw new TypeError(`${call}: options.timestamp must be ms since 1970, a Date, or an ISO 8601 string (an offsetless one is UTC), e.g. { timestamp: Date.now() } — ${instant.reason} (got ${describe(value)})`);
  }
  return instant.ms;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a Date';
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  if (typeof value === 'object') return `a ${(value as object).constructor?.name ?? 'object'}`;
  return String(value);
}

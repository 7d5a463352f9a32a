/**
 * A dead letter, one shape in both runtimes: `{"at":…,"reason":…,"event":{…}}` is a line of the
 * Node relay's `dead-letter.ndjson`, and (with the upstream's `status`) a message of the
 * Worker's `DEAD_LETTERS` queue.
 *
 * The event is embedded as JSON, never as a string holding JSON: it takes the bytes of the
 * record the relay stored, so every event within `LIMITS.storedEventBytes` (127,000 B) fits a
 * queue message (128 KB) with room for the reason. A string would escape every escape again: an
 * event of quotes doubled, over the limit, and the Worker retried it forever instead. A record
 * that is not JSON (none the relay writes) stays a string.
 */

export interface DeadLetter {
  /** When it was refused, ms since the epoch. */
  at: number;
  /** The upstream's HTTP status (the Worker's; on Node it is in `reason`). */
  status?: number;
  /** Why, redacted: "upstream answered 400: …". */
  reason: string;
  event: unknown;
}

export function deadLetterOf(record: unknown, reason: string, at: number, status?: number): DeadLetter {
  return { at, ...(status === undefined ? {} : { status }), reason, event: typeof record === 'string' ? parsed(record) : record };
}

function parsed(record: string): unknown {
  try {
    return JSON.parse(record) as unknown;
  } catch {
    return record;
  }
}

/**
 * What the relay's intake decided, for whoever counts it (the Node relay's Prometheus metrics,
 * the Worker's per-invocation log line). The handler calls the observer where an answer is
 * decided: once per stored batch, once per event refused out of a batch whose others were
 * stored, once per request refused as a whole (with the events it held, when its body was read).
 */

/** Which intake a count belongs to (the `route` label of `umbeacon_events_received_total`). */
export type IntakeRoute = 'tracker' | 'official' | 'pixel';

export interface RelayObserver {
  /** `events` were stored (acknowledged) on `route`; duplicates dropped by the relay are not among them. */
  stored(route: IntakeRoute, events: number): void;
  /**
   * `events` were refused on `route` for `reason`, the code the answer names (`bad_json`,
   * `rate_limited`, `spool_full`, …). `request` is true when the whole request was refused (its
   * answer is the 4xx/5xx), false for one event refused out of a batch that was stored.
   */
  refused(route: IntakeRoute, reason: string, events: number, request: boolean): void;
}

const AT_STAKE = Symbol('events at stake');

/** Mark a failure as refusing `events` events (a batch refused whole); returns it, for `throw`. */
export function refusing<E>(error: E, events: number): E {
  if (typeof error === 'object' && error !== null) (error as { [AT_STAKE]?: number })[AT_STAKE] = events;
  return error;
}

/** The events a refusal covers: what `refusing` marked, else 1 (a body refused before it was read). */
export function eventsRefused(error: unknown): number {
  return (typeof error === 'object' && error !== null ? (error as { [AT_STAKE]?: number })[AT_STAKE] : undefined) ?? 1;
}

/** The intake a path is, under the configured paths; undefined for the relay's other routes. */
export function intakeOf(paths: { collect: string; official: string; pixel: string }, pathname: string): IntakeRoute | undefined {
  return pathname === paths.collect ? 'tracker' : pathname === paths.official ? 'official' : pathname === paths.pixel ? 'pixel' : undefined;
}

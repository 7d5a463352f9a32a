/**
 * What a run with the official SDK (the oracle) and a run with umbeacon are compared on: the
 * types of their events, and each event's shape (its keys and its attributes' keys, not their
 * values). Shared by the parity harness (parity.ts), the package specs (e2e/packages/) and the
 * Next.js example's test (Vitest), so it imports nothing from Playwright.
 */
import type { UpstreamEvent } from '../support/upstream.ts';

/** Upstream keys only u.js's events carry: click ids derived from the url (docs/tracker.md). */
const UMBEACON_EXTRAS = new Set(['click_id']);

export const types = (events: UpstreamEvent[]) => events.map((e) => String(e['event_type'])).sort();

const keys = (v: unknown) => Object.keys((v ?? {}) as object).sort();

/** What must match between the two trackers for one event: its keys and its attributes' keys. */
export const shape = (e: UpstreamEvent) => ({
  event_type: e['event_type'],
  keys: keys(e).filter((k) => !UMBEACON_EXTRAS.has(k)),
  event_attributes: 'event_attributes' in e ? keys(e['event_attributes']) : null,
  autocapture_attributes: 'autocapture_attributes' in e ? keys(e['autocapture_attributes']) : null,
  user: keys(e['user']),
  company: keys(e['company']),
});

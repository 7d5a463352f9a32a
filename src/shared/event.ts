/**
 * The wire format shared by the tracker, the relay, the client and the importer.
 * Field names follow Usermaven's server-to-server events API (see SPEC.md).
 */

export interface UserTraits {
  /** The `__eventn_id` cookie value; joins server events to the browser visitor. */
  anonymous_id?: string;
  id?: string;
  email?: string;
  created_at?: string;
  first_name?: string;
  last_name?: string;
  custom?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface CompanyTraits {
  id?: string;
  name?: string;
  created_at?: string;
  custom?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface Utm {
  source?: string;
  medium?: string;
  campaign?: string;
  term?: string;
  content?: string;
}

/**
 * Page context the tracker takes at the moment a call is made. `doc_path`, `doc_host`,
 * `doc_search`, `utm` and `click_id` are in `url`: the tracker leaves them out and the
 * relay derives them (src/relay/enrich.ts), so upstream events carry them.
 */
export interface PageContext {
  url?: string;
  page_title?: string;
  referer?: string;
  /** Derived from `url` by the relay when absent. */
  doc_path?: string;
  /** Derived from `url` by the relay when absent. */
  doc_host?: string;
  /** Derived from `url` by the relay when absent. */
  doc_search?: string;
  /** `"WxH"` */
  vp_size?: string;
  /** `"WxH"` */
  screen_resolution?: string;
  user_agent?: string;
  user_language?: string;
  doc_encoding?: string;
  /** Minutes, as `Date#getTimezoneOffset()` returns them. */
  local_tz_offset?: number;
  /** Derived from `url` by the relay when absent. */
  utm?: Utm;
  /** Derived from `url` by the relay when absent. */
  click_id?: Record<string, string>;
}

/** One event as the tracker or a backend sends it to the relay. */
export interface InboundEvent extends PageContext {
  /** UUID; the upstream de-duplicates on it. */
  event_id?: string;
  event_type: string;
  /** UTC ms when the event happened on the client. */
  _timestamp?: number;
  /** UTC ms on the client clock when the request left; lets the relay correct skew. */
  sent_at?: number;
  ids?: Record<string, string>;
  user?: UserTraits;
  company?: CompanyTraits;
  event_attributes?: Record<string, unknown>;
  src?: string;
  [key: string]: unknown;
}

/** One event as it is sent upstream: the relay has filled in everything it decides. */
export interface UpstreamEvent extends InboundEvent {
  api_key: string;
  event_id: string;
  _timestamp: number;
  source_ip?: string;
}

/** Name of the anonymous-id cookie, shared with the official Usermaven tracker. */
export const ANON_COOKIE = '__eventn_id';

/** A UUID (any version), as `crypto.randomUUID()` makes them. */
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The official tracker's anonymous id: 10 characters of [a-z0-9]. */
export const OFFICIAL_ID_RE = /^[a-z0-9]{10}$/i;

/** True for a value the relay accepts as an anonymous id and re-issues as a cookie. */
export function isAnonymousId(value: unknown): value is string {
  return typeof value === 'string' && (UUID_RE.test(value) || OFFICIAL_ID_RE.test(value));
}

/** Limits shared by every component; the tracker splits, the relay enforces. */
export const LIMITS = {
  /** Largest request body the relay accepts at `/u/e` (bytes). */
  bodyBytes: 64 * 1024,
  /** Most events in one inbound request. */
  eventsPerRequest: 500,
  /** Deepest nesting of objects/arrays inside one event. */
  depth: 8,
  /** Largest single event from the server-side client (bytes of JSON). */
  clientEventBytes: 32 * 1024,
  /** Upstream bulk request: at most this many events... */
  upstreamEvents: 500,
  /** ...and at most this many bytes of JSON. */
  upstreamBytes: 500_000,
} as const;

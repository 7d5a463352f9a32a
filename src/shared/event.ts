/**
 * The wire format shared by the tracker, the relay, the client and the importer.
 * Field names follow Usermaven's server-to-server events API (`POST /api/v1/s2s/event`).
 * The visitor id has its own module (visitor-id.ts), and so do the rules an event must
 * pass (event-rules.ts).
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

/** Limits shared by every component; the tracker splits, the relay enforces. */
export const LIMITS = {
  /** Largest request body the relay accepts at `/u/e` (bytes). */
  bodyBytes: 64 * 1024,
  /** Most events in one inbound request. */
  eventsPerRequest: 500,
  /** Deepest nesting of objects/arrays inside one event. */
  depth: 8,
  /**
   * Largest event the relay stores, once enriched (bytes of its JSON record): the rule of what
   * is "too big for the edge", which Node applies too so both runtimes give the same answer.
   * One Cloudflare Queues message holds 128,000 bytes (Queues limits; Miniflare's
   * MAX_MESSAGE_SIZE_BYTES); 1,000 are left for the platform's envelope. Enrichment can
   * quadruple a page's URL (url, doc_search, utm, the tracker's event_attributes.url), so a
   * body within `bodyBytes` may still hold an event over it.
   */
  storedEventBytes: 127_000,
  /** Largest single event from the server-side client (bytes of JSON). */
  clientEventBytes: 32 * 1024,
  /** Upstream bulk request: at most this many events... */
  upstreamEvents: 500,
  /** ...and at most this many bytes of JSON. */
  upstreamBytes: 500_000,
} as const;

/**
 * Types for `window.usermaven`, the browser API of umbeacon's tracker (public/u.js).
 *
 * A TypeScript site copies this file into its project (or points `include` at it); the
 * global `usermaven` is then typed:
 * @example
 * usermaven('track', 'signup', { plan: 'pro' });      // safe before u.js has loaded
 * usermaven.identify({ id: '42', email: 'ada@example.com' }, { id: '7', name: 'Acme' });
 */

/** The signed-in user, as Usermaven stores it. Any other key is kept as a trait. */
export interface UsermavenUser {
  id?: string;
  email?: string;
  /** ISO 8601, e.g. "2024-05-01T10:00:00Z". */
  created_at?: string;
  first_name?: string;
  last_name?: string;
  custom?: Record<string, unknown>;
  /** The official SDK's place for the company; taken as the second argument. */
  company?: UsermavenCompany;
  [trait: string]: unknown;
}

/** The user's company (account), for B2B reports. */
export interface UsermavenCompany {
  id?: string;
  name?: string;
  created_at?: string;
  custom?: Record<string, unknown>;
  [trait: string]: unknown;
}

/** Attributes of a custom event. */
export type UsermavenAttributes = Record<string, unknown>;

export interface Usermaven {
  /** Function form, as the official snippet's stub queues it. `'id'` is `identify`. */
  (command: 'id' | 'identify', user: UsermavenUser, company?: UsermavenCompany | true): void;
  (command: 'track', eventType: string, attributes?: UsermavenAttributes): void;
  /** The official snippet's lead event: `track('lead', attributes)`. */
  (command: 'lead', attributes?: UsermavenAttributes): void;
  (command: 'group', company: UsermavenCompany): void;
  (command: 'consent', granted?: boolean): void;
  (command: 'pageview' | 'page' | 'reset' | 'optIn' | 'optOut'): void;

  /**
   * After sign-in: sends `user_identify` and remembers user (and company) for every later
   * event, across pages, until `reset()`. `true` as second argument remembers without sending.
   * @example usermaven.identify({ id: '42', email: 'ada@example.com' }, { id: '7', name: 'Acme' })
   */
  identify(user: UsermavenUser, company?: UsermavenCompany | true): void;
  /** Same as `identify`; the official SDK's name. */
  id(user: UsermavenUser, company?: UsermavenCompany | true): void;
  /**
   * Sends a custom event with the page context of this moment.
   * @example usermaven.track('signup', { plan: 'pro' })
   */
  track(eventType: string, attributes?: UsermavenAttributes): void;
  /**
   * Sends a pageview now. Automatic on load and on SPA navigation unless the tag has
   * `data-auto-pageview="false"`.
   * @example usermaven.page()
   */
  page(): void;
  /** Same as `page`; the official SDK's name. */
  pageview(): void;
  /**
   * Remembers the company for later events and sends a `group` event.
   * @example usermaven.group({ id: '7', name: 'Acme' })
   */
  group(company: UsermavenCompany): void;
  /**
   * On logout: forgets user and company and starts a new anonymous visitor.
   * @example usermaven.reset()
   */
  reset(): void;
  /**
   * Records consent, persisted across pages. `false` opts out (nothing is sent, pending
   * events are dropped); `true` (the default) opts in, also over `data-require-consent`
   * and a Do-Not-Track / GPC signal.
   * @example usermaven.consent(true)
   */
  consent(granted?: boolean): void;
  /** `consent(true)`. */
  optIn(): void;
  /** `consent(false)`. */
  optOut(): void;
}

/**
 * One call queued by the stub before u.js loaded: its arguments, plus (with the
 * extended stub) when and on which page it was made.
 */
export type UsermavenCall = Iterable<unknown> & {
  /** `Date.now()` when the call was made. */
  t?: number;
  /** `location.href` when the call was made. */
  u?: string;
  /** `document.title` when the call was made. */
  d?: string;
};

declare global {
  var usermaven: Usermaven;
  var usermavenQ: UsermavenCall[] | undefined;
}

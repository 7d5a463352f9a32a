/**
 * Types for `window.usermaven`, the browser API of umbeacon's tracker (public/u.js): the
 * official Usermaven snippet's commands (@usermaven/sdk-js), in its function form and its
 * object form, plus umbeacon's own (`identify`, `page`, `consent`). The tracker's command
 * table is typed with `UsermavenMethods` (src/tracker/api.ts), so a method declared here
 * that u.js lacks, or one u.js has that is not declared, fails `npm run test:types`.
 *
 * A TypeScript site copies this file into its project (or points `include` at it); the
 * global `usermaven` is then typed:
 * @example
 * usermaven('track', 'signup', { plan: 'pro' });      // safe before u.js has loaded
 * usermaven.identify({ id: '42', email: 'ada@example.com' }, { id: '7', name: 'Acme' });
 */

/** The signed-in user, as Usermaven stores it. Any other key is kept as a trait. */
export interface UsermavenUser {
  /** Required: a call without a string id is refused, as the official SDK refuses it. */
  id: string;
  /** Must look like an address when given. */
  email?: string;
  /** ISO 8601, e.g. "2024-05-01T10:00:00Z". */
  created_at?: string;
  first_name?: string;
  last_name?: string;
  custom?: Record<string, unknown>;
  /** The official SDK's place for the company: the events' company unless `group()` set one. */
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

/** Where `set`/`unset` apply: every event, or only events of one type. */
export interface UsermavenPropertyOptions {
  eventType?: string;
  /** Accepted for the official SDK's signature; properties are always kept across pages. */
  persist?: boolean;
}

/**
 * The script tag's settings, by the official SDK's names: each `data-*` attribute in camel
 * case (`data-tracking-host` is `trackingHost`), with the value as written.
 */
export interface UsermavenConfig {
  key?: string;
  trackingHost?: string;
  namespace?: string;
  autocapture?: string;
  formTracking?: string;
  rageClick?: string;
  autoPageview?: string;
  privacyPolicy?: string;
  cookiePolicy?: string;
  ipPolicy?: string;
  propertyBlacklist?: string;
  domains?: string;
  crossDomainLinking?: string;
  [setting: string]: string | undefined;
}

/** The object form: `usermaven.track(…)`, once u.js has loaded. */
export interface UsermavenMethods {
  /**
   * After sign-in: sends `user_identify` and remembers the user for every later event, across
   * pages, until `reset()`. The second argument is the company (umbeacon), or `true` to
   * remember without sending (the official SDK's `doNotSendEvent`).
   * @example usermaven.identify({ id: '42', email: 'ada@example.com' }, { id: '7', name: 'Acme' })
   */
  identify(user: UsermavenUser, companyOrDoNotSendEvent?: UsermavenCompany | boolean): void;
  /** Same as `identify`; the official SDK's name. */
  id(user: UsermavenUser, companyOrDoNotSendEvent?: UsermavenCompany | boolean): void;
  /**
   * Sends a custom event with the page context of this moment. `data-property-blacklist`
   * keys are left out of its attributes.
   * @example usermaven.track('signup', { plan: 'pro' })
   */
  track(eventType: string, attributes?: UsermavenAttributes): void;
  /**
   * Sends a pageview now. Automatic on load and on SPA navigation (history and `#/` hash
   * routes) unless the tag has `data-auto-pageview="false"`.
   * @example usermaven.page()
   */
  page(): void;
  /** Same as `page`; the official SDK's name. */
  pageview(): void;
  /**
   * Remembers the company for later events and sends a `group` event (not with
   * `doNotSendEvent`). It needs `id`, `name` and `created_at`, as in the official SDK.
   * @example usermaven.group({ id: '7', name: 'Acme', created_at: '2024-01-02' })
   */
  group(company: UsermavenCompany & { id: string; name: string; created_at: string }, doNotSendEvent?: boolean): void;
  /**
   * On logout: forgets user, company and super properties. `true` also starts a new
   * anonymous visitor; without it the visitor stays, as in the official SDK.
   * @example usermaven.reset(true)
   */
  reset(resetAnonymousId?: boolean): void;
  /**
   * Records consent, persisted across pages. `false` opts out (nothing is sent, pending
   * events are dropped); `true` (the default) opts in, also over `data-require-consent`
   * and a Do-Not-Track / GPC signal.
   * @example usermaven.consent(true)
   */
  consent(granted?: boolean): void;
  /**
   * A `lead` event; `email` must be an address (it is sent trimmed).
   * @example usermaven.lead({ email: 'ada@example.com', source: 'webinar' })
   */
  lead(attributes: UsermavenAttributes & { email: string }): void;
  /** A `raw` event whose attributes are `payload`. */
  rawTrack(payload: UsermavenAttributes): void;
  /**
   * Super properties: sent at the top level of every later event (or of one event type's),
   * across pages, until `unset` or `reset`.
   * @example usermaven.set({ plan: 'pro' }); usermaven.set({ coupon: 'X' }, { eventType: 'signup' })
   */
  set(properties: UsermavenAttributes, options?: UsermavenPropertyOptions): void;
  /** Removes one super property set with `set`. */
  unset(name: string, options?: UsermavenPropertyOptions): void;
  /** Sets the user's id without sending anything. */
  setUserId(id: string): void;
  /** Runs `callback` once u.js has run the calls queued before it loaded. */
  onLoad(callback: () => void): void;
  /** The tag's settings (see `UsermavenConfig`). */
  getConfig(): UsermavenConfig;
  /** A cookie of the page by name, or `null`, as the official client's `getCookie`. */
  getCookie(name: string): string | null;
  /** The logger (the browser console: `debug`, `info`, `warn`, `error`). */
  getLogger(): Pick<Console, 'debug' | 'info' | 'warn' | 'error'>;
  /** `config` over `defaults`, one level deep (the official client's is deep; pages use it on flat settings). */
  mergeConfig(config: Record<string, unknown>, defaults: Record<string, unknown>): Record<string, unknown>;
  /** Accepted and ignored: u.js is configured by its tag, once (the official client re-initialises). */
  init(config?: Record<string, unknown>): void;
}

export type UsermavenCommand = keyof UsermavenMethods;

export interface Usermaven extends UsermavenMethods {
  /**
   * Function form, as the official snippet's stub queues it: `usermaven('set', { plan: 'pro' })`.
   * Every method above is a command; `'id'` is `identify`.
   */
  <C extends UsermavenCommand>(command: C, ...args: Parameters<UsermavenMethods[C]>): ReturnType<UsermavenMethods[C]>;
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
